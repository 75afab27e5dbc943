"""Two `serve` processes on one PostgreSQL store, behind a balancer: whichever process a wallet
reaches, a code is redeemed once, a status list place is given once, and a credential the wallet
received is in the ledger; when one process is killed, the other goes on serving, and the killed
one started again recovers without touching what the other issued meanwhile."""

from __future__ import annotations

import base64
import json
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from tests.conftest import PostgresDatabase
from tests.e2e.helpers import BADGE_CLAIMS, jwt_payload
from tests.postgres.balancer import Balancer
from tests.postgres.processes import ServeProcess, free_port
from wallet.client import PRE_AUTHORIZED_GRANT, TestWallet, credential_request
from wallet.keys import new_key
from wallet.transport import WalletError

pytestmark = pytest.mark.postgres

LOAD_SECONDS = 6.0
WALLETS = 6


@dataclass
class Deployment:
    one: ServeProcess
    other: ServeProcess
    balancer: Balancer
    database: PostgresDatabase

    @property
    def processes(self) -> tuple[ServeProcess, ServeProcess]:
        return self.one, self.other

    def offer(self, through: ServeProcess) -> dict[str, Any]:
        body = {"credential_configuration_ids": ["employee_badge"], "claims": BADGE_CLAIMS}
        return through.admin("POST", "/api/offers", body)

    def restart_one(self) -> None:
        """The first process started again on its data folder and port, beside the running one."""
        self.one = ServeProcess(self.one.data_dir, self.database, self.one.port, self.one.public_url)

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database.url, password=self.database.password) as connection:
            return connection.execute(query).fetchall()


@pytest.fixture
def deployment(postgres: PostgresDatabase, tmp_path: Path) -> Iterator[Deployment]:
    ports = [free_port(), free_port()]
    with Balancer(ports) as balancer:
        public_url = f"http://127.0.0.1:{balancer.port}"
        one = ServeProcess(tmp_path / "one", postgres, ports[0], public_url)
        try:
            other = ServeProcess(tmp_path / "other", postgres, ports[1], public_url)
        except BaseException:
            one.stop()
            raise
        deployment = Deployment(one, other, balancer, postgres)
        try:
            yield deployment
        finally:
            deployment.one.stop()  # the process a test started again, if it did
            deployment.other.stop()
            one.stop()


def test_an_offer_made_through_one_is_redeemed_through_the_other(deployment: Deployment) -> None:
    created = deployment.offer(through=deployment.one)
    deployment.balancer.pinned = 1
    with TestWallet() as wallet:
        [received] = wallet.receive(created["offer_uri"])
    assert deployment.balancer.connections == {1: 1}
    status = deployment.one.admin("GET", f"/api/offers/{created['offer_id']}")
    assert status["state"] == "issued"
    assert [step["event"] for step in status["timeline"]][-1] == "notification_received"
    assert jwt_payload(received.credentials[0])["iss"] == f"http://127.0.0.1:{deployment.balancer.port}"


def test_a_nonce_from_one_process_is_accepted_once_by_the_other(deployment: Deployment) -> None:
    created = deployment.offer(through=deployment.other)
    with TestWallet() as wallet:
        deployment.balancer.pinned = 0
        session = wallet.resolve_offer(created["offer_uri"])
        wallet.fetch_metadata(session)
        wallet.token(session)
        nonce = wallet.nonce(session)
        wallet.close()
        deployment.balancer.pinned = 1
        key = new_key()
        request = credential_request(session, "employee_badge", [key], nonce)
        first = wallet.post_json(session.endpoint("credential"), request, session.access_token)
        wallet.close()
        deployment.balancer.pinned = 0  # the replay goes back to the process that made the nonce
        again = credential_request(session, "employee_badge", [key], nonce)
        second = wallet.post_json(session.endpoint("credential"), again, session.access_token)
    assert first.status == 200, first.body
    assert deployment.balancer.connections == {0: 2, 1: 1}
    assert (second.status, second.json()["error"]) == (400, "invalid_nonce"), second.body


