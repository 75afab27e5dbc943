"""Issuer signing keys (ES256 on P-256): created on first start, kept owner-readable, published as JWKS.

Private keys are PKCS#8 PEM files under `<data>/keys/`, mode 0600. Retired keys stay in
the JWKS so that credentials signed with them still verify until they expire.

With a passphrase, every key file is encrypted at rest (PKCS#8 with the best encryption
`cryptography` offers) and needs the passphrase to load. `frontdesk-issuer keys encrypt`
encrypts existing files in place; a ring is all encrypted or all clear, never mixed.
That encryption derives its key with PBKDF2 (2,048 rounds as of cryptography 50), which
slows a guesser little: the passphrase has to be long, at least 12 characters.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwk

from issuer.config import SettingsError
from issuer.crypto import es256
from issuer.fileio import write_private_file

SIGNING_ALG = "ES256"
PASSPHRASE_ENV = "FRONTDESK_KEY_PASSPHRASE"
ENCRYPTED_PEM = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"
MIN_PASSPHRASE_LENGTH = 12


class KeyPassphraseError(SettingsError):
    """Keys that cannot be loaded with the passphrase given (or without one), said in one line."""


@dataclass(frozen=True)
class IssuerKey:
    """One signing key and its public half; with a certificate, its chain (`x5c`, leaf first, without the
    trust anchor) and when that certificate ends (`not_after`), which no credential it signs may outlive."""

    kid: str
    created_at: int
    private: jwk.JWK
    x5c: tuple[str, ...] = ()
    not_after: int | None = None

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
        return str(self.private.thumbprint())

    def sign(self, payload: Mapping[str, Any], header: Mapping[str, Any]) -> str:
        """A compact JWS over `payload` with `alg`, `kid` and, when the key has a certificate, `x5c`
        added to `header` (`kid` stays for JWKS resolution, RFC 7515 §4.1.6)."""
        chain = {"x5c": list(self.x5c)} if self.x5c else {}
        protected = {"alg": SIGNING_ALG, "kid": self.kid, **chain, **header}
        return es256.sign_compact(self._signing_key, protected, payload)

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._signing_key.public_key()

    @property
    def signing_key(self) -> ec.EllipticCurvePrivateKey:
        """The private key as `cryptography` holds it, for signatures that are not JWS (a certificate
        request, a COSE signature)."""
        return self._signing_key

    @cached_property
    def _signing_key(self) -> ec.EllipticCurvePrivateKey:
        return cast(ec.EllipticCurvePrivateKey, self.private.get_op_key("sign"))


class KeyRing:
    """The issuer's keys in a data folder: one active key, older ones kept for verification."""

    def __init__(self, keys_dir: Path, passphrase: bytes | None = None) -> None:
        self._dir = keys_dir
        self._passphrase = passphrase
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

    def get(self, kid: str) -> IssuerKey | None:
        return self._keys.get(kid)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        return {"keys": [key.public_jwk for key in self._keys.values()]}

    def set_chain(self, kid: str, x5c: tuple[str, ...], not_after: int | None) -> None:
        """Attach a certificate chain to a key: from now on its signatures carry it in `x5c`."""
        self._keys[kid] = replace(self._keys[kid], x5c=x5c, not_after=not_after)

    def read_private_key(self, path: Path) -> jwk.JWK:
        """Another private key of the issuer (its CA's), protected as the signing keys are."""
        return load_key_file(path, self._passphrase)

    def write_private_key(self, path: Path, private: jwk.JWK) -> None:
        """Store a private key owner-only, encrypted with the signing keys' passphrase if they are."""
        write_private_file(path, private.export_to_pem(private_key=True, password=self._passphrase))

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
            private = load_key_file(self._dir / f"{entry['kid']}.pem", self._passphrase)
            self._keys[entry["kid"]] = IssuerKey(entry["kid"], entry["created_at"], private)
        self._active_kid = index["active"]

    def _generate(self) -> IssuerKey:
        private = jwk.JWK.generate(kty="EC", crv="P-256")
        kid = private.thumbprint()
        self.write_private_key(self._dir / f"{kid}.pem", private)
        key = IssuerKey(kid, int(time.time()), private)
        self._keys[kid] = key
        return key

    def _save_index(self) -> None:
        index = {
            "active": self._active_kid,
            "keys": [{"kid": k.kid, "created_at": k.created_at} for k in self._keys.values()],
        }
        write_private_file(self._index_path, json.dumps(index, indent=2).encode())


def load_key_file(path: Path, passphrase: bytes | None) -> jwk.JWK:
    """A private key from its PEM file, or KeyPassphraseError naming what to do."""
    pem = path.read_bytes()
    encrypted = pem.lstrip().startswith(ENCRYPTED_PEM)
    if encrypted and passphrase is None:
        raise KeyPassphraseError(
            f"{path} is encrypted: give its passphrase in {PASSPHRASE_ENV} or with --key-passphrase-file"
        )
    if not encrypted and passphrase is not None:
        raise KeyPassphraseError(f"{path} is not encrypted: run 'frontdesk-issuer keys encrypt' first")
    try:
        return jwk.JWK.from_pem(pem, password=passphrase)
    except (ValueError, TypeError) as error:
        if encrypted:
            raise KeyPassphraseError(f"{path}: wrong passphrase") from error
        raise KeyPassphraseError(f"{path} is not a private key: {error}") from error


def change_passphrase(keys_dir: Path, old: bytes | None, new: bytes | None, pattern: str = "*.pem") -> int:
    """Rewrite every key file (`pattern` in `keys_dir`) under a new passphrase (None: in clear); returns the
    files rewritten.

    Files already in the wanted form are checked and left alone, so an interrupted run can
    be repeated. Nothing is written until every key has been read.
    """
    keys = {}
    for path in sorted(keys_dir.glob(pattern)):
        encrypted = path.read_bytes().lstrip().startswith(ENCRYPTED_PEM)
        if encrypted == (new is not None):
            load_key_file(path, new)
            continue
        keys[path] = load_key_file(path, old)
    for path, private in keys.items():
        write_private_file(path, private.export_to_pem(private_key=True, password=new))
    return len(keys)


def resolve_passphrase(passphrase_file: str | Path | None, environ: Mapping[str, str]) -> bytes | None:
    """The key passphrase: FRONTDESK_KEY_PASSPHRASE if set, else the first line of `passphrase_file`, else None.

    (`--key-passphrase-file` on the command line is read by the caller and wins over both.)
    """
    value = environ.get(PASSPHRASE_ENV)
    if value is not None:
        if not value:
            raise KeyPassphraseError(f"{PASSPHRASE_ENV} is set but empty")
        return _long_enough(value.encode(), PASSPHRASE_ENV)
    return read_passphrase_file(Path(passphrase_file)) if passphrase_file else None


def read_passphrase_file(path: Path) -> bytes:
    """The first line of a passphrase file, without its line ending."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError as error:
        raise KeyPassphraseError(f"cannot read the key passphrase file {path}: {error.strerror}") from error
    if not lines or not lines[0]:
        raise KeyPassphraseError(f"the key passphrase file {path} is empty")
    return _long_enough(lines[0], f"the key passphrase in {path}")


def _long_enough(passphrase: bytes, source: str) -> bytes:
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise KeyPassphraseError(
            f"{source} is too short: a key passphrase has at least {MIN_PASSPHRASE_LENGTH} characters"
        )
    return passphrase
