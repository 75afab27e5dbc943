"""Ledger searches in SQL: the fields a search filters on are columns of the `ledger` table
(schema version 4), set with every row, with indexes; the folded holder name and the lower-case
ids are text columns with trigram indexes when the database has `pg_trgm`.

`SEARCH_COLUMNS` names them; `search_values` computes them from a record. Rows written before
version 4 get them from `fill_search_columns` at opening.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import sql

from issuer.storage.folding import fold
from issuer.storage.interfaces import RecordFilter

SEARCH_COLUMNS = (
    "config_id",
    "operator",
    "holder_id",
    "issued_at",
    "expires_at",
    "list_id",
    "idx",
    "name_text",
    "id_text",
)
FILL_BATCH = 1000
TRIGRAM_INDEXES = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ledger_name_trgm ON ledger USING gin (name_text gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ledger_id_trgm ON ledger USING gin (id_text gin_trgm_ops)",
)
log = logging.getLogger(__name__)

MIGRATION = """
ALTER TABLE ledger ADD COLUMN config_id text, ADD COLUMN operator text, ADD COLUMN holder_id text,
    ADD COLUMN issued_at double precision, ADD COLUMN expires_at double precision,
    ADD COLUMN list_id integer, ADD COLUMN idx integer, ADD COLUMN name_text text, ADD COLUMN id_text text;
CREATE INDEX ledger_config ON ledger (config_id, seq);
CREATE INDEX ledger_operator ON ledger (operator, seq);
CREATE INDEX ledger_holder ON ledger (holder_id);
CREATE INDEX ledger_issued ON ledger (issued_at);
CREATE INDEX ledger_place ON ledger (list_id, idx);
CREATE INDEX ledger_unfilled ON ledger (seq) WHERE name_text IS NULL;
"""


def search_values(document: Mapping[str, Any]) -> tuple[Any, ...]:
    """The values of `SEARCH_COLUMNS` for a ledger record (its `key` included)."""
    place = document.get("status_list")
    place = place if isinstance(place, Mapping) else {}
    expires = document.get("expires_at")
    return (
        document.get("config_id"),
        document.get("operator"),
        document.get("holder_id"),
        float(document.get("issued_at", 0)),
        float(expires) if isinstance(expires, int | float) else None,
        place.get("list"),
        place.get("idx"),
        fold(str(document.get("holder_name") or "")),
        "\x1f".join(str(document.get(name, "")).lower() for name in ("offer_id", "credential_id", "key")),
    )


def fill_search_columns(connection: psycopg.Connection[tuple[Any, ...]]) -> int:
    """Set the search columns of rows written before they existed; how many."""
    filled = 0
    assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(name)) for name in SEARCH_COLUMNS)
    update = sql.SQL("UPDATE ledger SET {} WHERE seq = %s").format(assignments)
    while True:
        with connection.transaction():
            rows = connection.execute(
                "SELECT seq, document FROM ledger WHERE name_text IS NULL ORDER BY seq LIMIT %s", (FILL_BATCH,)
            ).fetchall()
            if not rows:
                return filled
            with connection.cursor() as cursor:
                cursor.executemany(update, [(*search_values(document), seq) for seq, document in rows])
            filled += len(rows)


def add_trigram_indexes(connection: psycopg.Connection[tuple[Any, ...]]) -> bool:
    """Trigram indexes for the text searches, when `pg_trgm` can be had; False (and searches read
    the two text columns whole) when it cannot."""
    try:
        with connection.transaction():
            for statement in TRIGRAM_INDEXES:
                connection.execute(statement.encode())
    except psycopg.Error as error:
        log.info("ledger text searches without trigram indexes: %s", str(error).strip().splitlines()[0])
        return False
    return True


def search_query(where: RecordFilter, limit: int) -> tuple[sql.Composed, list[Any]]:
    """The SELECT of at most `limit` ledger rows matching `where`, newest first."""
    conditions: list[str] = []
    params: list[Any] = []
    if where.by_text:
        alternatives = []
        if where.words:
            alternatives.append("(" + " AND ".join(["name_text LIKE %s"] * len(where.words)) + ")")
            params += [_containing(word) for word in where.words]
        if where.text:
            alternatives.append("id_text LIKE %s")
            params.append(_containing(where.text))
        if where.holder_ids is not None:
            alternatives.append("holder_id = ANY(%s)")
            params.append(sorted(where.holder_ids))
        conditions.append("(" + " OR ".join(alternatives) + ")" if alternatives else "FALSE")
    for column, value in (("config_id", where.config_id), ("operator", where.operator), ("offer_id", where.offer_id)):
        if value:
            conditions.append(f"{column} = %s")
            params.append(value)
    if where.issued_from is not None:
        conditions.append("issued_at >= %s")
        params.append(where.issued_from)
    if where.issued_until is not None:
        conditions.append("issued_at < %s")
        params.append(where.issued_until)
    if where.status:
        conditions.append("(list_id, idx) IN (SELECT list_id, idx FROM status_entries WHERE status = %s)")
        params.append(where.status)
    elif where.status == 0:
        conditions.append(
            "NOT EXISTS (SELECT 1 FROM status_entries e WHERE e.list_id = ledger.list_id AND e.idx = ledger.idx)"
        )
    if where.expired is not None:
        conditions.append("coalesce(expires_at, 'infinity') " + ("<=" if where.expired else ">") + " %s")
        params.append(where.now)
    clause = " AND ".join(conditions) or "TRUE"
    query = sql.SQL("SELECT id, document FROM ledger WHERE " + clause + " ORDER BY seq DESC LIMIT %s")
    return query.format(), [*params, limit]


def _containing(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
