"""`frontdesk-issuer repair`: a damaged data folder made one the issuer starts from again.

Each journal with damage is moved aside into `<data>/damaged/` (outside what backups take) and
written anew from every line of it that can still be read, in order, so that only what the
damaged lines said is lost. A journal or history segment the manifest lists but that is gone is
made again, empty, and the loss is said. The manifest is then written from what the folder
holds. The signing keys are repaired by `issuer.crypto.keys.repair_key_index`; the status lists
need nothing, the next start checks them against the ledger. Run with the issuer stopped (the
caller holds the data folder's lock); each change is reported in one line.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from issuer.fileio import write_atomic
from issuer.storage.history import SEGMENT_NAME
from issuer.storage.interfaces import DataDamaged
from issuer.storage.journal import replay
from issuer.storage.journal_format import HEADER, encode, scan
from issuer.storage.manifest import Manifest
from issuer.storage.store import DESK, STATE, STATUS

DAMAGED_FOLDER = "damaged"
LOST = {
    STATE: "its live offers, waiting issuances and sign-ins are lost",
    DESK: "its operator accounts and registered holders are lost",
    STATUS: "the next start rebuilds it from the ledger",
}


def repair_journals(data_dir: Path) -> list[str]:
    """Repair every journal of `data_dir`; what was done, a line each (nothing: nothing was wrong)."""
    done: list[str] = []
    manifest = Manifest(data_dir)
    try:
        listed = manifest.read()
    except DataDamaged:
        listed = {}
        aside = _move_aside(data_dir, manifest.path)
        done.append(f"{manifest.path} could not be read: made again from the files there ({aside} was it)")
    for name in (STATE, DESK, STATUS):
        path = data_dir / name
        if path.exists() and path.stat().st_size:
            done += _salvage(data_dir, path)
        elif name in listed.get("journals", []):
            _new_journal(path)
            done.append(f"{path} was {'empty' if path.exists() else 'missing'} and starts empty: {LOST[name]}")
    history = data_dir / "history"
    numbers = sorted(int(match.group(1)) for p in history.glob("*.json") if (match := SEGMENT_NAME.match(p.name)))
    total = max([int(listed.get("segments", 0)), *numbers])
    for number in range(1, total + 1):
        path = history / f"{number:06d}.json"
        if path.exists():
            done += _salvage(data_dir, path)
        else:
            history.mkdir(mode=0o700, exist_ok=True)
            _new_journal(path)
            done.append(
                f"{path} was missing and starts empty: its ledger records, finished offers and audit entries are lost"
            )
    manifest.update(journals=[STATE, DESK, STATUS], segments=total)
    return done


def _salvage(data_dir: Path, path: Path) -> list[str]:
    """A damaged journal moved aside and written anew from its readable lines."""
    raw = path.read_bytes()
    if not scan(raw).damage:
        return []
    salvaged = scan(raw, salvage=True)
    data, _ = replay(salvaged.entries)
    aside = _move_aside(data_dir, path)
    write_atomic(path, HEADER + encode({"snapshot": data}))
    first = salvaged.damage[0]
    lines = f"{len(salvaged.damage)} damaged lines" if len(salvaged.damage) > 1 else "1 damaged line"
    return [
        f"{path}: {lines} left out (line {first.line}: {first.reason}), {len(salvaged.entries)} kept; "
        f"the damaged file is {aside}"
    ]


def _new_journal(path: Path) -> None:
    write_atomic(path, HEADER + encode({"snapshot": {}}))


def _move_aside(data_dir: Path, path: Path) -> Path:
    folder = data_dir / DAMAGED_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    name = path.relative_to(data_dir).as_posix().replace("/", "-")
    aside = folder / f"{name}.{time.strftime('%Y%m%d-%H%M%S')}"
    os.replace(path, aside)
    return aside
