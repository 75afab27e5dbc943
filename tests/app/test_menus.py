"""The menus and shortcuts: each entry reachable from the keyboard and doing what it says."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from app import closing, confirm
from app.diagnostics import DiagnosticsDialog
from app.pages.login import LoginDialog
from app.tasks import Tasks
from app.window import MainWindow
from tests.app.helpers import TIMEOUT_MS, create_offer, settle
from wallet.client import TestWallet

BADGE = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}


def fill(window: MainWindow, claims: dict[str, str]) -> None:
    for name, value in claims.items():
        field = window.compose.field(name)
        assert isinstance(field, QLineEdit)
        field.setText(value)


def menu_texts(window: MainWindow) -> dict[str, list[str]]:
    menus: dict[str, list[str]] = {}
    for entry in window.menuBar().actions():
        menu = entry.menu()
        assert isinstance(menu, QMenu)
        menus[entry.text().replace("&", "")] = [a.text() for a in menu.actions() if not a.isSeparator()]
    return menus


def press(qtbot: QtBot, window: MainWindow, sequence: QKeySequence) -> None:
    """Type a shortcut into the window, as the operator would."""
    combination = sequence[0]
    qtbot.keyClick(window, combination.key(), combination.keyboardModifiers())


def test_the_menus_hold_the_desk_actions(window: MainWindow) -> None:
    menus = menu_texts(window)
    assert list(menus) == ["File", "Edit", "View", "Help"]
    assert menus["File"][:5] == ["New customer", "Save QR…", "Print…", "Back up…", "Restore…"]
    assert menus["File"][-1] == "Quit"
    assert menus["Edit"] == ["Find", "Copy link"]
    assert menus["View"][:2] == ["Customer display", "Full screen"]
    assert menus["Help"] == ["Diagnostics", "Open data folder", "About Frontdesk Issuer"]


def test_lock_and_log_out_are_in_the_file_menu_and_the_menus_build_again(window: MainWindow) -> None:
    assert menu_texts(window)["File"][-3:] == ["Lock", "Log out", "Quit"]
    window._build_menus()
    entries = menu_texts(window)["File"]
    assert entries[-3:] == ["Lock", "Log out", "Quit"]
    assert entries.count("Save QR…") == 1  # built again, not added twice
    shortcuts = [a.shortcut().toString() for a in window.findChildren(QAction) if not a.shortcut().isEmpty()]
    assert len(shortcuts) == len(set(shortcuts)), "the actions of the first menus are still there"


def test_common_actions_have_shortcuts_and_standard_ones_where_qt_has_them(window: MainWindow) -> None:
    actions = window.menu_actions
    standard = {
        actions.new_customer: QKeySequence.StandardKey.New,
        actions.save_qr: QKeySequence.StandardKey.Save,
        actions.print_sheet: QKeySequence.StandardKey.Print,
        actions.find: QKeySequence.StandardKey.Find,
        actions.quit: QKeySequence.StandardKey.Quit,
        actions.full_screen: QKeySequence.StandardKey.FullScreen,
    }
    fallback = {actions.quit: "Ctrl+Q", actions.full_screen: "F11"}  # where the platform has no standard key
    for action, key in standard.items():
        expected = QKeySequence(key) if not QKeySequence(key).isEmpty() else QKeySequence(fallback[action])
        assert action.shortcut() == expected, action.text()
    for action in (actions.copy_link, actions.customer_display, actions.full_screen, actions.diagnostics):
        assert not action.shortcut().isEmpty(), action.text()
    shortcuts = [a.shortcut().toString() for a in window.findChildren(type(actions.quit)) if not a.shortcut().isEmpty()]
    assert len(shortcuts) == len(set(shortcuts)), "two actions share a shortcut"


def test_new_customer_and_page_shortcuts_from_the_keyboard(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitExposed(window)
    window.activateWindow()
    press(qtbot, window, QKeySequence("Ctrl+3"))
    assert window.tabs.currentWidget() is window.holders
    press(qtbot, window, QKeySequence(QKeySequence.StandardKey.New))
    assert window.tabs.currentWidget() is window.compose


def test_find_and_customer_display_from_the_keyboard(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitExposed(window)
    window.activateWindow()
    press(qtbot, window, QKeySequence(QKeySequence.StandardKey.Find))
    assert window.tabs.currentWidget() is window.holders
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.holders.search, timeout=TIMEOUT_MS)
    press(qtbot, window, window.menu_actions.customer_display.shortcut())
    assert window.customer_display.isVisible()


def test_find_focuses_the_search_of_the_page(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitExposed(window)
    window.activateWindow()
    window.menu_actions.find.trigger()
    assert window.tabs.currentWidget() is window.holders
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.holders.search, timeout=TIMEOUT_MS)
    window.tabs.setCurrentWidget(window.ledger)
    window.menu_actions.find.trigger()
    assert window.tabs.currentWidget() is window.ledger
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.ledger.search, timeout=TIMEOUT_MS)


def test_copy_link_and_save_without_an_offer_say_so(qtbot: QtBot, window: MainWindow) -> None:
    QGuiApplication.clipboard().setText("untouched")
    window.menu_actions.copy_link.trigger()
    assert QGuiApplication.clipboard().text() == "untouched"
    assert "No offer on the panel" in window.statusBar().currentMessage()


def test_copy_link_and_save_qr_of_the_offer_on_the_panel(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    window.menu_actions.copy_link.trigger()
    assert QGuiApplication.clipboard().text() == created.offer_uri
    target = tmp_path / "qr.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), ""))
    window.menu_actions.save_qr.trigger()
    assert target.read_bytes().startswith(b"\x89PNG")


def test_print_opens_the_sheet_of_the_offer(qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    printed: list[str] = []
    monkeypatch.setattr(
        "app.widgets.takeaway.preview_and_print", lambda _parent, sheet: printed.append(sheet.offer_uri)
    )
    window.menu_actions.print_sheet.trigger()
    assert printed == []
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    window.menu_actions.print_sheet.trigger()
    assert printed == [created.offer_uri]


def test_back_up_from_the_file_menu_writes_a_backup(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "backup.tar.gz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), ""))
    window.menu_actions.back_up.trigger()
    assert window.tabs.currentWidget() is window.settings_page
    qtbot.waitUntil(target.exists, timeout=TIMEOUT_MS)
    settle(qtbot, window.tasks)
    assert "Backed up" in window.settings_page.backup_result.text()


def test_view_menu_shows_the_customer_display_and_full_screen(qtbot: QtBot, window: MainWindow) -> None:
    window.menu_actions.customer_display.trigger()
    assert window.customer_display.isVisible()
    window.menu_actions.full_screen.trigger()
    qtbot.waitUntil(window.isFullScreen, timeout=TIMEOUT_MS)
    assert window.menu_actions.full_screen.isChecked()
    window.menu_actions.full_screen.trigger()
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=TIMEOUT_MS)


def test_diagnostics_name_version_folder_urls_and_reachability(qtbot: QtBot, window: MainWindow) -> None:
    settle(qtbot, window.tasks)
    facts = window.diagnostics()
    dialog = DiagnosticsDialog(facts, window)
    qtbot.addWidget(dialog)
    shown = {label: value.text() for label, value in dialog.values.items()}
    assert shown["Data folder"] == str(window.service.settings.data_dir)
    assert shown["Issuer URL"] == window.service.issuer_url and shown["Issuer URL"].startswith("http://127.0.0.1:")
    assert shown["Admin URL"].startswith("http://127.0.0.1:") and shown["Admin URL"] != shown["Issuer URL"]
    assert shown["Reachability"] == window.reachability_label.text() and "checking" not in shown["Reachability"]
    import issuer

    assert shown["Version"] == issuer.__version__
    dialog.copy_button.click()
    assert str(window.service.settings.data_dir) in QGuiApplication.clipboard().text()


def test_about_names_the_version(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", lambda _parent, _title, text: shown.append(text))
    window.menu_actions.about.trigger()
    import issuer

    assert issuer.__version__ in shown[0]


def test_open_data_folder_says_what_it_opened(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr("app.window.QDesktopServices.openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    window.menu_actions.open_data_folder.trigger()
    assert opened == [str(window.service.settings.data_dir)]
    assert str(window.service.settings.data_dir) in window.statusBar().currentMessage()


def test_enter_in_a_form_field_submits_it(qtbot: QtBot, window: MainWindow) -> None:
    fill(window, BADGE)
    with qtbot.waitSignal(window.compose.offer_created, timeout=TIMEOUT_MS):
        qtbot.keyClick(window.compose.field("department"), Qt.Key.Key_Return)
    holders = window.holders
    holders.given_name.setText("Grace")
    holders.family_name.setText("Hopper")
    holders.document_number.setText("P-1906")
    qtbot.keyClick(holders.document_number, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Grace" in holders.message.text(), timeout=TIMEOUT_MS)


def test_enter_in_the_login_dialog_logs_in(qtbot: QtBot, window: MainWindow) -> None:
    tasks = Tasks()
    dialog = LoginDialog(window.service, tasks)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.is_ready, timeout=TIMEOUT_MS)
    dialog.show()
    dialog.name.setText("Grace")
    dialog.password.setText("correct horse battery")
    dialog.repeat.setText("correct horse battery")
    with qtbot.waitSignal(dialog.accepted, timeout=TIMEOUT_MS):
        qtbot.keyClick(dialog.repeat, Qt.Key.Key_Return)
    assert dialog.operator == "Grace"
    tasks.shutdown()


def test_quit_closes_after_asking_only_when_offers_are_live(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    answer = [False]
    monkeypatch.setattr(confirm, "ask", lambda _p, _t, question, _yes="": asked.append(question) or answer[0])
    fill(window, BADGE)
    create_offer(qtbot, window)
    qtbot.waitUntil(lambda: window.offers_model.rowCount() == 1, timeout=TIMEOUT_MS)
    window.menu_actions.quit.trigger()
    assert window.isVisible(), "closed although the operator said No"
    assert "1 offer still live" in asked[0]
    answer[0] = True
    window.menu_actions.quit.trigger()
    assert not window.isVisible()


def test_closing_names_the_approvals_waiting(qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    """A wallet asked for a deferred credential: the question counts it as live and waiting; once the
    operator approves and the wallet takes it, closing asks nothing."""
    asked: list[str] = []
    monkeypatch.setattr(confirm, "ask", lambda _p, _t, question, _yes="": asked.append(question) or False)
    window.compose.deferred.setChecked(True)
    window.compose.tx_code.setChecked(False)
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    with TestWallet() as wallet:
        session = wallet.resolve_offer(created.offer_uri)
        wallet.token(session)
        transaction_id = wallet.request_credential(session, "employee_badge")
        assert isinstance(transaction_id, str)
        qtbot.waitUntil(lambda: "waiting for your approval" in (window.close_question() or ""), timeout=TIMEOUT_MS)
        assert not window.close()
        assert asked == [window.close_question()]
        assert "1 offer still live" in asked[0] and "1 credential waiting for your approval" in asked[0]
        window.tabs.setCurrentWidget(window.offers)
        window.offers.select_offer(created.offer_id)
        window.offers.approve_button.click()
        settle(qtbot, window.tasks)
        assert wallet.deferred(session, transaction_id, "employee_badge", []) is not None
    qtbot.waitUntil(lambda: window.close_question() is None, timeout=TIMEOUT_MS)
    assert window.close() and len(asked) == 1


def test_the_question_counts_in_plain_words() -> None:
    assert closing.close_question(0, 0) is None
    several = closing.close_question(3, 2, 1) or ""
    assert "3 offers still live" in several and "2 credentials waiting" in several and "1 wallet sign-in" in several
    now = 1_000.0
    rows = [
        {"state": "created", "expires_at": now + 60},  # live
        {"state": "created", "expires_at": now - 1},  # expired unscanned: stops nothing
        {"state": "pending_approval", "expires_at": now - 1},  # waiting for approval: live whatever its offer's expiry
        {"state": "issued", "expires_at": now + 60},  # done
    ]
    assert closing.counts(rows, now) == (2, 1)


def test_closing_with_nothing_live_does_not_ask(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_question(*_args: object) -> bool:
        raise AssertionError("asked although nothing is live")

    monkeypatch.setattr(confirm, "ask", no_question)
    assert window.close()
