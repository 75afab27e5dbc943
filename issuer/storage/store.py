"""The embedded backend: TinyDB journals in the data folder, behind one re-entrant lock.

Two rules keep the cost of one issuance flat as history grows:
- every file is a journal (`issuer.storage.journal`): a change appends one line, whatever the size;
- `state.json` holds only what is live (offers being redeemed, sign-ins, deferred issuances), and
  the history (ledger, archived offers, audit log) is split into bounded segments
  (`issuer.storage.history`). `desk.json` holds operator accounts and registered holders
  (bounded by a retention period); `status.json` the status lists.

TinyDB is not thread-safe: every access holds the store's lock, which `transaction()` also
takes, so a read and the compare-and-set that follows it see no other writer in between.

At opening, every journal the data folder's manifest lists must be there and whole (the history
checks its segments); `status.json` may be missing, since the ledger rebuilds it
(`issuer.records.status_lists`). Damage raises `DataDamaged` naming the file and the way out.
"""

from __future__ import annotations

import heapq
import logging
import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from issuer.events import EventBus
from issuer.storage.history import SEGMENT_SIZE, History
from issuer.storage.interfaces import (
    DUE,
    VERSION,
    DataDamaged,
    Document,
    KeyExists,
    RecordFilter,
    StorageHealth,
    StorageUnavailable,
)
from issuer.storage.journal import JournaledTable, JournaledTinyDB, replay
from issuer.storage.journal_format import scan
from issuer.storage.ledger_index import LedgerIndex
from issuer.storage.local import FolderKeyFiles, MemoryReplaySet
from issuer.storage.manifest import Manifest

RECORDS, AUDIT = "records", "audit"  # history tables; records hold ledger entries and archived offers
CREDENTIAL, OFFER = "credential", "offer"  # the `kind` of a history record
RECENT_SEGMENTS = 2  # where a crash can have left a half-written issuance
STATE, DESK, STATUS = "state.json", "desk.json", "status.json"
REQUIRED = (STATE, DESK)  # once made, their loss is damage; status.json is rebuilt from the ledger
log = logging.getLogger(__name__)


class JournalLiveTable:
    """A `LiveTable` over one TinyDB table, keyed by a field of its documents, with an index of
    keys kept in memory so that a look-up reads no other document, and a heap of `due_at` times
    so that `due` reads only the documents that are due."""

    def __init__(self, table: JournaledTable, key_field: str, lock: threading.RLock) -> None:
        self._table = table
        self._key_field = key_field
        self._lock = lock
        self._ids: dict[str, int] = {}
        self._due_at: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []  # (due_at, key); an entry no longer in _due_at is dropped when met
        for row in table.all():
            self._ids[str(row[key_field])] = row.doc_id
            self._index_due(str(row[key_field]), row)

    def get(self, key: str) -> Document | None:
        with self._lock:
            doc_id = self._ids.get(key)
            found = self._table.get(doc_id=doc_id) if doc_id is not None else None
            return {**found, VERSION: found.get(VERSION, 0)} if found is not None else None

    def insert(self, key: str, document: Mapping[str, Any], *, durable: bool = True) -> None:
        with self._lock:
            if key in self._ids:
                raise KeyExists(key)
            row = {**document, self._key_field: key, VERSION: 1}
            self._ids[key] = self._table.insert_multiple([row], durable=durable)[0]
            self._index_due(key, row)

    def replace(self, key: str, document: Mapping[str, Any], *, version: int, durable: bool = True) -> bool:
        with self._lock:
            stored = self.get(key)
            if stored is None or stored[VERSION] != version:
                return False
            row = {**document, self._key_field: key, VERSION: version + 1}
            self._table.put(self._ids[key], row, durable=durable)
            self._index_due(key, row)
            return True

    def delete(self, key: str, *, version: int | None = None) -> bool:
        with self._lock:
            stored = self.get(key)
            if stored is None or (version is not None and stored[VERSION] != version):
                return False
            self._table.remove(doc_ids=[self._ids[key]])
            del self._ids[key]
            self._due_at.pop(key, None)
            return True

    def all(self) -> list[Document]:
        with self._lock:
            return [{**row, VERSION: row.get(VERSION, 0)} for row in self._table.all()]

    def find(self, field: str, value: Any) -> Document | None:
        with self._lock:
            return next((row for row in self.all() if row.get(field) == value), None)

    def due(self, before: float) -> list[str]:
        with self._lock:
            found: dict[str, float] = {}
            heap = self._heap
            while heap and heap[0][0] < before:
                at, key = heapq.heappop(heap)
                if self._due_at.get(key) == at:
                    found[key] = at
            for key, at in found.items():  # still due until changed or deleted
                heapq.heappush(heap, (at, key))
            return list(found)

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)

    def _index_due(self, key: str, row: Mapping[str, Any]) -> None:
        value = row.get(DUE)
        at = float(value) if isinstance(value, int | float) else -math.inf  # none: always looked at
        if self._due_at.get(key) != at:
            self._due_at[key] = at
            heapq.heappush(self._heap, (at, key))


