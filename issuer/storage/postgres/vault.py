"""Key files in PostgreSQL, encrypted with the key passphrase: a process without it cannot start.

The passphrase is stretched once per process with scrypt (RFC 7914) under the store's salt, and
every file is sealed with AES-256-GCM under the result, its name bound as associated data so
that one file cannot be passed off as another. The salt and a sealed check value are the row
`.vault`, made by the first process; a wrong passphrase fails on the check value.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from issuer.storage.postgres.database import Database, StoreError
from issuer.storage.postgres.notifications import KEYS_CHANNEL, Notifications

VAULT = ".vault"
CHECK = b"frontdesk-issuer key files"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # RFC 7914's figure, as for operator passwords
NONCE_BYTES = 12


class PgKeyFiles:
    encrypted = True

    def __init__(self, db: Database, notifications: Notifications, passphrase: bytes | None) -> None:
        if not passphrase:
            raise StoreError(
                "a PostgreSQL store keeps its keys encrypted: give the key passphrase in FRONTDESK_KEY_PASSPHRASE "
                "or with --key-passphrase-file"
            )
        self._db = db
        self._notifications = notifications
        self._aead = AESGCM(self._open_vault(passphrase))

    def read(self, name: str) -> bytes | None:
        held = " FOR UPDATE" if self._db.in_transaction else ""
        rows = self._db.rows("SELECT content FROM key_files WHERE name = %s" + held, (name,))
        return self._unseal(name, bytes(rows[0][0])) if rows else None

    def write(self, name: str, content: bytes) -> None:
        with self._db.connection() as connection:
            connection.execute(
                "INSERT INTO key_files (name, content) VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET content = EXCLUDED.content",
                (name, self._seal(name, content)),
            )
            self._notifications.announce(connection, KEYS_CHANNEL, {"name": name})

    def create(self, name: str, content: bytes) -> bytes:
        inserted = self._db.changed(
            "INSERT INTO key_files (name, content) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
            (name, self._seal(name, content)),
        )
        if inserted:
            return content
        stored = self.read(name)
        if stored is None:
            raise StoreError(f"the key file {name} vanished from the store")
        return stored

    def delete(self, name: str) -> None:
        with self._db.connection() as connection:
            connection.execute("DELETE FROM key_files WHERE name = %s", (name,))
            self._notifications.announce(connection, KEYS_CHANNEL, {"name": name})

    def watch(self, changed: Callable[[], None]) -> None:
        self._notifications.on(KEYS_CHANNEL, lambda _: changed())
        self._notifications.on_missed(changed)

    def part(self, name: str) -> PrefixedKeyFiles:
        return PrefixedKeyFiles(self, f"{name}/")

    def _seal(self, name: str, content: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, content, name.encode())

    def _unseal(self, name: str, sealed: bytes) -> bytes:
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], name.encode())
        except InvalidTag as error:
            raise StoreError(f"the key file {name} in the store is damaged or was sealed under another key") from error

    def _open_vault(self, passphrase: bytes) -> bytes:
        """The key that seals the files: the first process makes the salt and the check value."""
        key = None
        stored = self._vault_row()
        if stored is None:
            salt, nonce = os.urandom(16), os.urandom(NONCE_BYTES)
            key = _stretch(passphrase, salt)
            check = nonce + AESGCM(key).encrypt(nonce, CHECK, VAULT.encode())
            self._db.changed(
                "INSERT INTO key_files (name, content) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                (VAULT, json.dumps({"salt": _b64(salt), "check": _b64(check)}).encode()),
            )
            stored = self._vault_row()
            if stored is None or stored["salt"] != _b64(salt):
                key = None  # another process was first
        if stored is None:
            raise StoreError("the store's key vault cannot be read")
        if key is None:
            key = _stretch(passphrase, base64.b64decode(stored["salt"]))
        check = base64.b64decode(stored["check"])
        try:
            AESGCM(key).decrypt(check[:NONCE_BYTES], check[NONCE_BYTES:], VAULT.encode())
        except InvalidTag as error:
            raise StoreError("the key passphrase does not open the keys in the store: wrong passphrase") from error
        return key

    def _vault_row(self) -> Mapping[str, Any] | None:
        rows = self._db.rows("SELECT content FROM key_files WHERE name = %s", (VAULT,))
        return dict(json.loads(bytes(rows[0][0]))) if rows else None


class PrefixedKeyFiles:
    """The key files of one part of the issuer (`certificates/...`, `encryption-keys/...`) among the
    store's, sealed as they are."""

    encrypted = True

    def __init__(self, files: PgKeyFiles | PrefixedKeyFiles, prefix: str) -> None:
        self._files = files
        self.prefix = prefix

    def read(self, name: str) -> bytes | None:
        return self._files.read(self.prefix + name)

    def write(self, name: str, content: bytes) -> None:
        self._files.write(self.prefix + name, content)

    def create(self, name: str, content: bytes) -> bytes:
        return self._files.create(self.prefix + name, content)

    def delete(self, name: str) -> None:
        self._files.delete(self.prefix + name)

    def watch(self, changed: Callable[[], None]) -> None:
        self._files.watch(changed)

    def part(self, name: str) -> PrefixedKeyFiles:
        return PrefixedKeyFiles(self, f"{name}/")


def _stretch(passphrase: bytes, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
