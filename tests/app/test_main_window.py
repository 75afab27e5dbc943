"""The main window: it shows where the embedded issuer listens and stops it on close."""

from __future__ import annotations

import os
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from app.main import main, parse_args, start_issuer
from app.pages.login import LoginDialog
from app.window import MainWindow
from issuer.runtime import IssuerRuntime
from issuer.service import OfferRequest
from issuer.storage.interfaces import StorageUnavailable

METADATA = "/.well-known/openid-credential-issuer"
BADGE = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}


def test_arguments() -> None:
    args = parse_args(["--data-dir", "/tmp/x", "--port", "0", "--admin-port", "9000"])
    assert (args.data_dir, args.port, args.admin_port) == (Path("/tmp/x"), 0, 9000)
    assert parse_args([]).port is None


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[IssuerRuntime]:
    runtime = start_issuer(parse_args(["--data-dir", str(tmp_path / "data"), "--port", "0", "--admin-port", "0"]))
    try:
        yield runtime
    finally:
        runtime.stop()


def accepts_connections(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=2):
            return True
    except OSError:
        return False


def test_window_shows_issuer_url(qtbot: QtBot, runtime: IssuerRuntime) -> None:
    window = MainWindow(runtime)
    qtbot.addWidget(window, before_close_func=MainWindow.stop_issuer)
    window.show()
    qtbot.waitExposed(window)

    label = window.findChild(QLabel, "issuerUrl")
    assert label is not None and label.isVisible()
    assert runtime.issuer_url.startswith("http://127.0.0.1:")
    assert runtime.issuer_url in label.text()
    with urllib.request.urlopen(runtime.issuer_url + METADATA, timeout=5) as response:
        assert response.status == 200


def test_closing_the_window_stops_the_issuer(qtbot: QtBot, runtime: IssuerRuntime) -> None:
    window = MainWindow(runtime)
    qtbot.addWidget(window, before_close_func=MainWindow.stop_issuer)
    window.show()
    assert accepts_connections(runtime.issuer_url)
    assert accepts_connections(runtime.admin_url)

    assert window.close()

    assert not accepts_connections(runtime.issuer_url)
    assert not accepts_connections(runtime.admin_url)
    assert not (runtime.settings.data_dir / "server.json").exists()


def test_main_runs_until_the_window_closes(qtbot: QtBot, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seen: dict[str, str] = {}

    def inspect_and_close() -> None:
        # the one main() shows (an earlier test's main() may leave its closed window behind)
        window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
        seen["label"] = window.url_label.text()
        seen["url"] = window.url_label.text().removeprefix("Issuer: ").split()[0]
        seen["operator"] = window.operator or ""
        seen["listening"] = str(accepts_connections(seen["url"]))
        window.close()

    def first_login() -> None:
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, LoginDialog) and w.isVisible())
        if not dialog.is_ready:  # whether an operator exists is still being read
            dialog.ready.connect(first_login)
            return
        assert dialog.first_start
        dialog.name.setText("Ada")
        dialog.password.setText("correct horse")
        dialog.repeat.setText("correct horse")
        dialog.accepted.connect(lambda: QTimer.singleShot(0, inspect_and_close))  # once the window is up
        dialog.ok_button.click()

    QTimer.singleShot(0, first_login)
    safety = QTimer()
    safety.setSingleShot(True)
    safety.timeout.connect(QApplication.quit)
    safety.start(20_000)
    try:
        status = main(["--data-dir", str(tmp_path / "data"), "--port", "0", "--admin-port", "0"])
    finally:
        safety.stop()

    assert status == 0
    assert seen["listening"] == "True" and seen["operator"] == "Ada"
    assert f"issuer: {seen['url']}" in capsys.readouterr().out
    assert not accepts_connections(seen["url"])


def test_main_reports_a_port_in_use(qtbot: QtBot, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = main(["--data-dir", str(tmp_path / "data"), "--port", str(port), "--admin-port", "0"])
    assert status == 1
    assert "could not start" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="/dev/full makes writes fail with ENOSPC (Linux)")
def test_the_status_bar_says_when_the_disk_is_full(qtbot: QtBot, runtime: IssuerRuntime) -> None:
    """The state journal's descriptor pointed at /dev/full: the next write fails as on a full disk, the
    window says so, and once writes work again it says that too."""
    window = MainWindow(runtime)
    qtbot.addWidget(window, before_close_func=MainWindow.stop_issuer)
    window.show()
    assert runtime.service is not None
    service = runtime.service
    label = window.findChild(QLabel, "storageProblem")
    assert label is not None and label.isHidden()
    journal = service.store._state.journal  # type: ignore[attr-defined]
    saved = os.dup(journal._fd)
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        os.dup2(full, journal._fd)
        with pytest.raises(StorageUnavailable, match="disk full"):
            service.offers.create(OfferRequest(["employee_badge"], BADGE))
        qtbot.waitUntil(lambda: not label.isHidden() and "disk full" in label.text(), timeout=5000)
        assert service.storage_problem() == "disk full"
    finally:
        os.dup2(saved, journal._fd)
        os.close(saved)
        os.close(full)
    service.offers.create(OfferRequest(["employee_badge"], BADGE))
    qtbot.waitUntil(label.isHidden, timeout=5000)
    assert service.storage_problem() is None
    assert "saved again" in window.statusBar().currentMessage()
