"""Backup and restore of the data folder as one tar.gz archive.

A backup can be taken while the issuer runs: the files are copied under the store lock
(every TinyDB access holds it, so no change is half written), then packed outside it, so
issuance waits only for the copy. The archive holds `frontdesk-backup.json` (format,
date, and each file's size and SHA-256) and the files under `data/`. It contains the
signing keys and the admin token: keep it as safe as the data folder.

A backup holds the issuer's own files only (`DATA_FILES`), and a restore writes nothing else:
an archive naming any other file (`server.json`, a staged restore, files someone added) is
refused, naming them. A restore checks the whole archive before it touches the data folder:
regular files only, no absolute paths, no `..`, every file listed in the manifest with its
digest, and the signing keys' index present with its keys. Files are written owner-only (0600, folders
0700), whatever modes the archive claims. A restore refuses a folder that is not empty
unless forced; forced, the current contents move to a sibling folder
`<data>.before-restore-<time>` instead of being deleted. The restored status lists are closed:
the restored ledger does not know what was issued after the backup, so new credentials go to a
new list, numbered past every list of the backup and of the data it replaces. It holds the folder's lock, so it
refuses while an issuer runs there: the desktop app stages a restore instead, applied at its
next start.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from issuer import __version__
from issuer.config import SettingsError
from issuer.fileio import write_atomic_stream
from issuer.storage.folder_lock import LOCK_FILES, FolderInUse, FolderLock, holder
from issuer.storage.store import STATUS as STATUS_FILE
from issuer.storage.store import close_status_lists, status_list_ids

FORMAT = 1
MANIFEST = "frontdesk-backup.json"
DATA_PREFIX = "data/"
BACKUP_NAME = "frontdesk-backup.tar.gz"
PENDING_RESTORE = ".restore-pending.tar.gz"
KEY_INDEX = "keys/keys.json"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
# The files of a data folder: all that a backup takes and a restore writes.
KID = r"[A-Za-z0-9_-]{1,86}"  # a key's RFC 7638 thumbprint, base64url
DATA_FILES = re.compile(
    r"settings\.json|manifest\.json|admin-token|state\.json|desk\.json|status\.json"
    r"|history/\d{6}\.json"
    rf"|keys/keys\.json|keys/{KID}\.pem|keys/[a-z-]+\.key"
    r"|credential_types/[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\.(?:json|toml)"
    # the issuer's certificates (its CA and the chains of its keys) and its request encryption keys
    rf"|certificates/trust-anchor\.pem|certificates/[a-z]+-key\.pem|certificates/chains/{KID}\.pem"
    rf"|encryption-keys/keys\.json|encryption-keys/{KID}\.pem"
    # wallet providers' trust anchors, which the operator puts at the top of the folder (HAIP)
    r"|[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\.pem"
)
MAX_TOTAL_BYTES = 8 * 1024**3
CHUNK = 1024 * 1024


class BackupError(SettingsError):
    """A backup or restore that cannot be done, with a one-line reason."""


@dataclass(frozen=True)
class BackupInfo:
    files: int
    size: int  # bytes of data, before compression
    created_at: int


@dataclass(frozen=True)
class RestoreResult:
    files: int
    created_at: int  # when the backup was taken
    replaced: Path | None  # where the previous contents went, when the folder was not empty


def create_backup(
    data_dir: Path, destination: Path | IO[bytes], *, lock: AbstractContextManager[Any] | None = None
) -> BackupInfo:
    """Write the data folder to `destination` (a path, replaced atomically, or a binary file).

    `lock` is the store's lock when the issuer runs; the files are copied while it is held.
    """
    if not data_dir.is_dir():
        raise BackupError(f"{data_dir} is not a data folder")
    staging = Path(tempfile.mkdtemp(prefix=".backup-", dir=data_dir))
    try:
        with lock if lock is not None else nullcontext():
            names = _copy_data(data_dir, staging)
        created_at = int(time.time())
        files = {name: _digest(staging / name) for name in names}
        manifest = {
            "format": FORMAT,
            "created_at": created_at,
            "issuer_version": __version__,
            "files": {name: {"size": size, "sha256": digest} for name, (digest, size) in files.items()},
        }
        if isinstance(destination, Path):
            write_atomic_stream(destination, lambda out: _pack(out, staging, manifest))
        else:
            _pack(destination, staging, manifest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BackupInfo(len(files), sum(size for _, size in files.values()), created_at)


def check_archive(archive: Path) -> RestoreResult:
    """Read and check a whole archive without writing anything."""
    manifest, names = _read_archive(archive, None)
    return RestoreResult(len(names), int(manifest.get("created_at", 0)), None)


def restore_backup(archive: Path, data_dir: Path, *, force: bool = False) -> RestoreResult:
    """Restore an archive into `data_dir` (created if missing), holding the folder's lock meanwhile, so
    that no issuer runs on it."""
    if data_dir.exists() and not data_dir.is_dir():
        raise BackupError(f"{data_dir} is not a folder")
    created = not data_dir.exists()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = FolderLock(data_dir, "frontdesk-issuer restore")
    try:
        lock.acquire()
    except FolderInUse:
        in_use = f"an issuer is running on {data_dir} (in use by {holder(data_dir)})"
        raise BackupError(f"{in_use}; stop it before restoring") from None
    try:
        return restore_locked(archive, data_dir, force=force)
    finally:
        lock.release()
        if created and not any(data_dir.iterdir()):
            data_dir.rmdir()


def restore_locked(archive: Path, data_dir: Path, *, force: bool = False) -> RestoreResult:
    """`restore_backup` for a caller that holds the data folder's lock (an issuer at its start)."""
    existing = sorted(entry for entry in data_dir.iterdir() if entry.name not in LOCK_FILES)
    if existing and not force:
        raise BackupError(f"{data_dir} is not empty; restore into an empty folder, or force it (the data moves aside)")
    staging = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}.restore-", dir=data_dir.parent))
    try:
        manifest, names = _read_archive(archive, staging)
        if (staging / STATUS_FILE).exists():
            close_status_lists(staging / STATUS_FILE, beyond=max(status_list_ids(data_dir / STATUS_FILE), default=0))
        replaced = None
        if existing:
            replaced = data_dir.parent / f"{data_dir.name}.before-restore-{time.strftime('%Y%m%d-%H%M%S')}"
            replaced.mkdir(mode=0o700)
            for entry in existing:
                shutil.move(str(entry), str(replaced / entry.name))
        for entry in staging.iterdir():
            os.replace(entry, data_dir / entry.name)
        os.chmod(data_dir, 0o700)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreResult(len(names), int(manifest.get("created_at", 0)), replaced)


