"""The issuer's encryption keys: what wallets encrypt Credential Requests to (OID4VCI §10, §12.2.4
`credential_request_encryption`).

ECDH-ES keys on P-256, each with a `kid`. Only the active key is published; it rotates with the signing
keys, and a retired key still decrypts for `GRACE` seconds, for wallets that hold the metadata from
before the rotation. Keys live in the store's key files of the part `encryption-keys` (`<data>/encryption-keys/`,
owner-only, or sealed rows of a shared PostgreSQL store, so that every process publishes the same key and
decrypts what was encrypted to another's), protected like the signing keys, and are made when request
encryption is first offered.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jwcrypto import jwk

from issuer.crypto.keys import KeyRing
from issuer.storage.interfaces import KeyFiles
from issuer.storage.local import FolderKeyFiles

ENCRYPTION_KEYS_DIR = "encryption-keys"
INDEX = "keys.json"
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
    """`files`: the key files of the part `encryption-keys` (a data folder's path means its folder). When
    another process sharing the store rotates them, they are read again with the signing keys."""

    def __init__(self, files: KeyFiles | Path, keys: KeyRing, clock: Callable[[], float] = time.time) -> None:
        if isinstance(files, Path):
            files = FolderKeyFiles(files / ENCRYPTION_KEYS_DIR, make=False)
        self._files = files
        self._keys = keys  # its passphrase protects these keys too
        self._clock = clock
        self._by_kid: dict[str, EncryptionKey] = {}
        self._active = ""
        self._load()
        keys.on_reload(self._load)

    def ensure(self) -> None:
        """An active key, made now if there is none yet (by this process or another one first)."""
        if self._active:
            return
        key = self._generate(int(self._clock()))
        self._files.create(INDEX, _index(key.kid, [key]))
        self._load()

    @property
    def active(self) -> EncryptionKey | None:
        return self._by_kid.get(self._active)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """What the metadata publishes: the active key only."""
        active = self.active
        return {"keys": [active.public_jwk] if active is not None else []}

    def find(self, kid: str) -> EncryptionKey | None:
        """The key a request names: the active one, or a retired one still in its grace period."""
        key = self._by_kid.get(kid)
        if key is None or (key.retired_at is not None and key.retired_at + GRACE < self._clock()):
            return None
        return key

    def rotate(self) -> EncryptionKey:
        """A new active key; the previous one is retired, and keys past their grace period are deleted.
        Inside a store transaction, the index read here is held until the new one is written."""
        self._load()  # another process may have rotated since
        now = int(self._clock())
        key = self._generate(now)
        by_kid = dict(self._by_kid)
        if self._active:
            previous = by_kid[self._active]
            by_kid[previous.kid] = EncryptionKey(previous.kid, previous.created_at, previous.private, now)
        expired = [k.kid for k in by_kid.values() if k.retired_at is not None and k.retired_at + GRACE < now]
        for kid in expired:
            del by_kid[kid]
        by_kid[key.kid] = key
        self._files.write(INDEX, _index(key.kid, by_kid.values()))
        self._by_kid, self._active = by_kid, key.kid
        for kid in expired:
            self._files.delete(f"{kid}.pem")
        return key

    def _generate(self, now: int) -> EncryptionKey:
        private = jwk.JWK.generate(kty="EC", crv="P-256")
        key = EncryptionKey(private.thumbprint(), now, private)
        self._files.write(f"{key.kid}.pem", self._keys.private_pem(private, self._files))
        return key

    def _load(self) -> None:
        raw = self._files.read(INDEX)
        if raw is None:
            return
        index = json.loads(raw)
        by_kid = {}
        for entry in index["keys"]:
            known = self._by_kid.get(entry["kid"])
            if known is not None:
                private = known.private
            else:
                name = f"{entry['kid']}.pem"
                pem = self._files.read(name)
                if pem is None:
                    continue  # a retired key another process deleted meanwhile
                private = self._keys.load_private(pem, self._files, name)
            by_kid[entry["kid"]] = EncryptionKey(entry["kid"], entry["created_at"], private, entry.get("retired_at"))
        self._by_kid, self._active = by_kid, index["active"]


def _index(active: str, keys: Iterable[EncryptionKey]) -> bytes:
    entries = [
        {"kid": k.kid, "created_at": k.created_at, **({"retired_at": k.retired_at} if k.retired_at else {})}
        for k in keys
    ]
    return json.dumps({"active": active, "keys": entries}, indent=2).encode()
