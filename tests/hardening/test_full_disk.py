"""A full disk under a running issuer: no success for a change that is not on disk, no damage left.

A real `frontdesk-issuer serve` runs with a file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) that
the test sets and lifts through SIGUSR1: a write that crosses the limit is cut short without an
error, exactly as on a nearly full disk, and the next one fails (EFBIG, as ENOSPC would). Observed
before: the cut-short line was acknowledged (a 200 for a token whose redemption was not on disk),
the next line was glued to the fragment once there was room, and the next start failed on it.

Now: the wallet gets `503 temporarily_unavailable` with `Retry-After`, the journal is cut back to
its last whole line, reads keep working, writes work again by themselves once the limit is
lifted, and the data folder opens cleanly afterwards with everything that was acknowledged.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from issuer.storage.history import History
from issuer.storage.journal_format import scan
from wallet.client import Session, TestWallet
from wallet.keys import new_key
from wallet.transport import WalletError

resource = pytest.importorskip("resource", reason="file size limits are a POSIX feature")

CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}
START_TIMEOUT = 30.0
LIMITED_LAUNCHER = """
import os, resource, signal, sys

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails with EFBIG, not the process
limit_file = sys.argv[1]

def apply_limit(*_):
    text = open(limit_file).read().strip()
    soft = resource.RLIM_INFINITY if text == "unlimited" else int(text)
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    os.replace(limit_file, limit_file + ".applied")

