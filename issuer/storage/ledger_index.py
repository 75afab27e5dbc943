"""An index of the ledger's records in memory, so that a desk search over the journals' history
reads only what it finds.

Per history segment it keeps, for each credential record in the order written, the fields a
search filters on (type, operator, offer, holder, issue and expiry times, status list place),
and two texts as newline-joined blocks that `str.find` runs through at C speed: the folded
holder names and the lower-case ids (offer id, credential id, record key). A segment whose issue
or expiry times cannot match is skipped whole; a revoked or suspended record is found from its
status list place. Matching records are returned as ids, newest first; the store reads those.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from issuer.storage.folding import fold
from issuer.storage.interfaces import RecordFilter

Place = tuple[int, int]  # (status list, index)


def place_of(record: Mapping[str, Any]) -> Place | None:
    place = record.get("status_list")
    return (int(place["list"]), int(place["idx"])) if isinstance(place, Mapping) else None


def id_text(record: Mapping[str, Any]) -> str:
    return "\x1f".join(str(record.get(name, "")).lower() for name in ("offer_id", "credential_id", "key"))


class _Block:
    """Lines joined by newlines, with where each starts, built again when lines were added."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._text: str | None = None
        self._starts: list[int] = []

    def append(self, line: str) -> None:
        self.lines.append(line.replace("\n", " "))
        self._text = None

    def put(self, position: int, line: str) -> None:
        self.lines[position] = line.replace("\n", " ")
        self._text = None

    def containing(self, needle: str) -> set[int]:
        """The positions of the lines that contain `needle`."""
        if self._text is None:
            self._text = "\n".join(self.lines)
            self._starts, offset = [], 0
            for text_line in self.lines:
                self._starts.append(offset)
                offset += len(text_line) + 1
        text, starts = self._text, self._starts
        found: set[int] = set()
        at = text.find(needle)
        while at >= 0:
            line = bisect_right(starts, at) - 1
            found.add(line)
            at = text.find(needle, starts[line + 1]) if line + 1 < len(starts) else -1
        return found


class _Segment:
    """One history segment's credential records."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.positions: dict[str, int] = {}
        self.config: list[Any] = []
        self.operator: list[Any] = []
        self.offer: list[Any] = []
        self.holder: list[Any] = []
        self.issued: list[float] = []
        self.expires: list[float] = []
        self.places: list[Place | None] = []
        self.names = _Block()
        self.texts = _Block()

    def add(self, record_id: str, record: Mapping[str, Any]) -> int:
        position = len(self.ids)
        self.ids.append(record_id)
        self.positions[record_id] = position
        for column in (self.config, self.operator, self.offer, self.holder, self.places):
            column.append(None)
        self.issued.append(0.0)
        self.expires.append(math.inf)
        self.names.append("")
        self.texts.append("")
        self.set(position, record)
        return position

    def set(self, position: int, record: Mapping[str, Any]) -> None:
        self.config[position] = record.get("config_id")
        self.operator[position] = record.get("operator")
        self.offer[position] = record.get("offer_id")
        self.holder[position] = record.get("holder_id")
        self.issued[position] = float(record.get("issued_at", 0))
        expires = record.get("expires_at")
        self.expires[position] = float(expires) if isinstance(expires, int | float) else math.inf
        self.places[position] = place_of(record)
        self.names.put(position, fold(str(record.get("holder_name") or "")))
        self.texts.put(position, id_text(record))

    def candidates(self, where: RecordFilter, flagged: Iterable[int] | None) -> Iterable[int]:
        """Positions that may match, newest first: those the text finds, else those `flagged`
        (the revoked or suspended ones), else one column's matches, else all."""
        if where.by_text:
            found: set[int] = set()
            if where.words:
                found |= set.intersection(*(self.names.containing(word) for word in where.words))
            if where.text:
                found |= self.texts.containing(where.text)
            if where.holder_ids is not None:
                found |= {p for p, holder in enumerate(self.holder) if holder in where.holder_ids}
            return sorted(found, reverse=True)
        if flagged is not None:
            return sorted(flagged, reverse=True)
        for column, value in ((self.offer, where.offer_id), (self.operator, where.operator)):
            if value:
                return [p for p in range(len(self.ids) - 1, -1, -1) if column[p] == value]
        return range(len(self.ids) - 1, -1, -1)

    def may_match(self, where: RecordFilter) -> bool:
        """False when no record of this segment can match `where`'s times."""
        if not self.ids:
            return False
        if where.issued_from is not None and max(self.issued) < where.issued_from:
            return False
        if where.issued_until is not None and min(self.issued) >= where.issued_until:
            return False
        if where.expired is True and min(self.expires) > where.now:
            return False
        return not (where.expired is False and max(self.expires) <= where.now)

    def matches(self, p: int, where: RecordFilter, status_of: Callable[[Place | None], int]) -> bool:
        if where.config_id and self.config[p] != where.config_id:
            return False
        if where.operator and self.operator[p] != where.operator:
            return False
        if where.offer_id and self.offer[p] != where.offer_id:
            return False
        if where.issued_from is not None and self.issued[p] < where.issued_from:
            return False
        if where.issued_until is not None and self.issued[p] >= where.issued_until:
            return False
        if where.status is not None and status_of(self.places[p]) != where.status:
            return False
        return where.expired is None or (self.expires[p] <= where.now) == where.expired


class LedgerIndex:
    """The index of the segments added so far (`index_segment`), kept right by `add` and `update`."""

    def __init__(self) -> None:
        self._segments: dict[int, _Segment] = {}
        self._places: dict[Place, tuple[int, int]] = {}  # place -> (segment, position)

    def has(self, number: int) -> bool:
        return number in self._segments

    def index_segment(self, number: int, rows: Iterable[Mapping[str, Any]]) -> None:
        """A segment's records (oldest first, each with its `id`): from now on its own."""
        self._segments[number] = _Segment()
        for row in rows:
            self.add(number, str(row["id"]), row)

    def add(self, number: int, record_id: str, record: Mapping[str, Any]) -> None:
        segment = self._segments.setdefault(number, _Segment())
        position = segment.add(record_id, record)
        place = segment.places[position]
        if place is not None:
            self._places[place] = (number, position)

    def update(self, number: int, record_id: str, record: Mapping[str, Any]) -> None:
        segment = self._segments.get(number)
        position = segment.positions.get(record_id) if segment is not None else None
        if segment is None or position is None:
            return
        segment.set(position, record)
        place = segment.places[position]
        if place is not None:
            self._places[place] = (number, position)

    def search(self, where: RecordFilter, statuses: Mapping[Place, int], limit: int) -> list[str]:
        """Ids of at most `limit` records matching `where`, newest first; `statuses` holds every
        place whose status is not valid (0)."""

        def status_of(place: Place | None) -> int:
            return statuses.get(place, 0) if place is not None else 0

        flagged: dict[int, list[int]] | None = None
        if where.status:  # revoked or suspended: few, found from their places
            flagged = {}
            for place, status in statuses.items():
                located = self._places.get(place)
                if status == where.status and located is not None:
                    flagged.setdefault(located[0], []).append(located[1])
        found: list[str] = []
        for number in sorted(self._segments, reverse=True):
            segment = self._segments[number]
            if (flagged is not None and number not in flagged) or not segment.may_match(where):
                continue
            for p in segment.candidates(where, flagged.get(number, []) if flagged is not None else None):
                if segment.matches(p, where, status_of):
                    found.append(segment.ids[p])
                    if len(found) >= limit:
                        return found
        return found

    def __len__(self) -> int:
        return sum(len(segment.ids) for segment in self._segments.values())
