"""Headless command line: `frontdesk-issuer serve|offer|approve|reject|status|credentials|revoke|...`.

`serve` runs the issuer and its admin API until SIGINT or SIGTERM. `backup`, `restore`, `repair`,
`keys encrypt|decrypt`, `certificates init|csr|import|show` and `trust-anchor` look after the data folder
(docs/state.md, docs/haip.md); all but `backup` of a running issuer take the folder's lock, as `serve` does,
so they never run beside an issuer. `migrate` brings a PostgreSQL store's schema up to date and copies a data
folder into it. The other commands talk to a running server through the admin API, found through
`<data>/server.json` (a loopback URL only) and authenticated with `<data>/admin-token`. Failures print one
line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import shutil
import signal
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import segno

from issuer import __version__
from issuer.config import (
    STORE_PASSWORD_ENV,
    STORE_URL_ENV,
    Settings,
    SettingsError,
    check_store_url,
    default_data_dir,
    ensure_private_dir,
    store_url_override,
)
from issuer.crypto.certificates import CA_KEY_PATTERN, CERTIFICATES_DIR, TRUST_ANCHOR_FILE, IssuerCertificates
from issuer.crypto.keys import (
    KEY_INDEX,
    PASSPHRASE_ENV,
    KeyRing,
    change_passphrase,
    read_passphrase_file,
    repair_key_index,
    resolve_passphrase,
)
from issuer.fileio import write_atomic, write_atomic_stream
from issuer.protocol.credential_types import CredentialTypeError
from issuer.records.ledger import STATES
from issuer.runtime import IssuerRuntime, PortUnavailable, issuer_url_of, read_admin_token, running_admin_url
from issuer.service.types import STATE_WORDS, OfferGrant, OfferState
from issuer.storage.backends import store_password
from issuer.storage.backup import BackupError, create_backup, restore_backup
from issuer.storage.folder_lock import FolderInUse, FolderLock
from issuer.storage.history import RECORD_ID
from issuer.storage.manifest import Manifest
from issuer.storage.repair import repair_journals

ADMIN_TIMEOUT = 10.0
TERMINAL_COLUMNS = 80
QR_BORDER = 2  # modules of quiet zone on a terminal, whose background is light or dark anyway


class CommandError(Exception):
    """A failure the user can act on; printed as one line."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (CommandError, SettingsError, CredentialTypeError) as error:
        print(f"frontdesk-issuer: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="frontdesk-issuer", description="OpenID4VCI issuer for front desks")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the issuer and its admin API")
    _data_dir(serve)
    serve.add_argument("--host", help="address the issuer listens on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="issuer port; 0 picks a free one (default 8440)")
    serve.add_argument("--public-url", help="Credential Issuer Identifier, the https URL wallets use")
    serve.add_argument("--admin-port", type=int, help="admin API port; 0 picks a free one (default 8441)")
    serve.add_argument("--key-passphrase-file", type=Path, help="file whose first line unlocks encrypted keys")
    _store_options(serve)
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser(
        "migrate", help="bring a PostgreSQL store's schema up to date; with --data-dir, copy a data folder into it"
    )
    migrate.add_argument("--data-dir", type=Path, help="a data folder to copy into the (empty) store")
    migrate.add_argument("--key-passphrase-file", type=Path, help="file whose first line is the key passphrase")
    _store_options(migrate)
    migrate.set_defaults(run=_migrate)

    offer = commands.add_parser("offer", help="create a credential offer")
    _data_dir(offer)
    offer.add_argument("--config", action="append", required=True, metavar="ID", help="credential type id")
    offer.add_argument("--claims", required=True, help="claims as a JSON object, or @file with one")
    offer.add_argument("--tx-code", action="store_true", help="protect the offer with a transaction code")
    offer.add_argument("--deferred", action="store_true", help="issue only after an operator approves")
    offer.add_argument(
        "--grant",
        choices=tuple(OfferGrant),
        default=OfferGrant.PRE_AUTHORIZED,
        help="pre-authorized_code (default), or authorization_code: the wallet signs in and the desk confirms",
    )
    reference = offer.add_mutually_exclusive_group()
    reference.add_argument(
        "--by-reference",
        action="store_true",
        default=None,
        help="put a credential_offer_uri in the link (the default on a terminal: its QR code fits 80 columns)",
    )
    reference.add_argument(
        "--by-value", dest="by_reference", action="store_false", help="put the whole offer in the link"
    )
    offer.add_argument("--operator", help="who makes the offer, for the timeline")
    offer.add_argument(
        "--replaces", action="append", default=[], metavar="CREDENTIAL", help="revoke this credential now: a re-issue"
    )
    offer.add_argument("--json", action="store_true", help="print one JSON object")
    offer.set_defaults(run=_offer)

    for name in ("revoke", "suspend", "unsuspend"):
        change = commands.add_parser(name, help=f"{name} an issued credential (its id is in 'credentials')")
        _data_dir(change)
        change.add_argument("credential_id")
        change.add_argument("--reason", default="", help="why, for the audit log")
        change.add_argument("--operator", help="who does it, for the audit log")
        change.set_defaults(run=_change_status, action=name)

    sign_ins = commands.add_parser("sign-ins", help="wallets waiting at the desk (Authorization Code flow)")
    _data_dir(sign_ins)
    sign_ins.add_argument("--json", action="store_true", help="print one JSON object")
    sign_ins.set_defaults(run=_sign_ins)

    confirm = commands.add_parser("confirm", help="confirm a waiting wallet's sign-in by its code's request id")
    _data_dir(confirm)
    confirm.add_argument("authorization_id")
    confirm.add_argument("--claims", help="the holder's claims (JSON or @file), for a sign-in without an offer")
    confirm.add_argument("--operator", help="who confirms, for the audit log")
    confirm.set_defaults(run=_confirm)

    deny = commands.add_parser("deny", help="turn a waiting wallet's sign-in down")
    _data_dir(deny)
    deny.add_argument("authorization_id")
    deny.add_argument("--reason", default="", help="why, for the audit log")
    deny.add_argument("--operator", help="who denies, for the audit log")
    deny.set_defaults(run=_deny)

    ledger = commands.add_parser("credentials", help="find issued credentials in the ledger")
    _data_dir(ledger)
    ledger.add_argument("query", nargs="?", default="", help="holder name, or a credential or offer id")
    ledger.add_argument("--type", help="credential type id")
    ledger.add_argument("--state", choices=STATES, help="current state")
    ledger.add_argument("--operator", help="issued by this operator")
    ledger.add_argument("--limit", type=int, default=50, help="at most this many, newest first (default 50)")
    ledger.add_argument("--json", action="store_true", help="print one JSON object")
    ledger.set_defaults(run=_credentials)

    for name, verb in (("approve", "approve"), ("reject", "reject")):
        decide = commands.add_parser(name, help=f"{verb} a deferred issuance")
        _data_dir(decide)
        decide.add_argument("offer_id")
        decide.set_defaults(run=_decide, action=name)

    cancel = commands.add_parser("cancel", help="cancel a live offer: its codes and tokens stop working now")
    _data_dir(cancel)
    cancel.add_argument("offer_id")
    cancel.add_argument("--operator", help="who cancels it, for the audit log")
    cancel.set_defaults(run=_cancel)

    status = commands.add_parser("status", help="an offer's state and timeline")
    _data_dir(status)
    status.add_argument("offer_id")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(run=_status)

    backup = commands.add_parser("backup", help="write the data folder to one archive (also while serving)")
    _data_dir(backup)
    backup.add_argument("archive", type=Path, help="the .tar.gz file to write")
    backup.set_defaults(run=_backup)

    restore = commands.add_parser("restore", help="restore a backup into a data folder (the issuer stopped)")
    _data_dir(restore)
    restore.add_argument("archive", type=Path, help="a .tar.gz file written by 'backup'")
    restore.add_argument("--force", action="store_true", help="replace a non-empty folder (its data moves aside)")
    restore.set_defaults(run=_restore)

    repair = commands.add_parser(
        "repair", help="move damaged data files aside, keeping every line they still hold (the issuer stopped)"
    )
    _data_dir(repair)
    repair.set_defaults(run=_repair)

    keys = commands.add_parser("keys", help="encrypt or decrypt the signing keys at rest (the issuer stopped)")
    keys.add_argument("action", choices=("encrypt", "decrypt"))
    _data_dir(keys)
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
    for action in actions.choices.values():
        _data_dir(action)
        action.add_argument("--key-passphrase-file", type=Path, help="file whose first line unlocks encrypted keys")
    certificates.set_defaults(run=_certificates)

    anchor = commands.add_parser("trust-anchor", help="print the trust anchor certificate (PEM) for verifiers")
    _data_dir(anchor)
    anchor.set_defaults(run=_trust_anchor)
    return parser


def _data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="data folder (default: the user data folder)")


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store-url", help=f"a shared PostgreSQL store, postgresql://user@host/db (or {STORE_URL_ENV})"
    )
    parser.add_argument(
        "--store-password-file", help=f"file whose first line is the store's password (or {STORE_PASSWORD_ENV})"
    )


