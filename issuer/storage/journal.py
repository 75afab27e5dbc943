"""A TinyDB storage that appends one line per change instead of rewriting the file.

TinyDB's JSON storage rewrites the whole file on every write, so a write costs time in
proportion to everything already stored. Here the file is a journal (`issuer.storage.journal_format`):
a header, a snapshot of all tables, then one checksummed line per inserted, replaced or removed
document. A change costs one short append and an fsync, however large the table. The journal is
compacted into a fresh snapshot (temporary file, fsync, rename) once it holds several times more
lines than there are documents. Each document's JSON is kept from its last change, so a snapshot
is joined from those rather than encoded again: the purge compacts the live state every 30
seconds, and that stays cheap however many offers are live.

A write is whole or it is not there: every byte is written (a nearly full disk writes part of a
line without an error, so the count is checked), then fsynced, before the change counts; if any
of that fails, the file is cut back to its last good length, nothing changes in memory, and
`StorageUnavailable` is raised before anyone is answered. The next write tries again, so the
issuer recovers by itself when there is room. A crash can tear only the last line, whose change
was never acknowledged; loading drops it. Any other damage stops the load (`CorruptJournal`).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from issuer.fileio import write_atomic
from issuer.storage.interfaces import DataDamaged, StorageHealth, StorageUnavailable
from issuer.storage.journal_format import HEADER, Damage, scan

COMPACT_FACTOR = 4
COMPACT_MINIMUM = 256
REASONS = {
    getattr(errno, "EDQUOT", errno.ENOSPC): "disk quota exceeded",  # before ENOSPC, which wins where there is none
    errno.ENOSPC: "disk full",
    errno.EFBIG: "file too large (disk full, or a file size limit)",
    errno.EIO: "input/output error",
    errno.EROFS: "read-only file system",
}

Tables = dict[str, dict[str, dict[str, Any]]]
log = logging.getLogger(__name__)


class CorruptJournal(DataDamaged):
    """A journal damaged otherwise than by a torn last line."""

    def __init__(self, path: Path, damage: Damage) -> None:
        super().__init__(f"{path}: line {damage.line} is damaged ({damage.reason})")
        self.path = path
        self.line = damage.line


def failure_reason(error: OSError) -> str:
    """A write failure as the desk's status bar says it."""
    return REASONS.get(error.errno or 0) or error.strerror or str(error)


