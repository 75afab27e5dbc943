"""Operator login, and the customer display that faces the holder."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.main import parse_args, start_issuer
from app.pages.login import LoginDialog
from app.tasks import Tasks
from app.window import MainWindow
from issuer.runtime import IssuerRuntime
from issuer.service import IssuerService
from tests.app.helpers import create_offer, settle
from tests.app.test_desk_flow import BADGE, fill, scanned


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[IssuerRuntime]:
    running = start_issuer(parse_args(["--data-dir", str(tmp_path / "data"), "--port", "0", "--admin-port", "0"]))
    yield running
    running.stop()


@pytest.fixture
def service(runtime: IssuerRuntime) -> IssuerService:
    assert runtime.service is not None
    return runtime.service


def login(
    qtbot: QtBot, service: IssuerService, tasks: Tasks, name: str, password: str, repeat: str | None = None
) -> LoginDialog:
    dialog = LoginDialog(service, tasks)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.is_ready)
    dialog.name.setText(name)
    dialog.password.setText(password)
    dialog.repeat.setText(password if repeat is None else repeat)
    dialog.ok_button.click()
    settle(qtbot, tasks)
    return dialog


def test_first_start_creates_the_first_operator(qtbot: QtBot, service: IssuerService, tasks: Tasks) -> None:
    mismatch = login(qtbot, service, tasks, "Ada", "correct horse", repeat="correct hose")
    assert mismatch.first_start and mismatch.error.text() == "the two passwords differ"
    assert mismatch.result() != LoginDialog.DialogCode.Accepted and not service.operators.exists()
    short = login(qtbot, service, tasks, "Ada", "short")
    assert "at least 10" in short.error.text() and short.password.text() == ""
    created = login(qtbot, service, tasks, "Ada", "correct horse")
    assert created.result() == LoginDialog.DialogCode.Accepted and created.operator == "Ada"


def test_later_starts_ask_for_the_password(qtbot: QtBot, service: IssuerService, tasks: Tasks) -> None:
    service.operators.create_first("Ada", "correct horse")
    wrong = login(qtbot, service, tasks, "Ada", "wrong horse")
    assert not wrong.first_start and wrong.error.text() == "wrong operator name or password"
    right = login(qtbot, service, tasks, "Ada", "correct horse")
    assert right.operator == "Ada"
    assert [e["action"] for e in service.desk.audit_log(limit=2)] == ["login", "login_failed"]


def test_customer_display_shows_the_offer_but_never_the_code(qtbot: QtBot, runtime: IssuerRuntime) -> None:
    window = MainWindow(runtime, operator="Ada")
    qtbot.addWidget(window, before_close_func=MainWindow.stop_issuer)
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    assert created is not None and created.tx_code
    display = window.customer_display
    assert scanned(display.qr.render_image()) == created.offer_uri
    assert display.title.text() == "Scan with your wallet: Employee Badge"
    texts = [display.title.text(), display.countdown.text(), display.windowTitle()]
    assert not any(created.tx_code in text for text in texts)
    assert display.countdown.text().startswith("Valid for 9:") or display.countdown.text().startswith("Valid for 10:")
    display.show_offer(replace(created, expires_at=int(time.time()) - 1), "Employee Badge")
    assert display.qr.text == "" and "expired" in display.countdown.text()
    window.stop_issuer()
