"""Connections held open by one client: idle, or a request sent a byte at a time.

Waitress serves at most `max_connections` at once; one address used to be able to take them all
(about 100 idle sockets blocked every wallet until they closed, or for the 120 s idle timeout).
Now each address holds at most `max_connections_per_client`, and a connection that has not sent a
whole request within `request_timeout` is closed. Loopback addresses are exempt from the rate
limits, not from this cap; the idle sockets come from 127.0.0.2 (skipped where that is not a
loopback address), the wallet from 127.0.0.1.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from issuer.runtime import IssuerRuntime
from issuer.service import OfferRequest
from tests.conftest import start_issuer
from tests.hardening.test_floods import loopback_alias
from wallet.client import TestWallet

IDLE_SOCKETS = 1000
CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[IssuerRuntime]:
    running = start_issuer(tmp_path / "data", request_timeout=3)
    yield running
    running.stop()


@pytest.fixture
def enough_files() -> Iterator[None]:
    """Room for a thousand sockets on this side and what the server accepts of them."""
    resource = pytest.importorskip("resource", reason="the open-files limit is raised through POSIX resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 3 * IDLE_SOCKETS + 256
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the open-files limit ({hard}) is too low for {IDLE_SOCKETS} sockets")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def issue_one(runtime: IssuerRuntime) -> float:
    """A whole pre-authorized issuance from 127.0.0.1 on fresh connections; the seconds it took."""
    assert runtime.service is not None
    offer = runtime.service.offers.create(OfferRequest(["employee_badge"], CLAIMS))
    started = time.perf_counter()
    with TestWallet(timeout=10) as wallet:
        [received] = wallet.receive(offer.offer_uri)
    assert received.credentials
    return time.perf_counter() - started


def connect_from(address: str, runtime: IssuerRuntime, count: int) -> list[socket.socket]:
    parts = urlsplit(runtime.issuer_url)
    opened = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind((address, 0))
        sock.settimeout(10)
        sock.connect((parts.hostname or "", parts.port or 0))
        opened.append(sock)
    return opened


def test_a_thousand_idle_sockets_from_one_address_leave_other_wallets_served(
    runtime: IssuerRuntime, enough_files: None
) -> None:
    source = loopback_alias("127.0.0.2")
    baseline = issue_one(runtime)
    began = time.perf_counter()
    idle = connect_from(source, runtime, IDLE_SOCKETS)
    opened = time.perf_counter() - began
    try:
        under_attack = [issue_one(runtime) for _ in range(3)]
    finally:
        for sock in idle:
            sock.close()
    print(f"issuance {baseline:.3f} s alone; {IDLE_SOCKETS} idle sockets opened in {opened:.2f} s;")
    print("issuances among them: " + ", ".join(f"{seconds:.3f} s" for seconds in under_attack))
    assert max(under_attack) < max(3.0, 10 * baseline), under_attack


def test_a_request_that_never_completes_is_cut_off(runtime: IssuerRuntime) -> None:
    """A request sent a byte a second (each byte resets an idle timer) is closed once `request_timeout`
    has passed since it began; so is a connection that sends nothing."""
    parts = urlsplit(runtime.issuer_url)
    silent = socket.create_connection((parts.hostname or "", parts.port or 0), timeout=10)
    trickle = socket.create_connection((parts.hostname or "", parts.port or 0), timeout=10)
    began = time.perf_counter()
    request = f"POST /token HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: 100\r\n\r\n".encode()
    closed_after = None
    try:
        for byte in request * 10:
            try:
                trickle.send(bytes([byte]))
            except OSError:
                closed_after = time.perf_counter() - began
                break
            trickle.settimeout(1.0)
            try:
                if trickle.recv(1) == b"":
                    closed_after = time.perf_counter() - began
                    break
            except TimeoutError:
                pass
        silent.settimeout(10)
        assert silent.recv(1) == b""  # closed by the server too
        silent_closed = time.perf_counter() - began
    finally:
        silent.close()
        trickle.close()
    print(f"trickled request closed after {closed_after} s, silent connection after {silent_closed:.1f} s")
    assert closed_after is not None and closed_after < 3 + 3, closed_after
    assert silent_closed < 3 + 3
