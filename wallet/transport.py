"""The wallet's HTTP exchanges with an issuer, and what it makes of their outcome.

Standard library only (the wallet ships in the product). One keep-alive connection per origin,
replaced whenever it breaks: a connection that failed half-way is out of step with its server
and cannot carry another request. An idempotent request is sent once more on a fresh
connection (RFC 9110 §9.2.2); any other request that may have reached the server is not sent
again, since the issuer may have acted on it: the caller gets a `ConnectionLost` and decides.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})  # RFC 9110 §9.2.2


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def content_type(self) -> str:
        """The media type without parameters, in lower case."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class WalletError(Exception):
    """The issuer answered with an error: the step, HTTP status, headers and body, for assertions."""

    def __init__(self, step: str, status: int, headers: Mapping[str, str], body: Any) -> None:
        super().__init__(f"{step}: HTTP {status}: {body}")
        self.step = step
        self.status = status
        self.headers = dict(headers)
        self.body = body

    @property
    def error(self) -> str | None:
        return self.body.get("error") if isinstance(self.body, dict) else None

    @property
    def error_description(self) -> str | None:
        return self.body.get("error_description") if isinstance(self.body, dict) else None


class ProtocolViolation(WalletError):
    """The issuer answered, but not as OID4VCI allows; `reason` says what is wrong."""

    def __init__(self, step: str, reason: str, response: HttpResponse | None = None) -> None:
        status, headers, body = (response.status, response.headers, response.body) if response else (0, {}, b"")
        super().__init__(step, status, headers, body)
        self.reason = reason
        self.args = (f"{step}: {reason}",)


class ConnectionLost(WalletError):
    """The connection broke after the request went out and before its whole answer came back.

    Status 0 and no body: there is no answer. `resent` tells whether an idempotent request was
    already sent a second time; a request that is not idempotent never is, as the issuer may
    have acted on it. The wallet stays usable: the next request opens a fresh connection.
    """

    def __init__(self, method: str, url: str, cause: BaseException, *, resent: bool) -> None:
        super().__init__("connection", 0, {}, b"")
        self.method = method
        self.url = url
        self.resent = resent
        what = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
        if resent:
            outcome = "sent twice, on two connections, and no answer came back"
        else:
            outcome = "not sent again, as the issuer may have received it"
        self.args = (f"{method} {url}: the connection broke before the answer ({what}); the request was {outcome}",)


class Connections:
    """One keep-alive connection per origin (scheme, host, port), dropped when it breaks.

    `connect_to` maps an origin to the one actually connected to, as curl's `--connect-to` does: a test
    reaches `https://issuer.example` at the plain-HTTP `http://127.0.0.1:port` a TLS proxy would forward
    to, with the request's Host header still naming the public origin.
    """

    def __init__(self, timeout: float, connect_to: Mapping[str, str] | None = None) -> None:
        self._timeout = timeout
        self._connect_to = dict(connect_to or {})
        self._open: dict[str, http.client.HTTPConnection] = {}

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        """One HTTP exchange; an idempotent request is retried once on a fresh connection when the
        first one breaks, any other raises `ConnectionLost`. A failure to connect is raised as is:
        nothing was sent."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        idempotent = retry = method.upper() in IDEMPOTENT_METHODS
        while True:
            connection = self._connection(origin)
            sent = dict(headers or {})
            if origin in self._connect_to:
                sent.setdefault("Host", parts.netloc)
            try:
                connection.request(method, target, body=body, headers=sent)
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as error:
                self._drop(origin)
                if retry:
                    retry = False
                    continue
                raise ConnectionLost(method, url, error, resent=idempotent) from error
            if response.will_close:
                self._drop(origin)
            return HttpResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, data)

    def close(self) -> None:
        for origin in list(self._open):
            self._drop(origin)

    def _connection(self, origin: str) -> http.client.HTTPConnection:
        """The origin's idle connection if the server has not closed it meanwhile, else a new one."""
        connection = self._open.get(origin)
        if connection is not None and not _still_open(connection.sock):
            self._drop(origin)
            connection = None
        if connection is None:
            parts = urlsplit(self._connect_to.get(origin, origin))
            if parts.scheme not in ("http", "https"):
                raise ValueError(f"not an HTTP URL: {origin}")
            cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            connection = cls(parts.hostname or "", parts.port, timeout=self._timeout)
            try:
                connection.connect()
            except OSError:
                connection.close()  # a TLS handshake that failed leaves the plain socket open
                raise
            self._open[origin] = connection
        return connection

    def _drop(self, origin: str) -> None:
        connection = self._open.pop(origin, None)
        if connection is not None:
            connection.close()


def _still_open(sock: socket.socket | None) -> bool:
    """Whether an idle keep-alive socket can carry a request: it has nothing to read. A readable
    idle socket was closed by the server (end of file or reset) or holds bytes no request asked for.
    Polled without waiting; `poll` has no limit on descriptor numbers, Windows has only `select`."""
    if sock is None:
        return False
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return not poller.poll(0)
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):  # a closed socket has no descriptor
        return False
    return not readable
