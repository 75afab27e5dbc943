"""Backup and restore of the data folder: consistent under load, checked on the way back in."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from issuer.errors import ServiceError
from issuer.records.holders import HolderRequest
from issuer.runtime import IssuerRuntime
from issuer.service import IssuerService, OfferRequest
from issuer.storage.backup import (
    MANIFEST,
    PENDING_RESTORE,
    BackupError,
    check_archive,
    create_backup,
    restore_backup,
)
from issuer.storage.journal_format import scan
from issuer.storage.store import JournalStore
from tests.conftest import RunningIssuer, start_issuer
from wallet.client import TestWallet

BADGE = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}
PASSWORD = "a long enough password"
BACKUPS = 10
SLOW_DISK = 0.004  # seconds added to each file copy: widens the window in which a write could tear a backup


def credential_ids(service: IssuerService) -> set[str]:
    return {r["id"] for batch in service.store.ledger.batches() for r in batch}


def issue(service: IssuerService, url: str, employee_id: str) -> None:
    offer = service.offers.create(OfferRequest(["employee_badge"], {**BADGE, "employee_id": employee_id}))
    with TestWallet() as wallet:
        [received] = wallet.receive(offer.offer_uri)
    assert received.credentials


def check_journals(data_dir: Path) -> int:
    """Every line of every journal parses: no file was copied in the middle of a write."""
    journals = [data_dir / "state.json", data_dir / "desk.json", *sorted((data_dir / "history").glob("*.json"))]
    for journal in journals:
        raw = journal.read_bytes()
        assert raw.endswith(b"\n"), journal  # ends with a complete line
        found = scan(raw)
        assert not found.damage and not found.torn, (journal, found.damage)
    return len(journals)


def ledger(data_dir: Path) -> tuple[set[str], set[str]]:
    """The credential records, and the records the offers (archived and live) say they issued.

    An offer is live (state file) or archived (history), never both: a copy of the state file
    from before an issuance and of the history from after it would show the offer twice.
    """
    store = JournalStore(data_dir)
    try:
        records = list(store.history.scan("records"))
        live = [dict(o) for o in store.offers.all()]
    finally:
        store.close()
    credentials = {r["id"] for r in records if r.get("kind") == "credential"}
    archived = [r for r in records if r.get("kind") == "offer"]
    assert not {o["offer_id"] for o in live} & {o["offer_id"] for o in archived}, "an offer is live and archived"
    issued = {rid for offer in archived + live for entry in offer.get("issued", []) for rid in entry["record_ids"]}
    return credentials, issued


@pytest.fixture
def busy_issuer(tmp_path: Path) -> Iterator[tuple[IssuerRuntime, IssuerService]]:
    runtime = start_issuer(tmp_path / "data", threads=4)
    assert runtime.service is not None
    try:
        yield runtime, runtime.service
    finally:
        runtime.stop()


def test_a_backup_taken_during_issuance_restores_a_consistent_issuer(
    busy_issuer: tuple[IssuerRuntime, IssuerService], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Copied without the store lock, this test fails (an offer comes back both live and archived)."""
    runtime, service = busy_issuer
    copy = shutil.copyfile

    def slow_copy(source: Any, target: Any) -> Any:
        threading.Event().wait(SLOW_DISK)
        return copy(source, target)

    monkeypatch.setattr("issuer.storage.backup.shutil.copyfile", slow_copy)
    service.operators.create_first("Ada", PASSWORD)
    holder = service.desk.register_holder(HolderRequest("Grace", "Hopper", "passport", "X1234567"), "Ada")
    waiting = service.offers.create(OfferRequest(["employee_badge"], BADGE, tx_code=True, operator="Ada"))
    kid = service.keys.active.kid
    for n in range(3):
        issue(service, runtime.issuer_url, f"E-{n}")

    stop, failures, issued = threading.Event(), [], []

    def wallet_loop(worker: int) -> None:
        n = 0
        while not stop.is_set():
            try:
                issue(service, runtime.issuer_url, f"W{worker}-{n}")
                issued.append(1)
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                failures.append(error)
            n += 1

    workers = [threading.Thread(target=wallet_loop, args=(w,)) for w in range(4)]
    for worker in workers:
        worker.start()
    archives: list[tuple[Path, set[str], set[str]]] = []
    try:
        while len(issued) < 8 and not failures:
            threading.Event().wait(0.01)
        token = runtime_token(runtime)
        for n in range(BACKUPS):  # through the service, and every third through the admin API, all under load
            archive = tmp_path / f"backup-{n}.tar.gz"
            before = credential_ids(service)
            if n % 3 != 2:
                info = service.admin.backup(archive, operator="Ada")
                assert info["files"] >= 8
            else:
                response = requests.get(
                    f"{runtime.admin_url}/api/backup", headers={"Authorization": f"Bearer {token}"}, timeout=30
                )
                assert response.status_code == 200 and response.headers["Content-Type"] == "application/gzip"
                archive.write_bytes(response.content)
            after = credential_ids(service)
            archives.append((archive, before, after))
            goal = len(issued) + 2
            while len(issued) < goal and not failures:
                threading.Event().wait(0.005)
    finally:
        stop.set()
        for worker in workers:
            worker.join(30)
    assert not failures, failures[:3]
    assert any(before != after for _, before, after in archives), "no issuance ran during any backup"

    for n, (archive, before, after) in enumerate(archives):
        restored = tmp_path / f"restored-{n}"
        result = restore_backup(archive, restored)
        assert result.replaced is None and result.files >= 8
        assert check_journals(restored) >= 3
        credentials, issued_by_offers = ledger(restored)
        assert before <= credentials <= after  # the ledger as it was at one moment during the call
        assert credentials == issued_by_offers  # no record without its offer's step, nor the reverse
        assert not (restored / "server.json").exists()
        for path in restored.rglob("*"):
            assert path.stat().st_mode & 0o777 == (0o700 if path.is_dir() else 0o600), path

    again = start_issuer(tmp_path / "restored-0")
    try:
        assert again.service is not None
        jwks = requests.get(f"{again.issuer_url}/jwks", timeout=5).json()
        assert kid in [key["kid"] for key in jwks["keys"]]
        assert again.service.keys.active.kid == kid
        assert again.service.operators.login("Ada", PASSWORD).name == "Ada"
        assert again.service.desk.holder(holder["holder_id"])["given_name"] == "Grace"
        assert "backup_created" not in {e["action"] for e in again.service.desk.audit_log()}  # written after the copy
        # The offer made before the backup still redeems: its code and transaction code hashes came back.
        code = waiting.credential_offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        token = again.service.tokens.redeem_pre_authorized_code(code["pre-authorized_code"], waiting.tx_code, None)
        assert token.access_token
        issue(again.service, again.issuer_url, "after-restore")  # and the restored issuer issues
    finally:
        again.stop()
    assert "backup_created" in {e["action"] for e in service.desk.audit_log(operator="Ada")}


