"""Repeat Credential Requests with the same access token (OID4VCI §8, §14.3; checklist E29, E31), draft 15's
singular `proof`, and the `DPoP-Nonce` of the nonce endpoint (HAIP 1.0 §4)."""

from __future__ import annotations

import json
from pathlib import Path

from issuer.records.ledger import LedgerQuery
from issuer.service import OfferRequest
from tests.conftest import RunningIssuer, start_issuer
from tests.e2e.helpers import (
    BADGE_CLAIMS,
    MakeOffer,
    clock_shifted,
    expect_error,
    issued,
    jwt_payload,
    post,
    read_reply,
    redeem,
    request_body,
    request_credentials,
)
from wallet.client import TestWallet
from wallet.keys import make_dpop_proof, make_proof, new_key, public_jwk


def test_a_wallet_may_ask_again_while_its_token_lasts(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    """Each repeat gets a new credential bound to the new proof's key and its own ledger record; what was
    issued before stays valid (E29); times stay rounded (E31); the fourth request is one too many."""
    offer = make_offer("employee_badge")
    session = redeem(wallet, offer)
    first, first_keys, _ = request_credentials(wallet, session, "employee_badge")
    second, second_keys, _ = request_credentials(wallet, session, "employee_badge")
    third, _, _ = request_credentials(wallet, session, "employee_badge", count=2)
    assert jwt_payload(second[0])["cnf"]["jwk"] == public_jwk(second_keys[0])
    assert jwt_payload(first[0])["cnf"]["jwk"] == public_jwk(first_keys[0])
    for credential in (*first, *second, *third):
        assert jwt_payload(credential)["iat"] % 3600 == 0 and jwt_payload(credential)["exp"] % 3600 == 0
    records = issuer.service.ledger.find(LedgerQuery(offer_id=offer.offer_id))
    assert len(records) == 4 and {r["state"] for r in records} == {"valid"}
    assert issuer.service.offers.status(offer.offer_id)["state"] == "issued"
    fourth = post(wallet, session, "credential", request_body(wallet, session, "employee_badge", [new_key()]))
    body = expect_error(fourth, 400, "credential_request_denied")
    assert "already issued 3 times" in body["error_description"]
    assert len(issuer.service.ledger.find(LedgerQuery(offer_id=offer.offer_id))) == 4


def test_the_offer_is_archived_when_its_token_ends(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    offer = make_offer("employee_badge")
    session = redeem(wallet, offer)
    request_credentials(wallet, session, "employee_badge")
    assert [o["offer_id"] for o in issuer.service.offers.live(["issued"])] == [offer.offer_id]
    with clock_shifted(issuer.service, issuer.service.settings.access_token_ttl + 5):
        issuer.service.purge_expired()
        assert issuer.service.offers.live() == []
        assert issuer.service.offers.status(offer.offer_id)["state"] == "issued"


def test_one_request_per_credential_when_so_configured(tmp_path: Path) -> None:
    runtime = start_issuer(tmp_path / "data", max_credential_requests=1)
    assert runtime.service is not None
    try:
        offer = runtime.service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS))
        with TestWallet() as wallet:
            session = redeem(wallet, offer)
            request_credentials(wallet, session, "employee_badge")
            assert runtime.service.offers.live() == []  # archived at once, as before
            again = post(wallet, session, "credential", request_body(wallet, session, "employee_badge", [new_key()]))
            expect_error(again, 400, "credential_request_denied")
    finally:
        runtime.stop()


def test_draft_15_singular_proof_is_one_element_proofs(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    session = redeem(wallet, make_offer("employee_badge"))
    key = new_key()
    proof = {"proof_type": "jwt", "jwt": make_proof(key, issuer.url, wallet.nonce(session))}
    body = {"credential_configuration_id": "employee_badge", "proof": proof}
    [credential] = issued(read_reply(post(wallet, session, "credential", body), 200), 1)
    assert jwt_payload(credential)["cnf"]["jwk"] == public_jwk(key)
    for broken in ({"proof_type": "cwt", "cwt": "x"}, {"proof_type": "jwt"}, "a string"):
        body = {"credential_configuration_id": "employee_badge", "proof": broken}
        expect_error(post(wallet, session, "credential", body), 400, "invalid_proof")


def test_the_nonce_endpoint_gives_a_dpop_nonce_the_next_request_can_use(tmp_path: Path) -> None:
    runtime = start_issuer(tmp_path / "nonces", require_dpop=True, require_dpop_nonce=True)
    assert runtime.service is not None
    try:
        offer = runtime.service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS))
        with TestWallet() as wallet:
            session = wallet.resolve_offer(offer.offer_uri)
            session.dpop_key = new_key()
            wallet.token(session)
            response = wallet.request("POST", f"{runtime.issuer_url}/nonce")
            dpop_nonce = response.headers["dpop-nonce"]
            assert response.status == 200 and "no-store" in response.headers["cache-control"]
            body = request_body(wallet, session, "employee_badge", [new_key()])
            url = f"{runtime.issuer_url}/credential"
            proof = make_dpop_proof(session.dpop_key, "POST", url, nonce=dpop_nonce, access_token=session.access_token)
            authorization = f"DPoP {session.access_token}"
            headers = {"Content-Type": "application/json", "Authorization": authorization, "DPoP": proof}
            answer = wallet.request("POST", url, body=json.dumps(body).encode(), headers=headers)
            issued(read_reply(answer, 200), 1)  # no use_dpop_nonce round trip
    finally:
        runtime.stop()