class JournalLedger:
    """`LedgerRecords`: credential records in the history's `records` table, and their index
    (`issuer.storage.ledger_index`), built at the first search a segment at a time, so that
    issuing goes on meanwhile, then kept by every change."""

    def __init__(self, history: History, lock: threading.RLock, status: JournalStatus) -> None:
        self._history = history
        self._lock = lock
        self._status = status
        self._index = LedgerIndex()
        self._indexed_from: int | None = None  # the newest segment when the index was begun

    def add(self, records: Sequence[Mapping[str, Any]], *, durable: bool = True) -> list[str]:
        with self._lock:
            rows = [{**record, "kind": CREDENTIAL} for record in records]
            ids = self._history.extend(RECORDS, rows, durable=durable)
            if self._indexed_from is not None:
                for record_id, row in zip(ids, rows, strict=True):
                    number = _segment_of(record_id)
                    if number > self._indexed_from or self._index.has(number):
                        self._index.add(number, record_id, {**row, "key": record_id.split("-", 2)[2]})
            return ids

    def get(self, record_id: str) -> Document | None:
        with self._lock:
            record = self._history.get(RECORDS, record_id) if isinstance(record_id, str) else None
        return record if record is not None and record.get("kind") == CREDENTIAL else None

    def update(self, record_id: str, change: Callable[[Document], None]) -> bool:
        with self._lock:
            if self.get(record_id) is None or not self._history.update(RECORDS, record_id, change):
                return False
            changed = self.get(record_id)
            if changed is not None:
                self._index.update(_segment_of(record_id), record_id, changed)
            return True

    def batches(self) -> Iterator[list[Document]]:
        with self._lock:
            numbers = list(reversed(self._history.segment_numbers()))
        for number in numbers:
            with self._lock:
                rows = self._history.segment_rows(RECORDS, number)
            yield [row for row in rows if row.get("kind") == CREDENTIAL]

    def recent(self) -> list[Document]:
        return [row for row in _recent_rows(self._history, self._lock) if row.get("kind") == CREDENTIAL]

    def search(self, where: RecordFilter, limit: int) -> list[Document]:
        self._build_index()
        with self._lock:
            ids = self._index.search(where, self._status.flagged(), limit)
            return [record for record in map(self.get, ids) if record is not None]

    def index_size(self) -> int:
        """How many records the index holds (0 before the first search)."""
        with self._lock:
            return len(self._index)

    def _build_index(self) -> None:
        with self._lock:
            if self._indexed_from is None:
                self._indexed_from = max(self._history.segment_numbers(), default=0)
            numbers = [n for n in self._history.segment_numbers() if n <= self._indexed_from]
        for number in reversed(numbers):
            with self._lock:
                if not self._index.has(number):
                    rows = self._history.segment_rows(RECORDS, number)
                    self._index.index_segment(number, [row for row in reversed(rows) if row.get("kind") == CREDENTIAL])


class JournalArchive:
    """`OfferArchive`: finished offers, kept beside the ledger records they produced, with an index
    of their offer ids built at the first `find` a segment at a time, then kept by every change:
    a look-up, found or not, then reads one record at most."""

    def __init__(self, history: History, lock: threading.RLock) -> None:
        self._history = history
        self._lock = lock
        self._by_offer: dict[str, str] = {}  # offer id -> its newest archive record's id
        self._indexed: set[int] = set()
        self._indexed_from: int | None = None

    def add(self, document: Mapping[str, Any], *, durable: bool = True) -> str:
        with self._lock:
            record_id = self._history.append(RECORDS, {**document, "kind": OFFER}, durable=durable)
            number = _segment_of(record_id)
            if self._indexed_from is not None and (number > self._indexed_from or number in self._indexed):
                self._by_offer[str(document.get("offer_id"))] = record_id
            return record_id

    def find(self, offer_id: str) -> Document | None:
        self._build_index()
        with self._lock:
            record_id = self._by_offer.get(offer_id)
            return self._history.get(RECORDS, record_id) if record_id is not None else None

    def newest(self) -> Iterator[Document]:
        with self._lock:
            numbers = list(reversed(self._history.segment_numbers()))
        for number in numbers:
            with self._lock:
                rows = self._history.segment_rows(RECORDS, number)
            yield from (row for row in rows if row.get("kind") == OFFER)

    def recent(self) -> list[Document]:
        return [row for row in _recent_rows(self._history, self._lock) if row.get("kind") == OFFER]

    def remove(self, record_id: str) -> bool:
        with self._lock:
            removed = self._history.remove(RECORDS, record_id)
            if removed:
                for offer_id in [o for o, r in self._by_offer.items() if r == record_id]:
                    del self._by_offer[offer_id]
            return removed

    def _build_index(self) -> None:
        with self._lock:
            if self._indexed_from is None:
                self._indexed_from = max(self._history.segment_numbers(), default=0)
            numbers = [n for n in self._history.segment_numbers() if n <= self._indexed_from]
        for number in numbers:
            with self._lock:
                if number not in self._indexed:
                    rows = self._history.segment_rows(RECORDS, number)  # newest first
                    for row in reversed(rows):
                        offer_id = str(row.get("offer_id"))
                        known = self._by_offer.get(offer_id)
                        if row.get("kind") == OFFER and (known is None or _order(known) < _order(row["id"])):
                            self._by_offer[offer_id] = row["id"]
                    self._indexed.add(number)


