"""The accounts at the desk (pytest-qt, a real embedded issuer): what each role sees, the Operators
page, the first-login password change, the login countdown, lock (Ctrl+L), auto-lock on a movable
clock, log out, an admin's unlock, and a remote desk of an operator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app import confirm
from app.main import connect_to, parse_args, start_issuer
from app.pages.login import LoginDialog
from app.session import DeskSession
from app.tasks import Tasks
from app.window import MainWindow
from issuer.records.operators import Operator, Role
from issuer.runtime import IssuerRuntime
from issuer.service import IssuerService, OfferRequest
from issuer.service.login_throttle import FREE_FAILURES
from tests.app.helpers import create_offer, settle
from tests.app.test_desk_flow import BADGE, fill
from tests.issuer.conftest import Clock
from wallet.client import TestWallet

PASSWORD = "correct horse battery"
OTHER = "staple battery horse"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[IssuerRuntime]:
    running = start_issuer(parse_args(["--data-dir", str(tmp_path / "data"), "--port", "0", "--admin-port", "0"]))
    assert running.service is not None
    running.service.operators.create_first("Ada", PASSWORD)
    running.service.operators.add("Ada", "Bob", Role.OPERATOR, OTHER)
    running.service.operators.change_password("Bob", OTHER, PASSWORD)
    yield running
    running.stop()


@pytest.fixture
def service(runtime: IssuerRuntime) -> IssuerService:
    assert runtime.service is not None
    return runtime.service


@pytest.fixture
def clock(service: IssuerService) -> Clock:
    """One clock the test moves, for the issuer's waits and the window's countdowns and idle watch."""
    moved = Clock()
    service.clock = moved
    return moved


def window_of(qtbot: QtBot, runtime: IssuerRuntime, tasks: Tasks, name: str, clock: Clock | None = None) -> MainWindow:
    assert runtime.service is not None
    account = runtime.service.operators.get(name)
    assert account is not None
    window = MainWindow(runtime, name, tasks, role=account.role, **({"clock": clock} if clock else {}))
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, tasks)
    return window


def end(window: MainWindow) -> None:
    """Close a window without stopping the issuer the fixture stops."""
    window.end_session()


def tab_names(window: MainWindow) -> list[str]:
    return [window.tabs.tabText(index) for index in range(window.tabs.count())]


def test_an_operator_sees_neither_settings_nor_operators(qtbot: QtBot, runtime: IssuerRuntime, tasks: Tasks) -> None:
    admin = window_of(qtbot, runtime, tasks, "Ada")
    assert {"Settings", "Operators"} <= set(tab_names(admin))
    assert not admin.ledger.revoke_button.isHidden()
    end(admin)
    desk = window_of(qtbot, runtime, tasks, "Bob")
    assert "Settings" not in tab_names(desk) and "Operators" not in tab_names(desk)
    assert desk.operators_page is None
    for button in (desk.ledger.revoke_button, desk.ledger.suspend_button, desk.ledger.unsuspend_button):
        assert button.isHidden()
    assert {"New offer", "Offers", "Holders", "Sign-ins", "Ledger"} <= set(tab_names(desk))
    refused: list[str] = []
    tasks.run(lambda: desk.service.admin.rotate_key("Bob"), lambda _: None, refused.append)
    settle(qtbot, tasks)
    assert refused == ["rotating the signing key is for admins: 'Bob' is an operator"]
    end(desk)


def test_the_operators_page(
    qtbot: QtBot, runtime: IssuerRuntime, tasks: Tasks, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = window_of(qtbot, runtime, tasks, "Ada")
    page = window.operators_page
    assert page is not None
    assert [a.name for a in page.accounts] == ["Ada", "Bob"]
    assert page.table.item(1, 1).text() == "operator"

    page.add_button.click()
    dialog = page.dialog
    assert dialog is not None
    dialog.name.setText("Cy")  # type: ignore[attr-defined]
    dialog.new.setText("my cy password")
    dialog.repeat.setText("my cy password")
    dialog.submit()
    assert "name" in dialog.error.text()  # checked before anything is sent
    dialog.new.setText(OTHER)
    dialog.repeat.setText(OTHER)
    dialog.submit()
    settle(qtbot, tasks)
    assert page.message.text() == "Cy is added: they choose their own password at their first login."
    assert [a.name for a in page.accounts] == ["Ada", "Bob", "Cy"] and page.accounts[2].must_change_password
    assert page.table.item(2, 3).text() == "to change at next login"

    asked: list[str] = []
    monkeypatch.setattr(confirm, "ask", lambda _parent, _title, question, _yes="Yes": asked.append(question) or True)
    page.select("Bob")
    page.enable_button.click()
    settle(qtbot, tasks)
    assert asked == ["Disable Bob? They cannot log in until an admin enables the account again."]
    assert page.message.text() == "Bob is disabled." and page.table.item(1, 2).text() == "disabled"
    assert page.enable_button.text() == "Enable"
    page.enable_button.click()
    settle(qtbot, tasks)
    assert page.message.text() == "Bob is enabled." and len(asked) == 1  # enabling destroys nothing: no question
    page.role_button.click()
    settle(qtbot, tasks)
    assert page.message.text() == "Bob is an admin now." and page.table.item(1, 1).text() == "admin"
    page.role_button.click()
    settle(qtbot, tasks)
    assert page.message.text() == "Bob is an operator now."

    page.reset_button.click()
    reset = page.dialog
    assert reset is not None and reset is not dialog
    reset.new.setText(OTHER)
    reset.repeat.setText(OTHER)
    reset.submit()
    settle(qtbot, tasks)
    assert page.message.text() == "The password of Bob is reset: they choose a new one at their next login."

    page.select("Ada")
    page.role_button.click()
    settle(qtbot, tasks)
    assert "Ada is the last enabled admin" in page.message.text()
    page.enable_button.click()
    settle(qtbot, tasks)
    assert "Ada is the last enabled admin" in page.message.text()
    ada = runtime.service.operators.get("Ada") if runtime.service else None
    assert ada is not None and ada.is_admin and ada.enabled
    end(window)


def login(
    qtbot: QtBot, service: IssuerService, tasks: Tasks, name: str, password: str, clock: Clock | None = None
) -> LoginDialog:
    dialog = LoginDialog(service, tasks, **({"clock": clock} if clock else {}))
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.is_ready)
    dialog.name.setText(name)
    dialog.password.setText(password)
    dialog.ok_button.click()
    settle(qtbot, tasks)
    return dialog


def test_the_first_login_after_an_admin_set_the_password_asks_for_a_new_one(
    qtbot: QtBot, service: IssuerService, tasks: Tasks
) -> None:
    service.operators.reset_password("Ada", "Bob", OTHER)
    dialog = login(qtbot, service, tasks, "Bob", OTHER)
    chooser = dialog.password_dialog
    assert chooser is not None and chooser.isVisible() and dialog.result() != LoginDialog.DialogCode.Accepted
    assert not chooser.current.isVisibleTo(chooser)  # the password just typed is the current one
    chooser.reject()
    assert dialog.error.text() == "Choose a new password to log in." and dialog.account is None

    dialog = login(qtbot, service, tasks, "Bob", OTHER)
    chooser = dialog.password_dialog
    assert chooser is not None
    chooser.new.setText("short")
    chooser.repeat.setText("short")
    chooser.submit()
    assert "at least 10" in chooser.error.text()
    chooser.new.setText(PASSWORD)
    chooser.repeat.setText("a different one")
    chooser.submit()
    assert chooser.error.text() == "The two new passwords differ."
    chooser.new.setText(PASSWORD)
    chooser.repeat.setText(PASSWORD)
    chooser.submit()
    settle(qtbot, tasks)
    assert dialog.result() == LoginDialog.DialogCode.Accepted and dialog.account is not None
    assert not dialog.account.must_change_password and dialog.operator == "Bob"
    assert service.operators.login("Bob", PASSWORD).name == "Bob"


def test_failed_logins_count_down_before_the_next_try(
    qtbot: QtBot, service: IssuerService, tasks: Tasks, clock: Clock
) -> None:
    dialog = login(qtbot, service, tasks, "Bob", "not the password", clock)
    for _ in range(FREE_FAILURES - 2):
        dialog.password.setText("not the password")
        dialog.ok_button.click()
        settle(qtbot, tasks)
    assert dialog.error.text() == "wrong operator name or password" and dialog.ok_button.isEnabled()
    dialog.password.setText("not the password")
    dialog.ok_button.click()
    settle(qtbot, tasks)
    assert dialog.countdown.running and not dialog.ok_button.isEnabled()
    assert dialog.error.text() == "Too many failed logins for this name: try again in 1 s"
    clock.now += 1
    dialog.countdown.tick()
    assert dialog.error.text() == "You can try again now." and dialog.ok_button.isEnabled()
    dialog.password.setText("not the password")
    dialog.ok_button.click()
    settle(qtbot, tasks)
    assert dialog.error.text() == "Too many failed logins for this name: try again in 2 s"
    clock.now += 1
    dialog.countdown.tick()
    assert dialog.error.text() == "Too many failed logins for this name: try again in 1 s"
    clock.now += 1
    dialog.countdown.tick()
    dialog.password.setText(PASSWORD)
    dialog.ok_button.click()
    settle(qtbot, tasks)
    assert dialog.result() == LoginDialog.DialogCode.Accepted
    actions = [e["action"] for e in service.desk.audit_log(limit=20) if e["subject"] == "Bob"]
    assert actions[0] == "login" and actions.count("login_failed") == FREE_FAILURES + 1
    assert actions.count("login_throttled") == 2


def test_ctrl_l_locks_the_window_while_the_issuer_serves_a_wallet(
    qtbot: QtBot, runtime: IssuerRuntime, service: IssuerService, tasks: Tasks
) -> None:
    window = window_of(qtbot, runtime, tasks, "Bob")
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    facing = window.customer_display.title.text()
    assert facing
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    QTest.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.locked and window.stack.currentWidget() is window.lock_screen
    assert not window.tabs.isVisible() and not window.compose.isVisible()  # no customer data on screen
    assert window.lock_screen.title.text().startswith("Locked by Bob at ")
    assert not window.menuBar().isEnabled() and not window.logout_action.isEnabled()
    shortcuts: list[bool] = []
    window.new_customer_action.triggered.connect(shortcuts.append)
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert shortcuts == []  # the desk's shortcuts do nothing behind the lock
    assert window.customer_display.title.text() == facing  # the customer display keeps its screen
    with TestWallet() as wallet:
        received = wallet.receive(created.offer_uri, created.tx_code)
    assert received and service.offers.status(created.offer_id)["state"] == "issued"

    window.lock_screen.password.setText("not the password")
    window.lock_screen.submit()
    settle(qtbot, tasks)
    assert window.locked and window.lock_screen.error.text() == "wrong operator name or password"
    window.lock_screen.password.setText(PASSWORD)
    window.lock_screen.submit()
    settle(qtbot, tasks)
    assert not window.locked and window.tabs.isVisible() and window.menuBar().isEnabled()
    assert [e["action"] for e in service.desk.audit_log(limit=4)][:2] == ["unlocked", "login"]
    locked = next(e for e in service.desk.audit_log(limit=20) if e["action"] == "locked")
    assert locked["operator"] == "Bob" and locked["detail"] == {"automatic": False}
    end(window)


def test_the_window_locks_itself_after_lock_after_minutes(
    qtbot: QtBot, runtime: IssuerRuntime, service: IssuerService, tasks: Tasks, clock: Clock
) -> None:
    assert service.settings.lock_after_minutes == 10
    window = window_of(qtbot, runtime, tasks, "Ada", clock)
    clock.now += 10 * 60 - 1
    window.idle.check()
    assert not window.locked
    QTest.mouseMove(window.tabs)  # input starts the quiet time again
    QTest.keyClick(window.compose, Qt.Key.Key_Shift)
    clock.now += 2
    window.idle.check()
    assert not window.locked
    clock.now += 10 * 60
    window.idle.check()
    assert window.locked and window.stack.currentWidget() is window.lock_screen
    settle(qtbot, tasks)
    assert service.desk.audit_log(limit=1)[0]["detail"] == {"automatic": True}
    window.lock_screen.password.setText(PASSWORD)
    window.lock_screen.submit()
    settle(qtbot, tasks)
    assert not window.locked

    window.settings_page.lock_after.setValue(0)
    assert window.settings_page.lock_after.text() == "never"
    window.settings_page.save()
    settle(qtbot, tasks)
    assert window.idle.minutes == 0 and service.operators is not None
    clock.now += 100 * 24 * 3600
    window.idle.check()
    assert not window.locked  # 0: never
    window.idle.set_minutes(1)
    clock.now += 60
    window.idle.check()
    assert window.locked
    end(window)


def test_log_out_shows_the_login_and_the_issuer_keeps_running(
    qtbot: QtBot, runtime: IssuerRuntime, service: IssuerService, tasks: Tasks
) -> None:
    session = DeskSession(runtime, tasks)
    ada = service.operators.get("Ada")
    assert ada is not None
    window = session.open_window(ada)
    qtbot.addWidget(window)
    with qtbot.waitSignal(session.login_shown) as shown:
        window.logout_action.trigger()
    settle(qtbot, tasks)
    login_dialog: LoginDialog = shown.args[0]
    qtbot.addWidget(login_dialog)
    assert session.window is None and login_dialog.isVisible() and not shiboken6.isValid(window)
    assert runtime.service is service and service.desk.audit_log(limit=1)[0]["action"] == "logout"
    offer = service.offers.create(OfferRequest(["employee_badge"], BADGE))
    with TestWallet() as wallet:  # still serving
        assert wallet.receive(offer.offer_uri, offer.tx_code)
    qtbot.waitUntil(lambda: login_dialog.is_ready)
    login_dialog.name.setText("Bob")
    login_dialog.password.setText(PASSWORD)
    with qtbot.waitSignal(session.window_opened) as opened:
        login_dialog.ok_button.click()
    bobs: MainWindow = opened.args[0]
    qtbot.addWidget(bobs)
    assert bobs.operator == "Bob" and bobs.role is Role.OPERATOR and "Settings" not in tab_names(bobs)
    settle(qtbot, tasks)
    end(bobs)


def test_an_admin_unlocks_another_operators_window_and_goes_on(
    qtbot: QtBot, runtime: IssuerRuntime, service: IssuerService, tasks: Tasks
) -> None:
    session = DeskSession(runtime, tasks)
    bob = service.operators.get("Bob")
    assert bob is not None
    window = session.open_window(bob)
    qtbot.addWidget(window)
    window.lock()
    window.lock_screen.name.setText("Ada")
    window.lock_screen.password.setText(PASSWORD)
    with qtbot.waitSignal(session.window_opened) as opened:
        window.lock_screen.submit()
    adas: MainWindow = opened.args[0]
    qtbot.addWidget(adas)
    assert adas.operator == "Ada" and "Operators" in tab_names(adas) and not adas.locked
    settle(qtbot, tasks)
    entries = [(e["operator"], e["action"], e["subject"]) for e in service.desk.audit_log(limit=3)]
    assert entries[:2] == [("Bob", "logout", "Bob"), ("Ada", "unlocked", "Bob")]
    end(adas)


def test_an_operator_cannot_unlock_another_operators_window(
    qtbot: QtBot, runtime: IssuerRuntime, service: IssuerService, tasks: Tasks
) -> None:
    service.operators.add("Ada", "Cy", Role.OPERATOR, OTHER)
    service.operators.change_password("Cy", OTHER, PASSWORD)
    window = window_of(qtbot, runtime, tasks, "Bob")
    window.lock()
    window.lock_screen.name.setText("Cy")
    window.lock_screen.password.setText(PASSWORD)
    window.lock_screen.submit()
    settle(qtbot, tasks)
    assert window.locked and window.lock_screen.error.text() == "only Bob or an admin can unlock this window"
    end(window)


def test_a_remote_desk_of_an_operator_gets_the_same_pages_and_refusals(
    qtbot: QtBot, runtime: IssuerRuntime, tasks: Tasks
) -> None:
    remote = connect_to(runtime.admin_url)
    assert remote.service is not None
    account: Operator = remote.service.operators.login("Bob", PASSWORD)
    remote.service.connect()
    window = MainWindow(remote, account.name, tasks, role=account.role)
    qtbot.addWidget(window)
    settle(qtbot, tasks)
    try:
        assert "Settings" not in tab_names(window) and "Operators" not in tab_names(window)
        refused: list[str] = []
        tasks.run(lambda: window.service.operators.list("Bob"), lambda _: None, refused.append)
        tasks.run(lambda: window.service.admin.rotate_key("Bob"), lambda _: None, refused.append)
        settle(qtbot, tasks)
        assert refused == [
            "listing the operators is for admins: 'Bob' is an operator",
            "rotating the signing key is for admins: 'Bob' is an operator",
        ]
        window.lock()
        settle(qtbot, tasks)
        window.lock_screen.password.setText(PASSWORD)
        window.lock_screen.submit()
        settle(qtbot, tasks)
        assert not window.locked
        assert runtime.service is not None
        actions = [e["action"] for e in runtime.service.desk.audit_log(limit=3)]
        assert actions[:3] == ["unlocked", "login", "locked"]
    finally:
        window.close()
    assert remote.service is None  # closing the window logged the desk out


def test_a_remote_desk_logs_out_and_an_admin_logs_in_to_the_operators_page(
    qtbot: QtBot, runtime: IssuerRuntime, tasks: Tasks
) -> None:
    remote = connect_to(runtime.admin_url)
    assert remote.service is not None
    session = DeskSession(remote, tasks)
    bob = remote.service.operators.login("Bob", PASSWORD)
    remote.service.connect()
    window = session.open_window(bob)
    qtbot.addWidget(window)
    settle(qtbot, tasks)
    try:
        with qtbot.waitSignal(session.login_shown) as shown:
            window.log_out()
        settle(qtbot, tasks)
        assert remote.service.connection.token is None  # the issuer ended Bob's token
        login_dialog: LoginDialog = shown.args[0]
        qtbot.addWidget(login_dialog)
        qtbot.waitUntil(lambda: login_dialog.is_ready)
        login_dialog.name.setText("Ada")
        login_dialog.password.setText(PASSWORD)
        with qtbot.waitSignal(session.window_opened) as opened:
            login_dialog.ok_button.click()
        adas: MainWindow = opened.args[0]
        qtbot.addWidget(adas)
        settle(qtbot, tasks)
        assert adas.operators_page is not None and "Settings" in tab_names(adas)
        assert [a.name for a in adas.operators_page.accounts] == ["Ada", "Bob"]
    finally:
        session.stop_issuer()  # for a remote desk: log out and end the event stream
    assert remote.service is None
