"""Concurrent wallets: a code is redeemed once, and parallel issuances stay separate."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from issuer.testwallet import TestWallet
from tests.conftest import RunningIssuer
from tests.e2e.conftest import MakeOffer

PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


def test_eight_threads_redeem_one_code_exactly_once(issuer: RunningIssuer, make_offer: MakeOffer) -> None:
    offer = make_offer()
    code = offer.credential_offer["grants"][PRE_AUTH]["pre-authorized_code"]
    barrier = threading.Barrier(8)

    def redeem(_: int) -> tuple[int, str | None]:
        wallet = TestWallet()
        try:
            barrier.wait()
            response = wallet.post_form(f"{issuer.url}/token", {"grant_type": PRE_AUTH, "pre-authorized_code": code})
            return response.status, response.json().get("error")
        finally:
            wallet.close()

    with ThreadPoolExecutor(8) as pool:
        results = sorted(pool.map(redeem, range(8)), key=str)
    assert results.count((200, None)) == 1
    assert results.count((400, "invalid_grant")) == 7


def test_eight_wallets_in_parallel_each_get_their_own_credential(issuer: RunningIssuer, make_offer: MakeOffer) -> None:
    offers = [make_offer(tx_code=True) for _ in range(8)]

    def receive(index: int) -> str:
        wallet = TestWallet()
        try:
            [received] = wallet.receive(offers[index].offer_uri, offers[index].tx_code)
            return received.credentials[0]
        finally:
            wallet.close()

    with ThreadPoolExecutor(8) as pool:
        credentials = list(pool.map(receive, range(8)))
    assert len(set(credentials)) == 8
    assert all(issuer.service.offer_status(o.offer_id)["state"] == "issued" for o in offers)
    assert issuer.service.store.history.count("records") == 16
