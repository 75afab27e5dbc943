"""Floods of authorization requests: rate limited like the token endpoint, and however many arrive,
the desk's queue of sign-ins stays short enough to use.

A flood comes from addresses other than 127.0.0.1 where it must not be exempt from the limits
(the rest of 127.0.0.0/8 is loopback too on Linux and Windows; where it is not, the tests skip).
"""

from __future__ import annotations

import http.client
import socket
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from issuer.runtime import IssuerRuntime
from issuer.service.types import SignIn, SignInState
from tests.conftest import start_issuer
from tests.e2e.helpers import BADGE_CLAIMS
from wallet.code_flow import CodeFlowWallet

FLOOD_ADDRESSES = [f"127.0.0.{n}" for n in range(2, 7)]


def loopback_alias(address: str) -> str:
    """`address` if this machine can send from it, else the test is skipped."""
    probe = socket.socket()
    try:
        probe.bind((address, 0))
    except OSError:
        pytest.skip(f"{address} is not a loopback address here")
    finally:
        probe.close()
    return address


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Any]:
    started: list[IssuerRuntime] = []

    def start(**overrides: object) -> IssuerRuntime:
        runtime = start_issuer(tmp_path / f"data{len(started)}", **overrides)
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        runtime.stop()


def send(runtime: IssuerRuntime, method: str, path: str, form: dict[str, str], source: str) -> int:
    """One request from `source`, on a connection of its own; the status."""
    parts = urlsplit(runtime.issuer_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10, source_address=(source, 0))
    try:
        body = urlencode(form)
        if method == "GET":
            connection.request("GET", f"{path}?{body}")
        else:
            connection.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def request_params(wallet: CodeFlowWallet, runtime: IssuerRuntime) -> dict[str, str]:
    session = wallet.authorization_session(runtime.issuer_url, ["employee_badge"])
    params, _ = wallet.authorization_parameters(session, config_ids=["employee_badge"])
    return params


def test_par_and_authorize_share_the_token_endpoint_limit(running: Any) -> None:
    """300 pushed requests from one address used to be accepted in about a second, each a sign-in held
    for the desk; now /par and /authorize draw on the same budget as /token."""
    source = loopback_alias("127.0.0.2")
    runtime = running(token_rate_limit=5, rate_limit_window=60, rate_limit_exempt=[])
    with CodeFlowWallet() as wallet:
        params = request_params(wallet, runtime)
    statuses = [send(runtime, "POST", "/par", params, source) for _ in range(3)]
    statuses += [send(runtime, "GET", "/authorize", params, source) for _ in range(2)]
    assert statuses == [201, 201, 201, 200, 200]
    assert send(runtime, "POST", "/par", params, source) == 429
    assert send(runtime, "GET", "/authorize", params, source) == 429
    assert send(runtime, "POST", "/token", {"grant_type": "authorization_code"}, source) == 429
    assert send(runtime, "POST", "/par", params, "127.0.0.1") == 201  # loopback stays exempt


def test_a_flood_of_sign_ins_keeps_the_desk_usable(running: Any) -> None:
    """With the rate limits off, 100 requests from 127.0.0.1 and 10 from each of five other addresses:
    each client keeps at most its share of unconfirmed sign-ins and all of them at most the total,
    the oldest dropped first; the desk's list stays short and quick, and a wallet that comes last is
    on it, is confirmed and receives its credential."""
    sources = [loopback_alias(address) for address in FLOOD_ADDRESSES]
    runtime = running(token_rate_limit=0, sign_ins_per_client=3, max_sign_ins=10)
    assert runtime.service is not None
    service = runtime.service
    with CodeFlowWallet() as wallet:
        params = request_params(wallet, runtime)
        for number in range(100):
            assert send(
                runtime, "POST" if number % 2 else "GET", "/par" if number % 2 else "/authorize", params, "127.0.0.1"
            ) in (200, 201)
        for source in sources:
            for number in range(10):
                assert send(
                    runtime, "POST" if number % 2 else "GET", "/par" if number % 2 else "/authorize", params, source
                ) in (200, 201)
        kept = [SignIn.from_document(row) for row in service.store.sign_ins.all()]
        unconfirmed = [s for s in kept if s.state in (SignInState.PUSHED, SignInState.WAITING)]
        assert len(unconfirmed) <= 10, len(unconfirmed)
        assert max(Counter(s.client for s in unconfirmed).values()) <= 3
        assert {s.client for s in unconfirmed} >= set(sources[-3:])  # the newest stay

        session = wallet.authorization_session(runtime.issuer_url, ["employee_badge"])
        authorization = wallet.start(session, config_ids=["employee_badge"], use_par=False)
        started = time.perf_counter()
        waiting = service.sign_ins.pending()
        listed = time.perf_counter() - started
        print(f"after 150 requests: {len(unconfirmed)} sign-ins kept, the desk's list read in {listed * 1000:.1f} ms")
        assert len(waiting) <= 10 and listed < 0.5, (len(waiting), listed)
        [mine] = [request for request in waiting if request["confirmation"] == authorization.confirmation]
        service.sign_ins.approve(mine["authorization_id"], claims=BADGE_CLAIMS)
        wallet.follow(authorization)
        wallet.exchange(authorization)
        received = wallet.request_credential(session, "employee_badge")
        assert not isinstance(received, str) and received.credentials