def runtime_token(runtime: IssuerRuntime) -> str:
    return (runtime.settings.data_dir / "admin-token").read_text().strip()


def test_the_admin_backup_needs_the_token(issuer: RunningIssuer) -> None:
    refused = requests.get(f"{issuer.admin_url}/api/backup", timeout=5)
    assert refused.status_code == 401
    response = requests.get(
        f"{issuer.admin_url}/api/backup", headers={"Authorization": f"Bearer {issuer.admin_token}"}, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == 'attachment; filename="frontdesk-backup.tar.gz"'
    assert int(response.headers["Content-Length"]) == len(response.content)
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as tar:
        names = tar.getnames()
    assert names[0] == MANIFEST and "data/keys/keys.json" in names and "data/admin-token" in names
    assert "data/server.json" not in names and not any("/." in name for name in names)
    # Wallet-facing port: no such thing.
    assert requests.get(f"{issuer.url}/api/backup", timeout=5).status_code == 404


# ----- restore: where it may go -----


@pytest.fixture
def archive(issuer: RunningIssuer, tmp_path: Path) -> Path:
    path = tmp_path / "backup.tar.gz"
    issuer.service.admin.backup(path)
    assert path.stat().st_mode & 0o777 == 0o600  # it holds the keys
    return path


def test_restore_refuses_a_running_issuer_and_a_non_empty_folder(
    issuer: RunningIssuer, archive: Path, tmp_path: Path
) -> None:
    with pytest.raises(BackupError, match="an issuer is running on"):
        restore_backup(archive, issuer.data_dir, force=True)
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("keep me")
    with pytest.raises(BackupError, match="is not empty"):
        restore_backup(archive, occupied)
    assert sorted(p.name for p in occupied.iterdir()) == ["notes.txt"]
    result = restore_backup(archive, occupied, force=True)
    assert result.replaced is not None and result.replaced.name.startswith("occupied.before-restore-")
    assert (result.replaced / "notes.txt").read_text() == "keep me"
    assert result.replaced.stat().st_mode & 0o777 == 0o700
    assert not (occupied / "notes.txt").exists() and (occupied / "keys" / "keys.json").is_file()
    assert not [p for p in tmp_path.iterdir() if ".restore-" in p.name]  # no staging folder left behind


# ----- restore: what it accepts -----


def repack(archive: Path, target: Path, change: Any) -> Path:
    """A copy of `archive` with its members (name, TarInfo, bytes) passed through `change`."""
    with tarfile.open(archive, mode="r:gz") as source:
        members = [(m, source.extractfile(m).read()) for m in source.getmembers()]  # type: ignore[union-attr]
    with tarfile.open(target, mode="w:gz") as out:
        for member, data in change(members):
            member.size = len(data)
            out.addfile(member, io.BytesIO(data) if member.isreg() else None)
    return target


def member(name: str, data: bytes = b"x", kind: bytes = tarfile.REGTYPE, link: str = "") -> tuple[Any, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, 0o644
    return info, data


def manifest_of(members: list[tuple[Any, bytes]]) -> dict[str, Any]:
    return json.loads(next(data for m, data in members if m.name == MANIFEST))


def with_manifest(members: list[tuple[Any, bytes]], manifest: dict[str, Any]) -> list[tuple[Any, bytes]]:
    return [(m, json.dumps(manifest).encode() if m.name == MANIFEST else data) for m, data in members]


def without(name: str) -> Any:
    def change(members: list[tuple[Any, bytes]]) -> list[tuple[Any, bytes]]:
        manifest = manifest_of(members)
        manifest["files"].pop(name.removeprefix("data/"), None)
        return with_manifest([(m, d) for m, d in members if m.name != name], manifest)

    return change


def listed(*added: tuple[str, bytes]) -> Any:
    """Members added with their digests in the manifest, as an archive made on purpose would have them."""

    def change(members: list[tuple[Any, bytes]]) -> list[tuple[Any, bytes]]:
        manifest = manifest_of(members)
        for name, data in added:
            manifest["files"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        return with_manifest([*members, *(member(f"data/{name}", data) for name, data in added)], manifest)

    return change


SERVER_JSON = json.dumps({"admin_url": "http://evil.example:8441", "issuer_url": "http://evil.example"}).encode()
JUNK = [(f"junk/{n:04d}.txt", b"junk") for n in range(2000)]

BAD_ARCHIVES = {
    "traversal": (lambda ms: [*ms, member("data/../evil")], "unexpected member 'data/../evil'"),
    "nested traversal": (lambda ms: [*ms, member("data/keys/../../evil")], "unexpected member"),
    "absolute": (lambda ms: [*ms, member("/tmp/evil")], "unexpected member '/tmp/evil'"),
    "outside data": (lambda ms: [*ms, member("evil")], "unexpected member 'evil'"),
    "backslash": (lambda ms: [*ms, member("data/..\\evil")], "unexpected member"),
    "symlink": (lambda ms: [*ms, member("data/link", b"", tarfile.SYMTYPE, "/etc/passwd")], "not a regular file"),
    "hard link": (lambda ms: [*ms, member("data/link", b"", tarfile.LNKTYPE, "data/admin-token")], "not a regular"),
    "folder": (lambda ms: [*ms, member("data/extra", b"", tarfile.DIRTYPE)], "not a regular file"),
    "duplicate": (lambda ms: [*ms, member("data/admin-token")], "appears twice"),
    "unlisted file": (lambda ms: [*ms, member("data/extra.json")], "differ from its manifest: extra.json"),
    "tampered file": (
        lambda ms: [(m, b"tampered" if m.name == "data/admin-token" else d) for m, d in ms],
        "differ from its manifest: admin-token",
    ),
    "no manifest": (lambda ms: [(m, d) for m, d in ms if m.name != MANIFEST], "frontdesk-backup.json is missing"),
    "other format": (lambda ms: with_manifest(ms, {**manifest_of(ms), "format": 2}), "format 2 is not supported"),
    "no key index": (without("data/keys/keys.json"), "keys/keys.json is missing"),
    "server.json": (listed(("server.json", SERVER_JSON)), "holds files no backup writes: server.json"),
    "nested restore": (listed((".restore-pending.tar.gz", b"\x1f\x8b")), "no backup writes: .restore-pending.tar.gz"),
    "2000 junk files": (listed(*JUNK), "no backup writes: junk/0000.txt, junk/0001.txt, junk/0002.txt"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARCHIVES))
def test_restore_refuses_a_bad_archive_before_writing_anything(archive: Path, tmp_path: Path, case: str) -> None:
    change, message = BAD_ARCHIVES[case]
    bad = repack(archive, tmp_path / "bad.tar.gz", change)
    target = tmp_path / "target"
    with pytest.raises(BackupError, match=message.replace("\\", "\\\\").replace("(", r"\(")):
        restore_backup(bad, target)
    with pytest.raises(BackupError):
        check_archive(bad)
    assert not target.exists() or not any(target.iterdir())
    assert not (tmp_path / "evil").exists() and not Path("/tmp/evil").exists()
    assert not [p for p in tmp_path.iterdir() if ".restore-" in p.name]


def test_restore_refuses_a_missing_key_file(archive: Path, tmp_path: Path) -> None:
    with tarfile.open(archive) as tar:
        pem = next(name for name in tar.getnames() if name.endswith(".pem"))
    bad = repack(archive, tmp_path / "bad.tar.gz", without(pem))
    with pytest.raises(BackupError, match="signing keys are missing"):
        restore_backup(bad, tmp_path / "target")


@pytest.mark.parametrize("content", [b"", b"not a tar file", b"\x1f\x8b\x08\x00garbage"])
def test_restore_refuses_what_is_not_an_archive(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.tar.gz"
    path.write_bytes(content)
    with pytest.raises(BackupError, match="not a readable frontdesk backup"):
        restore_backup(path, tmp_path / "target")
    with pytest.raises(BackupError, match="not a readable frontdesk backup"):
        restore_backup(tmp_path / "missing.tar.gz", tmp_path / "target")


def test_restored_files_are_owner_only_whatever_the_archive_says(archive: Path, tmp_path: Path) -> None:
    def loosen(members: list[tuple[Any, bytes]]) -> list[tuple[Any, bytes]]:
        for info, _ in members:
            info.mode = 0o777
        return members

    loose = repack(archive, tmp_path / "loose.tar.gz", loosen)
    target = tmp_path / "target"
    restore_backup(loose, target)
    assert target.stat().st_mode & 0o777 == 0o700
    for path in target.rglob("*"):
        assert path.stat().st_mode & 0o777 == (0o700 if path.is_dir() else 0o600), path


def test_a_backup_takes_only_the_issuers_own_files(tmp_path: Path) -> None:
    """What a restore accepts is what a backup writes: other files in the folder stay out of it."""
    runtime = start_issuer(tmp_path / "data")
    runtime.stop()
    data = tmp_path / "data"
    for name in ("notes.txt", "history/000001.json.old", "keys/backup.pem.bak", ".restore-pending.tar.gz"):
        (data / name).write_text("x")
    (data / "server.json").write_text(SERVER_JSON.decode())
    create_backup(data, tmp_path / "backup.tar.gz")
    with tarfile.open(tmp_path / "backup.tar.gz") as tar:
        names = {name.removeprefix("data/") for name in tar.getnames()}
    assert not names & {"notes.txt", "history/000001.json.old", "keys/backup.pem.bak", ".restore-pending.tar.gz"}
    assert "server.json" not in names and {"state.json", "keys/keys.json", "admin-token"} <= names
    restore_backup(tmp_path / "backup.tar.gz", tmp_path / "restored")


def test_an_offline_backup_of_a_stopped_issuer(tmp_path: Path) -> None:
    runtime = start_issuer(tmp_path / "data")
    runtime.stop()
    (tmp_path / "data" / ".half-written.tmp").write_text("x")
    info = create_backup(tmp_path / "data", tmp_path / "offline.tar.gz")
    with tarfile.open(tmp_path / "offline.tar.gz") as tar:
        names = tar.getnames()
    assert len(names) == info.files + 1 and not any(".half-written" in n for n in names)
    assert not [p for p in (tmp_path / "data").iterdir() if p.name.startswith(".backup-")]
    with pytest.raises(BackupError, match="is not a data folder"):
        create_backup(tmp_path / "nothing", tmp_path / "x.tar.gz")


# ----- restore staged by a running desk, applied at the next start -----


def test_a_staged_restore_applies_at_the_next_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    runtime = start_issuer(data_dir)
    service = runtime.service
    assert service is not None
    service.admin.save_settings({"holder_retention_days": 90})
    kept = service.offers.create(OfferRequest(["employee_badge"], BADGE))
    service.admin.backup(tmp_path / "monday.tar.gz")
    later = service.offers.create(OfferRequest(["employee_badge"], BADGE))
    service.admin.save_settings({"holder_retention_days": 30})
    with pytest.raises(ServiceError, match="not a readable frontdesk backup"):
        service.admin.restore_at_next_start(tmp_path / "missing.tar.gz")
    staged = service.admin.restore_at_next_start(tmp_path / "monday.tar.gz", operator="Ada")
    assert staged["files"] >= 8 and (data_dir / PENDING_RESTORE).stat().st_mode & 0o777 == 0o600
    assert service.offers.status(later.offer_id)["state"] == "created"  # nothing changes while running
    runtime.stop()

    again = start_issuer(data_dir)
    try:
        assert again.service is not None
        assert again.service.offers.status(kept.offer_id)["state"] == "created"
        with pytest.raises(ServiceError, match="no offer"):
            again.service.offers.status(later.offer_id)
        assert again.settings.holder_retention_days == 90  # the restored settings apply at once
        assert again.settings.port != 0  # and the caller's overrides (port 0: any free port) still do
        assert not (data_dir / PENDING_RESTORE).exists()
    finally:
        again.stop()
    [aside] = [p for p in tmp_path.iterdir() if p.name.startswith("data.before-restore-")]
    assert json.loads((aside / "settings.json").read_text())["holder_retention_days"] == 30
    assert not (aside / PENDING_RESTORE).exists()


def test_a_staged_restore_that_fails_stops_the_start_and_says_how_to_go_on(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    start_issuer(data_dir).stop()
    (data_dir / PENDING_RESTORE).write_bytes(b"damaged after it was checked")
    with pytest.raises(BackupError, match="delete that file to start as before"):
        start_issuer(data_dir)
    assert (data_dir / PENDING_RESTORE).exists() and (data_dir / "keys" / "keys.json").exists()
    (data_dir / PENDING_RESTORE).unlink()
    start_issuer(data_dir).stop()
