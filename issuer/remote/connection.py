"""One admin API over HTTP: JSON in, JSON out, its errors back as the issuer's own exceptions.

A refusal comes back as the ServiceError the service raised (same class, same message), so a
page says the same thing whether its issuer runs in the app or on another machine. A network
failure is an OSError naming the issuer's address.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import IO, Any

from issuer.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError, Throttled, Unauthenticated

TIMEOUT = 30.0
USER_AGENT = "frontdesk-desk"
ERRORS: dict[str, type[ServiceError]] = {
    "invalid_request": InvalidInput,
    "not_found": NotFound,
    "conflict": Conflict,
    "forbidden": Forbidden,
    "invalid_credentials": Unauthenticated,
}


class LoginEnded(Unauthenticated):
    """The login token is no longer accepted (expired, logged out): log in again."""


def check_remote_url(url: str) -> str:
    """The admin URL without a trailing slash; https, or http on a loopback address only."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"the issuer's address must be an https URL, not {url[:80]!r}")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise InvalidInput("the issuer's address must use https: http is allowed on this computer (loopback) only")
    return url.strip().rstrip("/")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AdminConnection:
    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = TIMEOUT) -> None:
        self.base_url = check_remote_url(base_url)
        self.token = token
        self.timeout = timeout

    def request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, query: Mapping[str, Any] | None = None
    ) -> Any:
        """The answer's JSON; raises the ServiceError the issuer answered with, or OSError."""
        with self.open(method, path, body, query) as response:
            return json.loads(response.read() or b"null")

    def text(self, path: str, query: Mapping[str, Any] | None = None) -> str:
        with self.open("GET", path, None, query) as response:
            return bytes(response.read()).decode("utf-8")

    def open(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> IO[bytes]:
        """The open response (for streams and downloads); the caller closes it."""
        url = self.base_url + path
        if query:
            given = {name: value for name, value in query.items() if value is not None and value != ""}
            url += "?" + urllib.parse.urlencode(given, doseq=True)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method, headers={"User-Agent": USER_AGENT})
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            response: IO[bytes] = urllib.request.urlopen(request, timeout=timeout or self.timeout)
        except urllib.error.HTTPError as error:
            with error:
                raise refusal(error.code, error.read(), error.headers.get("Retry-After")) from None
        except urllib.error.URLError as error:
            reason = getattr(error.reason, "strerror", None) or str(error.reason)
            raise OSError(f"the issuer at {self.base_url} cannot be reached ({reason})") from None
        except TimeoutError:
            raise OSError(f"the issuer at {self.base_url} did not answer in time") from None
        return response

    def open_stream(
        self, path: str, headers: Mapping[str, str], timeout: float
    ) -> tuple[socket.socket, http.client.HTTPResponse]:
        """A long-lived GET on its own connection, whose socket another thread may shut down to end it
        (closing the response under a blocked reader would wait for the reader's next byte)."""
        parts = urllib.parse.urlsplit(self.base_url)
        host, port = parts.hostname or "", parts.port
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        sent = {"User-Agent": USER_AGENT, **headers}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        try:
            connection.request("GET", parts.path + path, headers=sent)
            sock = connection.sock  # the response keeps it after the connection lets go of it
            response = connection.getresponse()
        except OSError as error:
            connection.close()
            reason = error.strerror or str(error) or type(error).__name__
            raise OSError(f"the issuer at {self.base_url} cannot be reached ({reason})") from None
        if response.status != 200:
            body = response.read()
            connection.close()
            raise refusal(response.status, body, response.getheader("Retry-After"))
        if not isinstance(sock, socket.socket):
            response.close()
            raise OSError(f"the issuer at {self.base_url} closed the event stream at once")
        return sock, response


def refusal(status: int, body: bytes, retry_after: str | None = None) -> ServiceError:
    """The exception the issuer's JSON error stands for; `retry_after`: its Retry-After header."""
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return ServiceError(f"the issuer answered {status} without an explanation")
    code = str(answer.get("error", ""))
    message = str(answer.get("error_description") or code or f"the issuer answered {status}")
    wait = float(retry_after) if retry_after and retry_after.isascii() and retry_after.isdigit() else 0.0
    if code == "invalid_token":
        return LoginEnded("your login has ended (it expired or you logged out): log in again")
    if status == 503:
        return ServiceError(f"the issuer cannot do this now: {message}", retry_after=wait)
    if code == Throttled.code:
        return Throttled(wait, message)
    return ERRORS.get(code, ServiceError)(message, retry_after=wait)
