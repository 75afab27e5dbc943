"""Replays: a c_nonce is good for one Credential Request, whatever the timing, the token or a restart.

The sequential case, a nonce used once and then again by another wallet, is E17 in
tests/e2e/test_negative.py. Here: one nonce in parallel requests on a server whose worker
threads really run at once, a captured request sent again byte for byte (by its wallet and by
another one), and a nonce from before a restart, on the same data folder and port.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from issuer.config import Settings
from issuer.protocol.dpop import LEEWAY
from issuer.runtime import IssuerRuntime
from issuer.service import IssuerService, OfferRequest
from tests.conftest import start_issuer
from wallet.client import Session, TestWallet
from wallet.keys import make_dpop_proof, make_proof, new_key
from wallet.transport import HttpResponse

WALLETS = 8
CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[IssuerRuntime]:
    """The issuer with eight Waitress worker threads, so that parallel requests run in parallel."""
    running = start_issuer(tmp_path / "data", threads=WALLETS)
    yield running
    running.stop()


def service_of(runtime: IssuerRuntime) -> IssuerService:
    assert runtime.service is not None
    return runtime.service


def redeemed(wallet: TestWallet, service: IssuerService) -> tuple[str, Session]:
    offer = service.offers.create(OfferRequest(["employee_badge"], CLAIMS))
    session = wallet.resolve_offer(offer.offer_uri)
    wallet.fetch_metadata(session)
    wallet.token(session)
    return offer.offer_id, session


def request_body(session: Session, nonce: str) -> bytes:
    proof = make_proof(new_key(), session.issuer, nonce)
    return json.dumps({"credential_configuration_id": "employee_badge", "proofs": {"jwt": [proof]}}).encode()


def post(wallet: TestWallet, session: Session, body: bytes) -> HttpResponse:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {session.access_token}"}
    return wallet.request("POST", session.endpoint("credential"), body=body, headers=headers)


def outcome(response: HttpResponse) -> tuple[int, Any]:
    body = response.json()
    return response.status, body.get("error") if response.status != 200 else len(body["credentials"])


def issued_for(service: IssuerService, offer_ids: set[str]) -> list[dict[str, Any]]:
    """Credential records of these offers in the ledger (read under the store's lock)."""
    return [row for batch in service.store.ledger.batches() for row in batch if row.get("offer_id") in offer_ids]


def test_one_nonce_in_parallel_requests_issues_once(runtime: IssuerRuntime) -> None:
    """Eight wallets, each with its own access token and key, send a proof over the same nonce at
    the same moment: one credential, seven invalid_nonce; then each of the seven, with a nonce of
    its own, gets its credential."""
    service = service_of(runtime)
    wallets = [TestWallet() for _ in range(WALLETS)]
    try:
        prepared = [redeemed(wallet, service) for wallet in wallets]
        nonce = wallets[0].nonce(prepared[0][1])
        bodies = [request_body(session, nonce) for _, session in prepared]
        barrier = threading.Barrier(WALLETS)

        def send(index: int) -> HttpResponse:
            barrier.wait(timeout=10)
            return post(wallets[index], prepared[index][1], bodies[index])

        with ThreadPoolExecutor(WALLETS) as pool:
            responses = list(pool.map(send, range(WALLETS)))
        assert sorted(outcome(r) for r in responses) == [(200, 1)] + [(400, "invalid_nonce")] * (WALLETS - 1)
        offer_ids = {offer_id for offer_id, _ in prepared}
        [winner] = [offer_id for (offer_id, _), r in zip(prepared, responses, strict=True) if r.status == 200]
        assert [row["offer_id"] for row in issued_for(service, offer_ids)] == [winner]

        for wallet, (_, session), response in zip(wallets, prepared, responses, strict=True):
            if response.status != 200:
                assert outcome(post(wallet, session, request_body(session, wallet.nonce(session)))) == (200, 1)
        assert len(issued_for(service, offer_ids)) == WALLETS
    finally:
        for wallet in wallets:
            wallet.close()


def test_a_captured_request_sent_again_is_refused(runtime: IssuerRuntime) -> None:
    """The bytes of a Credential Request that succeeded, sent again by its wallet and by another
    wallet with a valid token of its own: both refused, nothing more in the ledger."""
    service = service_of(runtime)
    with TestWallet() as wallet, TestWallet() as thief:
        first, session = redeemed(wallet, service)
        second, other = redeemed(thief, service)
        captured = request_body(session, wallet.nonce(session))
        assert outcome(post(wallet, session, captured)) == (200, 1)
        assert outcome(post(wallet, session, captured)) in ((400, "invalid_nonce"), (400, "credential_request_denied"))
        assert outcome(post(thief, other, captured)) == (400, "invalid_nonce")
        assert [row["offer_id"] for row in issued_for(service, {first, second})] == [first]
        assert outcome(post(thief, other, request_body(other, thief.nonce(other)))) == (200, 1)


def test_a_nonce_from_before_a_restart_is_refused(tmp_path: Path) -> None:
    """A nonce issued, the issuer restarted on the same data folder and port, the nonce used: refused
    with invalid_nonce (§8.3.1.2). The access token outlives the restart, so a fresh nonce works."""
    data_dir = tmp_path / "data"
    first = start_issuer(data_dir)
    with TestWallet() as wallet:
        try:
            offer_id, session = redeemed(wallet, service_of(first))
            stale = wallet.nonce(session)
        finally:
            first.stop()
        port = int(urlsplit(first.issuer_url).port or 0)
        second = IssuerRuntime(Settings.load(data_dir=data_dir, port=port, admin_port=0))
        second.start()
        try:
            assert second.issuer_url == session.issuer
            wallet.close()  # the old server's connection is gone
            assert outcome(post(wallet, session, request_body(session, stale))) == (400, "invalid_nonce")
            assert issued_for(service_of(second), {offer_id}) == []
            assert outcome(post(wallet, session, request_body(session, wallet.nonce(session)))) == (200, 1)
        finally:
            second.stop()


def test_a_dpop_proof_from_before_a_restart_is_refused(tmp_path: Path) -> None:
    """A DPoP proof accepted once and refused as a replay, then sent again after a restart (which
    forgets the proofs seen, while the DPoP-bound access token survives): still refused, because it
    is older than the process (RFC 9449 §11.1). A fresh proof with the same token is accepted."""
    data_dir = tmp_path / "data"
    first = start_issuer(data_dir)
    with TestWallet() as wallet:
        try:
            service = service_of(first)
            offer = service.offers.create(OfferRequest(["employee_badge"], CLAIMS))
            session = wallet.resolve_offer(offer.offer_uri)
            wallet.fetch_metadata(session)
            session.dpop_key = new_key()
            wallet.token(session)
            received = wallet.request_credential(session, "employee_badge", holder_keys=[new_key()])
            assert not isinstance(received, str) and received.notification_id
            url = session.endpoint("notification")
            body = json.dumps({"notification_id": received.notification_id, "event": "credential_accepted"}).encode()
            # Dated as far back as this server allows (its start, less the skew), so that a server
            # started a moment later sees it from before its own start.
            made_at = int(time.time()) - LEEWAY + 1
            captured = make_dpop_proof(
                session.dpop_key, "POST", url, access_token=session.access_token, claims={"iat": made_at}
            )

            def notify(proof: str) -> HttpResponse:
                headers = {"Content-Type": "application/json", "Authorization": f"DPoP {session.access_token}"}
                return wallet.request("POST", url, body=body, headers={**headers, "DPoP": proof})

            assert notify(captured).status == 204
            replayed = notify(captured)
            assert replayed.status == 401 and "already used" in replayed.headers.get("www-authenticate", "")
        finally:
            first.stop()
        port = int(urlsplit(first.issuer_url).port or 0)
        time.sleep(max(0.0, made_at + LEEWAY + 1 - time.time()))
        second = IssuerRuntime(Settings.load(data_dir=data_dir, port=port, admin_port=0))
        second.start()
        try:
            wallet.close()
            after_restart = notify(captured)
            assert after_restart.status == 401, after_restart.body
            assert 'error="invalid_dpop_proof"' in after_restart.headers.get("www-authenticate", "")
            fresh = make_dpop_proof(session.dpop_key, "POST", url, access_token=session.access_token)
            assert notify(fresh).status == 204
        finally:
            second.stop()
