"""A wallet this project did not write (@openid4vc/openid4vci on Node.js) receives credentials."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from issuer.service import OfferRequest
from issuer.testwallet import TestWallet, verify_jwt_vc_json, verify_sd_jwt_vc
from tests.conftest import RunningIssuer

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
    offer = issuer.service.create_offer(OfferRequest(["employee_badge"], claims, tx_code=True, by_reference=True))
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
    status = issuer.service.offer_status(offer.offer_id)
    assert status["state"] == "issued"
    assert any(step.get("detail", {}).get("event") == "credential_accepted" for step in status["timeline"])


def test_jwt_vc_json_by_value(issuer: RunningIssuer) -> None:
    claims = {"given_name": "Grace", "family_name": "Hopper", "member_id": "M-7", "level": "gold"}
    offer = issuer.service.create_offer(OfferRequest(["membership_card"], claims))
    received = run_node_wallet(offer.offer_uri, None)
    assert received["format"] == "jwt_vc_json"
    subject = verify_jwt_vc_json(
        received["credentials"][0], jwks_of(issuer), issuer=issuer.url, holder_jwk=received["holder_jwk"]
    )
    assert {k: v for k, v in subject.items() if k != "id"} == claims
