"""Two processes on one data folder: the second one never starts.

Two issuers on one folder each keep the journals in memory and overwrite each other's changes
(a pre-authorized code was redeemed once at each, and records went missing at the next start).
Real `frontdesk-issuer serve` processes here, and the desktop app in a process of its own: the
first holds the folder's lock; a second `serve`, the app, `restore` and `keys encrypt` exit 1
with one line naming the holder; a holder killed with SIGKILL leaves no stale lock; SIGTERM and
SIGINT end `serve` and the app cleanly, `server.json` removed.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="ends processes with POSIX signals")
START_TIMEOUT = 30.0
REFUSAL_TIMEOUT = 30.0


class Serve:
    """`frontdesk-issuer serve` on a data folder, in a process of its own."""

    def __init__(self, data_dir: Path) -> None:
        command = [sys.executable, "-m", "issuer", "serve", "--data-dir", str(data_dir), "--port", "0"]
        self.process = subprocess.Popen(
            [*command, "--admin-port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.stderr: list[str] = []
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_drain, args=(self.process.stdout, lines), daemon=True).start()
        threading.Thread(target=_collect, args=(self.process.stderr, self.stderr), daemon=True).start()
        urls = {}
        while len(urls) < 2:
            line = lines.get(timeout=START_TIMEOUT)
            assert line is not None, "".join(self.stderr)
            name, _, url = line.partition(": ")
            urls[name] = url.strip()
        self.issuer_url, self.admin_url = urls["issuer"], urls["admin"]

    def end(self, signum: int) -> int:
        self.process.send_signal(signum)
        code = self.process.wait(15)
        time.sleep(0.1)  # the stderr reader catches up
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
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
def serving(tmp_path: Path) -> Iterator[list[Serve]]:
    started: list[Serve] = []
    yield started
    for serve in started:
        serve.kill()


def refused(*command: str, env: dict[str, str] | None = None) -> str:
    """A command that must give up at once on a folder in use: its one line of stderr."""
    result = subprocess.run(
        [sys.executable, *command], capture_output=True, text=True, timeout=REFUSAL_TIMEOUT, env=env
    )
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_second_process_on_a_folder_in_use_exits_naming_the_first(serving: list[Serve], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = Serve(data_dir)
    serving.append(first)
    holder = f"in use by process {first.process.pid} (frontdesk-issuer serve, since "
    line = refused("-m", "issuer", "serve", "--data-dir", str(data_dir), "--port", "0", "--admin-port", "0")
    assert line.startswith(f"frontdesk-issuer: {data_dir} is in use") and holder in line, line
    archive = tmp_path / "backup.tar.gz"
    backup = subprocess.run(
        [sys.executable, "-m", "issuer", "backup", "--data-dir", str(data_dir), str(archive)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert backup.returncode == 0 and "taken by the running issuer" in backup.stdout, backup.stderr
    assert holder in refused("-m", "issuer", "restore", "--data-dir", str(data_dir), "--force", str(archive))
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("a long enough passphrase\n")
    keys = ("-m", "issuer", "keys", "encrypt", "--data-dir", str(data_dir), "--key-passphrase-file", str(passphrase))
    assert holder in refused(*keys)
    app_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    app_line = refused("-m", "app.main", "--data-dir", str(data_dir), "--port", "0", "--admin-port", "0", env=app_env)
    assert app_line.startswith("frontdesk: ") and holder in app_line, app_line
    assert first.process.poll() is None  # the first one serves on, untouched
    assert first.end(signal.SIGTERM) == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_ends_cleanly_on_a_signal(serving: list[Serve], tmp_path: Path, signum: int) -> None:
    """The signal arrives while wallets' requests are being served: they finish or are cut off, and
    the server says nothing of it (a worker waking a loop already closed printed "Bad file
    descriptor" and a traceback)."""
    data_dir = tmp_path / "data"
    first = Serve(data_dir)
    serving.append(first)
    server_info = json.loads((data_dir / "server.json").read_text())
    assert server_info["pid"] == first.process.pid
    parts = urlsplit(first.issuer_url)
    stop = threading.Event()

    def busy_wallet() -> None:
        while not stop.is_set():
            try:
                connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
                connection.request("POST", "/nonce")
                connection.getresponse().read()
                connection.close()
            except OSError:
                return

    wallets = [threading.Thread(target=busy_wallet, daemon=True) for _ in range(8)]
    for wallet in wallets:
        wallet.start()
    time.sleep(0.5)
    code = first.end(signum)
    stop.set()
    for wallet in wallets:
        wallet.join(10)
    assert code == 0
    assert not (data_dir / "server.json").exists()
    errors = "".join(first.stderr)
    assert "Traceback" not in errors and "Bad file descriptor" not in errors, errors
    second = Serve(data_dir)  # the lock went with the first
    serving.append(second)
    assert second.end(signal.SIGTERM) == 0


def test_a_killed_holder_leaves_no_stale_lock(serving: list[Serve], tmp_path: Path) -> None:
    """SIGKILL: no cleanup at all, the holder file and server.json stay behind; the OS released the
    lock, so the next start works and replaces both."""
    data_dir = tmp_path / "data"
    first = Serve(data_dir)
    serving.append(first)
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(10)
    assert (data_dir / "server.json").exists()
    second = Serve(data_dir)
    serving.append(second)
    assert json.loads((data_dir / "server.json").read_text())["pid"] == second.process.pid
    assert second.end(signal.SIGTERM) == 0


def test_the_app_removes_server_json_on_sigterm(tmp_path: Path) -> None:
    """SIGTERM while the login dialog is shown: the app stops its issuer, as when the window closes."""
    data_dir = tmp_path / "data"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-m", "app.main", "--data-dir", str(data_dir), "--port", "0", "--admin-port", "0"]
    app = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not (data_dir / "server.json").exists():
            assert app.poll() is None and time.monotonic() < deadline, app.communicate(timeout=5)
            time.sleep(0.1)
        time.sleep(0.5)  # past the start, into the login dialog
        app.send_signal(signal.SIGTERM)
        _, errors = app.communicate(timeout=15)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
    assert app.returncode == 0, errors
    assert not (data_dir / "server.json").exists()
    assert "Traceback" not in errors, errors
