"""Words, tables and search in the window: names instead of ids, the same field limits in every
form, the offers table's columns and filter, warnings, and start-up errors that name the cause."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from app.main import main
from app.models.offers import COLUMNS
from app.window import MainWindow
from issuer.records.holders import HolderRequest
from issuer.service import OfferRequest
from tests.app.helpers import create_offer, settle
from tests.app.test_desk_flow import BADGE, fill
from tests.app.test_holders_and_audit import register
from wallet.client import TestWallet


def column(window: MainWindow, row: int, name: str) -> str:
    return str(window.offers_model.index(row, COLUMNS.index(name)).data())


def test_the_offers_table_says_whom_what_who_and_how_long(qtbot: QtBot, window: MainWindow) -> None:
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    qtbot.waitUntil(lambda: window.offers_model.row_of(created.offer_id) is not None)
    assert [column(window, 0, c) for c in ("Holder", "Credential", "Operator", "State")] == [
        "Ada Lovelace",
        "Employee Badge",
        "Ada",
        "created",
    ]
    assert column(window, 0, "Time left") in ("10:00", "9:59", "9:58")


def test_live_and_finished_offers_are_shown_apart(qtbot: QtBot, window: MainWindow) -> None:
    service = window.service
    finished = service.offers.create(OfferRequest(["employee_badge"], BADGE, operator="Ada"))
    with TestWallet() as wallet:
        wallet.receive(finished.offer_uri)
    live = service.offers.create(OfferRequest(["employee_badge"], BADGE, operator="Ada"))
    model = window.offers_model
    qtbot.waitUntil(lambda: model.row_of(live.offer_id) is not None and model.row_of(finished.offer_id) is not None)
    state = COLUMNS.index("State")
    qtbot.waitUntil(lambda: model.index(model.row_of(finished.offer_id), state).data() == "issued")
    page = window.offers

    def shown() -> set[str]:
        proxy = page.shown
        return {model.offer_at(proxy.mapToSource(proxy.index(r, 0)).row())["offer_id"] for r in range(proxy.rowCount())}

    assert shown() == {live.offer_id, finished.offer_id}
    page.filter.setCurrentIndex(page.filter.findText("Live"))
    assert shown() == {live.offer_id}
    page.filter.setCurrentIndex(page.filter.findText("Finished"))
    assert shown() == {finished.offer_id}
    page.select_offer(finished.offer_id)
    assert page.credentials_button.isEnabled() and not page.cancel_button.isEnabled()


def test_field_limits_are_the_same_in_every_form(window: MainWindow) -> None:
    compose, holders = window.compose, window.holders
    for name in ("given_name", "family_name"):
        assert compose.field(name).maxLength() == getattr(holders, name).maxLength() == 200
    reasons = [window.ledger.reason, window.sign_ins.reason]
    assert {edit.maxLength() for edit in reasons} == {300}
    assert all(edit.maxLength() <= 300 for edit in window.findChildren(QLineEdit) if "eason" in edit.placeholderText())


def test_a_duplicate_holder_is_registered_with_a_warning(qtbot: QtBot, window: MainWindow) -> None:
    register(qtbot, window, "Grace", "Hopper", "P 1234 9876")
    register(qtbot, window, "grace", "HOPPER", "Q-9876")
    message = window.holders.message.text()
    assert message.startswith("grace HOPPER is registered. Note: grace HOPPER with a passport ending in 9876")
    window.holders.search.setText("hopper")
    settle(qtbot, window.tasks)
    assert window.holders.results.count() == 2


def test_holders_are_found_without_minding_accents(qtbot: QtBot, window: MainWindow) -> None:
    window.service.desk.register_holder(HolderRequest("Hans", "Lüdenscheidt", "passport", "P-12345"), "Ada")
    window.holders.search.setText("LUDEN")
    settle(qtbot, window.tasks)
    assert window.holders.results.count() == 1


def test_the_audit_log_shows_names_and_reasons(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = window.service
    holder = service.desk.register_holder(HolderRequest("Grace", "Hopper", "passport", "P-12345"), "Ada")
    offer = service.offers.create(OfferRequest(["employee_badge"], BADGE, holder_id=holder["holder_id"]))
    with TestWallet() as wallet:
        (received,) = wallet.receive(offer.offer_uri)
    assert received.notification_id
    service.ledger.change_status(received.notification_id, "revoke", "Ada", "phone lost")
    window.tabs.setCurrentWidget(window.audit)
    settle(qtbot, window.tasks)
    model = window.audit.model
    rows = [[model.index(r, c).data() for c in range(model.columnCount())][1:] for r in range(model.rowCount())]
    assert rows[0] == ["Ada", "credential revoked", "Grace Hopper's Employee Badge", "phone lost"]
    assert ["Ada", "holder registered", "Grace Hopper", ""] in rows
    assert not any(
        holder["holder_id"] in str(cell) or received.notification_id in str(cell) for r in rows for cell in r
    )


def test_start_up_errors_name_the_cause(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    assert main(["--data-dir", str(a_file), "--port", "0", "--admin-port", "0"]) == 1
    assert f"the data folder {a_file} is a file" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--data-dir", str(tmp_path / "data"), "--port", "0", "--admin-port", str(port)]) == 1
    assert f"port {port} is in use by another program" in capsys.readouterr().err


@pytest.fixture(autouse=True)
def no_dialogs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A start-up error would open a message box on a real screen; offscreen it is only printed."""
    monkeypatch.setattr(QMessageBox, "critical", lambda *_args: QMessageBox.StandardButton.Ok)
