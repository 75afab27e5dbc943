"""Holders registered at the desk feed the offer form; the audit log shows and exports it all."""

from __future__ import annotations

import csv
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.window import MainWindow
from tests.app.helpers import create_offer, settle


def register(qtbot: QtBot, window: MainWindow, given: str, family: str, number: str) -> dict | None:
    """Register through the form; the holder the service then finds under that name, if any."""
    page = window.holders
    page.given_name.setText(given)
    page.family_name.setText(family)
    page.document_type.setCurrentIndex(page.document_type.findData("passport"))
    page.document_number.setText(number)
    page.register()
    settle(qtbot, window.tasks)
    found = [h for h in window.service.desk.search_holders(family) if h["given_name"] == given]
    return found[0] if found else None


def test_register_search_and_offer_for_a_holder(qtbot: QtBot, window: MainWindow) -> None:
    holder = register(qtbot, window, "Grace", "Hopper", "P 1234 9876")
    assert holder is not None and window.holders.message.text() == "Grace Hopper is registered."
    assert window.holders.given_name.text() == ""
    assert window.holders.results.item(0).text() == "Grace Hopper  ·  Passport …9876"
    register(qtbot, window, "Ada", "Lovelace", "X-55555")
    window.holders.search.setText("hopper")
    settle(qtbot, window.tasks)
    assert window.holders.results.count() == 1

    window.holders.results.setCurrentRow(0)
    window.holders.use_button.click()
    assert window.tabs.currentWidget() is window.compose
    assert window.compose.holder_label.text() == "For: Grace Hopper"
    assert window.compose.field("given_name").text() == "Grace"
    window.compose.field("employee_id").setText("E-1906")
    created = create_offer(qtbot, window)
    assert created is not None
    assert window.service.offers.status(created.offer_id)["holder_id"] == holder["holder_id"]


def test_holder_errors_are_explained_and_the_form_is_kept(qtbot: QtBot, window: MainWindow) -> None:
    assert register(qtbot, window, "Grace", "Hopper", "12") is None
    assert "at least 4" in window.holders.message.text()
    assert window.holders.given_name.text() == "Grace"


def test_audit_page_lists_and_exports_off_the_gui_thread(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    register(qtbot, window, "Grace", "Hopper", "P-12345")
    window.tabs.setCurrentWidget(window.audit)
    settle(qtbot, window.tasks)
    assert window.audit.model.rowCount() == 1
    assert [window.audit.model.index(0, c).data() for c in (1, 2)] == ["Ada", "holder registered"]
    target = tmp_path / "audit.csv"
    window.audit.export(target)
    qtbot.waitUntil(lambda: window.audit.message.text().startswith("Exported"))
    rows = list(csv.reader(target.open()))
    assert rows[0][:3] == ["at", "operator", "action"] and rows[1][1:3] == ["Ada", "holder_registered"]
    window.audit.export(tmp_path / "missing-folder" / "audit.csv")
    qtbot.waitUntil(lambda: window.audit.message.text().startswith("The export failed"))
    assert window.audit.export_button.isEnabled()
