"""Deferred issuance (OID4VCI §9): the desk approves or rejects, the wallet polls.

Row names (E21, G3, ...) are those of shared/spec/ISSUER-CHECKLIST.md.
"""

from __future__ import annotations

import pytest
from jwcrypto import jwk
from jwcrypto.common import JWException

from issuer.service import CreatedOffer
from issuer.testwallet import HttpResponse, Session, TestWallet, decrypt, encryption_parameters, new_key
from tests.conftest import RunningIssuer
from tests.e2e.conftest import BADGE_CLAIMS, MakeOffer
from tests.e2e.test_preauthorized import (
    encryption_key,
    issued,
    post,
    read_error,
    read_reply,
    redeem,
    request_body,
    verify,
)


def pending(body: dict) -> str:
    """E21, E23: a transaction id and a positive interval, and nothing of an issued response."""
    assert isinstance(body["transaction_id"], str) and body["transaction_id"]
    interval = body["interval"]
    assert isinstance(interval, int | float) and not isinstance(interval, bool) and interval > 0
    assert "credentials" not in body and "notification_id" not in body
    return str(body["transaction_id"])


def start(
    wallet: TestWallet, make_offer: MakeOffer, keys: list[jwk.JWK], key: jwk.JWK | None = None
) -> tuple[CreatedOffer, Session, str]:
    """A deferred offer redeemed and requested: the 202 (encrypted for `key` if given) and its transaction."""
    offer = make_offer(deferred=True)
    session = redeem(wallet, offer)
    assert session.token_response["refresh_token"]  # a deferred issuance outlives the short access token
    extra = {"credential_response_encryption": encryption_parameters(key)} if key else {}
    request = request_body(wallet, session, "employee_badge", keys, **extra)
    return offer, session, pending(read_reply(post(wallet, session, "credential", request), 202, key))


def poll(wallet: TestWallet, session: Session, transaction_id: str, key: jwk.JWK | None = None) -> HttpResponse:
    extra = {"credential_response_encryption": encryption_parameters(key)} if key else {}
    return post(wallet, session, "deferred_credential", {"transaction_id": transaction_id, **extra})


def test_pending_until_approved_then_issued_once(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict
) -> None:
    """G2, G3: 202 with the same transaction id until the desk approves; then the credentials,
    bound to the keys of the original request; then the transaction id is spent."""
    keys = [new_key(), new_key()]
    offer, session, transaction_id = start(wallet, make_offer, keys)
    for _ in range(2):
        assert pending(read_reply(poll(wallet, session, transaction_id), 202)) == transaction_id
    assert issuer.service.offer_status(offer.offer_id)["state"] == "pending_approval"

    issuer.service.approve(offer.offer_id, operator="desk-1")
    body = read_reply(poll(wallet, session, transaction_id), 200)
    for credential, key in zip(issued(body, 2), keys, strict=True):
        assert verify(credential, key, "employee_badge", session.metadata, jwks) == BADGE_CLAIMS
    notification = {"notification_id": body["notification_id"], "event": "credential_accepted"}
    assert post(wallet, session, "notification", notification).status == 204

    read_error(poll(wallet, session, transaction_id), 400, "invalid_transaction_id")
    status = issuer.service.offer_status(offer.offer_id)
    assert status["state"] == "issued" and status["issued"][0]["count"] == 2
    events = [step["event"] for step in status["timeline"]]
    assert events[-4:] == ["credential_deferred", "issuance_approved", "credential_issued", "notification_received"]


def test_rejected_issuance_is_denied(issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer) -> None:
    """G4, §9.3: issuance became impossible."""
    offer, session, transaction_id = start(wallet, make_offer, [new_key()])
    issuer.service.reject(offer.offer_id, operator="desk-1", reason="document expired")
    read_error(poll(wallet, session, transaction_id), 400, "credential_request_denied")
    assert issuer.service.offer_status(offer.offer_id)["state"] == "denied"