def _serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.load(
        args.data_dir,
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        admin_port=args.admin_port,
        store_url=store_url_override(args.store_url, os.environ),
        store_password_file=args.store_password_file,
    )
    passphrase = read_passphrase_file(args.key_passphrase_file) if args.key_passphrase_file else None
    runtime = IssuerRuntime(settings, key_passphrase=passphrase, command="frontdesk-issuer serve")
    try:
        runtime.start()
    except PortUnavailable as error:
        raise CommandError(f"cannot listen: {error.cause}") from error
    except OSError as error:
        raise CommandError(f"cannot start: {error.strerror or error}") from error
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"issuer: {runtime.issuer_url}", flush=True)
    print(f"admin: {runtime.admin_url}", flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        runtime.stop()
    return 0


def _migrate(args: argparse.Namespace) -> int:
    url = store_url_override(args.store_url, os.environ)
    if url is None:
        raise CommandError(f"name the store: --store-url postgresql://user@host/db (or {STORE_URL_ENV})")
    check_store_url(url)
    settings = Settings.load(args.data_dir, store_url=url, store_password_file=args.store_password_file)
    try:
        from issuer.storage.postgres import PostgresStore, schema
        from issuer.storage.postgres.copy import copy_folder
        from issuer.storage.postgres.database import Database
    except ImportError as error:
        raise CommandError("a PostgreSQL store needs psycopg: pip install 'frontdesk-issuer[postgres]'") from error
    password = store_password(settings, os.environ)
    if args.data_dir is None:
        database = Database(url, password, max_connections=1)
        try:
            with database.connect() as connection:
                before, after = schema.migrate(connection)
        finally:
            database.close()
        print(f"schema: version {after}" + (f" (was {before})" if before != after else " (up to date)"))
        return 0
    if args.key_passphrase_file:
        passphrase: bytes | None = read_passphrase_file(args.key_passphrase_file)
    else:
        passphrase = resolve_passphrase(settings.key_passphrase_file, os.environ)
    store = PostgresStore(url, password=password, key_passphrase=passphrase, max_connections=2)
    try:
        counts = copy_folder(args.data_dir, store, passphrase)
    finally:
        store.close()
    summary = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items())
    print(f"copied {args.data_dir} into {url} and checked the copy: {summary}")
    print(f"{args.data_dir} is unchanged; serve from the store with --store-url")
    return 0


