"""Looking after the data folder: `backup`, `restore`, `repair`, `keys encrypt|decrypt`,
`certificates init|csr|import|show` and `trust-anchor` (docs/state.md, docs/haip.md). All but
`backup` of a running issuer and the read-only ones take the folder's lock, as `serve` does, so they
never run beside an issuer."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path

from issuer.cli.admin_client import admin_download
from issuer.cli.common import (
    CommandError,
    Commands,
    data_dir_option,
    nested_data_dir_option,
    read_file,
)
from issuer.config import (
    Settings,
    default_data_dir,
    ensure_private_dir,
    store_url_override,
)
from issuer.crypto.certificates import CA_KEY_PATTERN, CERTIFICATES_DIR, TRUST_ANCHOR_FILE, IssuerCertificates
from issuer.crypto.encryption_keys import ENCRYPTION_KEYS_DIR
from issuer.crypto.keys import (
    KEY_INDEX,
    PASSPHRASE_ENV,
    KeyRing,
    change_passphrase,
    read_passphrase_file,
    repair_key_index,
    resolve_passphrase,
)
from issuer.fileio import write_atomic
from issuer.runtime import issuer_url_of
from issuer.storage.backends import open_store
from issuer.storage.backup import BackupError, create_backup, restore_backup
from issuer.storage.folder_lock import FolderInUse, FolderLock
from issuer.storage.interfaces import KeyFiles
from issuer.storage.local import FolderKeyFiles
from issuer.storage.manifest import Manifest
from issuer.storage.repair import repair_journals


def register(commands: Commands) -> None:
    backup = commands.add_parser("backup", help="write the data folder to one archive (also while serving)")
    data_dir_option(backup)
    backup.add_argument("archive", type=Path, help="the .tar.gz file to write")
    backup.set_defaults(run=_backup)

    restore = commands.add_parser("restore", help="restore a backup into a data folder (the issuer stopped)")
    data_dir_option(restore)
    restore.add_argument("archive", type=Path, help="a .tar.gz file written by 'backup'")
    restore.add_argument("--force", action="store_true", help="replace a non-empty folder (its data moves aside)")
    restore.set_defaults(run=_restore)

    repair = commands.add_parser(
        "repair", help="move damaged data files aside, keeping every line they still hold (the issuer stopped)"
    )
    data_dir_option(repair)
    repair.set_defaults(run=_repair)

    keys = commands.add_parser("keys", help="encrypt or decrypt the signing keys at rest (the issuer stopped)")
    keys.add_argument("action", choices=("encrypt", "decrypt"))
    data_dir_option(keys)
    keys.add_argument("--key-passphrase-file", type=Path, help="file whose first line is the passphrase")
    keys.set_defaults(run=_keys)

    certificates = commands.add_parser("certificates", help="X.509 certificates for the signing keys (HAIP)")
    actions = certificates.add_subparsers(dest="action", required=True)
    init = actions.add_parser("init", help="make the issuer's own CA and certify the signing key (issuer stopped)")
    init.add_argument("--country", required=True, help="ISO 3166 two-letter country code, e.g. DE")
    init.add_argument("--replace", action="store_true", help="replace an existing CA; verifiers need the new anchor")
    request = actions.add_parser("csr", help="write a signing request for the signing key, for your organisation's CA")
    request.add_argument("output", type=Path, help="the .csr file to write")
    request.add_argument("--country", help="ISO 3166 two-letter country code for the request's subject")
    chain = actions.add_parser("import", help="store the chain your organisation's CA issued (issuer stopped)")
    chain.add_argument("chain", type=Path, help="PEM file: the issuer's certificate first, the CA's root last")
    actions.add_parser("show", help="the trust anchor and the signing key's certificate, with their end dates")
    nested_data_dir_option(certificates, actions)
    for action in actions.choices.values():
        action.add_argument("--key-passphrase-file", type=Path, help="file whose first line unlocks encrypted keys")
    certificates.set_defaults(run=_certificates)

    anchor = commands.add_parser("trust-anchor", help="print the trust anchor certificate (PEM) for verifiers")
    data_dir_option(anchor)
    anchor.set_defaults(run=_trust_anchor)


def _backup(args: argparse.Namespace) -> int:
    folder = args.data_dir or default_data_dir()
    _refuse_on_shared_store(folder, "backup")
    archive = args.archive.absolute()
    if not folder.is_dir():
        raise BackupError(f"{folder} is not a data folder")
    lock = FolderLock(folder, "frontdesk-issuer backup")
    try:
        lock.acquire()
    except FolderInUse:  # an issuer runs there: it takes the backup, under its store lock
        size = admin_download(folder, "/api/backup", archive)
        print(f"backup: {archive} ({size} bytes, taken by the running issuer)")
        return 0
    try:
        info = create_backup(folder, archive)
    finally:
        lock.release()
    print(f"backup: {archive} ({info.files} files, {info.size} bytes)")
    return 0


def _restore(args: argparse.Namespace) -> int:
    folder = args.data_dir or default_data_dir()
    _refuse_on_shared_store(folder, "restore")
    result = restore_backup(args.archive, folder, force=args.force)
    taken = datetime.fromtimestamp(result.created_at).isoformat(sep=" ", timespec="seconds")
    print(f"restored {result.files} files into {folder} (backup taken {taken})")
    if result.replaced:
        print(f"the previous data is in {result.replaced}")
    return 0


def _refuse_on_shared_store(folder: Path, command: str) -> None:
    """The data of a PostgreSQL store is in the database: pg_dump backs it up, not this archive."""
    if store_url_override(None, os.environ) or Settings.load(folder).store_url:
        raise CommandError(
            f"this issuer keeps its data in a PostgreSQL store, which '{command}' does not cover: "
            "use pg_dump and pg_restore for the database, and keep the key passphrase; see docs/deployment.md"
        )


def _repair(args: argparse.Namespace) -> int:
    folder = args.data_dir or default_data_dir()
    if not folder.is_dir():
        raise CommandError(f"{folder} is not a data folder")
    with FolderLock(folder, "frontdesk-issuer repair"):
        done = repair_journals(folder)
        keys = folder / "keys"
        if (keys / KEY_INDEX).exists() or any(keys.glob("*.pem")) or Manifest(folder).read().get("keys"):
            done += repair_key_index(keys)
    for line in done:
        print(line)
    print(f"{folder}: {'repaired' if done else 'nothing to repair'}; the issuer can start")
    return 0


def _keys(args: argparse.Namespace) -> int:
    folder = args.data_dir or default_data_dir()
    if not (folder / "keys" / "keys.json").is_file():
        raise CommandError(f"no signing keys in {folder}")
    with FolderLock(folder, f"frontdesk-issuer keys {args.action}"):
        return _change_key_passphrase(args, folder)


def _change_key_passphrase(args: argparse.Namespace, folder: Path) -> int:
    if args.key_passphrase_file:
        passphrase: bytes | None = read_passphrase_file(args.key_passphrase_file)
    else:
        passphrase = resolve_passphrase(Settings.load(folder).key_passphrase_file, os.environ)
    if passphrase is None:
        raise CommandError(f"no passphrase: set {PASSPHRASE_ENV} or pass --key-passphrase-file")
    old, new = (None, passphrase) if args.action == "encrypt" else (passphrase, None)
    changed = change_passphrase(folder / "keys", old, new)
    changed += change_passphrase(folder / CERTIFICATES_DIR, old, new, CA_KEY_PATTERN)
    changed += change_passphrase(folder / ENCRYPTION_KEYS_DIR, old, new)
    print(f"{args.action}ed {changed} key files in {folder}")
    return 0


def _certificates(args: argparse.Namespace) -> int:
    """The signing keys' certificates: made or imported in the data folder while no issuer runs on it
    (its lock), shown and requested at any time."""
    settings = Settings.load(args.data_dir, store_url=store_url_override(None, os.environ))
    ensure_private_dir(settings.data_dir)
    if args.action not in ("init", "import"):  # reading: fine beside a running issuer
        return _certificates_in(args, settings)
    with FolderLock(settings.data_dir, f"frontdesk-issuer certificates {args.action}"):
        return _certificates_in(args, settings)


def _certificates_in(args: argparse.Namespace, settings: Settings) -> int:
    folder = settings.data_dir
    if args.key_passphrase_file:
        passphrase: bytes | None = read_passphrase_file(args.key_passphrase_file)
    else:
        passphrase = resolve_passphrase(settings.key_passphrase_file, os.environ)
    if settings.store_url is None:
        return _certificates_of(args, settings, FolderKeyFiles(folder / "keys"), passphrase)
    store = open_store(settings, passphrase, os.environ)  # the chain every process sharing it presents
    try:
        return _certificates_of(args, settings, store.key_files, passphrase)
    finally:
        store.close()


def _certificates_of(args: argparse.Namespace, settings: Settings, files: KeyFiles, passphrase: bytes | None) -> int:
    keys = KeyRing(files, passphrase)
    certificates = IssuerCertificates(files.part(CERTIFICATES_DIR), keys)
    issuer_url = issuer_url_of(settings, settings.port)
    if args.action == "init":
        certificates.create_ca(args.country, settings.issuer_name, issuer_url, replace=args.replace)
        where = certificates.folder / TRUST_ANCHOR_FILE if certificates.folder else "in the shared store"
        print(f"trust anchor: {where} (give it to verifiers: trust-anchor)")
    elif args.action == "csr":
        write_atomic(args.output, certificates.signing_request(settings.issuer_name, issuer_url, args.country))
        print(f"signing request for key {keys.active.kid}: {args.output}")
        return 0
    elif args.action == "import":
        key = certificates.import_chain(read_file(args.chain))
        print(f"chain stored for key {key.kid}{' (not the active key)' if key.kid != keys.active.kid else ''}")
    for info in certificates.infos():
        until = datetime.fromtimestamp(info.not_after).isoformat(sep=" ", timespec="minutes")
        print(f"{info.role}: {info.subject}, valid until {until}, SHA-256 {info.fingerprint}")
    for warning in certificates.expiring():
        print(f"warning: {warning}")
    if not certificates.infos():
        print(f"no certificates in {certificates.where}: run 'frontdesk-issuer certificates init --country XX'")
    return 0


def _trust_anchor(args: argparse.Namespace) -> int:
    folder = args.data_dir or default_data_dir()
    settings = Settings.load(folder, store_url=store_url_override(None, os.environ))
    if settings.store_url is not None:
        return _shared_trust_anchor(settings)
    path = folder / CERTIFICATES_DIR / TRUST_ANCHOR_FILE
    try:
        pem = path.read_text(encoding="ascii")
    except FileNotFoundError as error:
        raise CommandError(f"no trust anchor in {path.parent}: run 'frontdesk-issuer certificates init'") from error
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot read {path}: {error}") from error
    sys.stdout.write(pem)
    return 0


def _shared_trust_anchor(settings: Settings) -> int:
    """The trust anchor in a shared store: it is sealed there, so reading it needs the key passphrase."""
    store = open_store(settings, resolve_passphrase(settings.key_passphrase_file, os.environ), os.environ)
    try:
        pem = store.key_files.part(CERTIFICATES_DIR).read(TRUST_ANCHOR_FILE)
    finally:
        store.close()
    if pem is None:
        raise CommandError("no trust anchor in the shared store: run 'frontdesk-issuer certificates init'")
    sys.stdout.write(pem.decode("ascii"))
    return 0