class JournalAudit:
    """`AuditLog` in the history's `audit` table."""

    def __init__(self, history: History, lock: threading.RLock) -> None:
        self._history = history
        self._lock = lock

    def append(self, entry: Mapping[str, Any]) -> None:
        with self._lock:
            self._history.append(AUDIT, entry)

    def entries(self, operator: str | None = None) -> Iterator[Document]:
        with self._lock:
            numbers = list(reversed(self._history.segment_numbers()))
        for number in numbers:
            with self._lock:
                rows = self._history.segment_rows(AUDIT, number)
            yield from (row for row in rows if operator is None or row.get("operator") == operator)


class JournalStatus:
    """`StatusStore` in `status.json`: one row per list, one per entry that is not valid."""

    def __init__(self, path: Path, lock: threading.RLock, health: StorageHealth) -> None:
        self._db = JournaledTinyDB(path, health=health)
        self._lists = self._db.table("lists")
        self._entries = self._db.table("entries")
        self._lock = lock
        self._entry_ids = {(row["list_id"], row["index"]): row.doc_id for row in self._entries.all()}
        self._list_ids = {row["list_id"]: row.doc_id for row in self._lists.all()}

    def lists(self) -> list[Document]:
        with self._lock:
            return [dict(row) for row in self._lists.all()]

    def entries(self) -> list[Document]:
        with self._lock:
            return [dict(row) for row in self._entries.all()]

    def add_list(self, document: Mapping[str, Any]) -> Document:
        with self._lock:
            doc_id = self._list_ids.get(document["list_id"])
            if doc_id is not None:
                return dict(self._lists.get(doc_id=doc_id) or {})
            self._list_ids[document["list_id"]] = self._lists.insert(dict(document))
            return dict(document)

    def reserve_block(self, list_id: int, size: int) -> tuple[int, int]:
        with self._lock:
            row = self._lists.get(doc_id=self._list_ids[list_id])
            if row is None:
                raise KeyError(list_id)
            start = min(row["reserved"], row["size"])
            end = min(row["size"], start + size)
            self._lists.update({"reserved": end}, doc_ids=[self._list_ids[list_id]])
            return start, end

    def flagged(self) -> dict[tuple[int, int], int]:
        """Every entry that is not valid: (list, index) -> status."""
        with self._lock:
            return {(row["list_id"], row["index"]): int(row["status"]) for row in self._entries.all()}

    def entry(self, list_id: int, index: int) -> int:
        with self._lock:
            doc_id = self._entry_ids.get((list_id, index))
            row = self._entries.get(doc_id=doc_id) if doc_id is not None else None
            return int(row["status"]) if row is not None else 0

    def set_entry(self, list_id: int, index: int, status: int) -> None:
        with self._lock:
            doc_id = self._entry_ids.get((list_id, index))
            if status == 0:
                if doc_id is not None:
                    self._entries.remove(doc_ids=[doc_id])
                    del self._entry_ids[(list_id, index)]
            elif doc_id is not None:
                self._entries.update({"status": status}, doc_ids=[doc_id])
            else:
                row = {"list_id": list_id, "index": index, "status": status}
                self._entry_ids[(list_id, index)] = self._entries.insert(row)

    def watch(self, changed: Callable[[int, int, int], None], missed: Callable[[], None]) -> None:
        """Only this process writes the journals: nothing changes behind its back."""

    def compact(self) -> None:
        with self._lock:
            self._db.journal.compact()

    def close(self) -> None:
        with self._lock:
            self._db.close()


