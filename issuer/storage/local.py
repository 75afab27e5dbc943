"""What one process keeps for itself beside the journals: the replay set in memory, the key files in
the data folder's owner-only `keys` folder."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

from issuer.fileio import write_private_file


class MemoryReplaySet:
    """A `ReplaySet` in memory, bounded by what is unexpired: expired values are refused on their
    own anyway. It dies with the process, so what it guards must not outlive it either (a nonce
    key made at start)."""

    shared = False

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._expiries: deque[tuple[float, str]] = deque()  # roughly by expiry
        self._lock = threading.Lock()

    def first_time(self, value: str, expires_at: float, now: float) -> bool:
        with self._lock:
            while self._expiries and self._expiries[0][0] < now:
                self._seen.discard(self._expiries.popleft()[1])
            if value in self._seen:
                return False
            self._seen.add(value)
            self._expiries.append((expires_at, value))
        return True


class FolderKeyFiles:
    """`KeyFiles` as files in one folder, mode 0600 in a 0700 folder. The files themselves are
    in clear: the signing keys encrypt their PEM when there is a passphrase (`issuer.crypto.keys`)."""

    encrypted = False

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)

    def read(self, name: str) -> bytes | None:
        path = self.folder / name
        return path.read_bytes() if path.is_file() else None

    def write(self, name: str, content: bytes) -> None:
        write_private_file(self.folder / name, content)

    def create(self, name: str, content: bytes) -> bytes:
        existing = self.read(name)
        if existing is not None:
            return existing
        self.write(name, content)
        return content

    def watch(self, changed: Callable[[], None]) -> None:
        """Nobody else writes this folder while the issuer runs (one process owns a data folder)."""
