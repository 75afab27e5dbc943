"""Issuer signing keys (ES256 on P-256): created on first start, kept owner-readable, published as JWKS.

Private keys are PKCS#8 PEM files under `<data>/keys/`, mode 0600 (or, in a shared store, rows
the store encrypts with the key passphrase). Retired keys stay in
the JWKS so that credentials signed with them still verify until they expire.

With a passphrase, every key file is encrypted at rest (PKCS#8 with the best encryption
`cryptography` offers) and needs the passphrase to load. `frontdesk-issuer keys encrypt`
encrypts existing files in place; a ring is all encrypted or all clear, never mixed.
That encryption derives its key with PBKDF2 (2,048 rounds as of cryptography 50), which
slows a guesser little: the passphrase has to be long, at least 12 characters.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwk

from issuer.config import SettingsError
from issuer.crypto import es256
from issuer.fileio import write_private_file
from issuer.storage.interfaces import KeyFiles
from issuer.storage.local import FolderKeyFiles

SIGNING_ALG = "ES256"
PASSPHRASE_ENV = "FRONTDESK_KEY_PASSPHRASE"
ENCRYPTED_PEM = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"
MIN_PASSPHRASE_LENGTH = 12
INDEX = "keys.json"


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
    """The issuer's keys: one active key, older ones kept for verification.

    They live in the store's key files (`keys.json`, the index, and one `<kid>.pem` per key):
    the data folder's `keys` folder, or a shared store, where another process may rotate them
    (the ring then reads them again).
    """

    def __init__(self, files: KeyFiles | Path, passphrase: bytes | None = None) -> None:
        self._files = FolderKeyFiles(files) if isinstance(files, Path) else files
        # A store that encrypts its key files needs no second encryption of the PEM inside; files
        # outside the store (the issuing CA's key) are always protected with the passphrase itself.
        self._passphrase = None if self._files.encrypted else passphrase
        self._file_passphrase = passphrase
        self._keys: dict[str, IssuerKey] = {}
        self._active_kid = ""
        self._lock = threading.Lock()
        self._load_or_create()
        self._files.watch(self.reload)

    @property
    def active(self) -> IssuerKey:
        return self._keys[self._active_kid]

    def all(self) -> list[IssuerKey]:
        """Every key still published, oldest first."""
        return sorted(self._keys.values(), key=lambda key: key.created_at)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        return {"keys": [key.public_jwk for key in self._keys.values()]}

    def get(self, kid: str) -> IssuerKey | None:
        return self._keys.get(kid)

    def set_chain(self, kid: str, x5c: tuple[str, ...], not_after: int | None) -> None:
        """Attach a certificate chain to a key: from now on its signatures carry it in `x5c`."""
        with self._lock:
            self._keys = {**self._keys, kid: replace(self._keys[kid], x5c=x5c, not_after=not_after)}

    def read_private_key(self, path: Path) -> jwk.JWK:
        """Another private key of the issuer (its CA's), protected as the signing keys are."""
        return load_key_file(path, self._file_passphrase)

    def write_private_key(self, path: Path, private: jwk.JWK) -> None:
        """Store a private key owner-only, encrypted with the signing keys' passphrase if they are."""
        write_private_file(path, private.export_to_pem(private_key=True, password=self._file_passphrase))

    def rotate(self) -> IssuerKey:
        """Make a new active key; the previous ones stay published. Inside a store transaction,
        the index read here is held until the new one is written."""
        with self._lock:
            self._load(self._files.read(INDEX) or _index("", []))
            key = self._generate()
            keys = {**self._keys, key.kid: key}
            self._files.write(INDEX, _index(key.kid, keys.values()))
            self._keys, self._active_kid = keys, key.kid
            return key

    def reload(self) -> None:
        """Read the keys again (another process rotated them)."""
        index = self._files.read(INDEX)
        if index is not None:
            with self._lock:
                self._load(index)

    def _load_or_create(self) -> None:
        index = self._files.read(INDEX)
        if index is None:
            key = self._generate()
            index = self._files.create(INDEX, _index(key.kid, [key]))  # another process may have been first
        self._load(index)

    def _load(self, index_json: bytes) -> None:
        index = json.loads(index_json)
        keys = dict(self._keys)
        for entry in index["keys"]:
            if entry["kid"] not in keys:
                name = f"{entry['kid']}.pem"
                pem = self._files.read(name)
                if pem is None:
                    raise KeyPassphraseError(f"the signing key {name} is missing")
                private = load_key_pem(pem, self._passphrase, self._where(name))
                keys[entry["kid"]] = IssuerKey(entry["kid"], entry["created_at"], private)
        if index["active"]:
            self._keys, self._active_kid = keys, index["active"]

    def _generate(self) -> IssuerKey:
        private = jwk.JWK.generate(kty="EC", crv="P-256")
        kid = private.thumbprint()
        self._files.write(f"{kid}.pem", private.export_to_pem(private_key=True, password=self._passphrase))
        return IssuerKey(kid, int(time.time()), private)

    def _where(self, name: str) -> str:
        if isinstance(self._files, FolderKeyFiles):
            return str(self._files.folder / name)
        return f"the signing key {name} in the store"


def _index(active: str, keys: Iterable[IssuerKey]) -> bytes:
    entries = [{"kid": key.kid, "created_at": key.created_at} for key in keys]
    return json.dumps({"active": active, "keys": entries}, indent=2).encode()


def load_key_file(path: Path, passphrase: bytes | None) -> jwk.JWK:
    """A private key from its PEM file, or KeyPassphraseError naming what to do."""
    return load_key_pem(path.read_bytes(), passphrase, str(path))


def load_key_pem(pem: bytes, passphrase: bytes | None, where: str) -> jwk.JWK:
    """A private key from PEM, or KeyPassphraseError naming what to do (`where` names the key)."""
    encrypted = pem.lstrip().startswith(ENCRYPTED_PEM)
    if encrypted and passphrase is None:
        raise KeyPassphraseError(
            f"{where} is encrypted: give its passphrase in {PASSPHRASE_ENV} or with --key-passphrase-file"
        )
    if not encrypted and passphrase is not None:
        raise KeyPassphraseError(f"{where} is not encrypted: run 'frontdesk-issuer keys encrypt' first")
    try:
        return jwk.JWK.from_pem(pem, password=passphrase)
    except (ValueError, TypeError) as error:
        if encrypted:
            raise KeyPassphraseError(f"{where}: wrong passphrase") from error
        raise KeyPassphraseError(f"{where} is not a private key: {error}") from error


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
