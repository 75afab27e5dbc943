"""The ledger page: find credentials a wallet received over HTTP, revoke, suspend, replace."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app import confirm
from app.window import MainWindow
from tests.app.helpers import create_offer, settle
from tests.e2e.helpers import jwt_payload
from wallet.client import TestWallet

BADGE = {"given_name": "Grace", "family_name": "Hopper", "employee_id": "E-1906", "department": "Navy"}


def hand_out(qtbot: QtBot, window: MainWindow, employee_id: str = "E-1906") -> tuple[str, str]:
    """Create an offer in the form and let a wallet take it over HTTP: (offer id, ledger id)."""
    window.compose.new_customer()  # one customer after the other
    window.compose.tx_code.setChecked(False)
    for name, value in {**BADGE, "employee_id": employee_id}.items():
        window.compose.field(name).setText(value)
    created = create_offer(qtbot, window)
    assert created is not None
    with TestWallet() as wallet:
        (received,) = wallet.receive(created.offer_uri)
    assert received.notification_id is not None
    return created.offer_id, received.notification_id


def search(qtbot: QtBot, window: MainWindow) -> list[str]:
    window.ledger.search_button.click()
    qtbot.waitUntil(lambda: window.ledger.search_button.isEnabled())
    return ledger_ids(window)


def ledger_ids(window: MainWindow) -> list[str]:
    model = window.ledger.model
    return [model.index(row, 6).data() for row in range(model.rowCount())]


def select(window: MainWindow, record_id: str) -> None:
    window.ledger.table.selectRow(ledger_ids(window).index(record_id))


def test_find_revoke_suspend_and_lift(qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    _, first = hand_out(qtbot, window, "E-1")
    _, second = hand_out(qtbot, window, "E-2")
    window.tabs.setCurrentWidget(window.ledger)
    assert search(qtbot, window) == [second, first]
    assert window.ledger.message.text() == "2 credentials found."

    select(window, first)
    assert not window.ledger.unsuspend_button.isEnabled()
    window.ledger.revoke_button.click()
    assert window.ledger.message.text() == "Give a reason for the revocation."
    assert window.service.ledger.record(first)["state"] == "valid"

    monkeypatch.setattr(QMessageBox, "question", lambda *_: QMessageBox.StandardButton.No)
    window.ledger.reason.setText("left the company")
    window.ledger.revoke_button.click()
    assert window.service.ledger.record(first)["state"] == "valid"  # the operator said no

    monkeypatch.setattr(QMessageBox, "question", lambda *_: QMessageBox.StandardButton.Yes)
    window.ledger.revoke_button.click()
    settle(qtbot, window.tasks)
    assert window.ledger.message.text() == f"Credential {first} is now revoked."
    assert window.ledger.model.index(1, 3).data() == "revoked"
    assert not window.ledger.revoke_button.isEnabled() and not window.ledger.suspend_button.isEnabled()
    assert not window.ledger.replace_button.isEnabled()  # a revoked credential cannot be replaced again
    entry = window.service.desk.audit_log(limit=1)[0]
    assert (entry["action"], entry["operator"], entry["detail"]["reason"]) == (
        "credential_revoked",
        "Ada",
        "left the company",
    )

    select(window, second)
    window.ledger.suspend_button.click()
    settle(qtbot, window.tasks)
    assert window.service.ledger.record(second)["state"] == "suspended"
    window.ledger.state_filter.setCurrentIndex(window.ledger.state_filter.findData("suspended"))
    assert search(qtbot, window) == [second]
    select(window, second)
    window.ledger.unsuspend_button.click()
    settle(qtbot, window.tasks)
    assert window.service.ledger.record(second)["state"] == "valid"


def test_the_offers_page_links_to_an_offers_credentials(qtbot: QtBot, window: MainWindow) -> None:
    offer_id, record_id = hand_out(qtbot, window, "E-1")
    hand_out(qtbot, window, "E-2")
    window.tabs.setCurrentWidget(window.offers)
    window.offers.select_offer(offer_id)
    window.offers.credentials_button.click()
    assert window.tabs.currentWidget() is window.ledger
    qtbot.waitUntil(lambda: window.ledger.search_button.isEnabled() and window.ledger.model.rowCount() == 1)
    assert ledger_ids(window)[0] == record_id
    assert window.ledger.scope.text() == f"Credentials of offer {offer_id}"


def test_replace_a_lost_credential(qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lost phone: Replace… fills the form; creating the offer revokes the old credential."""
    monkeypatch.setattr(confirm, "ask", lambda *_args, **_kwargs: True)  # "Create and revoke"
    _, lost = hand_out(qtbot, window)
    window.tabs.setCurrentWidget(window.ledger)
    search(qtbot, window)
    select(window, lost)
    window.ledger.replace_button.click()
    settle(qtbot, window.tasks)
    assert window.tabs.currentWidget() is window.compose
    assert lost in window.compose.replaces_label.text()
    assert window.service.ledger.record(lost)["state"] == "valid"  # nothing happens before the offer
    for name, value in BADGE.items():  # no registered holder: the ledger keeps no claims to fill in
        window.compose.field(name).setText(value)
    window.compose.tx_code.setChecked(False)  # a new customer session starts with the default options
    created = create_offer(qtbot, window)
    assert created is not None and window.compose.replaces_label.text() == ""
    assert window.service.ledger.record(lost)["state"] == "revoked"
    with TestWallet() as wallet:
        (received,) = wallet.receive(created.offer_uri)
    assert jwt_payload(received.credentials[0])["status"]["status_list"]["uri"].endswith("/status/1")
