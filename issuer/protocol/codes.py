"""Codes and tokens handed to wallets, and how the issuer keeps them: only as keyed hashes.

Pre-authorized codes, transaction codes and refresh tokens are stored as HMAC-SHA256 under
a server key that lives in the owner-only keys folder, so a copied state file alone does
not let anyone guess a six-digit transaction code offline. Access tokens and nonces are
self-contained (HMAC-tagged) and need no write per request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from issuer.fileio import write_private_file

KEY_BYTES = 32
TAG_BYTES = 16


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def new_tx_code(length: int) -> str:
    """A numeric transaction code (OID4VCI §4.1.1 `tx_code`, input_mode numeric)."""
    return "".join(str(secrets.randbelow(10)) for _ in range(length))


def load_or_create_key(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes()
    key = secrets.token_bytes(KEY_BYTES)
    write_private_file(path, key)
    return key


class SecretHasher:
    """Keyed hashes of secrets, compared in constant time."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def digest(self, secret: str) -> str:
        return hmac.new(self._key, secret.encode(), hashlib.sha256).hexdigest()

    def matches(self, secret: str, digest: str | None) -> bool:
        return digest is not None and hmac.compare_digest(self.digest(secret), digest)


class SealedTokens:
    """Self-contained tokens: base64url(JSON claims) '.' base64url(HMAC tag), with an expiry."""

    def __init__(self, key: bytes, clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self._clock = clock

    def seal(self, claims: dict[str, Any], ttl: int) -> str:
        body = b64url(json.dumps({**claims, "exp": int(self._clock()) + ttl}, separators=(",", ":")).encode())
        return f"{body}.{self._tag(body)}"

    def open(self, token: str) -> dict[str, Any] | None:
        """The claims of a genuine, unexpired token, else None."""
        body, _, tag = token.partition(".")
        if not body or not tag or len(token) > 2048 or not token.isascii():
            return None
        if not hmac.compare_digest(self._tag(body), tag):
            return None
        try:
            claims = json.loads(b64url_decode(body))
        except ValueError:
            return None
        if not isinstance(claims, dict) or claims.get("exp", 0) < self._clock():
            return None
        return claims

    def _tag(self, body: str) -> str:
        return b64url(hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:TAG_BYTES])


class SeenOnce:
    """Values accepted once until they expire (consumed nonces, DPoP proof `jti`s); memory is
    bounded by what is unexpired, as expired values are refused on their own anyway."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._seen: set[str] = set()
        self._expiries: deque[tuple[float, str]] = deque()  # roughly by expiry
        self._lock = threading.Lock()

    def first_time(self, value: str, expires_at: float) -> bool:
        with self._lock:
            now = self._clock()
            while self._expiries and self._expiries[0][0] < now:
                self._seen.discard(self._expiries.popleft()[1])
            if value in self._seen:
                return False
            self._seen.add(value)
            self._expiries.append((expires_at, value))
        return True


class NonceMint:
    """`c_nonce` values (OID4VCI §7): unpredictable, expiring, single use.

    The key is made fresh at every start, so nonces issued before a restart are invalid
    after it: a restart can refuse a proof, never accept one twice.
    """

    def __init__(self, ttl: int, clock: Callable[[], float] = time.time) -> None:
        self._tokens = SealedTokens(secrets.token_bytes(KEY_BYTES), clock)
        self._ttl = ttl
        self._used = SeenOnce(clock)

    def issue(self) -> str:
        return self._tokens.seal({"n": new_secret(16)}, self._ttl)

    def consume(self, nonce: str) -> bool:
        """True once for a genuine unexpired nonce; False when unknown, expired or used."""
        claims = self._tokens.open(nonce)
        return claims is not None and self._used.first_time(nonce, claims["exp"])