def _offer(args: argparse.Namespace) -> int:
    on_terminal = sys.stdout.isatty() and not args.json
    by_reference = args.by_reference if args.by_reference is not None else on_terminal
    body = {
        "credential_configuration_ids": args.config,
        "claims": _claims(args.claims),
        "tx_code": args.tx_code,
        "deferred": args.deferred,
        "by_reference": by_reference,
        "grant": args.grant,
        "operator": args.operator,
        "replaces": [_record_id(value) for value in args.replaces],
    }
    created = _admin(args.data_dir, "POST", "/api/offers", body)
    if args.json:
        print(json.dumps({k: created[k] for k in ("offer_id", "offer_uri", "tx_code", "expires_at")}))
        return 0
    print(f"offer: {created['offer_id']}")
    print(created["offer_uri"])
    if created["tx_code"]:
        print(f"transaction code (shown once): {created['tx_code']}")
    if on_terminal:
        columns = shutil.get_terminal_size().columns
        print(terminal_qr(created["offer_uri"], columns) or _too_wide(created["offer_uri"], columns), end="")
    return 0


def terminal_qr(text: str, columns: int = TERMINAL_COLUMNS) -> str | None:
    """The QR code of `text` in half-block characters (two rows of modules per line), or None
    when it is wider than `columns`; a by-reference link always fits 80 columns."""
    qr = segno.make(text, error="m")
    if qr.symbol_size(border=QR_BORDER)[0] > columns:
        return None
    out = io.StringIO()
    qr.terminal(out, compact=True, border=QR_BORDER)
    return out.getvalue()


