"""Damaged and missing data files: repaired silently only when a crash can explain them.

A real `frontdesk-issuer serve` is started on a data folder that was damaged the ways that were
tried: a history segment deleted, zeros written over a journal's last 4 KiB, the key index
deleted or emptied, the state deleted, a line of the wrong shape. Each stops the start with one
line naming the file (and the line) and the way out, and no new signing key is made. A torn last
line, what a crash leaves, is dropped without a word. `frontdesk-issuer repair` then moves the
damaged file aside, keeps every line still readable, and the issuer starts again.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from issuer.records.ledger import LedgerQuery
from issuer.service import OfferRequest
from issuer.storage.history import History
from issuer.storage.journal_format import HEADER, encode, scan
from tests.conftest import start_issuer
from wallet.client import TestWallet

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="ends `serve` with SIGTERM")
CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}
ISSUED = 6


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with credentials issued, two revoked, an offer still live and audit entries."""
    data_dir = tmp_path_factory.mktemp("template") / "data"
    runtime = start_issuer(data_dir)
    assert runtime.service is not None
    service = runtime.service
    try:
        with TestWallet() as wallet:
            for n in range(ISSUED):
                offer = service.offers.create(OfferRequest(["employee_badge"], {**CLAIMS, "employee_id": f"E-{n}"}))
                wallet.receive(offer.offer_uri)
        for record in service.ledger.find(LedgerQuery(limit=2)):
            service.ledger.change_status(record["id"], "revoke", operator="Ada", reason="lost")
        service.offers.create(OfferRequest(["employee_badge"], CLAIMS, operator="Ada"))
        service.admin.rotate_key(operator="Ada")  # two signing keys: the first signed what was issued
    finally:
        runtime.stop()
    return data_dir


@pytest.fixture
def data_dir(template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(template, copy)
    return copy


def serve(data_dir: Path) -> subprocess.CompletedProcess[str] | None:
    """`serve` on the folder: its result if it gave up, None if it started (it is stopped again)."""
    command = [sys.executable, "-m", "issuer", "serve", "--data-dir", str(data_dir), "--port", "0", "--admin-port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    first = process.stdout.readline()
    if not first.startswith("issuer: "):
        out, err = process.communicate(timeout=30)
        return subprocess.CompletedProcess(command, process.returncode, first + out, err)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0 and "Traceback" not in err, err
    return None


def refused(data_dir: Path) -> str:
    result = serve(data_dir)
    assert result is not None, "the issuer started on a damaged folder"
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].endswith(f"restore a backup, or run: frontdesk-issuer repair --data-dir {data_dir}"), lines[0]
    return lines[0]


def repair(data_dir: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "issuer", "repair", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def records(data_dir: Path, kind: str) -> list[dict[str, object]]:
    history = History(data_dir / "history")
    try:
        return [row for row in history.scan("records") if row.get("kind") == kind]
    finally:
        history.close()


def first_key(data_dir: Path) -> Path:
    index = json.loads((data_dir / "keys" / "keys.json").read_text())
    return data_dir / "keys" / f"{min(index['keys'], key=lambda entry: entry['created_at'])['kid']}.pem"


def zero_tail(path: Path) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[:-4096] + bytes(4096))


def wrong_shape(path: Path) -> None:
    with path.open("ab") as journal:
        journal.write(encode({"t": "offers", "d": {"offer_id": "x"}}))  # checksummed, but no document id


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "segment deleted": (lambda d: (d / "history" / "000001.json").unlink(), "history/000001.json is missing"),
    "zeroed tail": (lambda d: zero_tail(d / "history" / "000001.json"), "history/000001.json: line "),
    "state deleted": (lambda d: (d / "state.json").unlink(), "state.json is missing"),
    "state emptied": (lambda d: (d / "state.json").write_bytes(b""), "state.json is empty"),
    "wrong shape": (lambda d: wrong_shape(d / "state.json"), "is not an entry of this journal"),
    "key index deleted": (lambda d: (d / "keys" / "keys.json").unlink(), "keys/keys.json is missing"),
    "key index emptied": (lambda d: (d / "keys" / "keys.json").write_text(""), "keys/keys.json cannot be read"),
    "key file deleted": (lambda d: first_key(d).unlink(), ".pem is missing"),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damage_stops_the_start_in_one_line_and_repair_gets_it_going(data_dir: Path, case: str) -> None:
    damage, message = DAMAGE[case]
    keys_before = sorted(p.name for p in (data_dir / "keys").iterdir())
    damage(data_dir)
    line = refused(data_dir)
    assert line.startswith("frontdesk-issuer: ") and message in line, line
    keys_after = sorted(p.name for p in (data_dir / "keys").iterdir())
    assert not set(keys_after) - set(keys_before), "a new signing key was made"
    report = repair(data_dir)
    assert "repaired" in report, report
    assert serve(data_dir) is None, "repair did not make the folder start"


def test_a_zeroed_tail_is_damage_and_repair_keeps_every_readable_line(data_dir: Path) -> None:
    """Zeros over the last 4 KiB used to be taken for one torn line: the entries they hid were lost
    silently. Now the start stops; repair keeps all that can be read, and moves the file aside."""
    segment = data_dir / "history" / "000001.json"
    before = scan(segment.read_bytes()).entries
    zero_tail(segment)
    readable = scan(segment.read_bytes(), salvage=True).entries
    assert 0 < len(readable) < len(before)
    assert "line" in refused(data_dir)
    report = repair(data_dir)
    assert "damaged line" in report and f"{len(readable)} kept" in report, report
    [aside] = (data_dir / "damaged").iterdir()
    assert aside.read_bytes().endswith(bytes(4096))  # the damaged file, as it was
    assert serve(data_dir) is None


def test_a_torn_last_line_is_the_only_damage_dropped_silently(data_dir: Path) -> None:
    segment = data_dir / "history" / "000001.json"
    credentials = len(records(data_dir, "credential"))
    with segment.open("ab") as journal:
        journal.write(encode({"t": "records", "i": 999, "d": {"kind": "credential"}})[:30])  # cut off by a crash
    assert serve(data_dir) is None
    assert scan(segment.read_bytes()).torn is False
    assert len(records(data_dir, "credential")) == credentials


def test_a_folder_written_by_an_earlier_version_loads_and_is_upgraded(data_dir: Path) -> None:
    """Journals without header or checksums, and no manifest: the issuer starts on them with all
    their data, and rewrites them in the current format."""
    journals = [data_dir / "state.json", data_dir / "desk.json", *sorted((data_dir / "history").glob("*.json"))]
    for path in journals:
        entries = scan(path.read_bytes()).entries
        path.write_bytes(b"".join(encode(entry).split(b" ", 1)[1] for entry in entries))  # the old lines
        assert not path.read_bytes().startswith(HEADER)
    (data_dir / "manifest.json").unlink()
    credentials = len(records(data_dir, "credential"))
    assert credentials == ISSUED
    assert serve(data_dir) is None
    assert len(records(data_dir, "credential")) == ISSUED
    assert (data_dir / "manifest.json").exists()
    for path in journals:
        assert path.read_bytes().startswith(HEADER), path
