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
        if not body or not tag or len(token) > 2048 or not hmac.compare_digest(self._tag(body), tag):
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


class NonceMint:
    """`c_nonce` values (OID4VCI §7): unpredictable, expiring, single use.

    The key is made fresh at every start, so nonces issued before a restart are invalid
    after it: a restart can refuse a proof, never accept one twice.
    """

    def __init__(self, ttl: int, clock: Callable[[], float] = time.time) -> None:
        self._tokens = SealedTokens(secrets.token_bytes(KEY_BYTES), clock)
        self._ttl = ttl
        self._clock = clock
        self._used: set[str] = set()
        self._expiries: deque[tuple[float, str]] = deque()  # consumed nonces, roughly by expiry
        self._lock = threading.Lock()

    def issue(self) -> str:
        return self._tokens.seal({"n": new_secret(16)}, self._ttl)

    def consume(self, nonce: str) -> bool:
        """True once for a genuine unexpired nonce; False when unknown, expired or used."""
        claims = self._tokens.open(nonce)
        if claims is None:
            return False
        with self._lock:
            now = self._clock()
            while self._expiries and self._expiries[0][0] < now:  # expired nonces fail on their own
                self._used.discard(self._expiries.popleft()[1])
            if nonce in self._used:
                return False
            self._used.add(nonce)
            self._expiries.append((claims["exp"], nonce))
        return True