def _too_wide(text: str, columns: int) -> str:
    width = segno.make(text, error="m").symbol_size(border=QR_BORDER)[0]
    return (
        f"(the QR code is {width} columns wide, this terminal has {columns}: "
        "use --by-reference for a smaller one, or open the link above)\n"
    )


def _cancel(args: argparse.Namespace) -> int:
    body = {"operator": args.operator} if args.operator else {}
    result = _admin(args.data_dir, "POST", f"/api/offers/{_offer_id(args.offer_id)}/cancel", body)
    print(f"{result['offer_id']}: {result['state']}")
    return 0


def _decide(args: argparse.Namespace) -> int:
    result = _admin(args.data_dir, "POST", f"/api/offers/{_offer_id(args.offer_id)}/{args.action}", {})
    print(f"{result['offer_id']}: {result['decision']}")
    return 0


def _status(args: argparse.Namespace) -> int:
    status = _admin(args.data_dir, "GET", f"/api/offers/{_offer_id(args.offer_id)}")
    if args.json:
        print(json.dumps(status))
        return 0
    state = status["state"]
    words = STATE_WORDS.get(OfferState(state), state) if state in tuple(OfferState) else state
    shown = state if words == state else f"{state} ({words})"
    holder = f", for {status['holder_name']}" if status.get("holder_name") else ""
    print(f"{status['offer_id']}: {shown}  {', '.join(status['credential_configuration_ids'])}{holder}")
    for step in status["timeline"]:
        when = datetime.fromtimestamp(step["at"]).isoformat(sep=" ", timespec="seconds")
        detail = " ".join(f"{k}={v}" for k, v in step.get("detail", {}).items() if v is not None)
        print(f"  {when}  {step['event']}  {detail}".rstrip())
    return 0


def _sign_ins(args: argparse.Namespace) -> int:
    waiting = _admin(args.data_dir, "GET", "/api/authorizations")["authorizations"]
    if args.json:
        print(json.dumps({"authorizations": waiting}))
        return 0
    for request in waiting:
        offer = f"offer {request['offer_id']}" if request["offer_id"] else "no offer: needs --claims"
        if request.get("holder_name"):
            offer = f"for {request['holder_name']}, {offer}"
        types = ", ".join(request["credential_configuration_ids"])
        print(f"{request['authorization_id']}  code {request['confirmation']}  {types}  ({offer})")
    if not waiting:
        print("no wallet is waiting")
    return 0


def _confirm(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"operator": args.operator}
    if args.claims:
        body["claims"] = _claims(args.claims)
    result = _admin(args.data_dir, "POST", f"/api/authorizations/{_sign_in_id(args)}/approve", body)
    print(f"{result['authorization_id']}: confirmed (code {result['confirmation']})")
    return 0


def _deny(args: argparse.Namespace) -> int:
    body = {"operator": args.operator, "reason": args.reason}
    result = _admin(args.data_dir, "POST", f"/api/authorizations/{_sign_in_id(args)}/deny", body)
    print(f"{result['authorization_id']}: denied")
    return 0


def _sign_in_id(args: argparse.Namespace) -> str:
    return _offer_id(args.authorization_id, "a sign-in request")


def _change_status(args: argparse.Namespace) -> int:
    body = {"reason": args.reason, "operator": args.operator}
    record = _admin(args.data_dir, "POST", f"/api/credentials/{_record_id(args.credential_id)}/{args.action}", body)
    print(f"{record['id']}: {record['state']}")
    return 0


def _credentials(args: argparse.Namespace) -> int:
    query = {"q": args.query, "type": args.type, "state": args.state, "operator": args.operator, "limit": args.limit}
    found = _admin(
        args.data_dir, "GET", "/api/credentials?" + urllib.parse.urlencode({k: v for k, v in query.items() if v})
    )["credentials"]
    if args.json:
        print(json.dumps({"credentials": found}))
        return 0
    for record in found:
        when = datetime.fromtimestamp(record["issued_at"]).isoformat(sep=" ", timespec="minutes")
        print(f"{record['id']}  {when}  {record['config_id']}  {record['state']}  {record.get('operator') or '-'}")
    if not found:
        print("no credentials found")
    return 0


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
        size = _admin_download(folder, "/api/backup", archive)
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
    print(f"{args.action}ed {changed} key files in {folder}")
    return 0


