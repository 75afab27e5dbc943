"""The headless issuer killed with SIGKILL in the middle of issuances, again and again.

A real `python -m issuer serve` runs on a temporary data folder while several wallets loop over
whole pre-authorized issuances: an offer through the admin API, the offer (by value or by
reference), token (with or without tx_code), nonce, credential, notification. The server is
killed at a random moment, restarted on the same data folder and ports, and each wallet carries
on from the step that was cut off, as a wallet retries. Then, after each restart and at the end:

- the data folder opens again (the server starts, and the store opens it offline at the end);
- every credential a wallet received (a 200 with credentials) is in the ledger: a credential
  record whose id is the notification_id the wallet got, for that offer and holder key, with a
  status-list entry of its own;
- the ledger holds a credential for an offer whose wallet got none only when that wallet's
  credential request was cut off by the kill (issued, answer lost), and never two delivered ones
  for one offer: a record written just before a kill that left its offer live is revoked at the
  restart and marked undelivered, and the wallet's retry is served afresh;
- no pre-authorized code that got an access token before a kill is accepted after it;
- every offer created before a kill is still known after it, and one never touched still works;
- the server's output holds no traceback and none of the secrets the wallets used.
"""

from __future__ import annotations

import json
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest
from jwcrypto import jwk
from jwcrypto.common import base64url_decode

from issuer.runtime import read_admin_token
from issuer.storage.history import History
from issuer.storage.store import JournalStore
from wallet.client import PRE_AUTHORIZED_GRANT, Received, Session, TestWallet
from wallet.keys import new_key
from wallet.transport import ConnectionLost, WalletError

KILLS = 5
WALLETS = 6
LOAD_SECONDS = (1.0, 2.5)  # how long the wallets run before each kill, drawn at random
START_TIMEOUT = 30.0
CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}
# What a client sees when the server it talks to is killed (the wallet's request was cut off on
# its way back) or not yet back (no connection).
CUT = (ConnectionLost, OSError)
T = TypeVar("T")


class Server:
    """`python -m issuer serve` on one data folder; restarts keep the ports the first start got."""

    def __init__(self, data_dir: Path, logs: Path) -> None:
        self.data_dir = data_dir
        self.logs = logs
        self.launcher = ["-m", "issuer"]  # what runs `serve`: the issuer, or the issuer with a crash planted
        self.generation = 0
        self.issuer_url = ""
        self.admin_url = ""
        self.up = threading.Event()
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        ports = [_port(self.issuer_url), _port(self.admin_url)] if self.issuer_url else [0, 0]
        self.generation += 1
        command = [sys.executable, *self.launcher, "serve", "--data-dir", str(self.data_dir)]
        command += ["--port", str(ports[0]), "--admin-port", str(ports[1])]
        with (self.logs / f"server-{self.generation}.log").open("wb") as log:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True)
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_drain, args=(process.stdout, lines), daemon=True).start()
        urls: dict[str, str] = {}
        deadline = time.monotonic() + START_TIMEOUT
        while len(urls) < 2:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
            assert line is not None, f"the server did not start on its data folder:\n{self.output()[-3000:]}"
            name, _, url = line.partition(": ")
            urls[name] = url.strip()
        if self.issuer_url:
            assert (urls["issuer"], urls["admin"]) == (self.issuer_url, self.admin_url)
        self.issuer_url, self.admin_url = urls["issuer"], urls["admin"]
        self._process = process
        self.up.set()

    def kill(self) -> None:
        assert self._process is not None
        self.up.clear()
        self._process.send_signal(signal.SIGKILL)
        assert self._process.wait(10) == -signal.SIGKILL

    def wait(self) -> int:
        """The exit code of a server that ends on its own."""
        assert self._process is not None
        self.up.clear()
        return self._process.wait(10)

    def stop(self) -> int:
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)
        return self._process.wait(15)

    def output(self) -> str:
        return "".join(log.read_text(errors="replace") for log in sorted(self.logs.glob("server-*.log")))

    def ensure_stopped(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)


def _port(url: str) -> int:
    return int(urlsplit(url).port or 0)


def _drain(stream: IO[str] | None, lines: queue.Queue[str | None]) -> None:
    if stream is not None:
        for line in stream:
            lines.put(line)
    lines.put(None)