class JournalStorage(Storage):
    """The database in memory, its changes appended durably to a journal file."""

    def __init__(self, path: str | Path, health: StorageHealth | None = None) -> None:
        self._path = Path(path)
        self._health = health or StorageHealth()
        self._data: Tables = {}
        self._encoded: dict[tuple[str, str], bytes] = {}  # (table, doc id) -> the document's JSON
        self._lines = 0
        self._fd = -1
        self._size = 0  # the file's good length: everything up to here is whole lines
        self._dirty = False  # a failed write may have left bytes past _size
        self._legacy = False  # an earlier version's file: lines without checksums until compacted
        self._unsynced = False
        self._compact_from = 0  # after a compaction failed, the next try waits for more lines
        if not self._path.exists():
            self._create()
        elif self._load():
            self._drop_torn_line()
        else:
            self._fd = os.open(self._path, os.O_WRONLY | os.O_APPEND)

    def read(self) -> Tables:
        return self._data

    def write(self, data: Tables) -> None:
        """A whole-database write (TinyDB's generic path): a new snapshot. TinyDB has changed the
        tables in memory already; if the snapshot cannot be written, they are read back from disk."""
        self._data = data
        self._encoded.clear()
        try:
            self._compact()
        except StorageUnavailable as error:
            self._load()
            self._health.failed(error.reason)
            raise

    def append(
        self, table: str, changes: Sequence[tuple[int, Mapping[str, Any] | None]], *, durable: bool = True
    ) -> None:
        """Record documents' new values (None removes one) with one write and, if `durable`, one fsync.

        A durable change is on disk when this returns. A non-durable one (a timeline detail
        no answer depends on) reaches the operating system at once, so it survives the
        process being killed, and the disk with the next fsync. StorageUnavailable if the
        change cannot be written: then nothing of it is kept.
        """
        name = _dumps(table)
        encoded = [(doc_id, _dumps(doc) if doc is not None else None) for doc_id, doc in changes]
        line_of = _legacy_line if self._legacy else _checked_line
        self._write(
            b"".join(
                line_of(b'{"t":%s,"i":%s,"d":%s}' % (name, _dumps(doc_id), body))
                if body is not None
                else line_of(b'{"t":%s,"i":%s}' % (name, _dumps(doc_id)))
                for doc_id, body in encoded
            ),
            durable=durable,
        )
        rows = self._data.setdefault(table, {})
        for (doc_id, document), (_, body) in zip(changes, encoded, strict=True):
            key = str(doc_id)
            if document is None or body is None:
                rows.pop(key, None)
                self._encoded.pop((table, key), None)
            else:
                rows[key] = dict(document)
                self._encoded[(table, key)] = body
        self._lines += len(changes)
        documents = sum(len(rows) for rows in self._data.values())
        if self._lines > max(COMPACT_MINIMUM, COMPACT_FACTOR * documents, self._compact_from):
            self.compact()

    def sync(self) -> None:
        """Make earlier non-durable appends durable."""
        if self._unsynced and self._fd >= 0:
            try:
                os.fsync(self._fd)
            except OSError as error:
                raise self._failed(error) from error
            self._unsynced = False

    def compact(self) -> bool:
        """Rewrite the file as one snapshot, dropping old values (removed offers' claims) from disk.
        A compaction that cannot be written changes nothing and is tried again later: False."""
        if not self._lines and not self._legacy:
            return True
        try:
            self._compact()
        except StorageUnavailable as error:
            log.warning("%s not compacted: %s; tried again later", self._path.name, error.reason)
            self._compact_from = self._lines + COMPACT_MINIMUM
            return False
        return True

    def close(self) -> None:
        try:
            self.sync()
        finally:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def snapshot(self) -> bytes:
        """`{"snapshot": <every table>}` as `json.dumps` gives it, joined from each document's JSON."""
        tables = []
        for table, rows in self._data.items():
            documents = b",".join(
                _dumps(key) + b":" + self._document_json(table, key, row) for key, row in rows.items()
            )
            tables.append(_dumps(table) + b":{" + documents + b"}")
        return b'{"snapshot":{' + b",".join(tables) + b"}}"

    def _document_json(self, table: str, key: str, row: Mapping[str, Any]) -> bytes:
        body = self._encoded.get((table, key))
        if body is None:  # loaded from the file: encoded once, then kept
            body = self._encoded[(table, key)] = _dumps(row)
        return body

    def _write(self, payload: bytes, *, durable: bool) -> None:
        """All of `payload` on disk (and fsynced if `durable`), or none of it and StorageUnavailable."""
        try:
            if self._dirty:
                os.ftruncate(self._fd, self._size)
                self._dirty = False
            pending = memoryview(payload)
            while pending:  # a short count is not an error: the rest is written, or the next write fails
                pending = pending[os.write(self._fd, pending) :]
            if durable:
                os.fsync(self._fd)
        except OSError as error:
            self._undo()
            raise self._failed(error) from error
        except BaseException:
            self._undo()
            raise
        self._size += len(payload)
        self._unsynced = not durable
        self._health.succeeded()

    def _undo(self) -> None:
        """Cut the file back to its last good length; if even that fails, before the next write."""
        try:
            os.ftruncate(self._fd, self._size)
            self._dirty = False
        except OSError:
            self._dirty = True

    def _failed(self, error: OSError) -> StorageUnavailable:
        reason = failure_reason(error)
        self._health.failed(reason)
        log.error("cannot write %s: %s", self._path, reason)
        return StorageUnavailable(reason)

    def _load(self) -> bool:
        """Replay the journal; True when a torn last line was dropped."""
        found = scan(self._path.read_bytes())
        if found.damage:
            raise CorruptJournal(self._path, found.damage[0])
        self._data, self._lines = replay(found.entries)
        self._encoded.clear()
        self._size = found.good_length
        self._legacy = found.legacy
        return found.torn

    def _create(self) -> None:
        """A new journal (a new history segment): a change waits on it, so its failure is reported."""
        try:
            self._compact()
        except StorageUnavailable as error:
            self._health.failed(error.reason)
            log.error("cannot create %s: %s", self._path, error.reason)
            raise

    def _drop_torn_line(self) -> None:
        """A compaction rewrites the file without the torn line; on a full disk, it is cut off instead."""
        try:
            self._compact()
        except StorageUnavailable:
            with open(self._path, "r+b") as journal:
                journal.truncate(self._size)
            self._fd = os.open(self._path, os.O_WRONLY | os.O_APPEND)

    def _compact(self) -> None:
        content = HEADER + _checked_line(self.snapshot())
        try:
            write_atomic(self._path, content)
            fd = os.open(self._path, os.O_WRONLY | os.O_APPEND)
        except OSError as error:
            raise StorageUnavailable(failure_reason(error)) from error
        if self._fd >= 0:
            os.close(self._fd)
        self._fd, self._size, self._dirty = fd, len(content), False
        self._lines, self._legacy, self._unsynced, self._compact_from = 0, False, False, 0


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _checked_line(body: bytes) -> bytes:
    """`journal_format.encode` of a body already encoded."""
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def _legacy_line(body: bytes) -> bytes:
    return body + b"\n"


def replay(entries: Iterable[Mapping[str, Any]]) -> tuple[Tables, int]:
    """The tables that journal entries leave, and how many changes follow the last snapshot."""
    data: Tables = {}
    changes = 0
    for entry in entries:
        if "snapshot" in entry:
            data, changes = entry["snapshot"], 0
            continue
        rows = data.setdefault(entry["t"], {})
        if "d" in entry:
            rows[str(entry["i"])] = entry["d"]
        else:
            rows.pop(str(entry["i"]), None)
        changes += 1
    return data, changes


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
