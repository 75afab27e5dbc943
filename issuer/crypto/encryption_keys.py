"""The issuer's encryption keys: what wallets encrypt Credential Requests to (OID4VCI §10, §12.2.4
`credential_request_encryption`).

ECDH-ES keys on P-256, each with a `kid`. Only the active key is published; it rotates with the signing
keys, and a retired key still decrypts for `GRACE` seconds, for wallets that hold the metadata from
before the rotation. Keys live in `<data>/encryption-keys/` (owner-only), protected like the signing keys,
and are made when request encryption is first offered.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jwcrypto import jwk

from issuer.crypto.keys import KeyRing
from issuer.fileio import write_private_file

ENCRYPTION_KEYS_DIR = "encryption-keys"
ALG = "ECDH-ES"
GRACE = 7 * 86400


@dataclass(frozen=True)
class EncryptionKey:
    kid: str
    created_at: int
    private: jwk.JWK
    retired_at: int | None = None

    @property
    def public_jwk(self) -> dict[str, Any]:
        return {**self.private.export_public(as_dict=True), "kid": self.kid, "alg": ALG, "use": "enc"}


class EncryptionKeys:
    def __init__(self, data_dir: Path, keys: KeyRing, clock: Callable[[], float] = time.time) -> None:
        self._dir = data_dir / ENCRYPTION_KEYS_DIR
        self._index = self._dir / "keys.json"
        self._keys = keys  # its passphrase protects these keys too
        self._clock = clock
        self._by_kid: dict[str, EncryptionKey] = {}
        self._active = ""
        if self._index.is_file():
            index = json.loads(self._index.read_text())
            for entry in index["keys"]:
                private = keys.read_private_key(self._dir / f"{entry['kid']}.pem")
                self._by_kid[entry["kid"]] = EncryptionKey(
                    entry["kid"], entry["created_at"], private, entry.get("retired_at")
                )
            self._active = index["active"]

    def ensure(self) -> None:
        """An active key, made now if there is none yet."""
        if not self._active:
            self.rotate()

    @property
    def active(self) -> EncryptionKey | None:
        return self._by_kid.get(self._active)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """What the metadata publishes: the active key only."""
        return {"keys": [self._by_kid[self._active].public_jwk] if self._active else []}

    def find(self, kid: str) -> EncryptionKey | None:
        """The key a request names: the active one, or a retired one still in its grace period."""
        key = self._by_kid.get(kid)
        if key is None or (key.retired_at is not None and key.retired_at + GRACE < self._clock()):
            return None
        return key

    def rotate(self) -> EncryptionKey:
        """A new active key; the previous one is retired, and keys past their grace period are deleted."""
        now = int(self._clock())
        self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self._dir, 0o700)
        private = jwk.JWK.generate(kty="EC", crv="P-256")
        key = EncryptionKey(private.thumbprint(), now, private)
        self._keys.write_private_key(self._dir / f"{key.kid}.pem", private)
        if self._active:
            previous = self._by_kid[self._active]
            self._by_kid[previous.kid] = EncryptionKey(previous.kid, previous.created_at, previous.private, now)
        expired = [k.kid for k in self._by_kid.values() if k.retired_at is not None and k.retired_at + GRACE < now]
        for kid in expired:
            del self._by_kid[kid]
        self._by_kid[key.kid] = key
        self._active = key.kid
        entries = [
            {"kid": k.kid, "created_at": k.created_at, **({"retired_at": k.retired_at} if k.retired_at else {})}
            for k in self._by_kid.values()
        ]
        write_private_file(self._index, json.dumps({"active": key.kid, "keys": entries}, indent=2).encode())
        for kid in expired:
            (self._dir / f"{kid}.pem").unlink(missing_ok=True)
        return key
