"""`frontdesk-issuer migrate --data-dir DIR --store-url URL`: a desk's data folder copied into an
empty PostgreSQL store, then read back and compared.

The folder is left as it was: the journals are opened on a copy of it (opening a journal may
compact it), and nothing is written to the folder itself. Record ids stay what they were, so the
notification ids wallets hold and the ids operators noted still name their credentials. The
signing keys, the certificates (the trust anchor, the issuing CA's key, the chains) and the request
encryption keys are decrypted with the key passphrase when the folder's files are encrypted, and stored
sealed under it (`vault`), so every process serving the store presents the folder's chain.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from psycopg import sql

from issuer.config import SHARED_SETTINGS, Settings
from issuer.storage.backup import data_files
from issuer.storage.folder_lock import FolderLock
from issuer.storage.interfaces import VERSION, Document
from issuer.storage.postgres.database import StoreError
from issuer.storage.postgres.store import PostgresStore
from issuer.storage.store import AUDIT, CREDENTIAL, RECORDS, JournalStore

ENCRYPTED_PEM = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"
KEY_PARTS = ("certificates", "encryption-keys")  # the trust anchor, the CA key, the chains; request encryption
LIVE = {"offers": "offer_id", "sign_ins": "auth_id", "operators": "name", "holders": "holder_id"}


def copy_folder(data_dir: Path, store: PostgresStore, key_passphrase: bytes | None) -> dict[str, int]:
    """Copy and verify; how many of each were copied."""
    if not (data_dir / "keys" / "keys.json").is_file():
        raise StoreError(f"{data_dir} is not a data folder (it has no signing keys)")
    _check_empty(store)
    with FolderLock(data_dir, "frontdesk-issuer migrate"), tempfile.TemporaryDirectory(prefix=".frontdesk-") as scratch:
        copied = Path(scratch) / "data"
        for name in data_files(data_dir):
            (copied / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(data_dir / name, copied / name)
        source = JournalStore(copied)
        try:
            wanted = _read(source, copied, key_passphrase)
        finally:
            source.close()
    with store.transaction():
        _write(store, wanted)
    shared = Settings.load(data_dir).to_json()
    store.agree_on({name: shared[name] for name in SHARED_SETTINGS})
    found = _read_back(store, wanted)
    differing = [name for name in wanted if _normal(wanted[name]) != _normal(found[name])]
    if differing:
        raise StoreError(f"the copy differs from {data_dir} in: {', '.join(differing)}")
    return {name: len(rows) for name, rows in wanted.items()}


def _read(source: JournalStore, folder: Path, key_passphrase: bytes | None) -> dict[str, list[Any]]:
    """Everything to copy, in the order it was written."""
    wanted: dict[str, list[Any]] = {
        name: sorted((_unversioned(row) for row in getattr(source, name).all()), key=lambda row: row[key])
        for name, key in LIVE.items()
    }
    history = source.history
    records = [row for n in history.segment_numbers() for row in reversed(history.segment_rows(RECORDS, n))]
    wanted["ledger"] = [row for row in records if row.get("kind") == CREDENTIAL]
    wanted["archive"] = [row for row in records if row.get("kind") != CREDENTIAL]
    audit = [row for n in history.segment_numbers() for row in reversed(history.segment_rows(AUDIT, n))]
    wanted["audit"] = [{k: v for k, v in row.items() if k not in ("id", "key")} for row in audit]
    wanted["status_lists"] = sorted(source.status.lists(), key=lambda row: row["list_id"])
    wanted["status_entries"] = sorted(source.status.entries(), key=lambda row: (row["list_id"], row["index"]))
    wanted["key_files"] = sorted(_key_files(folder / "keys", "", key_passphrase))
    for part in KEY_PARTS:  # stored as the store's `part(name)` keeps them
        if (folder / part).is_dir():
            wanted["key_files"] += sorted(_key_files(folder / part, f"{part}/", key_passphrase))
    return wanted


def _key_files(folder: Path, prefix: str, key_passphrase: bytes | None) -> Iterable[tuple[str, str]]:
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        content = path.read_bytes()
        if path.suffix == ".pem" and content.lstrip().startswith(ENCRYPTED_PEM):
            content = _decrypted(path, content, key_passphrase)
        yield prefix + path.relative_to(folder).as_posix(), content.hex()


def _decrypted(path: Path, pem: bytes, key_passphrase: bytes | None) -> bytes:
    if key_passphrase is None:
        raise StoreError(f"{path} is encrypted: give its passphrase")
    try:
        key = serialization.load_pem_private_key(pem, password=key_passphrase)
    except (ValueError, TypeError) as error:
        raise StoreError(f"{path}: wrong passphrase") from error
    clear = serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, clear)


def _write(store: PostgresStore, wanted: Mapping[str, list[Any]]) -> None:
    for name, key in LIVE.items():
        table = getattr(store, name)
        for row in wanted[name]:
            table.insert(row[key], row)
    store.ledger.rows.insert_with_ids(wanted["ledger"])
    store.archive.rows.insert_with_ids(wanted["archive"])
    for entry in wanted["audit"]:
        store.audit.append(entry)
    for row in wanted["status_lists"]:  # in the transaction, not through add_list, which commits on its own
        store.database.changed(
            "INSERT INTO status_lists (list_id, size, seed, reserved) VALUES (%s, %s, %s, %s)",
            (row["list_id"], row["size"], row["seed"], row["reserved"]),
        )
    for entry in wanted["status_entries"]:
        store.status.set_entry(entry["list_id"], entry["index"], entry["status"])
    for name, content in wanted["key_files"]:
        store.key_files.write(name, bytes.fromhex(content))


def _read_back(store: PostgresStore, wanted: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {
        name: sorted((_unversioned(row) for row in getattr(store, name).all()), key=lambda row: row[key])
        for name, key in LIVE.items()
    }
    found["ledger"] = list(reversed([row for batch in store.ledger.batches() for row in batch]))
    found["archive"] = list(reversed(list(store.archive.newest())))
    found["audit"] = list(reversed(list(store.audit.entries())))
    found["status_lists"] = store.status.lists()
    found["status_entries"] = sorted(store.status.entries(), key=lambda row: (row["list_id"], row["index"]))
    names = [name for name, _ in wanted["key_files"]]
    found["key_files"] = [(name, (store.key_files.read(name) or b"").hex()) for name in names]
    return found


def _check_empty(store: PostgresStore) -> None:
    database = store.database
    for table in ("offers", "operators", "holders", "ledger", "archive", "status_lists"):
        if database.rows(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table)))[0][0]:
            raise StoreError(f"the store at {database.url} already holds data ({table}): copy into an empty one")
    if database.rows("SELECT EXISTS (SELECT 1 FROM key_files WHERE name = 'keys.json')")[0][0]:
        raise StoreError(f"the store at {database.url} already has signing keys: copy into an empty one")


def _unversioned(row: Mapping[str, Any]) -> Document:
    return {k: v for k, v in row.items() if k != VERSION}


def _normal(rows: list[Any]) -> str:
    return json.dumps(rows, sort_keys=True, default=list)
