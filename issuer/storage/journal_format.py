"""The journal file format: a header line, then one checksummed JSON entry per line.

    frontdesk-journal 2
    1c291ca3 {"snapshot":{...}}
    8f2d0b11 {"t":"offers","i":3,"d":{...}}
    03ab77e4 {"t":"offers","i":3}

Each line is the CRC-32 of its JSON (eight hex digits), a space and the JSON; an entry is a
snapshot of every table, a document's new value, or its removal. A write is whole lines, and it
is fsynced or undone before anyone is answered, so the only damage a crash can leave is a torn
last line: bytes after the last newline, which were never acknowledged and are dropped. Anything
else (a line whose checksum fails, a shape no writer makes, NUL bytes where zeros were written
over the tail) is damage, named by its line.

Files written by earlier versions have no header and no checksums; they load as before (a last
line that does not parse is torn, any other is damage) and are written in this format at their
next compaction.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

HEADER = b"frontdesk-journal 2\n"
HEADER_PREFIX = b"frontdesk-journal "
CHECKSUM_LENGTH = 8


@dataclass(frozen=True)
class Damage:
    line: int  # 1-based, counting the header
    reason: str


@dataclass
class Scan:
    """What a journal file holds: its entries in order, up to the first damage (or all readable ones)."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    good_length: int = 0  # bytes up to the end of the last whole line
    torn: bool = False  # bytes after the last whole line were dropped
    legacy: bool = False  # written by an earlier version: no header, no checksums
    damage: list[Damage] = field(default_factory=list)


def encode(entry: Mapping[str, Any]) -> bytes:
    """One checksummed line."""
    body = json.dumps(entry, separators=(",", ":")).encode()
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def encode_legacy(entry: Mapping[str, Any]) -> bytes:
    """One line in the format of earlier versions, appended to their files until the next compaction."""
    return json.dumps(entry, separators=(",", ":")).encode() + b"\n"


def scan(raw: bytes, *, salvage: bool = False) -> Scan:
    """Read a journal. Stops at the first damage unless `salvage`, which keeps every readable entry
    and lists every damaged line (for `frontdesk-issuer repair`)."""
    if not raw.startswith(HEADER_PREFIX):
        return _scan_legacy(raw, salvage)
    result = Scan(good_length=len(HEADER))
    if not raw.startswith(HEADER):
        result.damage.append(Damage(1, "its header names a journal format this version does not know"))
        return result
    *lines, tail = raw[len(HEADER) :].split(b"\n")
    position = len(HEADER)
    for number, line in enumerate(lines, start=2):
        position += len(line) + 1
        if line.strip():
            entry, reason = _checked(line)
            if entry is None:
                result.damage.append(Damage(number, reason))
                if not salvage:
                    return result
            else:
                result.entries.append(entry)
        result.good_length = position
    if tail:
        if b"\0" in tail or not _plausible_tail(tail):
            result.damage.append(Damage(len(lines) + 2, "it ends in bytes no write makes (zeros or noise)"))
        else:
            result.torn = True
    return result


def check(raw: bytes) -> Damage | None:
    """The first damage of a journal, or None; in this format by the checksums alone (no JSON is
    parsed), cheap enough to run over the whole history at every start."""
    if not raw.startswith(HEADER):
        found = scan(raw).damage
        return found[0] if found else None
    *lines, tail = raw[len(HEADER) :].split(b"\n")
    for number, line in enumerate(lines, start=2):
        if line.strip() and not _checksum_matches(line):
            return Damage(number, "its checksum fails")
    if tail and (b"\0" in tail or not _plausible_tail(tail)):
        return Damage(len(lines) + 2, "it ends in bytes no write makes (zeros or noise)")
    return None


def _scan_legacy(raw: bytes, salvage: bool) -> Scan:
    """An earlier version's file: a last line that is not JSON was cut off by a crash (unless zeros
    were written over it); any other unreadable line is damage."""
    result = Scan(legacy=True)
    lines = raw.split(b"\n")
    last = max((n for n, line in enumerate(lines) if line.strip()), default=-1)
    position = 0
    for index, line in enumerate(lines):
        end = position + len(line) + (1 if index < len(lines) - 1 else 0)
        if line.strip():
            entry, reason = _parsed(line)
            if entry is not None and reason is None:
                result.entries.append(entry)
            elif index == last and reason == "it is not JSON" and b"\0" not in line and not salvage:
                result.torn = True
                return result
            else:
                result.damage.append(Damage(index + 1, reason or "it cannot be read"))
                if not salvage:
                    return result
        position = end
        result.good_length = position
    return result


def _checked(line: bytes) -> tuple[dict[str, Any] | None, str]:
    """A line's entry once its checksum matches, or why it is damaged."""
    if not _checksum_matches(line):
        return None, "its checksum fails"
    entry, reason = _parsed(line[CHECKSUM_LENGTH + 1 :])
    return entry, reason or ""


def _checksum_matches(line: bytes) -> bool:
    if len(line) <= CHECKSUM_LENGTH + 1 or line[CHECKSUM_LENGTH : CHECKSUM_LENGTH + 1] != b" ":
        return False
    try:
        expected = int(line[:CHECKSUM_LENGTH], 16)
    except ValueError:
        return False
    return zlib.crc32(line[CHECKSUM_LENGTH + 1 :]) == expected


def _parsed(body: bytes) -> tuple[dict[str, Any] | None, str | None]:
    try:
        entry = json.loads(body)
    except ValueError:
        return None, "it is not JSON"
    if _well_formed(entry):
        return entry, None
    return None, "it is not an entry of this journal"


def _well_formed(entry: Any) -> bool:
    """A snapshot of tables of documents, or one document's new value or removal."""
    if not isinstance(entry, dict):
        return False
    if set(entry) == {"snapshot"}:
        tables = entry["snapshot"]
        return isinstance(tables, dict) and all(
            isinstance(rows, dict) and all(isinstance(row, dict) for row in rows.values()) for rows in tables.values()
        )
    if not isinstance(entry.get("t"), str) or not isinstance(entry.get("i"), int) or isinstance(entry["i"], bool):
        return False
    return set(entry) == {"t", "i"} or (set(entry) == {"t", "i", "d"} and isinstance(entry["d"], dict))


def _plausible_tail(tail: bytes) -> bool:
    """Whether bytes after the last newline can be the start of a line that a write was cutting off."""
    digits = tail[:CHECKSUM_LENGTH]
    if any(byte not in b"0123456789abcdef" for byte in digits):
        return False
    return len(tail) <= CHECKSUM_LENGTH or tail[CHECKSUM_LENGTH : CHECKSUM_LENGTH + 1] == b" "
