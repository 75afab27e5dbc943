"""The data folder's manifest: which journals, history segments and signing keys it holds.

Without it, a file that went missing looks like one never made: a deleted history segment
took its ledger records with it without a word, and a deleted key index made a new signing
key, so that earlier credentials no longer verified. With it, a file the manifest names that
is gone is damage, and the start stops saying so (`DataDamaged`). It is written when what it
records changes (a new segment, a new key), atomically, and goes into backups with the rest.

A folder from before the manifest gets one at its first start, from what is there then.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from issuer.fileio import write_atomic
from issuer.storage.interfaces import DataDamaged, StorageUnavailable
from issuer.storage.journal import failure_reason

MANIFEST_FILE = "manifest.json"
FORMAT = 1
_lock = threading.Lock()  # every update reads and writes the whole file: one at a time in this process


class Manifest:
    """What the folder at `data_dir` is known to hold: `journals` (file names), `segments` (how
    many history segments, numbered from 1) and `keys` (signing key ids, oldest first)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / MANIFEST_FILE

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def read(self) -> dict[str, Any]:
        """The manifest's contents; empty when there is none yet."""
        with _lock:
            return self._read()

    def update(self, **changes: Any) -> None:
        """Record `changes` (a value replaces the one stored); written only when something changes."""
        with _lock:
            stored = self._read()
            updated = {**stored, "format": FORMAT, **changes}
            if updated == stored:
                return
            try:
                write_atomic(self.path, (json.dumps(updated, indent=1) + "\n").encode())
            except OSError as error:
                raise StorageUnavailable(failure_reason(error)) from error

    def _read(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            contents = json.loads(raw)
        except ValueError:
            contents = None
        if not isinstance(contents, dict) or contents.get("format") != FORMAT or not _well_formed(contents):
            raise DataDamaged(f"{self.path} cannot be read")
        return contents


def _well_formed(contents: dict[str, Any]) -> bool:
    journals, segments, keys = contents.get("journals", []), contents.get("segments", 0), contents.get("keys", [])
    return (
        isinstance(journals, list)
        and all(isinstance(name, str) for name in journals)
        and isinstance(segments, int)
        and not isinstance(segments, bool)
        and segments >= 0
        and isinstance(keys, list)
        and all(isinstance(kid, str) for kid in keys)
    )