class JournalStore:
    """The data folder's journals as a `Store`."""

    def __init__(self, data_dir: Path, *, segment_size: int = SEGMENT_SIZE) -> None:
        self._lock = threading.RLock()
        self.health = StorageHealth()
        manifest = Manifest(data_dir)
        try:
            _check_required(data_dir, manifest)
            self._state = JournaledTinyDB(data_dir / STATE, health=self.health)
            self._desk = JournaledTinyDB(data_dir / DESK, health=self.health)
            self.history = History(data_dir / "history", segment_size, health=self.health, manifest=manifest)
            self.status = JournalStatus(data_dir / STATUS, self._lock, self.health)
            manifest.update(journals=[STATE, DESK, STATUS])
        except DataDamaged as error:
            raise error.in_folder(data_dir) from None
        self.offers = JournalLiveTable(self._state.table("offers"), "offer_id", self._lock)
        self.sign_ins = JournalLiveTable(self._state.table("authorizations"), "auth_id", self._lock)
        self.operators = JournalLiveTable(self._desk.table("operators"), "name", self._lock)
        self.holders = JournalLiveTable(self._desk.table("holders"), "holder_id", self._lock)
        self.logins = JournalLiveTable(self._state.table("logins"), "token_hash", self._lock)
        self.ledger = JournalLedger(self.history, self._lock, self.status)
        self.archive = JournalArchive(self.history, self._lock)
        self.audit = JournalAudit(self.history, self._lock)
        self.replays = MemoryReplaySet()
        self.key_files = FolderKeyFiles(data_dir / "keys")

    def transaction(self) -> AbstractContextManager[None]:
        return self._lock  # type: ignore[return-value]  # an RLock is a context manager of None

    def relay_events(self, bus: EventBus) -> None:
        """One process owns the data folder: its events stay on its own bus."""

    def agree_on(self, settings: Mapping[str, Any]) -> None:
        """One process owns the data folder: its settings need nobody's agreement."""

    def compact(self) -> None:
        """Tried again at the next call when it cannot be written (a full disk)."""
        with self._lock:
            self._state.journal.compact()

    def close(self) -> None:
        """Every file closed; what could not be synced at the end (a full disk) is logged, not raised."""
        with self._lock:
            self.compact()
            self._desk.journal.compact()
            self.status.compact()
            for close in (self._state.close, self._desk.close, self.history.close, self.status.close):
                try:
                    close()
                except StorageUnavailable as error:
                    log.error("closing the store: %s", error.reason)


def close_status_lists(path: Path, *, beyond: int = 0) -> None:
    """After a restore: every list in `path` is closed, and the next one is numbered past `beyond`.

    The restored ledger knows nothing of what was issued after the backup, so none of its places
    may be handed out again: new credentials go to a list no credential can be in. Lists skipped
    over are kept empty (size 0), so that a verifier asking for one reads no status at all.
    """
    status = JournalStatus(path, threading.RLock(), StorageHealth())
    try:
        rows = status.lists()
        for row in rows:
            if row["reserved"] < row["size"]:
                status.reserve_block(row["list_id"], row["size"])  # closed: nothing left to hand out
        for list_id in range(max((row["list_id"] for row in rows), default=0) + 1, beyond + 1):
            status.add_list({"list_id": list_id, "size": 0, "seed": "", "reserved": 0})
    finally:
        status.close()


def status_list_ids(path: Path) -> list[int]:
    """The lists a status file names, read without writing anything; none if it cannot be read."""
    try:
        found = scan(path.read_bytes())
    except OSError:
        return []
    tables, _ = replay(found.entries)
    return [int(row["list_id"]) for row in tables.get("lists", {}).values() if isinstance(row.get("list_id"), int)]


def _check_required(data_dir: Path, manifest: Manifest) -> None:
    """A journal the manifest says this folder had, now missing or emptied, is damage: not a fresh start."""
    for name in manifest.read().get("journals", []):
        path = data_dir / name
        if name in REQUIRED and (not path.exists() or path.stat().st_size == 0):
            raise DataDamaged(f"{path} is {'empty' if path.exists() else 'missing'}, but this data folder had one")


def _segment_of(record_id: str) -> int:
    return int(record_id.split("-", 1)[0])


def _order(record_id: str) -> tuple[int, int]:
    """Where a history record was written: a later one is greater."""
    number, doc_id, _ = record_id.split("-", 2)
    return int(number), int(doc_id)


def _recent_rows(history: History, lock: threading.RLock) -> list[Document]:
    with lock:
        numbers = history.segment_numbers()[-RECENT_SEGMENTS:]
        return [row for number in reversed(numbers) for row in history.segment_rows(RECORDS, number)]
