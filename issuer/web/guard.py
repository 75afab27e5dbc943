"""Request guards for the wallet-facing app and the admin app: host check, rate limits, security headers.

One WSGI middleware does all three, below Flask: fixed headers set at the WSGI layer cost a
fraction of per-response Flask hooks, and a refused request never reaches Flask at all.

- Host: a request must name this issuer (its public URL, or the address it listens on);
  any other name is refused with 400, which defeats DNS rebinding from a browser.
- Rate limits: token buckets per client address on chosen paths (the token endpoint and the two
  that start a sign-in share one budget), answered with 429, a JSON error (RFC 6749 §5.2 shape)
  and `Retry-After` (RFC 9110 §10.2.3).
- Headers: nosniff, no referrer, no framing, and a Content-Security-Policy that is strict
  for HTML and `default-src 'none'` for everything else; `Cache-Control: no-store` unless
  the view chose a caching policy (metadata does).
"""

from __future__ import annotations

import ipaddress
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from issuer.config import Settings

API_CSP = "default-src 'none'; frame-ancestors 'none'"
HTML_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
MAX_CLIENTS = 10_000  # buckets kept at most; the least recently seen address is forgotten first
TOKEN_PATHS = ("/token", "/par", "/authorize")  # each request here may hold a code or a sign-in
WALLET_POST_PATHS = ("/nonce", "/challenge", "/credential", "/deferred_credential", "/notification")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class RateLimiter:
    """`limit` requests per `window` seconds per client, as a token bucket refilled continuously.

    Buckets live in insertion order of last use; one idle for a whole window is full again,
    the same as no bucket, so it is dropped. At most `max_clients` buckets are kept. IPv6
    clients are counted per /64, the block one subscriber usually holds.
    """

    def __init__(
        self, limit: int, window: float, *, max_clients: int = MAX_CLIENTS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs at least one request per positive window")
        self.limit = limit
        self.window = window
        self._rate = limit / window
        self._max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, address: str) -> float:
        """Take one request from `address`'s bucket: 0 when allowed, else the seconds until one is."""
        client = client_key(address)
        with self._lock:
            now = self._clock()
            self._forget_idle(now)
            tokens, stamp = self._buckets.pop(client, (float(self.limit), now))
            tokens = min(float(self.limit), tokens + (now - stamp) * self._rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self._rate
            if not wait:
                tokens -= 1
            self._buckets[client] = (tokens, now)
            if len(self._buckets) > self._max_clients:
                self._buckets.popitem(last=False)
            return wait

    def __len__(self) -> int:
        return len(self._buckets)

    def _forget_idle(self, now: float) -> None:
        while self._buckets:
            _, stamp = next(iter(self._buckets.values()))
            if now - stamp < self.window:
                return
            self._buckets.popitem(last=False)


class Guard:
    """WSGI middleware: refuse unknown hosts and clients over their limit, add security headers."""

    def __init__(
        self,
        app: WsgiApp,
        *,
        hosts: Iterable[str] | None = None,
        limits: Mapping[str, RateLimiter] | None = None,
        exempt: Iterable[str] = (),
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        self._app = app
        self._hosts = frozenset(h.lower() for h in hosts) if hosts is not None else None
        self._limits = dict(limits or {})
        self._exempt = frozenset(exempt)
        fixed: dict[str, tuple[str, str]] = {}
        for name, value in (*SECURITY_HEADERS, *headers):
            fixed.setdefault(name.lower(), (name, value))
        self._headers = tuple(fixed.values())

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self._hosts is not None and environ.get("HTTP_HOST", "").lower() not in self._hosts:
            return self._refuse(start_response, "400 Bad Request", "unknown host")
        if self._limits and environ.get("REQUEST_METHOD") != "OPTIONS":
            limiter = self._limits.get(environ.get("PATH_INFO", ""))
            address = environ.get("REMOTE_ADDR", "")
            if limiter is not None and address not in self._exempt:
                wait = limiter.acquire(address)
                if wait:
                    retry = str(max(1, math.ceil(wait)))
                    return self._refuse(
                        start_response, "429 Too Many Requests", "too many requests, retry later", retry
                    )

        def start(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, self._secured(response_headers), exc_info)

        return self._app(environ, start)

    def _secured(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        present = {name.lower() for name, _ in headers}
        added = [(name, value) for name, value in self._headers if name.lower() not in present]
        if "cache-control" not in present:
            added.append(("Cache-Control", "no-store"))
        if "content-security-policy" not in present:
            content_type = next((value for name, value in headers if name.lower() == "content-type"), "").lower()
            added.append(("Content-Security-Policy", HTML_CSP if content_type.startswith("text/html") else API_CSP))
        return headers + added

    def _refuse(
        self, start_response: Callable[..., Any], status: str, description: str, retry_after: str | None = None
    ) -> Iterator[bytes]:
        body = json.dumps({"error": "invalid_request", "error_description": description}).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("Pragma", "no-cache"),
        ]
        if retry_after:
            headers.append(("Retry-After", retry_after))
        start_response(status, self._secured(headers))
        return iter([body])


def wallet_guard(app: WsgiApp, settings: Settings, issuer_url: str, headers: Iterable[tuple[str, str]]) -> Guard:
    """The guard of the wallet-facing app, from the settings (the ports are the bound ones)."""
    hosts = None
    if settings.check_host:
        hosts = allowed_hosts(issuer_url, settings.host, settings.port) | {h.lower() for h in settings.allowed_hosts}
    limits: dict[str, RateLimiter] = {}
    window = settings.rate_limit_window
    if settings.token_rate_limit:
        token_limiter = RateLimiter(settings.token_rate_limit, window)
        limits.update(dict.fromkeys(TOKEN_PATHS, token_limiter))
    if settings.wallet_rate_limit:
        wallet_limiter = RateLimiter(settings.wallet_rate_limit, window)
        limits.update(dict.fromkeys(WALLET_POST_PATHS, wallet_limiter))
    return Guard(app, hosts=hosts, limits=limits, exempt=settings.rate_limit_exempt, headers=headers)


def admin_guard(app: WsgiApp, settings: Settings) -> Guard:
    """The admin app's guard: headers, and on a loopback bind, loopback host names only."""
    hosts = None
    if settings.check_host and is_loopback(settings.admin_host):
        hosts = _with_port(LOOPBACK_NAMES, settings.admin_port, None)
    return Guard(app, hosts=hosts)


def allowed_hosts(issuer_url: str, listen_host: str, listen_port: int) -> frozenset[str]:
    """The Host values that name this issuer, lower case.

    The public URL's host[:port] (the default port may be given or left out); the address the
    server listens on, which is what a reverse proxy on the same machine sends by default; and
    the loopback names when either of those is loopback: none of these can be an attacker's
    DNS name, which is what the check is for.
    """
    parts = urlsplit(issuer_url)
    default = 443 if parts.scheme == "https" else 80
    name = (parts.hostname or "").lower()
    port = parts.port or default
    names = {f"[{name}]" if ":" in name else name}
    if is_loopback(name):
        names.update(LOOPBACK_NAMES)
    hosts = set(_with_port(names, port, default))
    if listen_host in WILDCARD_HOSTS or is_loopback(listen_host):
        listen_names: Iterable[str] = LOOPBACK_NAMES
    else:
        listen_names = [f"[{listen_host}]" if ":" in listen_host else listen_host.lower()]
    hosts.update(_with_port(listen_names, listen_port, None))
    return frozenset(hosts)


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _with_port(names: Iterable[str], port: int, default: int | None) -> frozenset[str]:
    hosts = {f"{name}:{port}" for name in names}
    if port == default:
        hosts.update(names)
    return frozenset(hosts)


def client_key(address: str) -> str:
    """The bucket of a client: its IPv4 address, or its IPv6 /64 (an IPv4-mapped one counts as IPv4)."""
    if ":" not in address:
        return address
    try:
        parsed = ipaddress.IPv6Address(address)
    except ValueError:
        return address
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return parsed.packed[:8].hex() + "::/64"
