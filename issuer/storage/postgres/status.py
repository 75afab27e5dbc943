"""Status lists and the replay set in PostgreSQL.

A block of status list positions is taken by one statement on a connection of its own, committed
at once: the row is locked only for that statement, and two processes never get the same block.
A changed entry is announced (`pg_notify`, delivered at commit) so that every other process
updates the statuses it caches and serves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from issuer.storage.interfaces import Document
from issuer.storage.postgres.database import Database
from issuer.storage.postgres.notifications import STATUS_CHANNEL, Notifications

REPLAY_SWEEP_EVERY = 1000  # first_time calls between two deletions of expired values


class PgStatus:
    def __init__(self, db: Database, notifications: Notifications) -> None:
        self._db = db
        self._notifications = notifications

    def lists(self) -> list[Document]:
        rows = self._db.rows("SELECT list_id, size, seed, reserved FROM status_lists ORDER BY list_id")
        return [{"list_id": r[0], "size": r[1], "seed": r[2], "reserved": r[3]} for r in rows]

    def entries(self) -> list[Document]:
        rows = self._db.rows("SELECT list_id, idx, status FROM status_entries")
        return [{"list_id": r[0], "index": r[1], "status": r[2]} for r in rows]

    def add_list(self, document: Mapping[str, Any]) -> Document:
        with self._db.autonomous() as connection:
            connection.execute(
                "INSERT INTO status_lists (list_id, size, seed, reserved) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (list_id) DO NOTHING",
                (document["list_id"], document["size"], document["seed"], document.get("reserved", 0)),
            )
            row = connection.execute(
                "SELECT list_id, size, seed, reserved FROM status_lists WHERE list_id = %s", (document["list_id"],)
            ).fetchone()
        if row is None:
            raise KeyError(document["list_id"])
        return {"list_id": row[0], "size": row[1], "seed": row[2], "reserved": row[3]}

    def reserve_block(self, list_id: int, size: int) -> tuple[int, int]:
        with self._db.autonomous() as connection:
            row = connection.execute(
                "WITH old AS (SELECT reserved FROM status_lists WHERE list_id = %(list)s FOR UPDATE) "
                "UPDATE status_lists SET reserved = LEAST(status_lists.size, old.reserved + %(size)s) FROM old "
                "WHERE list_id = %(list)s RETURNING old.reserved, status_lists.reserved",
                {"list": list_id, "size": size},
            ).fetchone()
        if row is None:
            raise KeyError(list_id)
        return int(row[0]), int(row[1])

    def entry(self, list_id: int, index: int) -> int:
        with self._db.connection() as connection:
            connection.execute("SELECT pg_advisory_xact_lock(%s, %s)", (list_id, index))
            row = connection.execute(
                "SELECT status FROM status_entries WHERE list_id = %s AND idx = %s", (list_id, index)
            ).fetchone()
        return int(row[0]) if row else 0

    def set_entry(self, list_id: int, index: int, status: int) -> None:
        with self._db.connection() as connection:
            if status == 0:
                connection.execute("DELETE FROM status_entries WHERE list_id = %s AND idx = %s", (list_id, index))
            else:
                connection.execute(
                    "INSERT INTO status_entries (list_id, idx, status) VALUES (%s, %s, %s) "
                    "ON CONFLICT (list_id, idx) DO UPDATE SET status = EXCLUDED.status",
                    (list_id, index, status),
                )
            self._notifications.announce(connection, STATUS_CHANNEL, {"l": list_id, "i": index, "s": status})

    def watch(self, changed: Callable[[int, int, int], None], missed: Callable[[], None]) -> None:
        def on_notice(payload: Mapping[str, Any]) -> None:
            changed(int(payload["l"]), int(payload["i"]), int(payload["s"]))

        self._notifications.on(STATUS_CHANNEL, on_notice)
        self._notifications.on_missed(missed)


class PgReplaySet:
    """Values seen once, in a table with their expiry: a value is first seen by one insert, which
    only one process can make; an expired value may be seen again (it is refused on its own)."""

    shared = True

    def __init__(self, db: Database) -> None:
        self._db = db
        self._calls = 0

    def first_time(self, value: str, expires_at: float, now: float) -> bool:
        self._calls += 1
        if self._calls % REPLAY_SWEEP_EVERY == 0:
            self.sweep(now)
        return (
            self._db.changed(
                "INSERT INTO replays (value, expires_at) VALUES (%s, %s) ON CONFLICT (value) DO UPDATE "
                "SET expires_at = EXCLUDED.expires_at WHERE replays.expires_at < %s",
                (value, expires_at, now),
            )
            == 1
        )

    def sweep(self, now: float) -> int:
        return self._db.changed("DELETE FROM replays WHERE expires_at < %s", (now,))
