"""The live tables, the ledger, the archive and the audit log in PostgreSQL.

A live record's `version` is a column: `replace` is one `UPDATE ... WHERE version = %s`, which
succeeds for one writer only, whichever process it runs in. Inside a transaction, `get` reads
with `FOR UPDATE`, so the record is held until the transaction ends, as the journals' lock holds
everything. History rows (ledger, archive, audit) are numbered by a sequence, read newest
first a batch at a time; a record id has the shape the journals give it
(`<segment>-<number>-<key>`), so ids copied from a data folder stay valid.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from issuer.storage.interfaces import VERSION, Document, KeyExists, RecordFilter
from issuer.storage.postgres.database import Database
from issuer.storage.postgres.ledger_search import SEARCH_COLUMNS, search_query, search_values

BATCH = 1000
RECENT = 2000  # rows `recent()` returns: at least those of the last few hundred issuances
SEGMENT = 1000  # the journals' segment size, for ids of the same shape
CREDENTIAL, OFFER = "credential", "offer"
EVERY_ROW = sql.SQL("TRUE")


class PgLiveTable:
    def __init__(self, db: Database, table: str, key_field: str) -> None:
        self._db = db
        self._key_field = key_field
        name = sql.Identifier(table)
        self._get = sql.SQL("SELECT version, document FROM {} WHERE key = %s").format(name)
        self._get_held = sql.SQL("SELECT version, document FROM {} WHERE key = %s FOR UPDATE").format(name)
        self._insert = sql.SQL(
            "INSERT INTO {} (key, version, document) VALUES (%s, 1, %s) ON CONFLICT (key) DO NOTHING"
        ).format(name)
        self._replace = sql.SQL(
            "UPDATE {} SET version = version + 1, document = %s WHERE key = %s AND version = %s"
        ).format(name)
        self._delete = sql.SQL("DELETE FROM {} WHERE key = %s").format(name)
        self._delete_at = sql.SQL("DELETE FROM {} WHERE key = %s AND version = %s").format(name)
        self._all = sql.SQL("SELECT version, document FROM {}").format(name)
        self._find = sql.SQL("SELECT version, document FROM {} WHERE document @> %s LIMIT 1").format(name)
        self._count = sql.SQL("SELECT count(*) FROM {}").format(name)
        self._due = sql.SQL(
            "SELECT key FROM {} WHERE (document->>'due_at')::double precision < %s OR document->>'due_at' IS NULL"
        ).format(name)

    def get(self, key: str) -> Document | None:
        rows = self._db.rows(self._get_held if self._db.in_transaction else self._get, (key,))
        return _versioned(rows[0]) if rows else None

    def insert(self, key: str, document: Mapping[str, Any], *, durable: bool = True) -> None:
        if not self._db.changed(self._insert, (key, Jsonb({**document, self._key_field: key}))):
            raise KeyExists(key)

    def replace(self, key: str, document: Mapping[str, Any], *, version: int, durable: bool = True) -> bool:
        row = {k: v for k, v in document.items() if k != VERSION}
        return self._db.changed(self._replace, (Jsonb({**row, self._key_field: key}), key, version)) == 1

    def delete(self, key: str, *, version: int | None = None) -> bool:
        if version is None:
            return self._db.changed(self._delete, (key,)) == 1
        return self._db.changed(self._delete_at, (key, version)) == 1

    def all(self) -> list[Document]:
        return [_versioned(row) for row in self._db.rows(self._all)]

    def find(self, field: str, value: Any) -> Document | None:
        rows = self._db.rows(self._find, (Jsonb({field: value}),))
        return _versioned(rows[0]) if rows else None

    def due(self, before: float) -> list[str]:
        """Read through the `<table>_due` and `<table>_undated` indexes (schema version 3)."""
        return [row[0] for row in self._db.rows(self._due, (before,))]

    def __len__(self) -> int:
        return int(self._db.rows(self._count)[0][0])


class _History:
    """Rows of one history table, numbered by its sequence; `searched`: with the ledger's search
    columns (`issuer.storage.postgres.ledger_search`)."""

    def __init__(self, db: Database, table: str, *, searched: bool = False) -> None:
        self._db = db
        self.table = table
        self.name = sql.Identifier(table)
        self._searched = searched
        columns = ("seq", "id", "offer_id", "document", *(SEARCH_COLUMNS if searched else ()))
        self._insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            self.name,
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join([sql.Placeholder()] * len(columns)),
        )
        self._insert_with_ids = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            self.name,
            sql.SQL(", ").join(map(sql.Identifier, columns[1:])),
            sql.SQL(", ").join([sql.Placeholder()] * (len(columns) - 1)),
        )

    def _extra(self, document: Mapping[str, Any]) -> tuple[Any, ...]:
        return search_values(document) if self._searched else ()

    def insert(self, documents: Sequence[Mapping[str, Any]]) -> list[str]:
        if not documents:
            return []
        with self._db.connection() as connection:
            numbers = connection.execute(
                sql.SQL("SELECT nextval(pg_get_serial_sequence({}, 'seq')) FROM generate_series(1, %s)").format(
                    sql.Literal(self.table)
                ),
                (len(documents),),
            ).fetchall()
            rows = []
            for (number,), document in zip(numbers, documents, strict=True):
                key = document.get("key") or secrets.token_urlsafe(9)
                record_id = f"{(number - 1) // SEGMENT + 1:06d}-{number}-{key}"
                stored = {**document, "key": key}
                rows.append((number, record_id, document.get("offer_id"), Jsonb(stored), *self._extra(stored)))
            with connection.cursor() as cursor:
                cursor.executemany(self._insert, rows)
        return [row[1] for row in rows]

    def insert_with_ids(self, documents: Sequence[Mapping[str, Any]]) -> None:
        """Rows that keep the ids they had in a data folder (a copy into this store)."""
        with self._db.connection() as connection, connection.cursor() as cursor:
            rows = []
            for document in documents:
                stored = {k: v for k, v in document.items() if k != "id"}
                rows.append((document["id"], document.get("offer_id"), Jsonb(stored), *self._extra(stored)))
            cursor.executemany(self._insert_with_ids, rows)

    def get(self, record_id: str, *, held: bool = False) -> Document | None:
        query = sql.SQL("SELECT id, document FROM {} WHERE id = %s" + (" FOR UPDATE" if held else "")).format(self.name)
        rows = self._db.rows(query, (record_id,))
        return _with_id(rows[0]) if rows else None

    def update(self, record_id: str, document: Mapping[str, Any]) -> None:
        row = {k: v for k, v in document.items() if k != "id"}
        self._db.changed(
            sql.SQL("UPDATE {} SET document = %s WHERE id = %s").format(self.name), (Jsonb(row), record_id)
        )

    def remove(self, record_id: str) -> bool:
        return self._db.changed(sql.SQL("DELETE FROM {} WHERE id = %s").format(self.name), (record_id,)) == 1

    def newest(self, where: sql.Composable = EVERY_ROW, params: Sequence[Any] = ()) -> Iterator[list[Document]]:
        """Batches of rows, newest first, each read on its own (a long search holds nothing up)."""
        before = None
        while True:
            bound = sql.SQL("seq < %s") if before is not None else sql.SQL("TRUE")
            query = sql.SQL("SELECT id, document, seq FROM {} WHERE {} AND {} ORDER BY seq DESC LIMIT {}").format(
                self.name, where, bound, sql.Literal(BATCH)
            )
            rows = self._db.rows(query, [*params, *([before] if before is not None else [])])
            if not rows:
                return
            yield [_with_id(row) for row in rows]
            before = rows[-1][2]

    def recent(self) -> list[Document]:
        query = sql.SQL("SELECT id, document FROM {} ORDER BY seq DESC LIMIT {}").format(self.name, sql.Literal(RECENT))
        return [_with_id(row) for row in self._db.rows(query)]


class PgLedger:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.rows = _History(db, "ledger", searched=True)

    def add(self, records: Sequence[Mapping[str, Any]], *, durable: bool = True) -> list[str]:
        return self.rows.insert([{**record, "kind": CREDENTIAL} for record in records])

    def get(self, record_id: str) -> Document | None:
        return self.rows.get(record_id) if isinstance(record_id, str) else None

    def update(self, record_id: str, change: Callable[[Document], None]) -> bool:
        with self._db.transaction():
            record = self.rows.get(record_id, held=True) if isinstance(record_id, str) else None
            if record is None:
                return False
            change(record)
            self.rows.update(record_id, record)
            return True

    def batches(self) -> Iterator[list[Document]]:
        return self.rows.newest()

    def recent(self) -> list[Document]:
        return self.rows.recent()

    def search(self, where: RecordFilter, limit: int) -> list[Document]:
        query, params = search_query(where, limit)
        return [_with_id(row) for row in self._db.rows(query, params)]


class PgArchive:
    def __init__(self, db: Database) -> None:
        self.rows = _History(db, "archive")

    def add(self, document: Mapping[str, Any], *, durable: bool = True) -> str:
        return self.rows.insert([{**document, "kind": OFFER}])[0]

    def find(self, offer_id: str) -> Document | None:
        batch = next(self.rows.newest(sql.SQL("offer_id = %s"), [offer_id]), [])
        return batch[0] if batch else None

    def newest(self) -> Iterator[Document]:
        for batch in self.rows.newest():
            yield from batch

    def recent(self) -> list[Document]:
        return self.rows.recent()

    def remove(self, record_id: str) -> bool:
        return self.rows.remove(record_id)


class PgAudit:
    def __init__(self, db: Database) -> None:
        self._db = db

    def append(self, entry: Mapping[str, Any]) -> None:
        self._db.changed(
            "INSERT INTO audit (operator, document) VALUES (%s, %s)", (entry.get("operator"), Jsonb(dict(entry)))
        )

    def entries(self, operator: str | None = None) -> Iterator[Document]:
        before = None
        while True:
            query = sql.SQL("SELECT seq, document FROM audit WHERE {} AND {} ORDER BY seq DESC LIMIT {}").format(
                sql.SQL("operator = %s") if operator is not None else sql.SQL("TRUE"),
                sql.SQL("seq < %s") if before is not None else sql.SQL("TRUE"),
                sql.Literal(BATCH),
            )
            params = [value for value in (operator, before) if value is not None]
            rows = self._db.rows(query, params)
            if not rows:
                return
            for _, document in rows:
                yield document
            before = rows[-1][0]


def _versioned(row: tuple[Any, ...]) -> Document:
    version, document = row[0], row[1]
    return {**document, VERSION: version}


def _with_id(row: tuple[Any, ...]) -> Document:
    return {**row[1], "id": row[0]}
