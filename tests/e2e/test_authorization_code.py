"""The Authorization Code flow over real HTTP, with the desk's approval driven through IssuerService:
issuer-initiated (an offer with issuer_state) and wallet-initiated, with and without PAR, with
and without DPoP (checklist rows B24, B25, C11, C14, C15, D1-D10, E7, E8)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from issuer.service import OfferRequest
from tests.conftest import RunningIssuer
from tests.e2e.helpers import BADGE_CLAIMS, BADGE_VCT, CLAIMS, jwt_payload
from wallet.code_flow import CodeFlowWallet
from wallet.keys import new_key, public_jwk
from wallet.verify import verify_sd_jwt_vc


@pytest.fixture
def browser_wallet() -> Iterator[CodeFlowWallet]:
    with CodeFlowWallet() as wallet:
        yield wallet


def pending(issuer: RunningIssuer, confirmation: str) -> dict[str, Any]:
    """The request the desk sees with the code the wallet's page shows."""
    (request,) = [r for r in issuer.service.sign_ins.pending() if r["confirmation"] == confirmation]
    return request


def receive(wallet: CodeFlowWallet, session, config_id: str = "employee_badge") -> tuple[str, Any]:
    received = wallet.request_credential(session, config_id)
    assert not isinstance(received, str)
    return received.credentials[0], received


@pytest.mark.parametrize("use_par", [True, False], ids=["par", "direct"])
@pytest.mark.parametrize("dpop", [False, True], ids=["bearer", "dpop"])
def test_issuer_initiated(
    issuer: RunningIssuer, browser_wallet: CodeFlowWallet, jwks: dict[str, Any], use_par: bool, dpop: bool
) -> None:
    """The desk makes an offer for the holder; the wallet signs in with its issuer_state; the
    desk confirms the code; the wallet gets the credential with the claims of the offer."""
    offer = issuer.service.offers.create(
        OfferRequest(["employee_badge"], BADGE_CLAIMS, grant="authorization_code", operator="alice")
    )
    assert set(offer.credential_offer["grants"]) == {"authorization_code"}
    session = browser_wallet.resolve_offer(offer.offer_uri)
    browser_wallet.fetch_metadata(session)
    browser_wallet.fetch_as_metadata(session)
    if dpop:
        session.dpop_key = new_key()
    authorization = browser_wallet.start(session, use_par=use_par, config_ids=["employee_badge"])
    request = pending(issuer, authorization.confirmation or "")
    assert (request["offer_id"], request["credential_configuration_ids"]) == (offer.offer_id, ["employee_badge"])

    issuer.service.sign_ins.approve(request["authorization_id"], operator="alice")
    response = browser_wallet.follow(authorization)
    assert set(response) == {"code", "state", "iss"} and response["iss"] == issuer.url
    token = browser_wallet.exchange(authorization)
    assert token["token_type"] == ("DPoP" if dpop else "Bearer")
    assert token["authorization_details"][0]["credential_identifiers"]
    credential, received = receive(browser_wallet, session)
    holder_jwk = public_jwk(received.holder_keys[0])
    claims = verify_sd_jwt_vc(credential, jwks, issuer=issuer.url, vct=BADGE_VCT, holder_jwk=holder_jwk)
    assert {k: claims[k] for k in BADGE_CLAIMS} == BADGE_CLAIMS
    assert issuer.service.offers.status(offer.offer_id)["state"] == "issued"
    browser_wallet.notify(session, received.notification_id)


@pytest.mark.parametrize("use_par", [True, False], ids=["par", "direct"])
def test_wallet_initiated_by_scope(issuer: RunningIssuer, browser_wallet: CodeFlowWallet, use_par: bool) -> None:
    """No offer: the wallet asks by scope (an unknown scope value is ignored, §5.1.2); the desk
    fills in the holder's claims when it approves."""
    session = browser_wallet.authorization_session(issuer.url, ["membership_card"])
    authorization = browser_wallet.start(session, use_par=use_par, scope="openid bogus membership_card")
    request = pending(issuer, authorization.confirmation or "")
    assert request["offer_id"] is None and request["credential_configuration_ids"] == ["membership_card"]
    issuer.service.sign_ins.approve(request["authorization_id"], operator="bob", claims=CLAIMS["membership_card"])
    browser_wallet.follow(authorization)
    token = browser_wallet.exchange(authorization)
    assert "authorization_details" not in token
    credential, _ = receive(browser_wallet, session, "membership_card")
    assert jwt_payload(credential)["vc"]["credentialSubject"]["member_id"] == CLAIMS["membership_card"]["member_id"]
