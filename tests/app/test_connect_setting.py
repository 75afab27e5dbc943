"""Settings -> Connect to an issuer: the address is checked before it is saved in the desk's own
settings, the next start is a desk of that issuer (`frontdesk` with no argument), `--connect` and
`--embedded` decide for one run, and "Use the embedded issuer" goes back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.desk_choice import DeskChoice, chosen_url
from app.main import embedded_asked, main, parse_args
from app.pages.login import LoginDialog
from app.window import MainWindow
from issuer import config
from tests.app.helpers import settle
from tests.app.remote_desk import OPERATOR, PASSWORD, ServedIssuer, remote_window, served  # noqa: F401 - fixtures


def try_address(qtbot: QtBot, window: MainWindow, url: str) -> str:
    connect = window.settings_page.connect_box
    connect.url.setText(url)
    connect.connect_button.click()
    settle(qtbot, window.tasks)
    return connect.result.text()


def test_bad_unreachable_or_wrong_addresses_are_explained_and_nothing_is_saved(
    qtbot: QtBot,
    window: MainWindow,
    served: ServedIssuer,  # noqa: F811
    desk_config: Path,
) -> None:
    connect = window.settings_page.connect_box
    assert connect.current.text() == "This desk now uses the issuer embedded in this app."
    assert not connect.embedded_button.isEnabled()  # nothing to go back from
    connect.connect_button.click()
    assert connect.result.text().startswith("Enter the issuer's admin URL")
    said = try_address(qtbot, window, "http://issuer.example.org:8441")
    assert said.startswith("Not saved: the issuer's address must use https")
    said = try_address(qtbot, window, "http://127.0.0.1:9")
    assert said.startswith("Not saved: nothing answers at http://127.0.0.1:9")
    said = try_address(qtbot, window, served.url)  # the wallets' port, not the admin API
    assert said.startswith(f"Not saved: {served.url} answers, but not as a Frontdesk issuer's admin API (HTTP 404)")
    assert "its own port" in said
    assert not desk_config.exists()
    assert chosen_url(None) is None


def test_a_checked_issuer_is_used_from_the_next_start_and_the_embedded_one_again_after(
    qtbot: QtBot,
    window: MainWindow,
    served: ServedIssuer,  # noqa: F811
    desk_config: Path,
) -> None:
    said = try_address(qtbot, window, served.admin_url + "/")
    assert said.startswith(f"Saved. After a restart, the app starts as a desk of the issuer at {served.admin_url}:")
    assert json.loads(desk_config.read_text()) == {"connect": served.admin_url, "language": "system"}
    issuer_settings = window.service.settings.data_dir / "settings.json"
    assert not issuer_settings.exists() or "connect" not in json.loads(issuer_settings.read_text())
    assert chosen_url(None) == served.admin_url
    assert chosen_url(None, embedded=True) is None
    assert chosen_url("https://other.example") == "https://other.example"
    assert chosen_url("https://other.example", embedded=True) == "https://other.example"
    for local in (["--embedded"], ["--data-dir", "elsewhere"], ["--port", "0"], ["--admin-port", "0"]):
        assert chosen_url(None, embedded=embedded_asked(parse_args(local))) is None
    assert not embedded_asked(parse_args([])) and not embedded_asked(parse_args(["--connect", served.admin_url]))

    connect = window.settings_page.connect_box
    assert connect.embedded_button.isEnabled()
    connect.embedded_button.click()
    settle(qtbot, window.tasks)
    assert connect.result.text() == (
        "Saved. After a restart, the app starts its embedded issuer (with the data folder on this computer)."
    )
    assert DeskChoice.load() == DeskChoice(None) and chosen_url(None) is None


def test_the_settings_page_of_a_remote_desk(
    qtbot: QtBot,
    remote_window: MainWindow,  # noqa: F811
    served: ServedIssuer,  # noqa: F811
) -> None:
    connect = remote_window.settings_page.connect_box
    assert connect.current.text() == f"This desk now uses the issuer at {served.admin_url}."
    assert connect.embedded_button.isEnabled()


def test_frontdesk_starts_as_a_desk_of_the_saved_issuer(
    qtbot: QtBot,
    served: ServedIssuer,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    DeskChoice(served.admin_url).save()
    monkeypatch.setattr(config, "default_data_dir", lambda: tmp_path / "unused")
    seen: dict[str, str] = {}

    def inspect_and_close() -> None:
        window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
        seen["label"] = window.url_label.text()
        seen["connect"] = window.settings_page.connect_box.current.text()
        window.close()

    def log_in() -> None:
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, LoginDialog) and w.isVisible())
        if not dialog.is_ready:
            dialog.ready.connect(log_in)
            return
        assert not dialog.first_start  # a running issuer has its operators
        dialog.name.setText(OPERATOR)
        dialog.password.setText(PASSWORD)
        dialog.accepted.connect(lambda: QTimer.singleShot(0, inspect_and_close))
        dialog.ok_button.click()

    QTimer.singleShot(0, log_in)
    safety = QTimer()
    safety.setSingleShot(True)
    safety.timeout.connect(QApplication.quit)
    safety.start(20_000)
    try:
        status = main([])
    finally:
        safety.stop()
        for closed in [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]:
            closed.deleteLater()  # main() leaves its closed window to the process's end
    assert status == 0
    assert seen["label"] == f"Issuer: {served.url}  ·  Operator: {OPERATOR}"
    assert seen["connect"] == f"This desk now uses the issuer at {served.admin_url}."
    assert not (tmp_path / "unused").exists()  # no embedded issuer started in the default folder
    assert f"admin: {served.admin_url}" in capsys.readouterr().out
    actions = [entry["action"] for entry in served.admin("GET", "/api/audit")["entries"]]
    assert actions[:2] == ["logout", "login"]
