"""The store's schema, versioned: each migration moves it one version up, in one transaction,
under an advisory lock so that processes starting together apply it once. A schema newer than
this code knows stops the start: it is never downgraded."""

from __future__ import annotations

from typing import Any

import psycopg

from issuer.storage.postgres import ledger_search
from issuer.storage.postgres.database import StoreError

MIGRATION_LOCK = 0x66_72_6F_6E_74_64_65_73  # pg_advisory_xact_lock key: "frontdes"

LIVE_TABLES = ("offers", "sign_ins", "operators", "holders")

_LIVE = "\n".join(
    f"CREATE TABLE {table} (key text PRIMARY KEY, version integer NOT NULL, document jsonb NOT NULL);"
    for table in LIVE_TABLES
)

MIGRATIONS: tuple[str, ...] = (
    # 1: everything the issuer shares
    _LIVE
    + """
CREATE TABLE ledger (seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, offer_id text, document jsonb NOT NULL);
CREATE INDEX ledger_offer ON ledger (offer_id);
CREATE TABLE archive (seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, offer_id text, document jsonb NOT NULL);
CREATE INDEX archive_offer ON archive (offer_id, seq);
CREATE TABLE audit (seq bigserial PRIMARY KEY, operator text, document jsonb NOT NULL);
CREATE INDEX audit_operator ON audit (operator, seq);
CREATE TABLE status_lists (
    list_id integer PRIMARY KEY, size integer NOT NULL, seed text NOT NULL, reserved integer NOT NULL
);
CREATE TABLE status_entries (
    list_id integer NOT NULL REFERENCES status_lists, idx integer NOT NULL, status smallint NOT NULL,
    PRIMARY KEY (list_id, idx)
);
CREATE TABLE replays (value text PRIMARY KEY, expires_at double precision NOT NULL);
CREATE INDEX replays_expiry ON replays (expires_at);
CREATE TABLE key_files (name text PRIMARY KEY, content bytea NOT NULL);
CREATE TABLE shared_settings (name text PRIMARY KEY, value jsonb NOT NULL);
""",
    # 2: operators' login tokens, so that every process accepts a desk's token
    "CREATE TABLE logins (key text PRIMARY KEY, version integer NOT NULL, document jsonb NOT NULL);",
    # 3: housekeeping reads only the live records that are due
    "\n".join(
        f"CREATE INDEX {table}_due ON {table} (((document->>'due_at')::double precision));\n"
        f"CREATE INDEX {table}_undated ON {table} (key) WHERE document->>'due_at' IS NULL;"
        for table in LIVE_TABLES
    ),
    # 4: the ledger's search columns (filled from the documents at opening)
    ledger_search.MIGRATION,
)

LATEST = len(MIGRATIONS)


def migrate(connection: psycopg.Connection[tuple[Any, ...]]) -> tuple[int, int]:
    """Bring the schema to the latest version; the versions before and after."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
        row = connection.execute("SELECT version FROM schema_version").fetchone()
        before = row[0] if row else 0
        if before > LATEST:
            raise StoreError(
                f"the store's schema is at version {before}, newer than this issuer knows ({LATEST}): "
                "upgrade frontdesk-issuer; a schema is never downgraded"
            )
        for statements in MIGRATIONS[before:]:
            connection.execute(statements.encode())
        if row is None:
            connection.execute("INSERT INTO schema_version VALUES (%s)", (LATEST,))
        else:
            connection.execute("UPDATE schema_version SET version = %s", (LATEST,))
    return before, LATEST
