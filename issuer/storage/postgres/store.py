"""The shared backend: every table in one PostgreSQL database, for as many issuer processes as
the load needs, on as many machines."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from issuer.events import EventBus
from issuer.storage.interfaces import SharedSettingsMismatch, StorageHealth
from issuer.storage.postgres import ledger_search, schema
from issuer.storage.postgres.database import Database, StoreError
from issuer.storage.postgres.notifications import Notifications
from issuer.storage.postgres.status import PgReplaySet, PgStatus
from issuer.storage.postgres.tables import PgArchive, PgAudit, PgLedger, PgLiveTable
from issuer.storage.postgres.vault import PgKeyFiles


class PostgresStore:
    """A `Store` in PostgreSQL. Opening it applies the schema's migrations (unless `migrate` is
    False, when an out-of-date schema stops it) and needs the key passphrase."""

    def __init__(
        self,
        url: str,
        *,
        password: str | None = None,
        key_passphrase: bytes | None = None,
        max_connections: int = 10,
        migrate: bool = True,
    ) -> None:
        self._db = db = Database(url, password, max_connections=max_connections)
        try:
            with db.connect() as connection:
                if migrate:
                    schema.migrate(connection)
                    ledger_search.add_trigram_indexes(connection)
                else:
                    check_schema(connection)
                ledger_search.fill_search_columns(connection)
            self._notifications = notifications = Notifications(db)
            self.offers = PgLiveTable(db, "offers", "offer_id")
            self.sign_ins = PgLiveTable(db, "sign_ins", "auth_id")
            self.operators = PgLiveTable(db, "operators", "name")
            self.holders = PgLiveTable(db, "holders", "holder_id")
            self.logins = PgLiveTable(db, "logins", "token_hash")
            self.ledger = PgLedger(db)
            self.archive = PgArchive(db)
            self.audit = PgAudit(db)
            self.status = PgStatus(db, notifications)
            self.replays = PgReplaySet(db)
            self.key_files = PgKeyFiles(db, notifications, key_passphrase)
            notifications.start()
        except BaseException:
            db.close()
            raise

    @property
    def database(self) -> Database:
        return self._db

    @property
    def health(self) -> StorageHealth:
        return self._db.health

    def transaction(self) -> AbstractContextManager[None]:
        return self._db.transaction()

    def relay_events(self, bus: EventBus) -> None:
        self._notifications.relay(bus)

    def agree_on(self, settings: Mapping[str, Any]) -> None:
        names = list(settings)
        self._db.changed(
            "INSERT INTO shared_settings (name, value) SELECT * FROM unnest(%s::text[], %s::jsonb[]) "
            "ON CONFLICT (name) DO NOTHING",
            (names, [Jsonb(settings[name]) for name in names]),
        )
        stored = dict(self._db.rows("SELECT name, value FROM shared_settings WHERE name = ANY(%s)", (names,)))
        for name in names:
            if stored.get(name) != _as_json(settings[name]):
                raise SharedSettingsMismatch(
                    f"{name} is {stored.get(name)!r} for the issuers sharing this store, not {settings[name]!r}: "
                    "set it alike everywhere"
                )

    def compact(self) -> None:
        """Forget replayed values that have expired (the rest is the database's own business)."""
        self.replays.sweep(time.time())

    def close(self) -> None:
        self._notifications.close()
        self._db.close()


def check_schema(connection: psycopg.Connection[tuple[Any, ...]]) -> None:
    row = connection.execute("SELECT version FROM schema_version" if _has_schema(connection) else "SELECT 0").fetchone()
    found = row[0] if row else 0
    if found != schema.LATEST:
        newer = found > schema.LATEST
        advice = "upgrade frontdesk-issuer" if newer else "run 'frontdesk-issuer migrate --store-url URL'"
        raise StoreError(f"the store's schema is at version {found}, this issuer needs {schema.LATEST}: {advice}")


def _has_schema(connection: psycopg.Connection[tuple[Any, ...]]) -> bool:
    row = connection.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    return bool(row and row[0])


def _as_json(value: Any) -> Any:
    """A value as it comes back from jsonb (tuples as lists)."""
    return json.loads(json.dumps(value))
