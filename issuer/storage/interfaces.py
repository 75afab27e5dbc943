"""What the issuer asks of its storage: the tables it uses, as interfaces any backend can implement.

The service sees only these; the embedded TinyDB journals (`issuer.storage.store`) implement
them, and a shared database can implement them for several issuer processes. Two rules make
that possible:
- single use is a property of the storage: a live record carries a `version`, and a change is
  a compare-and-set (`replace(..., version=...)`) that succeeds for one writer only, whichever
  process it runs in;
- durability is in the signatures: a change is on disk when the call returns, unless it is
  marked `durable=False` (a timeline detail no answer depends on), which the next durable
  change of the same transaction makes durable too. A change that cannot be made durable (a
  full disk, an I/O error) raises `StorageUnavailable` and leaves nothing of itself, on disk or
  in what is read afterwards; reads go on working, and so do writes once the cause is gone.
  `Store.health` tells listeners when writes start failing and when they work again.

A transaction (`Store.transaction()`) isolates what it reads and changes from every other
writer, in this process or another: a live record read inside one is held until it ends. A
shared database makes the changes of a transaction durable together when its outermost
`with` ends, whether it ends normally or by an exception the service raised (a refusal may
record something, such as a wrong transaction code), before any answer leaves.

Documents are JSON objects (`dict[str, Any]`); the service's typed records convert to and
from them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from issuer.config import SettingsError
from issuer.events import EventBus

Document = dict[str, Any]
VERSION = "version"  # the field of a live document that a compare-and-set checks
DUE = "due_at"  # the field of a live document saying from when it may need housekeeping (`LiveTable.due`)


class KeyExists(Exception):
    """An insert under a key that is already taken."""


class SharedSettingsMismatch(SettingsError):
    """A setting that differs from the one the processes sharing the store agreed on."""


class StorageUnavailable(Exception):
    """A change that could not be made durable (disk full, I/O error): none of it was kept. Raised by
    every backend alike; `reason` is short enough for a status bar ("disk full")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DataDamaged(SettingsError):
    """Stored data that is damaged or missing, which only a backup or `frontdesk-issuer repair` can
    fix: said in one line naming the file, the line if any, and the way out."""

    def __init__(self, what: str, data_dir: Path | None = None) -> None:
        self.what = what
        way_out = f"; restore a backup, or run: frontdesk-issuer repair --data-dir {data_dir}" if data_dir else ""
        super().__init__(what + way_out)

    def in_folder(self, data_dir: Path) -> DataDamaged:
        """The same damage, with the way out for the data folder it is in."""
        return DataDamaged(self.what, data_dir)