signal.signal(signal.SIGUSR1, apply_limit)
from issuer.__main__ import main
sys.exit(main(sys.argv[2:]))
"""


class LimitedServer:
    """`serve` whose file size limit the test sets while it runs."""

    def __init__(self, data_dir: Path, control: Path) -> None:
        self.data_dir = data_dir
        self.control = control
        self.stderr: list[str] = []
        self.process: subprocess.Popen[str] | None = None
        self.issuer_url = self.admin_url = ""

    def start(self, *, limited: bool = True) -> None:
        serve = ["serve", "--data-dir", str(self.data_dir), "--port", "0", "--admin-port", "0"]
        launcher = ["-c", LIMITED_LAUNCHER, str(self.control)] if limited else ["-m", "issuer"]
        self.stderr = []
        self.process = subprocess.Popen(
            [sys.executable, *launcher, *serve], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_drain, args=(self.process.stdout, lines), daemon=True).start()
        threading.Thread(target=_collect, args=(self.process.stderr, self.stderr), daemon=True).start()
        urls: dict[str, str] = {}
        while len(urls) < 2:
            line = lines.get(timeout=START_TIMEOUT)
            assert line is not None, "".join(self.stderr)
            name, _, url = line.partition(": ")
            urls[name] = url.strip()
        self.issuer_url, self.admin_url = urls["issuer"], urls["admin"]

    def limit_files_to(self, size: int | None) -> None:
        """Files may grow to `size` bytes (None: no limit), from now on."""
        assert self.process is not None
        self.control.write_text("unlimited" if size is None else str(size))
        applied = Path(f"{self.control}.applied")
        applied.unlink(missing_ok=True)
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while not applied.exists():
            assert time.monotonic() < deadline, "the server did not apply the limit"
            time.sleep(0.02)

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(15)
        time.sleep(0.1)
        return code

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def _drain(stream: IO[str] | None, lines: queue.Queue[str | None]) -> None:
    if stream is not None:
        for line in stream:
            lines.put(line)
    lines.put(None)


def _collect(stream: IO[str] | None, into: list[str]) -> None:
    if stream is not None:
        into.extend(stream)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LimitedServer]:
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if hard != resource.RLIM_INFINITY:
        pytest.skip("file sizes are limited here already")
    running = LimitedServer(tmp_path / "data", tmp_path / "fsize")
    yield running
    running.kill()


def journals(data_dir: Path) -> list[Path]:
    return [data_dir / "state.json", data_dir / "status.json", *sorted((data_dir / "history").glob("*.json"))]


def assert_whole(data_dir: Path) -> None:
    """Every journal holds whole lines only: nothing half-written, nothing torn."""
    for path in journals(data_dir):
        found = scan(path.read_bytes())
        assert not found.damage and not found.torn, (path, found.damage)


def refused_as_unavailable(step: object) -> WalletError:
    with pytest.raises(WalletError) as refused:
        step()  # type: ignore[operator]
    error = refused.value
    assert (error.status, error.error) == (503, "temporarily_unavailable"), (error.status, error.body)
    assert int(error.headers["retry-after"]) > 0 and error.headers["cache-control"].startswith("no-store")
    return error


def test_a_full_disk_answers_503_keeps_the_journals_whole_and_recovers(server: LimitedServer) -> None:
    server.start()
    token = (server.data_dir / "admin-token").read_text().strip()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with TestWallet() as desk, TestWallet() as wallet_a, TestWallet() as wallet_b:

        def offer() -> dict[str, object]:
            body = json.dumps({"credential_configuration_ids": ["employee_badge"], "claims": CLAIMS}).encode()
            response = desk.request("POST", f"{server.admin_url}/api/offers", body=body, headers=headers)
            assert response.status == 201, response.body
            return dict(response.json())

        [issued_before] = wallet_b.receive(str(offer()["offer_uri"]))
        offer_a, offer_b = offer(), offer()
        session_b = wallet_b.resolve_offer(str(offer_b["offer_uri"]))
        wallet_b.fetch_metadata(session_b)
        wallet_b.token(session_b)
        session_a: Session = wallet_a.resolve_offer(str(offer_a["offer_uri"]))
        wallet_a.fetch_metadata(session_a)

        state = server.data_dir / "state.json"
        before = state.stat().st_size
        server.limit_files_to(before + 10)  # the next change of the state is cut short 10 bytes in

        refused_as_unavailable(lambda: wallet_a.token(session_a))
        assert state.stat().st_size == before  # cut back to its last whole line
        key_b = new_key()
        refused_as_unavailable(lambda: wallet_b.request_credential(session_b, "employee_badge", holder_keys=[key_b]))
        refused_as_unavailable(lambda: wallet_a.token(session_a))  # and again: nothing gets through
        assert_whole(server.data_dir)

        # Reads go on: metadata, the status list, the desk's view of offers and of the ledger.
        assert desk.request("GET", f"{server.issuer_url}/.well-known/openid-credential-issuer").status == 200
        assert desk.request("GET", f"{server.issuer_url}/status/1").status == 200
        status_a = desk.request("GET", f"{server.admin_url}/api/offers/{offer_a['offer_id']}", headers=headers)
        assert status_a.status == 200 and status_a.json()["state"] == "created"
        ledger = desk.request("GET", f"{server.admin_url}/api/credentials", headers=headers)
        assert ledger.status == 200
        assert issued_before.notification_id in [record["id"] for record in ledger.json()["credentials"]]

        server.limit_files_to(None)  # room again: the same requests now work, with nothing restarted
        wallet_a.token(session_a)
        received_a = wallet_a.request_credential(session_a, "employee_badge", holder_keys=[new_key()])
        received_b = wallet_b.request_credential(session_b, "employee_badge", holder_keys=[key_b])
        assert not isinstance(received_a, str) and not isinstance(received_b, str)
    assert server.stop() == 0
    errors = "".join(server.stderr)
    assert "Traceback" not in errors, errors[-3000:]
    assert "cannot write" in errors and "file too large" in errors  # said once per failed write, in one line

    assert_whole(server.data_dir)
    server.start(limited=False)  # the folder opens as before
    assert server.stop() == 0
    history = History(server.data_dir / "history")
    try:
        records = [row for row in history.scan("records") if row.get("kind") == "credential"]
    finally:
        history.close()
    delivered = {row["offer_id"]: row["id"] for row in records if not row.get("undelivered")}
    assert delivered[str(offer_a["offer_id"])] == received_a.notification_id
    assert delivered[str(offer_b["offer_id"])] == received_b.notification_id
    assert len(delivered) == 3 and all(
        row["status_changes"][-1]["reason"] == "never delivered" for row in records if row.get("undelivered")
    )