@dataclass
class Journey:
    """One issuance as its wallet lived it, across kills."""

    offer_id: str
    offer_uri: str
    tx_code: str | None
    code: str
    created_at: float
    key: jwk.JWK = field(default_factory=new_key)
    session: Session | None = None
    access_token: str = ""
    token_at: float | None = None  # when the token response arrived
    token_lost: bool = False  # token request cut off; after the restart the code was already spent
    credential_cut: bool = False  # a credential request was cut off
    denied_after_cut: bool = False  # ... and after the restart the credential was already issued
    received: Received | None = None
    replayed: bool = False
    checked: bool = False


class Record:
    """What all the wallets saw, shared with the test's thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.journeys: list[Journey] = []
        self.cuts = 0
        self.errors: list[str] = []

    def snapshot(self) -> list[Journey]:
        with self.lock:
            return list(self.journeys)


class Wallet(threading.Thread):
    """A wallet that runs whole issuances until told to stop, and retries a step that a kill cut off."""

    def __init__(self, server: Server, admin_token: str, record: Record, go: threading.Event, seed: int) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.admin_headers = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
        self.record = record
        self.go = go  # cleared: finish the issuance at hand, start no other
        self.stopped = False
        self.random = random.Random(seed)
        self.wallet = TestWallet(timeout=10)

    def run(self) -> None:
        try:
            while True:
                self.go.wait()
                if self.stopped:
                    return
                journey = self.new_offer()
                if journey is not None:
                    self.complete(journey)
        except Exception:  # any surprise is the test's evidence, reported by the test's thread
            with self.record.lock:
                self.record.errors.append(traceback.format_exc(limit=4))
        finally:
            self.wallet.close()

    def new_offer(self) -> Journey | None:
        """An offer from the admin API, or None when the kill cut the request (it may exist or not)."""
        body = {
            "credential_configuration_ids": ["employee_badge"],
            "claims": CLAIMS,
            "tx_code": self.random.random() < 0.5,
            "by_reference": self.random.random() < 0.5,
        }
        try:
            response = self.wallet.request(
                "POST",
                f"{self.server.admin_url}/api/offers",
                body=json.dumps(body).encode(),
                headers=self.admin_headers,
            )
        except CUT:
            self.wait_for_restart()
            return None
        assert response.status == 201, response.body
        created = response.json()
        journey = Journey(
            created["offer_id"],
            created["offer_uri"],
            created["tx_code"],
            created["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"],
            time.monotonic(),
        )
        with self.record.lock:
            self.record.journeys.append(journey)
        return journey

    def complete(self, journey: Journey) -> None:
        session = journey.session = self.until_answered(lambda: self.resolve(journey))
        self.redeem(journey, session)
        if journey.token_lost:
            return
        self.request(journey, session)
        received = journey.received
        if received is not None and received.notification_id:
            notification_id = received.notification_id
            self.until_answered(lambda: self.wallet.notify(session, notification_id))

    def resolve(self, journey: Journey) -> Session:
        session = self.wallet.resolve_offer(journey.offer_uri)
        self.wallet.fetch_as_metadata(session)
        return session

    def redeem(self, journey: Journey, session: Session) -> None:
        cut = False
        while True:
            try:
                journey.access_token = self.wallet.token(session, journey.tx_code)["access_token"]
                journey.token_at = time.monotonic()
                return
            except CUT:
                cut = True
                self.wait_for_restart()
            except WalletError as error:
                if cut and (error.status, error.error) == (400, "invalid_grant"):
                    journey.token_lost = True
                    return
                raise

    def request(self, journey: Journey, session: Session) -> None:
        while True:
            try:
                result = self.wallet.request_credential(session, "employee_badge", holder_keys=[journey.key])
                assert not isinstance(result, str), "an immediate offer was deferred"
                journey.received = result
                return
            except CUT:
                journey.credential_cut = True
                self.wait_for_restart()
            except WalletError as error:
                if journey.credential_cut and (error.status, error.error) == (400, "credential_request_denied"):
                    journey.denied_after_cut = True
                    return
                raise

    def until_answered(self, step: Callable[[], T]) -> T:
        while True:
            try:
                return step()
            except CUT:
                self.wait_for_restart()

    def wait_for_restart(self) -> None:
        with self.record.lock:
            self.record.cuts += 1
        while not self.server.up.wait(0.05):
            pass
        time.sleep(self.random.uniform(0, 0.05))


@dataclass
class Parked:
    """An offer made before a kill and left alone until the end."""

    offer_id: str
    offer_uri: str
    tx_code: str | None
    created_at: float
    checked: bool = False


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    # These checks count one credential per offer: a wallet's retry after a lost answer may not get a
    # second one, as it may when repeat requests are allowed (max_credential_requests, OID4VCI §8).
    (tmp_path / "data").mkdir(mode=0o700)
    (tmp_path / "data" / "settings.json").write_text(json.dumps({"max_credential_requests": 1}))
    running = Server(tmp_path / "data", tmp_path)
    try:
        yield running
    finally:
        running.ensure_stopped()


def test_sigkill_during_issuance_loses_nothing(server: Server) -> None:
    seed = random.randrange(2**32)
    print(f"seed {seed}")
    chance = random.Random(seed)
    server.start()
    admin_token = read_admin_token(server.data_dir)
    record, go = Record(), threading.Event()
    wallets = [Wallet(server, admin_token, record, go, chance.randrange(2**32)) for _ in range(WALLETS)]
    checks: Counter[str] = Counter()
    parked: list[Parked] = []
    with TestWallet() as desk:
        for wallet in wallets:
            wallet.start()
        for _ in range(KILLS):
            parked += [_park(desk, server, admin_token, tx_code=flag) for flag in (False, True)]
            go.set()
            time.sleep(chance.uniform(*LOAD_SECONDS))
            killed_at = time.monotonic()
            server.kill()
            go.clear()  # the wallets finish what the kill cut off, then wait for the checks
            server.start()  # on the same data folder: it must open
            _check_after_restart(desk, server, admin_token, record.snapshot(), parked, killed_at, checks)
        go.set()
        time.sleep(LOAD_SECONDS[0])
        for wallet in wallets:
            wallet.stopped = True  # each ends after the issuance at hand
        for wallet in wallets:
            wallet.join(60)
        assert not any(wallet.is_alive() for wallet in wallets), "a wallet is stuck"
        assert not record.errors, record.errors
        for offer in parked:  # made before a kill, never touched: still works
            [received] = desk.receive(offer.offer_uri, offer.tx_code)
            assert received.credentials and received.notification_id
            checks["parked offers issued after restarts"] += 1
    assert server.stop() == 0
    journeys = record.snapshot()
    _check_ledger(server.data_dir, journeys, parked, checks)
    _check_output(server, journeys, admin_token)
    received = [j for j in journeys if j.received]
    checks["credentials received by wallets"] = len(received)
    checks["issuances started"] = len(journeys)
    checks["requests cut off by a kill"] = record.cuts
    checks["tokens lost (code spent, answer cut off)"] = sum(j.token_lost for j in journeys)
    checks["credentials issued, answer cut off"] = sum(j.denied_after_cut for j in journeys)
    print(f"{KILLS} kills, {server.generation} starts; " + "; ".join(f"{k}: {v}" for k, v in sorted(checks.items())))
    assert len(received) >= 5 * KILLS, "too little load to prove anything"
    assert checks["codes replayed after a restart"] >= KILLS
    assert checks["offers found after a restart"] >= KILLS


def _park(desk: TestWallet, server: Server, admin_token: str, *, tx_code: bool) -> Parked:
    body = {"credential_configuration_ids": ["employee_badge"], "claims": CLAIMS, "tx_code": tx_code}
    body["by_reference"] = tx_code
    headers = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
    response = desk.request("POST", f"{server.admin_url}/api/offers", body=json.dumps(body).encode(), headers=headers)
    assert response.status == 201, response.body
    created = response.json()
    return Parked(created["offer_id"], created["offer_uri"], created["tx_code"], time.monotonic())


def _check_after_restart(
    desk: TestWallet,
    server: Server,
    admin_token: str,
    journeys: list[Journey],
    parked: list[Parked],
    killed_at: float,
    checks: Counter[str],
) -> None:
    """Right after a restart: codes redeemed before the kill are spent; offers made before it are there."""
    token_url = f"{server.issuer_url}/token"
    for journey in journeys:
        if journey.token_at is not None and journey.token_at < killed_at and not journey.replayed:
            form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": journey.code}
            if journey.tx_code:
                form["tx_code"] = journey.tx_code
            response = desk.post_form(token_url, form)
            assert (response.status, response.json().get("error")) == (400, "invalid_grant"), (
                journey.offer_id,
                response.body,
            )
            journey.replayed = True
            checks["codes replayed after a restart"] += 1
    headers = {"Authorization": f"Bearer {admin_token}"}
    for offer in [*journeys, *parked]:
        if offer.created_at < killed_at and not offer.checked:
            response = desk.request("GET", f"{server.admin_url}/api/offers/{offer.offer_id}", headers=headers)
            assert response.status == 200, (offer.offer_id, response.body)
            if isinstance(offer, Parked):
                assert response.json()["state"] == "created", response.body
            offer.checked = True
            checks["offers found after a restart"] += 1


def _check_ledger(data_dir: Path, journeys: list[Journey], parked: list[Parked], checks: Counter[str]) -> None:
    """The data folder opened offline: what the wallets received is exactly what the ledger says."""
    JournalStore(data_dir).close()  # state, desk and history journals all load
    history = History(data_dir / "history")
    try:
        ledger = {row["id"]: row for row in history.scan("records", lambda row: row.get("kind") == "credential")}
        archived = Counter(row["offer_id"] for row in history.scan("records", lambda row: row.get("kind") == "offer"))
    finally:
        history.close()
    # A record written just before a kill, whose offer was still live at the restart, was never
    # delivered: the restart revokes it and marks it `undelivered`, and the retry is served afresh.
    undelivered = [row for row in ledger.values() if row.get("undelivered")]
    per_offer = Counter(row["offer_id"] for row in ledger.values() if not row.get("undelivered"))
    cut_offers = {j.offer_id for j in journeys if j.credential_cut}
    for row in undelivered:
        assert row["offer_id"] in cut_offers, f"undelivered, yet no request was cut off: {row['id']}"
        assert row["status_changes"][-1]["reason"] == "never delivered", row
    checks["undelivered records revoked at a restart"] = len(undelivered)
    places = Counter(
        (row["status_list"]["list"], row["status_list"]["idx"]) for row in ledger.values() if "status_list" in row
    )
    assert not [place for place, count in places.items() if count > 1], "a status-list entry was given twice"
    notification_ids = [j.received.notification_id for j in journeys if j.received]
    assert len(notification_ids) == len(set(notification_ids)), "two wallets got the same notification id"
    lost = []
    for journey in journeys:
        received = journey.received
        if received is None:
            if journey.credential_cut:
                assert per_offer[journey.offer_id] <= 1, journey.offer_id
            else:
                assert per_offer[journey.offer_id] == 0, f"issued without a request: {journey.offer_id}"
            continue
        row = ledger.get(str(received.notification_id))
        if row is None:
            lost.append((journey.offer_id, received.notification_id))
            continue
        assert row["offer_id"] == journey.offer_id and row["holder_jkt"] == journey.key.thumbprint(), row
        assert not row.get("undelivered"), f"a delivered credential was revoked as undelivered: {row['id']}"
        assert per_offer[journey.offer_id] == 1 and archived[journey.offer_id] == 1, _issued_twice(
            journey, ledger, archived[journey.offer_id]
        )
        if "status_list" in row:
            status = _payload(received.credentials[0]).get("status", {}).get("status_list", {})
            assert status.get("idx") == row["status_list"]["idx"], (status, row)
        checks["received credentials found in the ledger"] += 1
    assert not lost, f"credentials a wallet received are not in the ledger: {lost}"
    known = {j.offer_id for j in journeys} | {p.offer_id for p in parked}
    assert set(per_offer) <= known, f"credentials for offers nobody redeemed: {set(per_offer) - known}"


def _issued_twice(journey: Journey, ledger: dict[str, dict[str, Any]], archived: int) -> str:
    rows = [
        {k: row.get(k) for k in ("id", "issued_at", "holder_jkt", "status_list", "undelivered")}
        for row in ledger.values()
        if row["offer_id"] == journey.offer_id
    ]
    flags = {k: getattr(journey, k) for k in ("credential_cut", "denied_after_cut", "token_lost", "token_at")}
    return (
        f"issued twice: {journey.offer_id}, wallet key {journey.key.thumbprint()}, {flags}, "
        f"ledger {rows}, archived {archived} times"
    )


def _payload(credential: str) -> dict[str, Any]:
    return dict(json.loads(base64url_decode(credential.split("~")[0].split(".")[1])))


def _check_output(server: Server, journeys: list[Journey], admin_token: str) -> None:
    output = server.output()
    assert "Traceback" not in output, output[-3000:]
    secrets = {"admin token": admin_token}
    for journey in journeys:
        secrets[f"code {journey.offer_id}"] = journey.code
        if journey.access_token:
            secrets[f"access token {journey.offer_id}"] = journey.access_token
        query = parse_qs(urlsplit(journey.offer_uri).query)
        if "credential_offer_uri" in query:
            secrets[f"offer reference {journey.offer_id}"] = query["credential_offer_uri"][0].rsplit(".", 1)[1]
    leaked = sorted(name for name, value in secrets.items() if value in output)
    # A six-digit tx_code counts only as a whole number, not as digits of a timestamp.
    leaked += [
        f"tx_code {j.offer_id}" for j in journeys if j.tx_code and re.search(rf"(?<!\d){j.tx_code}(?!\d)", output)
    ]
    assert not leaked, leaked


# The process dies, as under SIGKILL (no cleanup, nothing flushed that was not written), at the
# first removal of a live offer: in an issuance, after the history write that holds the
# credential record and the archived offer, before the state write that removes the live offer.
DIE_BETWEEN_THE_WRITES = """
import os, sys
from issuer.storage import journal
from issuer.__main__ import main

