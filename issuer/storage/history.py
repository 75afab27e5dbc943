"""The history: append-mostly records in fixed-size segment files, so that loading or compacting
one file stays bounded however long the issuer runs.

The issuance ledger, archived offers and the audit log live here. A record id names its
segment and document, so a look-up touches one file and no scan. The caller serializes
access (the store's transaction).

Segments are numbered from 1 without gaps, and the data folder's manifest records how many
there are: at opening, a missing segment is damage, and so is a line of any segment whose
checksum fails (all are checked, which reads the history once but parses only the segment in
use). Segments written by an earlier version are rewritten in the current format then.
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from tinydb.table import Document

from issuer.storage.interfaces import DataDamaged, StorageHealth, StorageUnavailable
from issuer.storage.journal import CorruptJournal, JournaledTable, JournaledTinyDB
from issuer.storage.journal_format import HEADER, check
from issuer.storage.manifest import Manifest

SEGMENT_NAME = re.compile(r"^(\d{6})\.json$")
RECORD_ID = re.compile(r"^(\d{6})-(\d{1,9})-([A-Za-z0-9_-]{6,32})$")
OPEN_SEGMENTS = 4
SEGMENT_SIZE = 1000


class History:
    """Append-mostly records in segment files `NNNNNN.json` of at most `segment_size` documents.

    A record id is `<segment>-<document id>-<key>`: the key is random, so ids cannot be guessed
    from their neighbours, and a look-up reads one document of one segment.
    """

    def __init__(
        self,
        folder: Path,
        segment_size: int = SEGMENT_SIZE,
        *,
        health: StorageHealth | None = None,
        manifest: Manifest | None = None,
    ) -> None:
        self._folder = folder
        self._segment_size = segment_size
        self._health = health
        self._manifest = manifest
        self._open: OrderedDict[int, JournaledTinyDB] = OrderedDict()
        folder.mkdir(parents=True, exist_ok=True)
        numbers = self.segment_numbers()
        self._check(numbers)
        self._current = numbers[-1] if numbers else 1
        self._current_count = self._count(self._segment(self._current))
        if manifest is not None:
            manifest.update(segments=self._current)

    def segment_numbers(self) -> list[int]:
        found = (SEGMENT_NAME.match(p.name) for p in self._folder.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def append(self, table: str, document: Mapping[str, Any], *, durable: bool = True) -> str:
        """Store `document` in the current segment; returns its record id."""
        return self.extend(table, [document], durable=durable)[0]

    def extend(self, table: str, documents: Iterable[Mapping[str, Any]], *, durable: bool = True) -> list[str]:
        """Store documents together (one write) in the current segment; returns their ids.

        A durable write also makes every earlier non-durable one durable, in any segment:
        several writes of one step then cost a single fsync.
        """
        if self._current_count >= self._segment_size:
            self._begin_segment(self._current + 1)
        keyed = [{**document, "key": secrets.token_urlsafe(9)} for document in documents]
        doc_ids = self._segment(self._current).table(table).insert_multiple(keyed, durable=durable)
        self._current_count += len(keyed)
        if durable:
            for number, db in self._open.items():
                if number != self._current:
                    db.journal.sync()
        return [f"{self._current:06d}-{doc_id}-{row['key']}" for doc_id, row in zip(doc_ids, keyed, strict=True)]

    def append_many(self, table: str, documents: Iterable[Mapping[str, Any]], batch_size: int = 1000) -> int:
        """Bulk load (imports, benchmarks): one write per batch instead of one per record."""
        written = 0
        batch: list[Mapping[str, Any]] = []
        for document in documents:
            batch.append(document)
            room = self._segment_size - self._current_count
            if len(batch) >= min(batch_size, room if room > 0 else self._segment_size):
                written += len(self.extend(table, batch))
                batch = []
        if batch:
            written += len(self.extend(table, batch))
        return written

    def get(self, table: str, record_id: str) -> dict[str, Any] | None:
        located = self._locate(table, record_id)
        return self._with_id(located[0], located[1]) if located else None

    def update(self, table: str, record_id: str, change: Callable[[dict[str, Any]], None]) -> bool:
        located = self._locate(table, record_id)
        if located is None:
            return False
        _, document, rows = located
        rows.update(change, doc_ids=[document.doc_id])
        return True

    def remove(self, table: str, record_id: str) -> bool:
        located = self._locate(table, record_id)
        if located is None:
            return False
        _, document, rows = located
        rows.remove(doc_ids=[document.doc_id])
        return True

    def find(self, table: str, **fields: Any) -> dict[str, Any] | None:
        """The newest record with these field values; reads segments newest first."""
        return next(self.scan(table, lambda row: all(row.get(k) == v for k, v in fields.items())), None)

    def scan(
        self, table: str, condition: Callable[[Mapping[str, Any]], bool] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Records of `table` with their ids, newest first."""
        for number in reversed(self.segment_numbers()):
            rows = self._segment(number).table(table)
            for document in reversed(rows.all()):
                if condition is None or condition(document):
                    yield self._with_id(number, document)

    def segment_rows(self, table: str, number: int) -> list[dict[str, Any]]:
        """One segment's records of `table` with their ids, newest first: a unit of work small
        enough to hold the store's lock for while a long search goes on."""
        if number != self._current and not (self._folder / f"{number:06d}.json").exists():
            return []
        return [self._with_id(number, document) for document in reversed(self._segment(number).table(table).all())]

    def count(self, table: str) -> int:
        return sum(len(self._segment(n).table(table)) for n in self.segment_numbers())

    def close(self) -> None:
        for db in self._open.values():
            db.close()
        self._open.clear()

    def _check(self, numbers: list[int]) -> None:
        """Every segment the manifest lists is there, and every line of each is whole (DataDamaged)."""
        listed = int(self._manifest.read().get("segments", 0)) if self._manifest is not None else 0
        present = set(numbers)
        missing = [n for n in range(1, max([listed, *numbers]) + 1) if n not in present]
        if missing:
            total = max([listed, *numbers])
            others = f", and {len(missing) - 1} more of its {total}" if len(missing) > 1 else f" (of {total})"
            raise DataDamaged(f"the history segment {self._folder / f'{missing[0]:06d}.json'} is missing{others}")
        for number in numbers:
            path = self._folder / f"{number:06d}.json"
            raw = path.read_bytes()
            if not raw.startswith(HEADER):  # an earlier version's: loaded, checked and rewritten now
                upgraded = JournaledTinyDB(path, health=self._health)
                upgraded.journal.compact()
                upgraded.close()
            elif number != numbers[-1]:  # the last is loaded, and so checked, when it is opened
                damage = check(raw)
                if damage is not None:
                    raise CorruptJournal(path, damage)

    def _begin_segment(self, number: int) -> None:
        """The next segment, created and in the manifest before anything is stored in it."""
        self._segment(number)
        if self._manifest is not None:
            try:
                self._manifest.update(segments=number)
            except StorageUnavailable as error:
                if self._health is not None:
                    self._health.failed(error.reason)
                raise
        self._current, self._current_count = number, 0

    def _locate(self, table: str, record_id: str) -> tuple[int, Document, JournaledTable] | None:
        match = RECORD_ID.match(record_id)
        if not match:
            return None
        number, doc_id, key = int(match.group(1)), int(match.group(2)), match.group(3)
        if number != self._current and not (self._folder / f"{number:06d}.json").exists():
            return None
        rows = self._segment(number).table(table)
        document = rows.get(doc_id=doc_id)
        if document is None or not secrets.compare_digest(str(document.get("key", "")), key):
            return None
        return number, document, rows

    @staticmethod
    def _with_id(number: int, document: Document) -> dict[str, Any]:
        return {**document, "id": f"{number:06d}-{document.doc_id}-{document['key']}"}

    def _segment(self, number: int) -> JournaledTinyDB:
        db = self._open.get(number)
        if db is None:
            db = JournaledTinyDB(self._folder / f"{number:06d}.json", health=self._health)
            self._open[number] = db
            if len(self._open) > OPEN_SEGMENTS:
                _, oldest = self._open.popitem(last=False)
                oldest.close()
        self._open.move_to_end(number)
        return db

    @staticmethod
    def _count(db: JournaledTinyDB) -> int:
        return sum(len(db.table(name)) for name in db.tables())