@pytest.mark.parametrize("transform", [lambda _: "not-a-transaction", lambda real: real[:-1]], ids=["made_up", "cut"])
def test_unknown_transaction_id(issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, transform) -> None:
    """G3, §9.3: an id the issuer did not give out; the real one still works afterwards."""
    offer, session, transaction_id = start(wallet, make_offer, [new_key()])
    read_error(poll(wallet, session, transform(transaction_id)), 400, "invalid_transaction_id")
    issuer.service.approve(offer.offer_id)
    issued(read_reply(poll(wallet, session, transaction_id), 200), 1)


def test_transaction_needs_the_access_token_it_was_started_with(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    """G1, §9: another offer's access token does not fetch this transaction."""
    offer, session, transaction_id = start(wallet, make_offer, [new_key()])
    issuer.service.approve(offer.offer_id)
    stranger = redeem(wallet, make_offer())
    response = poll(wallet, stranger, transaction_id)
    assert response.status in (400, 401, 403) and "credentials" not in response.json()
    issued(read_reply(poll(wallet, session, transaction_id), 200), 1)


def test_approved_before_the_request_issues_at_once(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict
) -> None:
    offer = make_offer(deferred=True)
    issuer.service.approve(offer.offer_id, operator="desk-1")
    session = redeem(wallet, offer)
    key = new_key()
    body = read_reply(post(wallet, session, "credential", request_body(wallet, session, "employee_badge", [key])), 200)
    [credential] = issued(body, 1)
    assert verify(credential, key, "employee_badge", session.metadata, jwks) == BADGE_CLAIMS
    status = issuer.service.offer_status(offer.offer_id)
    assert status["state"] == "issued"
    assert "credential_deferred" not in [step["event"] for step in status["timeline"]]


@pytest.mark.parametrize(
    ("first", "then"),
    [("first-key", "deferred-key"), ("first-key", None), (None, "deferred-key")],
    ids=["new_key", "no_longer_encrypted", "newly_encrypted"],
)
def test_deferred_response_uses_the_encryption_of_the_deferred_request(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict, first: str | None, then: str | None
) -> None:
    """G5, §9.1-9.2: the key sent with the deferred request, not the original one, and no
    encryption when the deferred request asks for none. The 202 is encrypted too (§8.3)."""
    first_key = encryption_key(first) if first else None
    then_key = encryption_key(then) if then else None
    holder = new_key()
    offer, session, transaction_id = start(wallet, make_offer, [holder], first_key)
    issuer.service.approve(offer.offer_id)
    response = poll(wallet, session, transaction_id, then_key)
    [credential] = issued(read_reply(response, 200, then_key), 1)
    assert verify(credential, holder, "employee_badge", session.metadata, jwks) == BADGE_CLAIMS
    if first_key and then_key:
        with pytest.raises(JWException):
            decrypt(response.body.decode(), first_key)


def test_refresh_token_keeps_polling_possible(issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer) -> None:
    """RFC 6749 §6: a new access token for the same transaction once the first has expired."""
    offer, session, transaction_id = start(wallet, make_offer, [new_key()])
    real_clock = issuer.service.clock
    issuer.service.clock = lambda: real_clock() + session.token_response["expires_in"] + 1
    try:
        read_error(poll(wallet, session, transaction_id), 401, "invalid_token")
        form = {"grant_type": "refresh_token", "refresh_token": session.token_response["refresh_token"]}
        refreshed = wallet.post_form(f"{issuer.url}/token", form)
        assert refreshed.status == 200 and refreshed.headers["cache-control"] == "no-store"
        session.access_token = refreshed.json()["access_token"]
        assert pending(read_reply(poll(wallet, session, transaction_id), 202)) == transaction_id
        issuer.service.approve(offer.offer_id)
        issued(read_reply(poll(wallet, session, transaction_id), 200), 1)
    finally:
        issuer.service.clock = real_clock
