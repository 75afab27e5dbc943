"""Concurrent wallets: a code is redeemed once, and parallel issuances stay separate.

Every test runs on the issuer as shipped (one Waitress worker thread) and with eight worker
threads, where the requests really run at the same time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from issuer.runtime import read_admin_token
from issuer.service import OfferRequest
from tests.conftest import RunningIssuer, start_issuer
from tests.e2e.helpers import (
    BADGE_CLAIMS,
    MakeOffer,
    expect_error,
    ledger,
    post,
    read_reply,
    request_body,
    token_form,
    verify,
)
from wallet.client import Received, TestWallet, well_known
from wallet.keys import new_key

WALLETS = 8
T = TypeVar("T")


@pytest.fixture(params=[1, WALLETS], ids=lambda threads: f"threads={threads}")
def issuer(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningIssuer]:
    """The `issuer` of tests/conftest.py, with one or eight Waitress worker threads."""
    data_dir = tmp_path / "data"
    runtime = start_issuer(data_dir, threads=request.param)
    assert runtime.service is not None
    yield RunningIssuer(
        runtime.issuer_url, runtime.admin_url, read_admin_token(data_dir), data_dir, runtime.service, runtime
    )
    runtime.stop()


def at_once(task: Callable[[TestWallet, int], T], count: int = WALLETS) -> list[T]:
    """`task(wallet, index)` in `count` threads released together, each wallet with its own connection."""
    barrier = threading.Barrier(count)

    def run(index: int) -> T:
        wallet = TestWallet()
        try:
            barrier.wait(timeout=10)
            return task(wallet, index)
        finally:
            wallet.close()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_one_code_is_redeemed_exactly_once(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict[str, Any]
) -> None:
    """A5, C4: eight simultaneous token requests with one pre-authorized code: one access token."""
    offer = make_offer()
    form = token_form(offer)
    responses = at_once(lambda racer, _: racer.post_form(f"{issuer.url}/token", form))
    outcomes = sorted((r.status, r.json().get("error")) for r in responses)
    assert outcomes == [(200, None)] + [(400, "invalid_grant")] * (WALLETS - 1)
    for refused in [r for r in responses if r.status != 200]:
        expect_error(refused, 400, "invalid_grant")
    timeline = issuer.service.offers.status(offer.offer_id)["timeline"]
    assert [step["event"] for step in timeline].count("token_issued") == 1

    [winner] = [r for r in responses if r.status == 200]
    session = wallet.resolve_offer(offer.offer_uri)
    wallet.fetch_metadata(session)
    session.token_response = winner.json()
    session.access_token = session.token_response["access_token"]
    key = new_key()
    body = read_reply(post(wallet, session, "credential", request_body(wallet, session, "employee_badge", [key])), 200)
    assert verify(body["credentials"][0]["credential"], key, "employee_badge", session.metadata, jwks) == BADGE_CLAIMS


def test_parallel_wallets_each_get_their_own_credential(
    issuer: RunningIssuer, wallet: TestWallet, jwks: dict[str, Any]
) -> None:
    """Eight people at eight wallets at once: each credential carries its holder's claims and key."""
    claims = [{**BADGE_CLAIMS, "employee_id": f"E-{index}"} for index in range(WALLETS)]
    offers = [issuer.service.offers.create(OfferRequest(["employee_badge"], person, tx_code=True)) for person in claims]

    def receive(person: TestWallet, index: int) -> Received:
        [received] = person.receive(offers[index].offer_uri, offers[index].tx_code)
        return received

    received = at_once(receive)
    metadata = wallet.request("GET", well_known(issuer.url, "openid-credential-issuer")).json()
    for person, offer, result in zip(claims, offers, received, strict=True):
        [credential], [key] = result.credentials, result.holder_keys
        assert verify(credential, key, "employee_badge", metadata, jwks) == person
        assert issuer.service.offers.status(offer.offer_id)["state"] == "issued"
        assert [record["holder_jkt"] for record in ledger(issuer, offer.offer_id)] == [key.thumbprint()]
    assert len({result.credentials[0] for result in received}) == WALLETS
    assert len({result.notification_id for result in received}) == WALLETS
