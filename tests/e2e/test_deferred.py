"""Deferred issuance (OID4VCI §9): the desk approves or rejects, the wallet polls.

Row names (E21, G3, ...) are those of shared/spec/ISSUER-CHECKLIST.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from jwcrypto.common import JWException

from tests.conftest import RunningIssuer
from tests.e2e.helpers import (
    BADGE_CLAIMS,
    MakeOffer,
    clock_shifted,
    encryption_key,
    expect_error,
    issued,
    pending,
    poll,
    post,
    read_reply,
    redeem,
    request_body,
    start_deferred,
    verify,
)
from wallet.client import TestWallet
from wallet.keys import new_key
from wallet.transport import WalletError
from wallet.verify import decrypt


def test_pending_until_approved_then_issued_once(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict[str, Any]
) -> None:
    """G2, G3: 202 with the same transaction id until the desk approves; then the credentials,
    bound to the keys of the original request; then the transaction id is spent."""
    keys = [new_key(), new_key()]
    offer, session, transaction_id = start_deferred(wallet, make_offer, keys)
    for _ in range(2):
        assert pending(read_reply(poll(wallet, session, transaction_id), 202)) == transaction_id
    assert issuer.service.offers.status(offer.offer_id)["state"] == "pending_approval"

    issuer.service.offers.approve(offer.offer_id, operator="desk-1")
    body = read_reply(poll(wallet, session, transaction_id), 200)
    for credential, key in zip(issued(body, 2), keys, strict=True):
        assert verify(credential, key, "employee_badge", session.metadata, jwks) == BADGE_CLAIMS
    notification = {"notification_id": body["notification_id"], "event": "credential_accepted"}
    assert post(wallet, session, "notification", notification).status == 204

    expect_error(poll(wallet, session, transaction_id), 400, "invalid_transaction_id")
    status = issuer.service.offers.status(offer.offer_id)
    assert status["state"] == "issued" and status["issued"][0]["count"] == 2
    events = [step["event"] for step in status["timeline"]]
    assert events[-4:] == ["credential_deferred", "issuance_approved", "credential_issued", "notification_received"]


def test_rejected_issuance_is_denied(issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer) -> None:
    """G4, §9.3: issuance became impossible."""
    offer, session, transaction_id = start_deferred(wallet, make_offer, [new_key()])
    issuer.service.offers.reject(offer.offer_id, operator="desk-1", reason="document expired")
    expect_error(poll(wallet, session, transaction_id), 400, "credential_request_denied")
    assert issuer.service.offers.status(offer.offer_id)["state"] == "denied"


@pytest.mark.parametrize("transform", [lambda _: "not-a-transaction", lambda real: real[:-1]], ids=["made_up", "cut"])
def test_unknown_transaction_id(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, transform: Callable[[str], str]
) -> None:
    """G3, §9.3: an id the issuer did not give out; the real one still works afterwards."""
    offer, session, transaction_id = start_deferred(wallet, make_offer, [new_key()])
    expect_error(poll(wallet, session, transform(transaction_id)), 400, "invalid_transaction_id")
    issuer.service.offers.approve(offer.offer_id)
    issued(read_reply(poll(wallet, session, transaction_id), 200), 1)


def test_approved_before_the_request_issues_at_once(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict[str, Any]
) -> None:
    offer = make_offer(deferred=True)
    issuer.service.offers.approve(offer.offer_id, operator="desk-1")
    session = redeem(wallet, offer)
    key = new_key()
    body = read_reply(post(wallet, session, "credential", request_body(wallet, session, "employee_badge", [key])), 200)
    [credential] = issued(body, 1)
    assert verify(credential, key, "employee_badge", session.metadata, jwks) == BADGE_CLAIMS
    status = issuer.service.offers.status(offer.offer_id)
    assert status["state"] == "issued"
    assert "credential_deferred" not in [step["event"] for step in status["timeline"]]


@pytest.mark.parametrize(
    ("first", "then"),
    [("first-key", "deferred-key"), ("first-key", None), (None, "deferred-key")],
    ids=["new_key", "no_longer_encrypted", "newly_encrypted"],
)
def test_deferred_response_uses_the_encryption_of_the_deferred_request(
    issuer: RunningIssuer,
    wallet: TestWallet,
    make_offer: MakeOffer,
    jwks: dict[str, Any],
    first: str | None,
    then: str | None,
) -> None:
    """G5, §9.1-9.2: the key sent with the deferred request, not the original one, and no
    encryption when the deferred request asks for none. The 202 is encrypted too (§8.3)."""
    first_key = encryption_key(first) if first else None
    then_key = encryption_key(then) if then else None
    holder = new_key()
    offer, session, transaction_id = start_deferred(wallet, make_offer, [holder], first_key)
    issuer.service.offers.approve(offer.offer_id)
    response = poll(wallet, session, transaction_id, then_key)
    [credential] = issued(read_reply(response, 200, then_key), 1)
    assert verify(credential, holder, "employee_badge", session.metadata, jwks) == BADGE_CLAIMS
    if first_key and then_key:
        with pytest.raises(JWException):
            decrypt(response.body.decode(), first_key)


def test_a_deferred_request_with_an_unusable_key_is_refused_before_issuing(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict[str, Any]
) -> None:
    """A key for signatures (`use` sig) sent with the deferred request, once the desk approved: refused
    with invalid_encryption_parameters before anything is signed, so the same transaction, asked again
    with a usable key, still gets the credentials."""
    holder = new_key()
    offer, session, transaction_id = start_deferred(wallet, make_offer, [holder])
    issuer.service.offers.approve(offer.offer_id)
    signing_key = encryption_key()
    parameters = {"jwk": {**signing_key.export_public(as_dict=True), "use": "sig"}, "enc": "A128GCM"}
    refused = post(
        wallet,
        session,
        "deferred_credential",
        {"transaction_id": transaction_id, "credential_response_encryption": parameters},
    )
    expect_error(refused, 400, "invalid_encryption_parameters")
    assert [
        row for batch in issuer.service.store.ledger.batches() for row in batch if row["offer_id"] == offer.offer_id
    ] == []
    key = encryption_key()
    [credential] = issued(read_reply(poll(wallet, session, transaction_id, key), 200, key), 1)
    assert verify(credential, holder, "employee_badge", session.metadata, jwks) == BADGE_CLAIMS


def test_refresh_token_keeps_polling_possible(issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer) -> None:
    """RFC 6749 §6: a new access token for the same transaction once the first has expired."""
    offer, session, transaction_id = start_deferred(wallet, make_offer, [new_key()])
    with clock_shifted(issuer.service, session.token_response["expires_in"] + 1):
        expect_error(poll(wallet, session, transaction_id), 401, "invalid_token")
        form = {"grant_type": "refresh_token", "refresh_token": session.token_response["refresh_token"]}
        refreshed = wallet.post_form(session.as_metadata["token_endpoint"], form)
        assert refreshed.status == 200 and refreshed.headers["cache-control"] == "no-store"
        session.access_token = refreshed.json()["access_token"]
        assert pending(read_reply(poll(wallet, session, transaction_id), 202)) == transaction_id
        issuer.service.offers.approve(offer.offer_id)
        issued(read_reply(poll(wallet, session, transaction_id), 200), 1)


@pytest.mark.parametrize("encrypt", [False, True], ids=["plain", "encrypted"])
def test_wallet_waits_for_the_desk(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict[str, Any], encrypt: bool
) -> None:
    """The wallet's own polling: pending while the desk decides, then the credentials for the
    keys of the deferred request, each poll waiting the issuer's interval (§8.3)."""
    offer = make_offer(deferred=True)
    session = redeem(wallet, offer)
    key = encryption_key() if encrypt else None
    transaction_id = wallet.request_credential(session, "employee_badge", batch=2, encryption_key=key)
    assert isinstance(transaction_id, str)
    interval = session.pending[transaction_id].interval
    waits: list[float] = []

    def desk_approves_during_the_second_wait(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            issuer.service.offers.approve(offer.offer_id)

    received = wallet.wait_for_credential(
        session, transaction_id, encryption_key=key, sleep=desk_approves_during_the_second_wait
    )
    assert waits == [interval, interval] and interval > 0
    for credential, holder in zip(received.credentials, received.holder_keys, strict=True):
        assert verify(credential, holder, "employee_badge", session.metadata, jwks) == BADGE_CLAIMS
    assert transaction_id not in session.pending and received.notification_id
    wallet.notify(session, received.notification_id)
    with pytest.raises(WalletError) as refused:
        wallet.deferred(session, transaction_id)
    assert (refused.value.status, refused.value.error) == (400, "invalid_transaction_id")
