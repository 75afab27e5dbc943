"""Credentials and Status List Tokens carry the issuer's chain in `x5c` once it has a certificate
(HAIP 1.0 §6.1 and §6.1.1, checklist E30), checked as a verifier that holds only the trust anchor."""

from __future__ import annotations

import json
from typing import Any

from jwcrypto.common import base64url_decode

from issuer.service import OfferRequest
from tests.conftest import RunningIssuer
from tests.e2e.helpers import BADGE_CLAIMS, BADGE_VCT, CARD_CLAIMS, jose_header, jwt_payload
from wallet.certificates import load_anchor, verified_chain
from wallet.client import TestWallet
from wallet.keys import public_jwk
from wallet.verify import verify_jws, verify_jwt_vc_json, verify_sd_jwt_vc


def test_credentials_and_status_lists_carry_the_chain(issuer: RunningIssuer, wallet: TestWallet) -> None:
    before = issuer.service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS))
    [plain] = wallet.receive(before.offer_uri)
    assert "x5c" not in jose_header(plain.credentials[0])  # no certificate yet: as before
    uri = jwt_payload(plain.credentials[0])["status"]["status_list"]["uri"]
    served = wallet.request("GET", uri, headers={"Accept": "application/statuslist+jwt"}).body.decode("ascii")
    assert "x5c" not in jose_header(served)
    status = issuer.service.admin.create_issuing_ca("DE", operator="Ada")
    anchor = load_anchor(status["trust_anchor"])
    jwks: dict[str, Any] = wallet.request("GET", f"{issuer.url}/jwks").json()

    claims = {**BADGE_CLAIMS, **CARD_CLAIMS}
    offer = issuer.service.offers.create(OfferRequest(["employee_badge", "membership_card"], claims))
    badge, card = wallet.receive(offer.offer_uri)
    disclosed = verify_sd_jwt_vc(
        badge.credentials[0],
        jwks,
        issuer=issuer.url,
        vct=BADGE_VCT,
        holder_jwk=public_jwk(badge.holder_keys[0]),
        trust_anchor=anchor,
    )
    assert disclosed["employee_id"] == BADGE_CLAIMS["employee_id"]
    subject = verify_jwt_vc_json(
        card.credentials[0], jwks, issuer=issuer.url, holder_jwk=public_jwk(card.holder_keys[0]), trust_anchor=anchor
    )
    assert subject["member_id"] == CARD_CLAIMS["member_id"]
    for credential in (badge.credentials[0], card.credentials[0]):
        header = jose_header(credential)
        assert header["kid"] == issuer.service.keys.active.kid
        assert len(verified_chain(header["x5c"], anchor)) == 1

    assert jwt_payload(badge.credentials[0])["status"]["status_list"]["uri"] == uri
    response = wallet.request("GET", uri, headers={"Accept": "application/statuslist+jwt"})
    token = response.body.decode("ascii")
    header, payload = verify_jws(token, jwks, anchor)
    assert header["typ"] == "statuslist+jwt" and payload["sub"] == uri
    assert json.loads(base64url_decode(token.split(".")[0]))["x5c"] == header["x5c"]