def stage_restore(archive: Path, data_dir: Path) -> RestoreResult:
    """Check an archive and keep a copy in the data folder, restored at the issuer's next start."""
    checked = check_archive(archive)
    with archive.open("rb") as source:
        write_atomic_stream(data_dir / PENDING_RESTORE, lambda out: shutil.copyfileobj(source, out, CHUNK))
    return checked


def apply_pending_restore(data_dir: Path) -> RestoreResult | None:
    """Restore a staged archive before anything opens the data folder (issuer start, which holds the
    folder's lock)."""
    pending = data_dir / PENDING_RESTORE
    if not pending.is_file():
        return None
    held = data_dir.parent / f".{data_dir.name}{PENDING_RESTORE}"
    os.replace(pending, held)
    try:
        result = restore_locked(held, data_dir, force=True)
    except BackupError as error:
        os.replace(held, pending)
        raise BackupError(
            f"the restore staged in {pending} failed: {error}; delete that file to start as before"
        ) from error
    held.unlink()
    return result


def is_data_file(name: str) -> bool:
    """Whether `name` (relative, with '/') is one of the files a data folder holds."""
    return DATA_FILES.fullmatch(name) is not None


def data_files(data_dir: Path) -> list[str]:
    """The issuer's own files in `data_dir`, relative, with '/': what a backup or a copy takes."""
    return sorted(
        name
        for path in data_dir.rglob("*")
        if path.is_file() and not path.is_symlink() and is_data_file(name := path.relative_to(data_dir).as_posix())
    )


