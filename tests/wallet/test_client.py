"""The wallet's connections when a request is cut off: it drops the broken connection and goes on.

An idempotent request is sent once more on a fresh connection (RFC 9110 §9.2.2); a POST that
may have reached the server is not sent again but raises `ConnectionLost`; either way the next
request on the same wallet succeeds. Servers: real Waitress for requests that time out, and a
bare socket server for connections the server ends itself.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from issuer.web.server import IssuerServer, bind
from wallet.client import TestWallet
from wallet.transport import ConnectionLost, WalletError

TIMEOUT = 0.5
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class SlowFirstApp:
    """A WSGI app that keeps its first request waiting until `release` is set, and answers the others."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._lock:
            self.calls.append(environ["REQUEST_METHOD"])
            first = len(self.calls) == 1
        if first:
            self.release.wait(10)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]


class ScriptedServer:
    """A bare HTTP/1.1 server on 127.0.0.1 that treats its n-th request as the n-th action says:
    "answer", "answer and close" (it ends the keep-alive connection after its response), or
    "close" (it ends the connection without an answer). Requests past the script are answered."""

    def __init__(self, actions: list[str]) -> None:
        self.requests: list[tuple[int, str]] = []  # (connection number, request line)
        self.ended = threading.Event()  # the server ended a connection itself
        self._actions = actions
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        number = 0
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            number += 1
            threading.Thread(target=self._serve, args=(connection, number), daemon=True).start()

    def _serve(self, connection: socket.socket, number: int) -> None:
        stream = connection.makefile("rb")
        try:
            while True:
                line = stream.readline()
                if not line:
                    return
                length = 0
                while (header := stream.readline()) not in (b"\r\n", b""):
                    name, _, value = header.decode().partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                stream.read(length)
                with self._lock:
                    self.requests.append((number, line.decode().strip()))
                    action = self._actions.pop(0) if self._actions else "answer"
                if action != "close":
                    connection.sendall(ANSWER)
                if action != "answer":
                    break
        finally:
            stream.close()
            connection.close()
        self.ended.set()


@pytest.fixture
def slow_first() -> Iterator[tuple[SlowFirstApp, str]]:
    app = SlowFirstApp()
    server = IssuerServer(app, bind("127.0.0.1", 0), name="slow-first")
    server.start()
    try:
        yield app, f"http://127.0.0.1:{server.port}"
    finally:
        app.release.set()
        server.stop()


@pytest.fixture
def scripted() -> Iterator[Callable[[list[str]], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(actions: list[str]) -> ScriptedServer:
        servers.append(ScriptedServer(actions))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize("then", ["GET", "POST"])
def test_a_post_that_timed_out_is_not_sent_again_and_the_next_request_succeeds(
    slow_first: tuple[SlowFirstApp, str], then: str
) -> None:
    app, url = slow_first
    with TestWallet(timeout=TIMEOUT) as wallet:
        with pytest.raises(ConnectionLost) as lost:
            wallet.post_json(f"{url}/credential", {"proof": "x"})
        assert isinstance(lost.value, WalletError) and lost.value.status == 0 and not lost.value.resent
        assert "not sent again" in str(lost.value) and "TimeoutError" in str(lost.value)
        response = wallet.request(then, f"{url}/next", body=b"{}" if then == "POST" else None)
    assert (response.status, response.json()) == (200, {})
    assert app.calls == ["POST", then]


def test_a_get_that_timed_out_is_sent_once_more_on_a_fresh_connection(slow_first: tuple[SlowFirstApp, str]) -> None:
    app, url = slow_first
    with TestWallet(timeout=TIMEOUT) as wallet:
        first = wallet.request("GET", f"{url}/.well-known/openid-credential-issuer")
        second = wallet.request("GET", f"{url}/.well-known/openid-credential-issuer")
    assert (first.status, second.status) == (200, 200)
    assert app.calls == ["GET", "GET", "GET"]


def test_a_get_the_server_cut_off_is_sent_once_more(scripted: Callable[[list[str]], ScriptedServer]) -> None:
    server = scripted(["close"])
    with TestWallet(timeout=TIMEOUT) as wallet:
        response = wallet.request("GET", f"{server.url}/offer")
    assert response.status == 200
    assert server.requests == [(1, "GET /offer HTTP/1.1"), (2, "GET /offer HTTP/1.1")]


def test_a_get_cut_off_twice_raises_and_the_wallet_goes_on(scripted: Callable[[list[str]], ScriptedServer]) -> None:
    server = scripted(["close", "close"])
    with TestWallet(timeout=TIMEOUT) as wallet:
        with pytest.raises(ConnectionLost) as lost:
            wallet.request("GET", f"{server.url}/offer")
        assert lost.value.resent and "sent twice" in str(lost.value)
        assert wallet.request("GET", f"{server.url}/offer").status == 200
    assert [number for number, _ in server.requests] == [1, 2, 3]


def test_a_post_the_server_cut_off_is_not_sent_again(scripted: Callable[[list[str]], ScriptedServer]) -> None:
    server = scripted(["close"])
    with TestWallet(timeout=TIMEOUT) as wallet:
        with pytest.raises(ConnectionLost, match="RemoteDisconnected"):
            wallet.post_form(f"{server.url}/token", {"grant_type": "x"})
        assert wallet.post_form(f"{server.url}/token", {"grant_type": "x"}).status == 200
    assert server.requests == [(1, "POST /token HTTP/1.1"), (2, "POST /token HTTP/1.1")]


def test_a_keep_alive_connection_the_server_ended_is_replaced_before_a_post(
    scripted: Callable[[list[str]], ScriptedServer],
) -> None:
    server = scripted(["answer and close"])
    with TestWallet(timeout=TIMEOUT) as wallet:
        assert wallet.request("GET", f"{server.url}/metadata").status == 200
        assert server.ended.wait(5)
        assert wallet.post_json(f"{server.url}/nonce", {}).status == 200
    assert server.requests == [(1, "GET /metadata HTTP/1.1"), (2, "POST /nonce HTTP/1.1")]


def test_a_healthy_keep_alive_connection_carries_every_request(
    scripted: Callable[[list[str]], ScriptedServer],
) -> None:
    server = scripted([])
    with TestWallet(timeout=TIMEOUT) as wallet:
        for _ in range(3):
            assert wallet.post_json(f"{server.url}/nonce", {}).status == 200
    assert [number for number, _ in server.requests] == [1, 1, 1]


def test_a_refused_connection_is_raised_as_is_and_the_wallet_goes_on(
    scripted: Callable[[list[str]], ScriptedServer],
) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    server = scripted([])
    with TestWallet(timeout=TIMEOUT) as wallet:
        with pytest.raises(ConnectionRefusedError):
            wallet.post_json(f"http://127.0.0.1:{port}/nonce", {})
        assert wallet.post_json(f"{server.url}/nonce", {}).status == 200
