"""Cancelling an offer through the admin API, then everything it handed out is refused over HTTP:
the pre-authorized code and its transaction code at /token, issuer_state at /authorize, an access
token already issued at /credential and /deferred_credential."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from issuer.service import CreatedOffer, OfferRequest
from tests.conftest import RunningIssuer
from tests.e2e.helpers import (
    BADGE_CLAIMS,
    MakeOffer,
    expect_error,
    post,
    redeem,
    request_body,
    start_deferred,
    token_form,
)
from wallet.client import TestWallet
from wallet.code_flow import CodeFlowWallet
from wallet.keys import new_key


def admin(issuer: RunningIssuer, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    """The admin API as a script calls it: (status, JSON body)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {issuer.admin_token}", "Content-Type": "application/json"}
    request = urllib.request.Request(issuer.admin_url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def cancel(issuer: RunningIssuer, offer: CreatedOffer, operator: str = "alice") -> dict[str, Any]:
    if issuer.service.operators.get(operator) is None:  # `operator` names an enabled operator
        issuer.service.operators.create_first(operator, "correct horse battery")
    status, body = admin(issuer, "POST", f"/api/offers/{offer.offer_id}/cancel", {"operator": operator})
    assert status == 200, body
    return body


def test_a_cancelled_offer_reads_cancelled_and_the_audit_says_who(issuer: RunningIssuer, make_offer: MakeOffer) -> None:
    offer = make_offer()
    assert cancel(issuer, offer)["state"] == "cancelled"
    status, body = admin(issuer, "GET", f"/api/offers/{offer.offer_id}")
    assert (status, body["state"]) == (200, "cancelled")
    assert body["timeline"][-1]["event"] == "offer_cancelled" and body["timeline"][-1]["detail"]["operator"] == "alice"
    entry = issuer.service.desk.audit_log(limit=1)[0]
    assert (entry["operator"], entry["action"], entry["subject"]) == ("alice", "offer_cancelled", offer.offer_id)
    assert offer.offer_id not in {o["offer_id"] for o in admin(issuer, "GET", "/api/offers")[1]["offers"]}


def test_cancelling_twice_or_an_unknown_offer_is_refused_in_words(issuer: RunningIssuer, make_offer: MakeOffer) -> None:
    offer = make_offer()
    cancel(issuer, offer)
    status, body = admin(issuer, "POST", f"/api/offers/{offer.offer_id}/cancel", {})
    assert (status, body["error_description"]) == (409, "This offer is already finished (cancelled)")
    status, body = admin(issuer, "POST", "/api/offers/0123456789abcdef/cancel")
    assert status == 404 and "0123456789abcdef" not in body["error_description"]


@pytest.mark.parametrize("tx_code", [False, True], ids=["code", "code-and-tx-code"])
def test_the_pre_authorized_code_is_refused_at_the_token_endpoint(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, token_endpoint: str, tx_code: bool
) -> None:
    offer = make_offer(tx_code=tx_code)
    cancel(issuer, offer)
    extra = {"tx_code": offer.tx_code} if offer.tx_code else {}
    response = wallet.post_form(token_endpoint, token_form(offer, **extra))
    expect_error(response, 400, "invalid_grant")


def test_a_by_reference_offer_is_no_longer_served(issuer: RunningIssuer, wallet: TestWallet) -> None:
    offer = issuer.service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS, by_reference=True))
    reference = parse_qs(urlsplit(offer.offer_uri).query)["credential_offer_uri"][0]
    assert wallet.request("GET", reference).status == 200
    cancel(issuer, offer)
    assert wallet.request("GET", reference).status == 404


def test_an_access_token_already_issued_is_refused_at_the_credential_endpoint(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    offer = make_offer()
    session = redeem(wallet, offer)
    cancel(issuer, offer)
    response = post(wallet, session, "credential", request_body(wallet, session, "employee_badge", [new_key()]))
    assert "cancelled" in expect_error(response, 400, "credential_request_denied")["error_description"]


def test_a_deferred_transaction_is_refused_at_the_deferred_endpoint(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    offer, session, transaction_id = start_deferred(wallet, make_offer, [new_key()])
    cancel(issuer, offer)
    response = post(wallet, session, "deferred_credential", {"transaction_id": transaction_id})
    expect_error(response, 400, "credential_request_denied")
    status, body = admin(issuer, "POST", f"/api/offers/{offer.offer_id}/approve", {})
    assert status == 409 and body["error_description"] == "This offer is already finished (cancelled)"


def test_issuer_state_is_refused_at_the_authorization_endpoint(issuer: RunningIssuer) -> None:
    offer = issuer.service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS, grant="authorization_code"))
    cancel(issuer, offer)
    with CodeFlowWallet() as wallet:
        session = wallet.resolve_offer(offer.offer_uri)
        wallet.fetch_metadata(session)
        wallet.fetch_as_metadata(session)
        params, _ = wallet.authorization_parameters(session)
        page = wallet.request("GET", f"{session.as_metadata['authorization_endpoint']}?{urlencode(params)}")
    assert page.status == 303
    redirect = parse_qs(urlsplit(page.headers["location"]).query)
    assert redirect["error"] == ["invalid_request"] and "issuer_state" in redirect["error_description"][0]
    assert issuer.service.sign_ins.pending() == []


def test_a_sign_in_waiting_for_a_cancelled_offer_cannot_be_confirmed(issuer: RunningIssuer) -> None:
    offer = issuer.service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS, grant="authorization_code"))
    with CodeFlowWallet() as wallet:
        session = wallet.resolve_offer(offer.offer_uri)
        wallet.fetch_metadata(session)
        wallet.start(session)
        (waiting,) = issuer.service.sign_ins.pending()
        cancel(issuer, offer)
        status, body = admin(issuer, "POST", f"/api/authorizations/{waiting['authorization_id']}/approve", {})
    assert status == 409 and "cancelled" in body["error_description"]
