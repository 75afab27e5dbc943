"""Issuer signing keys (ES256 on P-256): created on first start, kept owner-readable, published as JWKS.

Private keys are PKCS#8 PEM files under `<data>/keys/`, mode 0600. Retired keys stay in
the JWKS so that credentials signed with them still verify until they expire.

With a passphrase, every key file is encrypted at rest (PKCS#8 with the best encryption
`cryptography` offers) and needs the passphrase to load. `frontdesk-issuer keys encrypt`
encrypts existing files in place; a ring is all encrypted or all clear, never mixed.
That encryption derives its key with PBKDF2 (2,048 rounds as of cryptography 50), which
slows a guesser little: the passphrase has to be long, at least 12 characters.

A new key is made only in a data folder that never had one: the folder's manifest
(`issuer.storage.manifest`) lists every key id, so a missing or unreadable index, or a missing
key file, is damage (`DataDamaged`), never a reason to start over with a key that earlier
credentials were not signed with. `repair_key_index` rebuilds a lost index from the key files.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwk

from issuer.config import SettingsError
from issuer.crypto import es256
from issuer.fileio import write_private_file
from issuer.storage.interfaces import DataDamaged
from issuer.storage.manifest import Manifest

SIGNING_ALG = "ES256"
KEY_INDEX = "keys.json"
KID = re.compile(r"[A-Za-z0-9_-]{1,86}")  # an RFC 7638 thumbprint, base64url
PASSPHRASE_ENV = "FRONTDESK_KEY_PASSPHRASE"
ENCRYPTED_PEM = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"
MIN_PASSPHRASE_LENGTH = 12


class KeyPassphraseError(SettingsError):
    """Keys that cannot be loaded with the passphrase given (or without one), said in one line."""


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
        return str(self.private.thumbprint())

    def sign(self, payload: Mapping[str, Any], header: Mapping[str, Any]) -> str:
        """A compact JWS over `payload` with `alg` and `kid` added to `header`."""
        protected = {"alg": SIGNING_ALG, "kid": self.kid, **header}
        return es256.sign_compact(self._signing_key, protected, payload)

    @cached_property
    def _signing_key(self) -> ec.EllipticCurvePrivateKey:
        return cast(ec.EllipticCurvePrivateKey, self.private.get_op_key("sign"))


class KeyRing:
    """The issuer's keys in a data folder: one active key, older ones kept for verification."""

    def __init__(self, keys_dir: Path, passphrase: bytes | None = None) -> None:
        self._dir = keys_dir
        self._passphrase = passphrase
        self._index_path = keys_dir / KEY_INDEX
        self._manifest = Manifest(keys_dir.parent)
        self._keys: dict[str, IssuerKey] = {}
        self._active_kid = ""
        try:
            self._load_or_create()
        except DataDamaged as error:
            raise error.in_folder(keys_dir.parent) from None

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
        self._manifest.update(keys=self._known_kids())
        return key

    def _load_or_create(self) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self._dir, 0o700)
        known = self._manifest.read().get("keys", [])
        if not self._index_path.exists():
            if known or any(self._dir.glob("*.pem")):
                raise DataDamaged(f"{self._index_path} is missing, but this data folder has had signing keys")
            self.rotate()
            return
        index = read_key_index(self._index_path)
        for entry in index["keys"]:
            path = self._dir / f"{entry['kid']}.pem"
            if not path.exists():
                raise DataDamaged(f"the signing key {path} is missing")
            self._keys[entry["kid"]] = IssuerKey(
                entry["kid"], entry["created_at"], load_key_file(path, self._passphrase)
            )
        self._active_kid = index["active"]
        lost = [kid for kid in known if kid not in self._keys]
        if lost:
            raise DataDamaged(f"{self._index_path} lacks signing keys this data folder had: {', '.join(lost)}")
        self._manifest.update(keys=self._known_kids())

    def _known_kids(self) -> list[str]:
        known: list[str] = self._manifest.read().get("keys", [])
        return [*known, *(key.kid for key in self.all() if key.kid not in known)]

    def _generate(self) -> IssuerKey:
        private = jwk.JWK.generate(kty="EC", crv="P-256")
        kid = private.thumbprint()
        pem = private.export_to_pem(private_key=True, password=self._passphrase)
        write_private_file(self._dir / f"{kid}.pem", pem)
        key = IssuerKey(kid, int(time.time()), private)
        self._keys[kid] = key
        return key

    def _save_index(self) -> None:
        index = {
            "active": self._active_kid,
            "keys": [{"kid": k.kid, "created_at": k.created_at} for k in self._keys.values()],
        }
        write_private_file(self._index_path, json.dumps(index, indent=2).encode())


def read_key_index(path: Path) -> dict[str, Any]:
    """The key index (`active`, and `keys` with `kid` and `created_at`), or DataDamaged."""
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
        entries = index["keys"]
        valid = (
            isinstance(entries, list)
            and entries
            and all(
                isinstance(entry, dict)
                and isinstance(entry.get("kid"), str)
                and KID.fullmatch(entry["kid"])
                and isinstance(entry.get("created_at"), int)
                for entry in entries
            )
            and index["active"] in [entry["kid"] for entry in entries]
        )
    except (OSError, ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise DataDamaged(f"{path} cannot be read")
    return dict(index)


def repair_key_index(keys_dir: Path) -> list[str]:
    """Make the key index match the key files: rebuilt from them when it is missing or unreadable
    (each file is named by its key id; the newest key signs from then on), and without the keys
    whose files are gone. The data folder's manifest then lists the same keys. What was done, a
    line each; DataDamaged when no key file is left, which only a backup can help."""
    index_path = keys_dir / KEY_INDEX
    files = {path.stem: path for path in keys_dir.glob("*.pem") if KID.fullmatch(path.stem)}
    if not files:
        raise DataDamaged(f"{keys_dir} holds no signing key files: only a backup has them")
    done = []
    try:
        index = read_key_index(index_path)
    except DataDamaged:
        by_age = sorted(files, key=lambda kid: files[kid].stat().st_mtime)
        index = {
            "active": by_age[-1],
            "keys": [{"kid": kid, "created_at": int(files[kid].stat().st_mtime)} for kid in by_age],
        }
        if index_path.exists():
            os.replace(index_path, keys_dir / f"{KEY_INDEX}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        done.append(f"{index_path}: rebuilt from {len(files)} key files")
    lost = [entry["kid"] for entry in index["keys"] if entry["kid"] not in files]
    if lost:
        index["keys"] = [entry for entry in index["keys"] if entry["kid"] in files]
        done.append(
            f"{index_path}: the key files of {', '.join(lost)} are gone; credentials they signed no longer verify"
        )
    if index["active"] not in [entry["kid"] for entry in index["keys"]]:
        index["active"] = max(index["keys"], key=lambda entry: int(entry["created_at"]))["kid"]
    if done:
        write_private_file(index_path, json.dumps(index, indent=2).encode())
        done.append(f"{index_path}: {index['active']} signs from now on")
    Manifest(keys_dir.parent).update(keys=[entry["kid"] for entry in index["keys"]])
    return done


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


def change_passphrase(keys_dir: Path, old: bytes | None, new: bytes | None) -> int:
    """Rewrite every key file under a new passphrase (None: in clear); returns the files rewritten.

    Files already in the wanted form are checked and left alone, so an interrupted run can
    be repeated. Nothing is written until every key has been read.
    """
    keys = {}
    for path in sorted(keys_dir.glob("*.pem")):
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
