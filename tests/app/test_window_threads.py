"""The window never calls the service on the GUI thread: each call is recorded with the thread it ran on."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app import confirm
from app.main import parse_args, start_issuer
from app.pages.login import LoginDialog
from app.tasks import Tasks
from app.window import MainWindow
from issuer.runtime import IssuerRuntime
from issuer.service import IssuerService
from tests.app.helpers import create_offer, settle
from tests.app.test_desk_flow import BADGE, fill
from wallet.client import TestWallet

PARTS = ("offers", "tokens", "issuance", "sign_ins", "ledger", "desk", "operators", "admin")
SYNCHRONOUS_AT_CONSTRUCTION = {"admin.key_info"}  # the settings page lists the keys, which are held in memory


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[IssuerRuntime]:
    running = start_issuer(parse_args(["--data-dir", str(tmp_path / "data"), "--port", "0", "--admin-port", "0"]))
    yield running
    running.stop()


@pytest.fixture
def service(runtime: IssuerRuntime) -> IssuerService:
    assert runtime.service is not None
    return runtime.service


def record_threads(monkeypatch: pytest.MonkeyPatch, service: IssuerService) -> list[tuple[str, threading.Thread]]:
    """Wrap every public method of the service's parts; each call notes `part.method` and its thread."""
    calls: list[tuple[str, threading.Thread]] = []
    for part_name in PARTS:
        part = getattr(service, part_name)
        for name, member in inspect.getmembers(type(part)):
            if name.startswith("_") or not inspect.isfunction(member):
                continue
            label = f"{part_name}.{name}"
            monkeypatch.setattr(part, name, recorder(calls, label, getattr(part, name)))
    return calls


def recorder(
    calls: list[tuple[str, threading.Thread]], name: str, method: Callable[..., object]
) -> Callable[..., object]:
    def recording(*args: object, **kwargs: object) -> object:
        calls.append((name, threading.current_thread()))
        return method(*args, **kwargs)

    return recording


def on_gui_thread(calls: list[tuple[str, threading.Thread]]) -> set[str]:
    return {name for name, thread in calls if thread is threading.main_thread()}


def test_the_window_calls_the_service_only_off_the_gui_thread(
    qtbot: QtBot, runtime: IssuerRuntime, service: IssuerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_threads(monkeypatch, service)
    window = MainWindow(runtime, operator="Ada")
    qtbot.addWidget(window)
    window.show()
    window.compose.deferred.setChecked(True)
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    with TestWallet() as wallet:
        session = wallet.resolve_offer(created.offer_uri)
        wallet.token(session, created.tx_code)
        wallet.request_credential(session, "employee_badge")
    qtbot.waitUntil(lambda: window.offers_model.row_of(created.offer_id) is not None)
    window.offers.select_offer(created.offer_id)
    window.offers.approve_button.click()
    holders = window.holders
    holders.given_name.setText("Grace")
    holders.family_name.setText("Hopper")
    holders.document_number.setText("P-12345")
    holders.register_button.click()
    for page in (window.ledger, window.audit, window.settings_page):
        window.tabs.setCurrentWidget(page)
    window.settings_page.save_button.click()
    window.settings_page.reload_button.click()
    settle(qtbot, window.tasks)

    called = {name for name, _ in calls}
    assert {
        "offers.create",
        "offers.approve",
        "desk.register_holder",
        "ledger.find",
        "desk.audit_log",
        "offers.status",
    } <= called
    assert {
        "offers.recent",
        "sign_ins.pending",
        "desk.search_holders",
        "admin.check_public_url",
        "admin.save_settings",
    } <= called
    assert on_gui_thread(calls) <= SYNCHRONOUS_AT_CONSTRUCTION
    monkeypatch.setattr(confirm, "ask", lambda *_args: True)  # "Close" although offers are live
    window.close()


def test_creating_an_offer_runs_on_the_task_thread(
    qtbot: QtBot, runtime: IssuerRuntime, service: IssuerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_threads(monkeypatch, service)
    window = MainWindow(runtime, operator="Ada")
    qtbot.addWidget(window)
    fill(window, BADGE)
    assert create_offer(qtbot, window).offer_uri
    [thread] = {thread for name, thread in calls if name == "offers.create"}
    assert thread is not threading.main_thread() and thread.name.startswith("frontdesk-task")
    monkeypatch.setattr(confirm, "ask", lambda *_args: True)  # "Close" although an offer is live
    window.close()


def test_login_checks_the_password_off_the_gui_thread_and_says_so(
    qtbot: QtBot, service: IssuerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.operators.create_first("Ada", "correct horse")
    calls = record_threads(monkeypatch, service)
    checking = threading.Event()
    release = threading.Event()
    login = service.operators.login

    def slow_login(name: str, password: str) -> object:
        checking.set()
        release.wait(5)  # scrypt on a slow machine
        return login(name, password)

    monkeypatch.setattr(service.operators, "login", slow_login)
    tasks = Tasks()
    dialog = LoginDialog(service, tasks)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.is_ready)
    dialog.name.setText("Ada")
    dialog.password.setText("correct horse")
    dialog.ok_button.click()
    assert checking.wait(5)
    qtbot.wait(50)  # the event loop runs while the password is checked
    assert dialog.error.text() == "Checking…" and not dialog.ok_button.isEnabled()
    assert not dialog.name.isEnabled() and dialog.operator is None
    release.set()
    settle(qtbot, tasks)
    assert dialog.operator == "Ada" and dialog.result() == LoginDialog.DialogCode.Accepted
    [(_, thread)] = [(name, thread) for name, thread in calls if name == "operators.exists"]
    assert thread is not threading.main_thread()
    tasks.shutdown()


def test_the_first_operator_is_created_off_the_gui_thread(
    qtbot: QtBot, service: IssuerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_threads(monkeypatch, service)
    tasks = Tasks()
    dialog = LoginDialog(service, tasks)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.is_ready)
    assert dialog.first_start
    dialog.name.setText("Ada")
    dialog.password.setText("correct horse")
    dialog.repeat.setText("correct horse")
    dialog.ok_button.click()
    settle(qtbot, tasks)
    assert dialog.operator == "Ada"
    assert {name for name, _ in calls} >= {"operators.exists", "operators.create_first"}
    assert on_gui_thread(calls) == set()
    tasks.shutdown()
