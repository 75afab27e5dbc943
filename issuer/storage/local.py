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
    """`KeyFiles` as files in one folder, mode 0600 in 0700 folders (a name may have a folder of its
    own: `chains/<kid>.pem`). The files themselves are in clear: the keys encrypt their PEM when
    there is a passphrase (`issuer.crypto.keys`). `make`: create the folder now, not at the first write."""

    encrypted = False

    def __init__(self, folder: Path, *, make: bool = True) -> None:
        self.folder = folder
        if make:
            self._make(folder)

    def read(self, name: str) -> bytes | None:
        path = self.folder / name
        return path.read_bytes() if path.is_file() else None

    def write(self, name: str, content: bytes) -> None:
        path = self.folder / name
        folder = self.folder
        self._make(folder)
        for step in path.parent.relative_to(self.folder).parts:
            folder = folder / step
            self._make(folder)
        write_private_file(path, content)

    def delete(self, name: str) -> None:
        (self.folder / name).unlink(missing_ok=True)

    def part(self, name: str) -> FolderKeyFiles:
        """The folder beside this one in the data folder (`certificates`, `encryption-keys`), made when
        first written."""
        return FolderKeyFiles(self.folder.parent / name, make=False)

    @staticmethod
    def _make(folder: Path) -> None:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)

    def create(self, name: str, content: bytes) -> bytes:
        existing = self.read(name)
        if existing is not None:
            return existing
        self.write(name, content)
        return content

    def watch(self, changed: Callable[[], None]) -> None:
        """Nobody else writes this folder while the issuer runs (one process owns a data folder)."""