def test_eight_concurrent_redemptions_over_both_give_one_token(deployment: Deployment) -> None:
    created = deployment.offer(through=deployment.one)
    offer = json.loads(parse_qs(urlsplit(created["offer_uri"]).query)["credential_offer"][0])
    pre_authorized_code = offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": pre_authorized_code}
    start = threading.Barrier(8)

    def redeem(n: int) -> int:
        with TestWallet() as wallet:
            start.wait(10)
            target = deployment.processes[n % 2].url
            return wallet.post_form(f"{target}/token", form).status

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(redeem, range(8)))
    assert sorted(statuses) == [200] + [400] * 7


def test_a_killed_process_loses_no_received_credential_and_the_other_serves_on(deployment: Deployment) -> None:
    received: list[tuple[str, int, float]] = []  # (status list uri, index, when)
    failures: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def wallet_loop(n: int) -> None:
        with TestWallet(timeout=10) as wallet:
            while not stop.is_set():
                try:
                    created = deployment.offer(through=deployment.other)
                    [credential] = wallet.receive(created["offer_uri"], notify=False)
                except (WalletError, OSError) as error:  # a request that went to the killed process
                    with lock:
                        failures.append(str(error))
                    wallet.close()
                    continue
                status = jwt_payload(credential.credentials[0])["status"]["status_list"]
                with lock:
                    received.append((status["uri"], status["idx"], time.monotonic()))

    with ThreadPoolExecutor(WALLETS) as pool:
        loops = [pool.submit(wallet_loop, n) for n in range(WALLETS)]
        time.sleep(LOAD_SECONDS / 2)
        deployment.one.kill()
        killed_at = time.monotonic()
        time.sleep(LOAD_SECONDS / 4)
        deployment.restart_one()  # its start-up recovery runs while the other issues
        time.sleep(LOAD_SECONDS / 4)
        stop.set()
        for loop in loops:
            loop.result(30)
    assert deployment.balancer.connections[0] > 0 and deployment.balancer.connections[1] > 0
    after_kill = [entry for entry in received if entry[2] > killed_at + 0.5]
    assert after_kill, f"nothing was issued after the kill; failures: {failures[:3]}"
    places = [(uri.rsplit("/", 1)[1], index) for uri, index, _ in received]
    assert len(set(places)) == len(places)
    ledger = {
        (str(row[0]), row[1]): row[2]
        for row in deployment.rows(
            "SELECT document->'status_list'->>'list', (document->'status_list'->>'idx')::int, "
            "coalesce(document->>'undelivered', '') FROM ledger"
        )
    }
    assert all(place in ledger and not ledger[place] for place in places), "a received credential is missing"
    all_places = list(ledger)
    assert len(all_places) == len(set(all_places))
    with TestWallet() as wallet:  # the served status lists, as a verifier reads them through the balancer
        for list_id in {place[0] for place in places}:
            uri = f"http://127.0.0.1:{deployment.balancer.port}/status/{list_id}"
            token = wallet.request("GET", uri, headers={"Accept": "application/statuslist+jwt"}).body.decode()
            bits = _statuses(token)
            assert all(_status(bits, index) == 0 for lid, index in places if lid == list_id)


def test_status_list_places_stay_unique_across_both(deployment: Deployment) -> None:
    def issue(n: int) -> tuple[str, int]:
        created = deployment.offer(through=deployment.processes[n % 2])
        with TestWallet() as wallet:
            [credential] = wallet.receive(created["offer_uri"], notify=False)
        status = jwt_payload(credential.credentials[0])["status"]["status_list"]
        return status["uri"], status["idx"]

    with ThreadPoolExecutor(4) as pool:
        places = list(pool.map(issue, range(40)))
    assert len(set(places)) == 40
    assert deployment.balancer.connections[0] > 0 and deployment.balancer.connections[1] > 0


def _statuses(token: str) -> bytes:
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    lst = payload["status_list"]["lst"]
    return zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))


def _status(statuses: bytes, index: int) -> int:
    return (statuses[index // 4] >> ((index % 4) * 2)) & 0b11
