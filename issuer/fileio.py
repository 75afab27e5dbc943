"""Durable, atomic file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

# Unix permission bits mean something; on Windows a user's data folder is private by its ACL instead.
POSIX_MODES = os.name == "posix"


def write_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write to a temporary file in the same folder, fsync it, then rename it over `path`."""
    write_atomic_stream(path, lambda out: out.write(data), mode=mode)


def write_atomic_stream(path: Path, write: Callable[[BinaryIO], object], *, mode: int = 0o600) -> None:
    """`write_atomic` for content produced by `write(file)`, e.g. a copied stream or an archive."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if POSIX_MODES:  # mkstemp already makes it owner-only; this sets the exact mode asked for
            os.chmod(tmp_name, mode)
        with os.fdopen(fd, "wb") as tmp:
            write(tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make a rename durable: the folder's entry is on disk too (POSIX; Windows cannot open folders)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private_file(path: Path, data: bytes) -> None:
    """An owner-readable-only file (keys, tokens), written atomically."""
    write_atomic(path, data, mode=0o600)
