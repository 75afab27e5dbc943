"""Issuer signing keys (ES256 on P-256): created on first start, kept owner-readable, published as JWKS.

Private keys are PKCS#8 PEM files under `<data>/keys/`, mode 0600 (or, in a shared store, rows
the store encrypts with the key passphrase). Retired keys stay in
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
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwk

from issuer.config import SettingsError
from issuer.crypto import es256
from issuer.fileio import write_private_file
from issuer.storage.interfaces import DataDamaged, KeyFiles
from issuer.storage.local import FolderKeyFiles
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
    (the ring then reads them again). A data folder's manifest lists every key it had, so a lost
    key or index there is damage (`DataDamaged`), never a reason to start over with a new key.
    """

    def __init__(self, files: KeyFiles | Path, passphrase: bytes | None = None) -> None:
        self._files = FolderKeyFiles(files) if isinstance(files, Path) else files
        # A store that encrypts its key files needs no second encryption of the PEM inside; in a data
        # folder every private key's PEM is encrypted with the passphrase (`private_pem`).
        self._passphrase = None if self._files.encrypted else passphrase
        self._file_passphrase = passphrase
        folder = self._files.folder if isinstance(self._files, FolderKeyFiles) else None
        self._manifest = Manifest(folder.parent) if folder is not None else None
        self._keys: dict[str, IssuerKey] = {}
        self._active_kid = ""
        self._lock = threading.Lock()
        self._reloaded: list[Callable[[], None]] = []
        try:
            self._load_or_create()
        except DataDamaged as error:
            raise (error.in_folder(folder.parent) if folder is not None else error) from None
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

    def private_pem(self, private: jwk.JWK, files: KeyFiles) -> bytes:
        """Another private key of the issuer (its CA's, an encryption key) as PEM for `files`: encrypted
        with the passphrase, unless `files` seal what they keep themselves."""
        return bytes(private.export_to_pem(private_key=True, password=self._passphrase_for(files)))

    def load_private(self, pem: bytes, files: KeyFiles, where: str) -> jwk.JWK:
        """A private key `private_pem` made, read back from `files` (`where` names it in errors)."""
        return load_key_pem(pem, self._passphrase_for(files), where)

    def on_reload(self, callback: Callable[[], None]) -> None:
        """Call `callback()` after the keys were read again, for what hangs on them (certificates)."""
        self._reloaded.append(callback)

    def _passphrase_for(self, files: KeyFiles) -> bytes | None:
        return None if files.encrypted else self._file_passphrase

    def rotate(self) -> IssuerKey:
        """Make a new active key; the previous ones stay published. Inside a store transaction,
        the index read here is held until the new one is written."""
        with self._lock:
            index = self._files.read(KEY_INDEX)
            if index is not None:  # another process may have rotated since
                self._load(index)
            key = self._generate()
            keys = {**self._keys, key.kid: key}
            self._files.write(KEY_INDEX, _index(key.kid, keys.values()))
            self._keys, self._active_kid = keys, key.kid
            self._remember_kids()
            return key

    def reload(self) -> None:
        """Read the keys again (another process rotated them)."""
        index = self._files.read(KEY_INDEX)
        if index is not None:
            with self._lock:
                self._load(index)
        for callback in self._reloaded:
            callback()

    def _load_or_create(self) -> None:
        index = self._files.read(KEY_INDEX)
        known = self._known_kids()
        if index is None:
            if known or (isinstance(self._files, FolderKeyFiles) and any(self._files.folder.glob("*.pem"))):
                raise DataDamaged(f"{self._where(KEY_INDEX)} is missing, but this data folder has had signing keys")
            key = self._generate()
            index = self._files.create(KEY_INDEX, _index(key.kid, [key]))  # another process may have been first
        self._load(index)
        lost = [kid for kid in known if kid not in self._keys]
        if lost:
            raise DataDamaged(f"{self._where(KEY_INDEX)} lacks signing keys this data folder had: {', '.join(lost)}")
        self._remember_kids()

    def _load(self, index_json: bytes) -> None:
        index = parse_key_index(index_json, self._where(KEY_INDEX))
        keys = dict(self._keys)
        for entry in index["keys"]:
            if entry["kid"] not in keys:
                name = f"{entry['kid']}.pem"
                pem = self._files.read(name)
                if pem is None:
                    raise DataDamaged(f"the signing key {self._where(name)} is missing")
                private = load_key_pem(pem, self._passphrase, self._where(name))
                keys[entry["kid"]] = IssuerKey(entry["kid"], entry["created_at"], private)
        if index["active"]:
            self._keys, self._active_kid = keys, index["active"]

    def _known_kids(self) -> list[str]:
        return list(self._manifest.read().get("keys", [])) if self._manifest is not None else []

    def _remember_kids(self) -> None:
        """The data folder's manifest lists every key the folder ever held, oldest first."""
        if self._manifest is not None:
            known = self._known_kids()
            self._manifest.update(keys=[*known, *(key.kid for key in self.all() if key.kid not in known)])

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


def read_key_index(path: Path) -> dict[str, Any]:
    """The key index (`active`, and `keys` with `kid` and `created_at`) in a file, or DataDamaged."""
    try:
        raw = path.read_bytes()
    except OSError:
        raise DataDamaged(f"{path} cannot be read") from None
    return parse_key_index(raw, str(path))


def parse_key_index(raw: bytes, where: str) -> dict[str, Any]:
    """The key index from its JSON, or DataDamaged naming `where` it came from."""
    try:
        index = json.loads(raw)
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
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise DataDamaged(f"{where} cannot be read")
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
