"""A wallet this project did not write (@openid4vc/openid4vci on Node.js) receives credentials; an mdoc library of
the ecosystem (@owf/mdoc) verifies an mdoc and presents it."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from issuer.service import OfferRequest
from tests.conftest import RunningIssuer
from wallet.certificates import load_anchor
from wallet.client import TestWallet
from wallet.code_flow import CHECK_AGAIN, CodeFlowWallet
from wallet.mdoc import verify_mdoc
from wallet.pki import Authority
from wallet.verify import verify_jwt_vc_json, verify_sd_jwt_vc

HERE = Path(__file__).parent
pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
    pytest.mark.skipif(not (HERE / "node_modules").is_dir(), reason="run: npm ci --prefix tests/interop"),
]


def run_node_wallet(offer_uri: str, tx_code: str | None) -> dict[str, Any]:
    command = ["node", str(HERE / "wallet.mjs"), offer_uri, *(["--tx-code", tx_code] if tx_code else [])]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def jwks_of(issuer: RunningIssuer) -> dict[str, Any]:
    wallet = TestWallet()
    try:
        return wallet.request("GET", f"{issuer.url}/jwks").json()
    finally:
        wallet.close()


def test_sd_jwt_vc_with_tx_code_by_reference(issuer: RunningIssuer) -> None:
    claims = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1", "department": "R&D"}
    offer = issuer.service.offers.create(OfferRequest(["employee_badge"], claims, tx_code=True, by_reference=True))
    received = run_node_wallet(offer.offer_uri, offer.tx_code)
    assert (received["credential_configuration_id"], received["format"]) == ("employee_badge", "dc+sd-jwt")
    [credential] = received["credentials"]
    disclosed = verify_sd_jwt_vc(
        credential,
        jwks_of(issuer),
        issuer=issuer.url,
        vct="urn:frontdesk:employee_badge:1",
        holder_jwk=received["holder_jwk"],
    )
    assert disclosed == claims
    status = issuer.service.offers.status(offer.offer_id)
    assert status["state"] == "issued"
    assert any(step.get("detail", {}).get("event") == "credential_accepted" for step in status["timeline"])


def test_jwt_vc_json_by_value(issuer: RunningIssuer) -> None:
    claims = {"given_name": "Grace", "family_name": "Hopper", "member_id": "M-7", "level": "gold"}
    offer = issuer.service.offers.create(OfferRequest(["membership_card"], claims))
    received = run_node_wallet(offer.offer_uri, None)
    assert received["format"] == "jwt_vc_json"
    subject = verify_jwt_vc_json(
        received["credentials"][0], jwks_of(issuer), issuer=issuer.url, holder_jwk=received["holder_jwk"]
    )
    assert {k: v for k, v in subject.items() if k != "id"} == claims


def test_authorization_code_flow_with_pkce_par_and_dpop(issuer: RunningIssuer) -> None:
    """The library builds the request (PKCE, PAR, issuer_state), the test plays the browser and the
    desk, and the library exchanges the code with DPoP and receives the credential."""
    claims = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1", "department": "R&D"}
    offer = issuer.service.offers.create(OfferRequest(["employee_badge"], claims, grant="authorization_code"))
    process = subprocess.Popen(
        ["node", str(HERE / "code_flow.mjs"), offer.offer_uri],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        started = process.stdout.readline()
        assert started, process.stderr.read() if process.stderr else ""
        authorization_url = json.loads(started)["authorization_url"]
        assert "request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A" in authorization_url  # pushed (PAR)
        with CodeFlowWallet() as browser:
            page = browser.request("GET", authorization_url)
            assert page.status == 200, page.body
            (request,) = issuer.service.sign_ins.pending()
            assert request["offer_id"] == offer.offer_id
            assert request["confirmation"] in page.body.decode()
            issuer.service.sign_ins.approve(request["authorization_id"], operator="desk")
            wait_url = html.unescape(CHECK_AGAIN.search(page.body.decode()).group(1))  # type: ignore[union-attr]
            redirect = browser.request("GET", wait_url)
        assert redirect.status == 303
        output, errors = process.communicate(redirect.headers["location"] + "\n", timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, errors
    received = json.loads(output)
    assert received["token_type"] == "DPoP"
    [credential] = received["credentials"]
    disclosed = verify_sd_jwt_vc(
        credential, jwks_of(issuer), issuer=issuer.url, vct="urn:frontdesk:employee_badge:1",
        holder_jwk=received["holder_jwk"],
    )  # fmt: skip
    assert disclosed == claims
    assert issuer.service.offers.status(offer.offer_id)["state"] == "issued"


def test_mdoc_received_then_verified_and_presented_by_an_mdoc_library(issuer: RunningIssuer, tmp_path: Path) -> None:
    """oid4vc-ts receives the mdoc; @owf/mdoc verifies it against the trust anchor that `frontdesk-issuer
    trust-anchor` prints, builds a device-signed DeviceResponse of two elements and verifies that too, and
    refuses the mdoc under another trust anchor."""
    issuer.service.admin.create_issuing_ca("DE", operator="desk")
    printed = subprocess.run(
        [sys.executable, "-m", "issuer", "trust-anchor", "--data-dir", str(issuer.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    (tmp_path / "anchor.pem").write_text(printed)
    (tmp_path / "other.pem").write_bytes(Authority.root("Another Club").pem)
    claims = {"given_name": "Mary", "family_name": "Somerville", "member_id": "M-1780", "level": "silver"}
    offer = issuer.service.offers.create(OfferRequest(["membership_mdoc"], claims))
    command = [
        "node",
        str(HERE / "mdoc.mjs"),
        offer.offer_uri,
        str(tmp_path / "anchor.pem"),
        str(tmp_path / "other.pem"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert (output["received"]["credential_configuration_id"], output["received"]["format"]) == (
        "membership_mdoc",
        "mso_mdoc",
    )
    assert output["issuer_signed"] == claims
    assert output["presented"] == {"given_name": "Mary", "member_id": "M-1780"} and output["device_signed"]
    assert output["other_anchor_error"]
    [credential] = output["received"]["credentials"]
    mdoc = verify_mdoc(
        credential,
        load_anchor(printed),
        doctype="org.frontdesk.membership.1",
        holder_jwk=output["received"]["holder_jwk"],
    )
    assert mdoc.claims == {"org.frontdesk.membership.1": claims}
