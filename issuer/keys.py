"""Issuer signing keys (ES256 on P-256): created on first start, kept owner-readable, published as JWKS.

Private keys are PKCS#8 PEM files under `<data>/keys/`, mode 0600. Retired keys stay in
the JWKS so that credentials signed with them still verify until they expire.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwk

from issuer import es256
from issuer.fileio import write_private_file

SIGNING_ALG = "ES256"


@dataclass(frozen=True)
class IssuerKey:
    """One signing key and its public half."""

    kid: str
    created_at: int
    private: jwk.JWK

    @property
    def alg(self) -> str:
        return SIGNING_ALG

    @property
    def public_jwk(self) -> dict[str, Any]:
        public = self.private.export_public(as_dict=True)
        return {**public, "kid": self.kid, "alg": SIGNING_ALG, "use": "sig"}

    @property
    def fingerprint(self) -> str:
        """RFC 7638 SHA-256 thumbprint, shown to operators to compare keys."""
        return self.private.thumbprint()

    def sign(self, payload: Mapping[str, Any], header: Mapping[str, Any]) -> str:
        """A compact JWS over `payload` with `alg` and `kid` added to `header`."""
        protected = {"alg": SIGNING_ALG, "kid": self.kid, **header}
        return es256.sign_compact(self._signing_key, protected, payload)

    @cached_property
    def _signing_key(self) -> ec.EllipticCurvePrivateKey:
        return self.private.get_op_key("sign")


class KeyRing:
    """The issuer's keys in a data folder: one active key, older ones kept for verification."""

    def __init__(self, keys_dir: Path) -> None:
        self._dir = keys_dir
        self._index_path = keys_dir / "keys.json"
        self._keys: dict[str, IssuerKey] = {}
        self._active_kid = ""
        self._load_or_create()

    @property
    def active(self) -> IssuerKey:
        return self._keys[self._active_kid]

    def all(self) -> list[IssuerKey]:
        """Every key still published, oldest first."""
        return sorted(self._keys.values(), key=lambda key: key.created_at)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        return {"keys": [key.public_jwk for key in self._keys.values()]}

    def rotate(self) -> IssuerKey:
        """Make a new active key; the previous ones stay published."""
        key = self._generate()
        self._active_kid = key.kid
        self._save_index()
        return key

    def _load_or_create(self) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self._dir, 0o700)
        if not self._index_path.exists():
            self.rotate()
            return
        index = json.loads(self._index_path.read_text())
        for entry in index["keys"]:
            pem = (self._dir / f"{entry['kid']}.pem").read_bytes()
            private = jwk.JWK.from_pem(pem)
            self._keys[entry["kid"]] = IssuerKey(entry["kid"], entry["created_at"], private)
        self._active_kid = index["active"]

    def _generate(self) -> IssuerKey:
        private = jwk.JWK.generate(kty="EC", crv="P-256")
        kid = private.thumbprint()
        write_private_file(self._dir / f"{kid}.pem", private.export_to_pem(private_key=True, password=None))
        key = IssuerKey(kid, int(time.time()), private)
        self._keys[kid] = key
        return key

    def _save_index(self) -> None:
        index = {
            "active": self._active_kid,
            "keys": [{"kid": k.kid, "created_at": k.created_at} for k in self._keys.values()],
        }
        write_private_file(self._index_path, json.dumps(index, indent=2).encode())
