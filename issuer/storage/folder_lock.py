"""One process per data folder: an exclusive OS lock, held for as long as the process uses the folder.

Two processes on one folder each keep their own copy of the journals in memory and overwrite
each other's changes: a code redeemed at each, records lost at the next start. So `serve`, the
desktop app, `restore`, `repair` and `keys encrypt|decrypt` take this lock first. It is an OS
lock (`filelock`: flock on Linux and macOS, LockFileEx on Windows), so the system releases it
when its holder dies, however it dies: a stale lock never blocks. Next to it, a small file says
who holds it (process id, since when, which command), for the one line a second process prints.
Neither file is data: backups leave them out and a restore leaves them in place.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from issuer.config import SettingsError
from issuer.fileio import write_private_file

LOCK_FILE = ".frontdesk.lock"
HOLDER_FILE = ".frontdesk.lock.json"
LOCK_FILES = (LOCK_FILE, HOLDER_FILE)


class FolderInUse(SettingsError):
    """The data folder is locked by another process; the message names it."""


class FolderLock:
    """The data folder's lock, as a context manager or with `acquire` and `release`."""

    def __init__(self, data_dir: Path, command: str) -> None:
        self.data_dir = data_dir
        self.command = command
        self._lock = FileLock(data_dir / LOCK_FILE, timeout=0, thread_local=False, fallback_to_soft=False)

    @property
    def held(self) -> bool:
        return bool(self._lock.is_locked)

    def acquire(self) -> None:
        """Take the lock, or FolderInUse naming the process that holds it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            raise FolderInUse(f"{self.data_dir} is in use by {holder(self.data_dir)}; stop it first") from None
        info = {"pid": os.getpid(), "since": int(time.time()), "command": self.command}
        write_private_file(self.data_dir / HOLDER_FILE, json.dumps(info).encode())

    def release(self) -> None:
        """Give the folder up, leaving it as it was: both files go (a process waiting on the lock
        file sees it unlinked and takes a new one, as filelock does)."""
        if self._lock.is_locked:
            for name in (HOLDER_FILE, LOCK_FILE):
                with contextlib.suppress(OSError):  # Windows keeps a locked file until it is closed
                    (self.data_dir / name).unlink(missing_ok=True)
            self._lock.release()

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()


def holder(data_dir: Path) -> str:
    """Who holds the lock, as far as its holder file says."""
    try:
        info = json.loads((data_dir / HOLDER_FILE).read_text(encoding="utf-8"))
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(info["since"])))
        return f"process {int(info['pid'])} ({str(info['command'])[:80]}, since {since})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"
