"""Codes and tokens handed to wallets, and how the issuer keeps them: only as keyed hashes.

Pre-authorized codes, transaction codes and refresh tokens are stored as HMAC-SHA256 under
a server key kept with the signing keys (the owner-only keys folder, or encrypted in a shared
store), so a copied state file alone does not let anyone guess a six-digit transaction code
offline. Access tokens and nonces are self-contained (HMAC-tagged) and need no write per
request; a consumed nonce is remembered in the store's replay set until it expires.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from issuer.storage.interfaces import KeyFiles, ReplaySet
from issuer.storage.local import MemoryReplaySet

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


def load_or_create_key(files: KeyFiles, name: str) -> bytes:
    """A sealing key by name, made on first use; the first process to make it wins."""
    return files.create(name, secrets.token_bytes(KEY_BYTES))


def replay_safe_key(files: KeyFiles, name: str, seen: ReplaySet) -> bytes:
    """The key of self-contained values that a replay set makes single use: kept in the store when
    the set is shared and outlives the process, else fresh at every start, so that a value
    issued before a restart is refused after it rather than accepted twice."""
    return load_or_create_key(files, name) if seen.shared else secrets.token_bytes(KEY_BYTES)


class SecretHasher:
    """Keyed hashes of secrets, compared in constant time."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def digest(self, secret: str) -> str:
        return hmac.digest(self._key, secret.encode(), "sha256").hex()

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
        return b64url(hmac.digest(self._key, body.encode(), "sha256")[:TAG_BYTES])


class NonceMint:
    """`c_nonce` values (OID4VCI §7): unpredictable, expiring, single use.

    Without a key, one is made fresh at every start and the consumed nonces are kept in memory,
    so nonces issued before a restart are invalid after it: a restart can refuse a proof, never
    accept one twice. Processes sharing a store share the key and the replay set (`replay_safe_key`),
    so a nonce fetched from one is accepted once by any.
    """

    def __init__(
        self,
        ttl: int,
        clock: Callable[[], float] = time.time,
        *,
        key: bytes | None = None,
        seen: ReplaySet | None = None,
    ) -> None:
        self._tokens = SealedTokens(key or secrets.token_bytes(KEY_BYTES), clock)
        self._clock = clock
        self._ttl = ttl
        self._used = seen or MemoryReplaySet()

    def issue(self) -> str:
        return self._tokens.seal({"n": new_secret(16)}, self._ttl)

    def consume(self, nonce: str) -> bool:
        """True once for a genuine unexpired nonce; False when unknown, expired or used."""
        claims = self._tokens.open(nonce)
        return claims is not None and self._used.first_time("c_nonce:" + nonce, claims["exp"], self._clock())