def _certificates(args: argparse.Namespace) -> int:
    """The signing keys' certificates: made or imported in the data folder while no issuer runs on it
    (its lock), shown and requested at any time."""
    settings = Settings.load(args.data_dir)
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
    keys = KeyRing(folder / "keys", passphrase)
    certificates = IssuerCertificates(folder, keys)
    issuer_url = issuer_url_of(settings, settings.port)
    if args.action == "init":
        certificates.create_ca(args.country, settings.issuer_name, issuer_url, replace=args.replace)
        print(f"trust anchor: {certificates.folder / TRUST_ANCHOR_FILE} (give it to verifiers: trust-anchor)")
    elif args.action == "csr":
        write_atomic(args.output, certificates.signing_request(settings.issuer_name, issuer_url, args.country))
        print(f"signing request for key {keys.active.kid}: {args.output}")
        return 0
    elif args.action == "import":
        key = certificates.import_chain(_read(args.chain))
        print(f"chain stored for key {key.kid}{' (not the active key)' if key.kid != keys.active.kid else ''}")
    for info in certificates.infos():
        until = datetime.fromtimestamp(info.not_after).isoformat(sep=" ", timespec="minutes")
        print(f"{info.role}: {info.subject}, valid until {until}, SHA-256 {info.fingerprint}")
    for warning in certificates.expiring():
        print(f"warning: {warning}")
    if not certificates.infos():
        print(f"no certificates in {certificates.folder}: run 'frontdesk-issuer certificates init --country XX'")
    return 0


def _trust_anchor(args: argparse.Namespace) -> int:
    path = (args.data_dir or default_data_dir()) / CERTIFICATES_DIR / TRUST_ANCHOR_FILE
    try:
        pem = path.read_text(encoding="ascii")
    except FileNotFoundError as error:
        raise CommandError(f"no trust anchor in {path.parent}: run 'frontdesk-issuer certificates init'") from error
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot read {path}: {error}") from error
    sys.stdout.write(pem)
    return 0


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from error


def _admin_download(folder: Path, path: str, destination: Path) -> int:
    """GET an admin API resource into a new owner-only file; returns its size."""
    admin_url = running_admin_url(folder)
    if admin_url is None:
        raise CommandError(f"the issuer running on {folder} names no admin API on this machine in its server.json")
    try:
        headers = {"Authorization": f"Bearer {read_admin_token(folder)}"}
        request = urllib.request.Request(admin_url + path, headers=headers)
        with urllib.request.urlopen(request, timeout=ADMIN_TIMEOUT) as response:
            write_atomic_stream(destination, lambda out: shutil.copyfileobj(response, out))
    except urllib.error.HTTPError as error:
        raise CommandError(_error_message(error)) from error
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise CommandError(f"the backup failed: {getattr(error, 'reason', None) or error}") from error
    return destination.stat().st_size


def _claims(value: str) -> dict[str, Any]:
    try:
        text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
        claims = json.loads(text)
    except OSError as error:
        raise CommandError(f"cannot read claims file: {error.strerror}") from error
    except ValueError as error:
        raise CommandError(f"--claims is not valid JSON: {error}") from error
    if not isinstance(claims, dict):
        raise CommandError("--claims must be a JSON object of claim names and values")
    return claims


def _offer_id(value: str, kind: str = "an offer") -> str:
    if not value.replace("-", "").replace("_", "").isalnum() or len(value) > 64:
        raise CommandError(f"{value!r} is not {kind} id")
    return value


def _record_id(value: str) -> str:
    if not RECORD_ID.match(value):
        raise CommandError(f"{value!r} is not a credential id (see 'frontdesk-issuer credentials')")
    return value


def _admin(data_dir: Path | None, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call the running server's admin API; every failure becomes a CommandError."""
    folder = Settings.load(data_dir).data_dir
    admin_url = running_admin_url(folder)
    not_running = f"no running issuer found in {folder} (start it with 'frontdesk-issuer serve')"
    if admin_url is None:
        raise CommandError(not_running)
    try:
        token = read_admin_token(folder)
    except OSError as error:
        raise CommandError(not_running) from error
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        admin_url + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=ADMIN_TIMEOUT) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as error:
        raise CommandError(_error_message(error)) from error
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise CommandError(f"the issuer at {admin_url} is not reachable: {reason}") from error


def _error_message(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read())
        return body.get("error_description") or body.get("error") or f"HTTP {error.code}"
    except ValueError:
        return f"HTTP {error.code}"


if __name__ == "__main__":
    sys.exit(main())
