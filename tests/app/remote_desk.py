"""The app as a remote desk of a real `frontdesk-issuer serve` process (a TinyDB data folder in
tmp_path, fixed free ports so that it can be stopped and started again where it was).

The desk reaches the issuer only through its admin API and event stream; the tests check what the
desk did through the issuer's own admin API, with the folder's admin token.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.main import connect_to
from app.window import MainWindow
from tests.app.helpers import settle
from tests.conftest import running_issuer
from tests.postgres.processes import free_port

PASSWORD = "correct horse battery"
OPERATOR = "ada"
START_TIMEOUT = 60.0


class ServedIssuer:
    """`frontdesk-issuer serve` on a data folder, on the same ports each time it starts."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port, self.admin_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_url = f"http://127.0.0.1:{self.admin_port}"
        self.process: subprocess.Popen[str] | None = None
        self.log = data_dir.parent / "serve.log"

    def start(self) -> None:
        command = [sys.executable, "-m", "issuer", "serve", "--data-dir", str(self.data_dir)]
        command += ["--port", str(self.port), "--admin-port", str(self.admin_port)]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, cwd=Path.cwd())
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(self._lines(2)), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        if not any(line.startswith("admin: ") for line in lines):
            self.stop()
            raise RuntimeError(f"serve did not start: {self.log.read_text()}")
        self.admin_token = (self.data_dir / "admin-token").read_text().strip()

    def _lines(self, count: int) -> list[str]:
        assert self.process is not None and self.process.stdout is not None
        return [self.process.stdout.readline().strip() for _ in range(count)]

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None, **query: str) -> Any:
        """The issuer's admin API with the folder's admin token (as the command line uses it)."""
        url = self.admin_url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Bearer {self.admin_token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


def prepare_folder(data_dir: Path) -> None:
    """A data folder with the desk's operator, made as the first start of the desktop app makes it."""
    with running_issuer(data_dir) as running:
        running.service.operators.create_first(OPERATOR, PASSWORD)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServedIssuer]:
    prepare_folder(tmp_path / "issuer")
    issuer = ServedIssuer(tmp_path / "issuer")
    issuer.start()
    try:
        yield issuer
    finally:
        issuer.stop()


def open_remote_window(qtbot: QtBot, served: ServedIssuer) -> MainWindow:
    """What `frontdesk --connect URL` opens after the operator logged in."""
    runtime = connect_to(served.admin_url)
    assert runtime.service is not None
    runtime.service.operators.login(OPERATOR, PASSWORD)
    runtime.service.connect()
    window = MainWindow(runtime, operator=OPERATOR)
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, window.tasks)
    return window


@pytest.fixture
def remote_window(qtbot: QtBot, served: ServedIssuer) -> Iterator[MainWindow]:
    window = open_remote_window(qtbot, served)
    yield window
    window.stop_issuer()