class StorageHealth:
    """Whether changes reach the disk: listeners hear the reason when writes start failing and None
    when one succeeds again (called on the writing thread, with the store's lock held)."""

    def __init__(self) -> None:
        self._problem: str | None = None
        self._listeners: list[Callable[[str | None], None]] = []
        self._lock = threading.Lock()

    @property
    def problem(self) -> str | None:
        return self._problem

    def subscribe(self, listener: Callable[[str | None], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def failed(self, reason: str) -> None:
        self._change(reason)

    def succeeded(self) -> None:
        if self._problem is not None:
            self._change(None)

    def _change(self, problem: str | None) -> None:
        with self._lock:
            if problem == self._problem:
                return
            self._problem = problem
            listeners = list(self._listeners)
        for listener in listeners:
            listener(problem)


class LiveTable(Protocol):
    """Records that change while they live (offers, sign-ins, operators, holders), by key."""

    def get(self, key: str) -> Document | None:
        """The document with its `version`, or None."""

    def insert(self, key: str, document: Mapping[str, Any], *, durable: bool = True) -> None:
        """Store a new document at version 1; KeyExists if the key is taken."""

    def replace(self, key: str, document: Mapping[str, Any], *, version: int, durable: bool = True) -> bool:
        """Store `document` if the stored one is still at `version` (then at version + 1); False if not."""

    def delete(self, key: str, *, version: int | None = None) -> bool:
        """Remove the document (only at `version`, when given); False if it was not there."""

    def all(self) -> list[Document]:
        """Every document, in no particular order."""

    def find(self, field: str, value: Any) -> Document | None:
        """A document whose `field` equals `value` (a hash, a name), or None."""

    def due(self, before: float) -> list[str]:
        """Keys of the documents whose `due_at` is before `before`, and of those without one:
        what housekeeping must look at, read from an index, however many others are live."""

    def __len__(self) -> int: ...


@dataclass(frozen=True)
class RecordFilter:
    """A ledger search as the store answers it: every given field must match. When `words`, `text`
    or `holder_ids` is given, a record matches by any of them: every folded word in its folded
    `holder_name`, `text` (lower case) in its offer id, credential id or record key, or its
    `holder_id` among `holder_ids`. `status` is the one its status list holds for it (0, valid,
    also for a record without a place); `expired` compares its `expires_at` with `now`."""

    words: tuple[str, ...] = ()
    text: str = ""
    holder_ids: frozenset[str] | None = None
    config_id: str | None = None
    operator: str | None = None
    offer_id: str | None = None
    issued_from: int | None = None
    issued_until: int | None = None
    status: int | None = None
    expired: bool | None = None
    now: float = 0.0

    @property
    def by_text(self) -> bool:
        return bool(self.words or self.text) or self.holder_ids is not None


class LedgerRecords(Protocol):
    """One record per issued credential, kept for good; an id names where a record lives."""

    def add(self, records: Sequence[Mapping[str, Any]], *, durable: bool = True) -> list[str]:
        """Store records together (one write); their ids, in order."""

    def get(self, record_id: str) -> Document | None:
        """A credential's record with its `id`, or None."""

    def update(self, record_id: str, change: Callable[[Document], None]) -> bool:
        """Apply `change` to a record, durably; False if there is no such record."""

    def batches(self) -> Iterator[list[Document]]:
        """Every record, newest first, a batch at a time: each batch is read in one short
        transaction, so a long search never holds up issuance."""

    def recent(self) -> list[Document]:
        """The records written last (at least those of the last few hundred issuances), newest first."""

    def search(self, where: RecordFilter, limit: int) -> list[Document]:
        """At most `limit` records matching `where`, newest first, found through an index the
        store keeps (never by reading every record)."""


class OfferArchive(Protocol):
    """Finished offers, without their secrets or claim values."""

    def add(self, document: Mapping[str, Any], *, durable: bool = True) -> str: ...

    def find(self, offer_id: str) -> Document | None: ...

    def newest(self) -> Iterator[Document]:
        """Archived offers, newest first."""

    def recent(self) -> list[Document]:
        """The archive entries written last, newest first (for crash recovery)."""

    def remove(self, record_id: str) -> bool: ...


class AuditLog(Protocol):
    def append(self, entry: Mapping[str, Any]) -> None:
        """Record an entry, durably."""

    def entries(self, operator: str | None = None) -> Iterator[Document]:
        """Entries, newest first, of one operator or of all."""


class StatusStore(Protocol):
    """The status lists: each list's size, seed and reserved counter, and every non-valid entry."""

    def lists(self) -> list[Document]: ...

    def entries(self) -> list[Document]: ...

    def add_list(self, document: Mapping[str, Any]) -> Document:
        """Store a new list, unless a list with its `list_id` exists (made by another process):
        the stored list either way."""

    def reserve_block(self, list_id: int, size: int) -> tuple[int, int]:
        """Take the next `size` positions of a list, durably and for this caller alone, whichever
        process asks: the block `[start, end)`, shorter at the end of the list, empty once it is full."""

    def entry(self, list_id: int, index: int) -> int:
        """The stored status of one entry (0 when none is stored), held against other writers
        until the transaction ends: read it to decide a change of status."""

    def set_entry(self, list_id: int, index: int, status: int) -> None:
        """A status other than 0 is stored; 0 (valid) removes the entry (durable)."""

    def watch(self, changed: Callable[[int, int, int], None], missed: Callable[[], None]) -> None:
        """Call `changed(list_id, index, status)` when another process changes an entry, and
        `missed()` when changes may have been missed (read everything again)."""


class ReplaySet(Protocol):
    """Values accepted once until they expire: consumed nonces, DPoP proof `jti`s."""

    @property
    def shared(self) -> bool:
        """True when every process sharing the store sees the same set, and it outlives them."""

    def first_time(self, value: str, expires_at: float, now: float) -> bool:
        """True for the first caller with `value`, whichever process; False after, until it
        expires (`now` is the caller's clock, which tests move)."""


class KeyFiles(Protocol):
    """The issuer's secret key material by name (signing keys and their index, sealing keys)."""

    @property
    def encrypted(self) -> bool:
        """True when the backend encrypts what it stores with the key passphrase."""

    def read(self, name: str) -> bytes | None: ...

    def write(self, name: str, content: bytes) -> None:
        """Store `content` under `name`, durably, readable by the owner alone."""

    def create(self, name: str, content: bytes) -> bytes:
        """Store `content` unless `name` exists (another process was first): the stored content."""

    def delete(self, name: str) -> None:
        """Forget `name` (a key past its use); nothing happens when it is not there."""

    def watch(self, changed: Callable[[], None]) -> None:
        """Call `changed()` when another process changes a key file."""

    def part(self, name: str) -> KeyFiles:
        """The key files of another part of the issuer (its certificates, its encryption keys), kept
        where these are: beside them in the data folder, or in the same shared store."""


class Store(Protocol):
    """A backend: every table, and the transaction that serializes changes to them."""

    @property
    def offers(self) -> LiveTable:
        """Live offers, by offer id."""

    @property
    def sign_ins(self) -> LiveTable:
        """Authorization Code flow requests, by id."""

    @property
    def operators(self) -> LiveTable:
        """Operator accounts, by name."""

    @property
    def holders(self) -> LiveTable:
        """Registered holders, by holder id."""

    @property
    def logins(self) -> LiveTable:
        """Operators' login tokens for remote desks, by the token's keyed hash."""

    @property
    def ledger(self) -> LedgerRecords: ...

    @property
    def archive(self) -> OfferArchive: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def status(self) -> StatusStore: ...

    @property
    def replays(self) -> ReplaySet: ...

    @property
    def key_files(self) -> KeyFiles: ...

    @property
    def health(self) -> StorageHealth:
        """Whether changes are being saved, and why not."""

    def transaction(self) -> AbstractContextManager[None]:
        """Changes inside one `with` are isolated from other threads and processes (re-entrant)."""

    def relay_events(self, bus: EventBus) -> None:
        """Carry events between the processes sharing this store: this process's events to the
        others, and theirs onto `bus` (marked `remote`)."""

    def agree_on(self, settings: Mapping[str, Any]) -> None:
        """Record settings every process sharing the store must have alike (the first process
        records them); SharedSettingsMismatch when another process recorded different ones."""

    def compact(self) -> None:
        """Drop superseded values from disk (the claims of finished offers)."""

    def close(self) -> None: ...
