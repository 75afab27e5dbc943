"""`serve` runs the issuer and its admin API until SIGINT or SIGTERM; `migrate` brings a PostgreSQL
store's schema up to date and copies a data folder into it."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from pathlib import Path

from issuer.cli.common import (
    CommandError,
    Commands,
    data_dir_option,
    store_options,
)
from issuer.config import (
    STORE_URL_ENV,
    Settings,
    check_store_url,
    store_url_override,
)
from issuer.crypto.keys import (
    read_passphrase_file,
    resolve_passphrase,
)
from issuer.runtime import IssuerRuntime, PortUnavailable
from issuer.storage.backends import store_password


def register(commands: Commands) -> None:

    serve = commands.add_parser("serve", help="run the issuer and its admin API")
    data_dir_option(serve)
    serve.add_argument("--host", help="address the issuer listens on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="issuer port; 0 picks a free one (default 8440)")
    serve.add_argument("--public-url", help="Credential Issuer Identifier, the https URL wallets use")
    serve.add_argument("--admin-port", type=int, help="admin API port; 0 picks a free one (default 8441)")
    serve.add_argument("--key-passphrase-file", type=Path, help="file whose first line unlocks encrypted keys")
    store_options(serve)
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser(
        "migrate", help="bring a PostgreSQL store's schema up to date; with --data-dir, copy a data folder into it"
    )
    migrate.add_argument("--data-dir", type=Path, help="a data folder to copy into the (empty) store")
    migrate.add_argument("--key-passphrase-file", type=Path, help="file whose first line is the key passphrase")
    store_options(migrate)
    migrate.set_defaults(run=_migrate)


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
