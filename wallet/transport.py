"""The wallet's HTTP exchanges with an issuer, and what it makes of their answers.

Standard library only (the wallet ships in the product); one keep-alive connection per origin.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


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


class Connections:
    """One keep-alive connection per origin (scheme, host, port)."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._open: dict[str, http.client.HTTPConnection] = {}
        self._used: set[str] = set()  # origins whose connection already carried a request

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        """One HTTP exchange over the keep-alive connection to the URL's origin."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        while True:
            reused = origin in self._used
            connection = self._connection(origin)
            try:
                connection.request(method, target, body=body, headers=dict(headers or {}))
                response = connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._drop(origin)
                if not reused:
                    raise
                continue  # the server closed an idle keep-alive connection: the request never arrived
            self._used.add(origin)
            if response.will_close:
                self._drop(origin)
            return HttpResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, data)

    def close(self) -> None:
        for origin in list(self._open):
            self._drop(origin)

    def _connection(self, origin: str) -> http.client.HTTPConnection:
        connection = self._open.get(origin)
        if connection is None:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https"):
                raise ValueError(f"not an HTTP URL: {origin}")
            cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            connection = cls(parts.hostname or "", parts.port, timeout=self._timeout)
            self._open[origin] = connection
        return connection

    def _drop(self, origin: str) -> None:
        connection = self._open.pop(origin, None)
        self._used.discard(origin)
        if connection is not None:
            connection.close()
