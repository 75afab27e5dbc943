"""TinyDB persistence: short-lived state in one small file, history in fixed-size segments.

TinyDB rewrites a whole file on every write, so the cost of a write grows with the file.
Two rules keep the cost of one issuance flat as history grows:
- `state.json` holds only what is live (offers being redeemed, deferred issuances); finished
  and expired offers leave it for the history.
- the history (the issuance ledger and archived offers) is split into segment files of at
  most `segment_size` documents; a record id names its segment, so a look-up reads one file.
TinyDB is not thread-safe: every access goes through `Store.lock`. Each write lands on disk
(temporary file, fsync, rename) before the call returns.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

from issuer.fileio import write_atomic

SEGMENT_NAME = re.compile(r"^(\d{6})\.json$")
RECORD_ID = re.compile(r"^(\d{6})-[A-Za-z0-9_-]{8,64}$")
OPEN_SEGMENTS = 4


class DurableJSONStorage(Storage):
    """TinyDB storage that keeps the document tree in memory and writes it atomically.

    The store is the only writer of its files, so reads need not go to disk; every write is
    durable before `write` returns (see `issuer.fileio.write_atomic`).
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._data = self._load()

    def _load(self) -> dict[str, Any] | None:
        if not self._path.exists() or self._path.stat().st_size == 0:
            return None
        return json.loads(self._path.read_bytes())

    def read(self) -> dict[str, Any] | None:
        return self._data

    def write(self, data: dict[str, Any]) -> None:
        try:
            write_atomic(self._path, json.dumps(data, separators=(",", ":")).encode())
        except BaseException:
            self._data = self._load()  # the disk is the truth when a write fails
            raise
        self._data = data

    def close(self) -> None:
        return None


def open_db(path: Path) -> TinyDB:
    return TinyDB(path, storage=DurableJSONStorage)


class History:
    """Append-mostly records in segment files `NNNNNN.json` of at most `segment_size` documents."""

    def __init__(self, folder: Path, segment_size: int) -> None:
        self._folder = folder
        self._segment_size = segment_size
        self._open: OrderedDict[int, TinyDB] = OrderedDict()
        folder.mkdir(parents=True, exist_ok=True)
        numbers = self.segment_numbers()
        self._current = numbers[-1] if numbers else 1
        self._current_count = self._count(self._segment(self._current))

    def segment_numbers(self) -> list[int]:
        found = (SEGMENT_NAME.match(p.name) for p in self._folder.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def append(self, table: str, document: Mapping[str, Any]) -> str:
        """Store `document` in the current segment; returns its record id."""
        if self._current_count >= self._segment_size:
            self._current += 1
            self._current_count = 0
        record_id = f"{self._current:06d}-{secrets.token_urlsafe(12)}"
        self._segment(self._current).table(table).insert({**document, "id": record_id})
        self._current_count += 1
        return record_id

    def append_many(self, table: str, documents: Iterable[Mapping[str, Any]]) -> int:
        """Bulk load (imports, benchmarks): one write per segment instead of one per record."""
        batch: list[dict[str, Any]] = []
        written = 0
        for document in documents:
            if self._current_count + len(batch) >= self._segment_size:
                written += self._flush(table, batch)
                batch = []
                self._current += 1
                self._current_count = 0
            batch.append(dict(document))
        return written + self._flush(table, batch)

    def _flush(self, table: str, batch: list[dict[str, Any]]) -> int:
        if not batch:
            return 0
        for document in batch:
            document["id"] = f"{self._current:06d}-{secrets.token_urlsafe(12)}"
        self._segment(self._current).table(table).insert_multiple(batch)
        self._current_count += len(batch)
        return len(batch)

    def get(self, table: str, record_id: str) -> Document | None:
        segment = self._segment_of(record_id)
        return segment.table(table).get(Query().id == record_id) if segment else None

    def update(self, table: str, record_id: str, change: Callable[[dict[str, Any]], None]) -> bool:
        segment = self._segment_of(record_id)
        if segment is None:
            return False
        return bool(segment.table(table).update(change, Query().id == record_id))

    def find(self, table: str, field: str, value: Any) -> Document | None:
        """First record (newest segment first) whose `field` equals `value`; reads many files."""
        for document in self.scan(table, Query()[field] == value):
            return document
        return None

    def scan(self, table: str, condition: Any = None) -> Iterator[Document]:
        """Records of `table`, newest segment first."""
        for number in reversed(self.segment_numbers()):
            rows = self._segment(number).table(table)
            yield from reversed(rows.search(condition) if condition is not None else rows.all())

    def count(self, table: str) -> int:
        return sum(len(self._segment(n).table(table)) for n in self.segment_numbers())

    def close(self) -> None:
        for db in self._open.values():
            db.close()
        self._open.clear()

    def _segment_of(self, record_id: str) -> TinyDB | None:
        match = RECORD_ID.match(record_id)
        if not match:
            return None
        number = int(match.group(1))
        if not (self._folder / f"{number:06d}.json").exists():
            return None
        return self._segment(number)

    def _segment(self, number: int) -> TinyDB:
        db = self._open.get(number)
        if db is None:
            db = open_db(self._folder / f"{number:06d}.json")
            self._open[number] = db
            if len(self._open) > OPEN_SEGMENTS:
                _, oldest = self._open.popitem(last=False)
                oldest.close()
        self._open.move_to_end(number)
        return db

    @staticmethod
    def _count(db: TinyDB) -> int:
        return sum(len(db.table(name)) for name in db.tables())


class Store:
    """The data folder's databases behind one lock."""

    def __init__(self, data_dir: Path, *, segment_size: int = 200) -> None:
        self.lock = threading.RLock()
        self._state = open_db(data_dir / "state.json")
        self.offers: Table = self._state.table("offers")
        self.history = History(data_dir / "history", segment_size)

    def close(self) -> None:
        with self.lock:
            self._state.close()
            self.history.close()
