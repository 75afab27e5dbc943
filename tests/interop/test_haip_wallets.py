"""Wallets this project did not write, against the high-assurance issuer and the draft 15 one.

- The oid4vc-ts libraries (`@openid4vc/openid4vci`, `@openid4vc/oauth2`) do the HAIP 1.0 flow: they make the
  wallet attestation and its PoPs, DPoP proofs with the server's nonces, PKCE and PAR, and their verifier
  side checks the signed metadata and the credential through `x5c` against the issuer's trust anchor.
- Sphereon's `@sphereon/oid4vci-client` 0.20.1, a draft 15 library that sends the singular `proof`,
  receives both formats, with and without a transaction code, by value and by reference.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from issuer.records.ledger import LedgerQuery
from issuer.service import OfferRequest
from tests.conftest import RunningIssuer
from tests.e2e.helpers import BADGE_CLAIMS, BADGE_VCT, CARD_CLAIMS
from tests.haip import haip_issuer
from wallet.client import TestWallet
from wallet.code_flow import CHECK_AGAIN
from wallet.verify import verify_jwt_vc_json, verify_sd_jwt_vc

HERE = Path(__file__).parent
CLIENT_ID = "https://wallet.example/oid4vc-ts"
pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
    pytest.mark.skipif(not (HERE / "node_modules").is_dir(), reason="run: npm ci --prefix tests/interop"),
]


def jwks_of(url: str, **options: Any) -> dict[str, Any]:
    with TestWallet(**options) as wallet:
        return dict(wallet.request("GET", f"{url}/jwks").json())


def test_oid4vc_ts_does_the_haip_flow(tmp_path: Path) -> None:
    with haip_issuer(tmp_path / "data") as haip:
        signer = haip.provider.signer
        assert signer is not None
        config = {
            "public_url": haip.url,
            "local_url": haip.local_url,
            "trust_anchor_pem": haip.service.certificates.trust_anchor_pem(),
            "provider": {"name": haip.provider.name, "x5c": signer.x5c, "private_jwk": signer.key.export_private(True)},
            "client_id": CLIENT_ID,
        }
        config_file = tmp_path / "haip.json"
        config_file.write_text(json.dumps(config))
        offer = haip.service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS, grant="authorization_code"))
        process = subprocess.Popen(
            ["node", str(HERE / "haip_flow.mjs"), offer.offer_uri, str(config_file)],
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
            with haip.code_flow_wallet() as browser:
                page = browser.request("GET", authorization_url)
                assert page.status == 200, page.body
                (request,) = haip.service.sign_ins.pending()
                assert request["offer_id"] == offer.offer_id and request["client_id"] == CLIENT_ID
                haip.service.sign_ins.approve(request["authorization_id"], operator="desk")
                wait_url = CHECK_AGAIN.search(page.body.decode()).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
                redirect = browser.request("GET", wait_url)
            assert redirect.status == 303
            output, errors = process.communicate(redirect.headers["location"] + "\n", timeout=60)
        finally:
            process.kill()
        assert process.returncode == 0, errors
        received = json.loads(output)
        assert received["token_type"] == "DPoP"
        assert received["signed_metadata"] is True and received["verified_x5c"] == 1
        [credential] = received["credentials"]
        jwks = jwks_of(haip.url, connect_to={haip.url: haip.local_url})
        disclosed = verify_sd_jwt_vc(
            credential, jwks, issuer=haip.url, vct=BADGE_VCT, holder_jwk=received["holder_jwk"],
            trust_anchor=haip.trust_anchor,
        )  # fmt: skip
        assert {name: disclosed[name] for name in BADGE_CLAIMS} == BADGE_CLAIMS
        [record] = haip.service.ledger.find(LedgerQuery(offer_id=offer.offer_id))
        assert record["wallet"] == {
            "provider": haip.provider.name,
            "client_id": CLIENT_ID,
            "wallet_name": "oid4vc-ts HAIP wallet",
        }


def run_sphereon(offer_uri: str, tx_code: str | None) -> dict[str, Any]:
    command = ["node", str(HERE / "sphereon.mjs"), offer_uri, *(["--tx-code", tx_code] if tx_code else [])]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


@pytest.mark.parametrize("by_reference", [False, True], ids=["by-value", "by-reference"])
@pytest.mark.parametrize("tx_code", [False, True], ids=["no-tx-code", "tx-code"])
@pytest.mark.parametrize("config_id", ["employee_badge", "membership_card"])
def test_sphereon_draft_15_client_receives_credentials(
    issuer: RunningIssuer, config_id: str, tx_code: bool, by_reference: bool
) -> None:
    claims = {"employee_badge": BADGE_CLAIMS, "membership_card": CARD_CLAIMS}[config_id]
    offer = issuer.service.offers.create(OfferRequest([config_id], claims, tx_code=tx_code, by_reference=by_reference))
    received = run_sphereon(offer.offer_uri, offer.tx_code)
    [credential] = received["credentials"]
    jwks = jwks_of(issuer.url)
    if config_id == "employee_badge":
        assert received["format"] == "dc+sd-jwt"
        disclosed = verify_sd_jwt_vc(
            credential, jwks, issuer=issuer.url, vct=BADGE_VCT, holder_jwk=received["holder_jwk"]
        )
        assert {name: disclosed[name] for name in claims} == claims
    else:
        assert received["format"] == "jwt_vc_json"
        subject = verify_jwt_vc_json(credential, jwks, issuer=issuer.url, holder_jwk=received["holder_jwk"])
        assert {name: subject[name] for name in claims} == claims
    assert issuer.service.offers.status(offer.offer_id)["state"] == "issued"