remove = journal.JournaledTable.remove

def remove_or_die(self, *args, **kwargs):
    if self.name == "offers":
        os._exit(137)
    return remove(self, *args, **kwargs)

journal.JournaledTable.remove = remove_or_die
sys.exit(main(sys.argv[1:]))
"""


def test_an_issuance_cut_between_its_two_writes_is_not_issued_twice(server: Server) -> None:
    """The process dies inside an issuance, between its history write and its state write (the
    window the random kills above hit now and then). The wallet never got an answer and asks
    again with the same access token: it may get its credential, but the offer must not issue a
    second one: one credential record and one archived offer in the ledger."""
    server.launcher = ["-c", DIE_BETWEEN_THE_WRITES]
    server.start()
    admin_token = read_admin_token(server.data_dir)
    headers = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
    body = json.dumps({"credential_configuration_ids": ["employee_badge"], "claims": CLAIMS}).encode()
    key = new_key()
    with TestWallet() as wallet:
        created = wallet.request("POST", f"{server.admin_url}/api/offers", body=body, headers=headers).json()
        session = wallet.resolve_offer(created["offer_uri"])
        wallet.fetch_metadata(session)
        wallet.token(session)
        with pytest.raises(CUT):
            wallet.request_credential(session, "employee_badge", holder_keys=[key])
        assert server.wait() == 137
        server.launcher = ["-m", "issuer"]
        server.start()
        try:
            retried: Any = wallet.request_credential(session, "employee_badge", holder_keys=[key])
        except WalletError as error:
            retried = (error.status, error.error)
    assert server.stop() == 0
    history = History(server.data_dir / "history")
    try:
        mine = [row for row in history.scan("records") if row.get("offer_id") == created["offer_id"]]
    finally:
        history.close()
    kinds = Counter(row.get("kind") for row in mine)
    delivered = [row for row in mine if row.get("kind") == "credential" and not row.get("undelivered")]
    undelivered = [row for row in mine if row.get("undelivered")]
    # The record written before the cut belongs to no answer: at the restart it is revoked and
    # marked undelivered, the half-archived offer is live again, and the retry issues once.
    assert (len(delivered), kinds["offer"]) == (1, 1), (retried, dict(kinds))
    assert len(undelivered) <= 1 and all(
        row["status_changes"][-1]["reason"] == "never delivered" for row in undelivered
    )
