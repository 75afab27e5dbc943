"""A TinyDB storage that appends one line per change instead of rewriting the file.

TinyDB's JSON storage rewrites the whole file on every write, so a write costs time in
proportion to everything already stored. Here the file is a journal of JSON lines: a
snapshot of all tables, then one line per inserted, replaced or removed document. A
change costs one short append and an fsync, however large the table. The journal is
compacted into a fresh snapshot (temporary file, fsync, rename) once it holds several
times more lines than there are documents.

A crash can tear only the last line, whose change was never acknowledged (the fsync had
not returned); loading drops it and compacts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from issuer.fileio import write_atomic

COMPACT_FACTOR = 4
COMPACT_MINIMUM = 256

Tables = dict[str, dict[str, dict[str, Any]]]


class CorruptJournal(RuntimeError):
    """A journal line other than the last cannot be read: the file was damaged."""


class JournalStorage(Storage):
    """The database in memory, its changes appended durably to a journal file."""

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._data: Tables = {}
        self._lines = 0
        self._fd = -1
        self._unsynced = False
        torn = self._load()
        if torn or not self._path.exists():
            self._compact()
        else:
            self._fd = os.open(self._path, os.O_WRONLY | os.O_APPEND)

    def read(self) -> Tables:
        return self._data

    def write(self, data: Tables) -> None:
        """A whole-database write (TinyDB's generic path): a new snapshot."""
        self._data = data
        self._compact()

    def append(
        self, table: str, changes: Sequence[tuple[int, Mapping[str, Any] | None]], *, durable: bool = True
    ) -> None:
        """Record documents' new values (None removes one) with one write and, if `durable`, one fsync.

        A durable change is on disk when this returns. A non-durable one (a timeline detail
        no answer depends on) reaches the operating system at once, so it survives the
        process being killed, and the disk with the next fsync.
        """
        lines = [
            {"t": table, "i": doc_id, "d": doc} if doc is not None else {"t": table, "i": doc_id}
            for doc_id, doc in changes
        ]
        payload = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode()
        try:
            os.write(self._fd, payload)
            if durable:
                os.fsync(self._fd)
            self._unsynced = not durable
        except BaseException:
            self._reload()
            raise
        rows = self._data.setdefault(table, {})
        for doc_id, document in changes:
            if document is None:
                rows.pop(str(doc_id), None)
            else:
                rows[str(doc_id)] = dict(document)
        self._lines += len(lines)
        if self._lines > max(COMPACT_MINIMUM, COMPACT_FACTOR * sum(len(rows) for rows in self._data.values())):
            self._compact()

    def sync(self) -> None:
        """Make earlier non-durable appends durable."""
        if self._unsynced and self._fd >= 0:
            os.fsync(self._fd)
            self._unsynced = False

    def compact(self) -> None:
        """Rewrite the file as one snapshot, dropping old values (removed offers' claims) from disk."""
        if self._lines:
            self._compact()

    def close(self) -> None:
        self.sync()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _load(self) -> bool:
        """Replay the journal; True when a torn last line was dropped."""
        self._data, self._lines = {}, 0
        if not self._path.exists():
            return False
        lines = self._path.read_bytes().split(b"\n")
        last = len(lines) - 1
        for number, raw in enumerate(lines):
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw)
            except ValueError as error:
                if number >= last - (not lines[-1]):  # the final line, possibly cut short by a crash
                    return True
                raise CorruptJournal(f"{self._path}: line {number + 1} cannot be read") from error
            self._apply(entry)
        return False

    def _apply(self, entry: Mapping[str, Any]) -> None:
        if "snapshot" in entry:
            self._data = entry["snapshot"]
            return
        rows = self._data.setdefault(entry["t"], {})
        if "d" in entry:
            rows[str(entry["i"])] = entry["d"]
        else:
            rows.pop(str(entry["i"]), None)
        self._lines += 1

    def _compact(self) -> None:
        self.close()
        write_atomic(self._path, (json.dumps({"snapshot": self._data}, separators=(",", ":")) + "\n").encode())
        self._fd = os.open(self._path, os.O_WRONLY | os.O_APPEND)
        self._lines = 0
        self._unsynced = False

    def _reload(self) -> None:
        self.close()
        self._load()
        self._fd = os.open(self._path, os.O_WRONLY | os.O_APPEND)


class JournaledTable(Table):
    """A TinyDB table whose single-document changes are journal appends."""

    _storage: JournalStorage

    def insert(self, document: Mapping[str, Any]) -> int:
        return self.insert_multiple([document])[0]

    def insert_multiple(self, documents: Iterable[Mapping[str, Any]], *, durable: bool = True) -> list[int]:
        """Several documents with one journal write and (if `durable`) one fsync."""
        batch = list(documents)
        if not all(isinstance(document, Mapping) for document in batch):
            raise ValueError("Document is not a Mapping")
        changes = [(self._get_next_id(), document) for document in batch]  # type: ignore[no-untyped-call]
        self._storage.append(self.name, changes, durable=durable)
        self.clear_cache()
        return [doc_id for doc_id, _ in changes]

    def put(self, doc_id: int, document: Mapping[str, Any], *, durable: bool = True) -> None:
        """Replace one document whole (keys it no longer has are gone)."""
        self._storage.append(self.name, [(doc_id, dict(document))], durable=durable)
        self.clear_cache()

    def update(
        self,
        fields: Mapping[str, Any] | Callable[[dict[str, Any]], None],
        cond: Any = None,
        doc_ids: Iterable[int] | None = None,
        *,
        durable: bool = True,
    ) -> list[int]:
        rows = self._read_table()
        changes = []
        for doc_id in self._matching_ids(rows, cond, doc_ids):
            document = dict(rows[str(doc_id)])
            if callable(fields):
                fields(document)
            else:
                document.update(fields)
            changes.append((doc_id, document))
        if changes:
            self._storage.append(self.name, changes, durable=durable)
        self.clear_cache()
        return [doc_id for doc_id, _ in changes]

    def remove(self, cond: Any = None, doc_ids: Iterable[int] | None = None) -> list[int]:
        rows = self._read_table()
        ids = self._matching_ids(rows, cond, doc_ids)
        if ids:
            self._storage.append(self.name, [(doc_id, None) for doc_id in ids])
        self.clear_cache()
        return ids

    @staticmethod
    def _matching_ids(rows: Mapping[str, Mapping[str, Any]], cond: Any, doc_ids: Iterable[int] | None) -> list[int]:
        if doc_ids is not None:
            return [doc_id for doc_id in doc_ids if str(doc_id) in rows]
        if cond is None:
            raise RuntimeError("a condition or document ids are required")
        return [int(doc_id) for doc_id, row in rows.items() if cond(row)]


class JournaledTinyDB(TinyDB):
    table_class = JournaledTable
    default_storage_class = JournalStorage  # type: ignore[assignment]  # TinyDB types it as its JSONStorage

    def table(self, name: str, **kwargs: Any) -> JournaledTable:
        return cast(JournaledTable, super().table(name, **kwargs))

    @property
    def journal(self) -> JournalStorage:
        return cast(JournalStorage, self.storage)