def _copy_data(data_dir: Path, staging: Path) -> list[str]:
    """Copy the data files (regular files named in DATA_FILES: no server.json, no dot files) into `staging`."""
    names = []
    for folder, dirs, files in os.walk(data_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        relative = Path(folder).relative_to(data_dir)
        for file_name in sorted(files):
            if not is_data_file((relative / file_name).as_posix()):
                continue
            source = Path(folder) / file_name
            try:
                if not stat.S_ISREG(source.lstat().st_mode):
                    continue
                target = staging / relative / file_name
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                shutil.copyfile(source, target)
            except FileNotFoundError:  # removed after the listing: not part of the data any more
                continue
            names.append((relative / file_name).as_posix())
    return names


def _pack(out: IO[bytes], staging: Path, manifest: dict[str, Any]) -> None:
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as tar:
        body = json.dumps(manifest, indent=1).encode()
        tar.addfile(_member(MANIFEST, len(body), manifest["created_at"]), io.BytesIO(body))
        for name, entry in manifest["files"].items():
            with (staging / name).open("rb") as source:
                tar.addfile(_member(DATA_PREFIX + name, entry["size"], manifest["created_at"]), source)


def _member(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.size, member.mtime, member.mode = size, mtime, 0o600
    return member


def _read_archive(archive: Path, target: Path | None) -> tuple[dict[str, Any], list[str]]:
    """Check every member of `archive`; with `target`, also write the data files there."""
    found: dict[str, tuple[str, int]] = {}
    manifest: dict[str, Any] | None = None
    key_index = b""
    total = 0
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                if not member.isreg():
                    raise BackupError(f"{archive}: {member.name!r} is not a regular file")
                total += member.size
                if total > MAX_TOTAL_BYTES:
                    raise BackupError(f"{archive}: larger than a data folder can be")
                source = tar.extractfile(member)
                if source is None:
                    raise BackupError(f"{archive}: {member.name!r} cannot be read")
                if member.name == MANIFEST and manifest is None:
                    manifest = _manifest(archive, source.read(MAX_MANIFEST_BYTES + 1))
                    continue
                name = _data_name(archive, member.name)
                if manifest is not None and name not in manifest["files"]:
                    raise BackupError(f"{archive}: damaged, these files differ from its manifest: {name}")
                if not is_data_file(name):
                    raise BackupError(f"{archive}: holds files no backup writes: {name}")
                if name in found:
                    raise BackupError(f"{archive}: {member.name!r} appears twice")
                if name == KEY_INDEX:
                    key_index = source.read(MAX_MANIFEST_BYTES)
                    source = io.BufferedReader(io.BytesIO(key_index))
                found[name] = _extract(source, target / name if target else None)
    except (OSError, EOFError, tarfile.TarError, UnicodeDecodeError) as error:
        raise BackupError(f"{archive}: not a readable frontdesk backup ({error})") from error
    if manifest is None:
        raise BackupError(f"{archive}: not a frontdesk backup ({MANIFEST} is missing)")
    listed = {name: (entry.get("sha256"), entry.get("size")) for name, entry in manifest["files"].items()}
    if listed != found:
        wrong = sorted(set(listed) ^ set(found)) or sorted(n for n in found if listed.get(n) != found[n])
        raise BackupError(f"{archive}: damaged, these files differ from its manifest: {', '.join(wrong[:5])}")
    _check_layout(archive, found, key_index)
    return manifest, sorted(found)


def _manifest(archive: Path, raw: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(raw) if len(raw) <= MAX_MANIFEST_BYTES else None
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise BackupError(f"{archive}: {MANIFEST} cannot be read")
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive}: backup format {manifest.get('format')!r} is not supported (expected {FORMAT})")
    if not all(isinstance(entry, dict) for entry in manifest["files"].values()):
        raise BackupError(f"{archive}: {MANIFEST} cannot be read")
    strange = sorted(name for name in manifest["files"] if not isinstance(name, str) or not is_data_file(name))
    if strange:
        more = f" and {len(strange) - 3} more" if len(strange) > 3 else ""
        raise BackupError(f"{archive}: holds files no backup writes: {', '.join(map(str, strange[:3]))}{more}")
    return manifest


def _data_name(archive: Path, member: str) -> str:
    """The member's path inside the data folder; anything that could land outside it is refused."""
    name = member[len(DATA_PREFIX) :] if member.startswith(DATA_PREFIX) else ""
    parts = name.split("/")
    if not name or any(part in ("", ".", "..") for part in parts) or any(c in name for c in "\\:\0"):
        raise BackupError(f"{archive}: unexpected member {member!r}")
    return name


def _extract(source: IO[bytes], target: Path | None) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    out = None
    if target is not None:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        out = os.fdopen(os.open(target, flags, 0o600), "wb")
    try:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if out is not None:
                out.write(chunk)
        if out is not None:
            out.flush()
            os.fsync(out.fileno())
    finally:
        if out is not None:
            out.close()
    return digest.hexdigest(), size


def _check_layout(archive: Path, found: dict[str, tuple[str, int]], key_index: bytes) -> None:
    """A data folder has the signing keys' index and every key it names."""
    if KEY_INDEX not in found:
        raise BackupError(f"{archive}: not a data folder backup ({KEY_INDEX} is missing)")
    try:
        index = json.loads(key_index)
        kids = [entry["kid"] for entry in index["keys"]]
        active = index["active"]
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{archive}: {KEY_INDEX} cannot be read") from error
    missing = [kid for kid in kids if f"keys/{kid}.pem" not in found]
    if missing or active not in kids:
        raise BackupError(f"{archive}: signing keys are missing: {', '.join(missing) or active}")


def _digest(path: Path) -> tuple[str, int]:
    with path.open("rb") as source:
        return _extract(source, None)
