"""Deferred issuance (OID4VCI §9): the desk approves or rejects, the wallet polls."""

from __future__ import annotations

import json

import pytest
from jwcrypto.common import base64url_decode

from issuer.testwallet import Session, TestWallet, WalletError, decrypt, new_key, public_jwk
from tests.conftest import RunningIssuer
from tests.e2e.conftest import MakeOffer


def start(wallet: TestWallet, make_offer: MakeOffer) -> tuple[str, Session, str, list]:
    offer = make_offer(deferred=True)
    session = wallet.resolve_offer(offer.offer_uri)
    wallet.fetch_metadata(session)
    token = wallet.token(session)
    assert token["refresh_token"]  # deferred issuances outlive the short access token
    keys = [new_key()]
    transaction_id = wallet.request_credential(session, "employee_badge", holder_keys=keys)
    assert isinstance(transaction_id, str)
    return offer.offer_id, session, transaction_id, keys


def test_pending_answers_202_then_credentials_once(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    offer_id, session, transaction_id, keys = start(wallet, make_offer)
    poll = wallet.post_json(
        f"{issuer.url}/deferred_credential", {"transaction_id": transaction_id}, session.access_token
    )
    assert poll.status == 202
    body = poll.json()
    assert body["transaction_id"] == transaction_id and body["interval"] > 0
    assert "credentials" not in body and "notification_id" not in body
    assert issuer.service.offer_status(offer_id)["state"] == "pending_approval"

    issuer.service.approve(offer_id, operator="desk-1")
    received = wallet.deferred(session, transaction_id, "employee_badge", keys)
    assert received is not None and received.notification_id
    bound = json.loads(base64url_decode(received.credentials[0].split(".")[1]))["cnf"]["jwk"]
    assert bound == public_jwk(keys[0])  # bound to the key of the original request
    with pytest.raises(WalletError) as again:
        wallet.deferred(session, transaction_id, "employee_badge", keys)
    assert (again.value.status, again.value.error) == (400, "invalid_transaction_id")
    assert issuer.service.offer_status(offer_id)["state"] == "issued"


def test_rejected_issuance_is_denied(issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer) -> None:
    offer_id, session, transaction_id, keys = start(wallet, make_offer)
    issuer.service.reject(offer_id, operator="desk-1", reason="document expired")
    with pytest.raises(WalletError) as denied:
        wallet.deferred(session, transaction_id, "employee_badge", keys)
    assert (denied.value.status, denied.value.error) == (400, "credential_request_denied")
    assert issuer.service.offer_status(offer_id)["state"] == "denied"


def test_unknown_transaction_id(issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer) -> None:
    _, session, _, keys = start(wallet, make_offer)
    with pytest.raises(WalletError) as unknown:
        wallet.deferred(session, "not-a-transaction", "employee_badge", keys)
    assert (unknown.value.status, unknown.value.error) == (400, "invalid_transaction_id")


def test_approved_before_the_request_issues_at_once(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    offer = make_offer(deferred=True)
    issuer.service.approve(offer.offer_id)
    [received] = wallet.receive(offer.offer_uri)
    assert received.credentials


def test_deferred_response_uses_the_new_encryption_key(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    """G5: encrypted with the key sent on the deferred request."""
    offer_id, session, transaction_id, keys = start(wallet, make_offer)
    issuer.service.approve(offer_id)
    key = new_key("ECDH-ES")
    received = wallet.deferred(session, transaction_id, "employee_badge", keys, encryption_key=key)
    assert received is not None and received.credentials[0].endswith("~")
    with pytest.raises(Exception):  # noqa: B017 - any key but the new one fails to decrypt
        decrypt(received.credentials[0], new_key("ECDH-ES"))


def test_refresh_token_keeps_polling_possible(issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer) -> None:
    _, session, transaction_id, _ = start(wallet, make_offer)
    refreshed = wallet.post_form(
        f"{issuer.url}/token", {"grant_type": "refresh_token", "refresh_token": session.token_response["refresh_token"]}
    )
    assert refreshed.status == 200 and refreshed.headers["cache-control"] == "no-store"
    new_token = refreshed.json()["access_token"]
    poll = wallet.post_json(f"{issuer.url}/deferred_credential", {"transaction_id": transaction_id}, new_token)
    assert poll.status == 202
