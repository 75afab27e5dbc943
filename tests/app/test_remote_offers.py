"""A remote desk's New offer and Offers pages against a real `serve`: the QR is the issuer's offer,
rows move with the wallet through the event stream, and approve, cancel and Replace take effect on
the issuer (read back through its admin API)."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app import confirm
from app.window import MainWindow
from tests.app.helpers import TIMEOUT_MS, create_offer, settle
from tests.app.remote_desk import OPERATOR, ServedIssuer, remote_window, served  # noqa: F401 - fixtures
from tests.app.test_desk_flow import BADGE, fill, row_state, scanned
from tests.app.test_ledger_page import search, select
from wallet.client import TestWallet


def test_compose_shows_the_issuers_offer_and_the_row_follows_the_wallet(
    qtbot: QtBot,
    remote_window: MainWindow,  # noqa: F811
    served: ServedIssuer,  # noqa: F811
) -> None:
    window = remote_window
    assert window.url_label.text().startswith(f"Issuer: {served.url}")
    assert window.compose.type_picker.findData("employee_badge") >= 0  # the issuer's credential types
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    assert created.tx_code and scanned(window.compose.qr.render_image()) == created.offer_uri
    display = window.customer_display  # the same on a remote desk, never with the code
    assert scanned(display.qr.render_image()) == created.offer_uri
    assert display.title.text() == "Scan with your wallet: Employee Badge"
    assert created.tx_code not in display.countdown.text() + display.title.text()
    on_issuer = served.admin("GET", f"/api/offers/{created.offer_id}")
    assert (on_issuer["state"], on_issuer["holder_name"]) == ("created", "Ada Lovelace")
    qtbot.waitUntil(lambda: row_state(window, created.offer_id) == "created", timeout=TIMEOUT_MS)

    with TestWallet() as wallet:
        wallet.receive(created.offer_uri, created.tx_code)
    qtbot.waitUntil(lambda: row_state(window, created.offer_id) == "issued", timeout=TIMEOUT_MS)
    assert served.admin("GET", f"/api/offers/{created.offer_id}")["state"] == "issued"


def test_approve_and_cancel_from_the_offers_page(
    qtbot: QtBot,
    remote_window: MainWindow,  # noqa: F811
    served: ServedIssuer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = remote_window
    window.compose.deferred.setChecked(True)
    window.compose.tx_code.setChecked(False)
    fill(window, BADGE)
    deferred = create_offer(qtbot, window)
    with TestWallet() as wallet:
        session = wallet.resolve_offer(deferred.offer_uri)
        wallet.fetch_metadata(session)
        wallet.token(session)
        transaction_id = wallet.request_credential(session, "employee_badge")
        assert isinstance(transaction_id, str)
        qtbot.waitUntil(lambda: row_state(window, deferred.offer_id) == "waiting for approval", timeout=TIMEOUT_MS)
        window.tabs.setCurrentWidget(window.offers)
        window.offers.select_offer(deferred.offer_id)
        window.offers.approve_button.click()
        settle(qtbot, window.tasks)
        assert window.offers.message.text().startswith("Approved")
        assert served.admin("GET", f"/api/offers/{deferred.offer_id}")["decision"] == "approved"
        received = wallet.deferred(session, transaction_id, "employee_badge", [])
        assert received is not None and received.credentials
    qtbot.waitUntil(lambda: row_state(window, deferred.offer_id) == "issued", timeout=TIMEOUT_MS)

    window.compose.new_customer()
    fill(window, BADGE)
    live = create_offer(qtbot, window)
    qtbot.waitUntil(lambda: window.offers_model.row_of(live.offer_id) is not None, timeout=TIMEOUT_MS)
    monkeypatch.setattr(confirm, "ask", lambda *_args, **_kwargs: True)
    window.offers.select_offer(live.offer_id)
    window.offers.cancel_button.click()
    settle(qtbot, window.tasks)
    assert window.offers.message.text().startswith("Cancelled")
    assert served.admin("GET", f"/api/offers/{live.offer_id}")["state"] == "cancelled"
    audit = served.admin("GET", "/api/audit")["entries"]
    assert {entry["action"]: entry["operator"] for entry in audit}["issuance_approved"] == OPERATOR


def test_replace_revokes_the_lost_credential_on_the_issuer(
    qtbot: QtBot,
    remote_window: MainWindow,  # noqa: F811
    served: ServedIssuer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = remote_window
    monkeypatch.setattr(confirm, "ask", lambda *_args, **_kwargs: True)  # "Create and revoke"
    window.compose.tx_code.setChecked(False)
    fill(window, BADGE)
    first = create_offer(qtbot, window)
    with TestWallet() as wallet:
        (received,) = wallet.receive(first.offer_uri)
    lost = received.notification_id
    assert lost is not None
    window.tabs.setCurrentWidget(window.ledger)
    assert search(qtbot, window) == [lost]
    select(window, lost)
    window.ledger.replace_button.click()
    settle(qtbot, window.tasks)
    assert window.tabs.currentWidget() is window.compose and lost in window.compose.replaces_label.text()
    fill(window, BADGE)
    window.compose.tx_code.setChecked(False)
    replacement = create_offer(qtbot, window)
    assert served.admin("GET", f"/api/credentials/{lost}")["state"] == "revoked"
    assert served.admin("GET", f"/api/offers/{replacement.offer_id}")["state"] == "created"
    window.tabs.setCurrentWidget(window.ledger)
    assert search(qtbot, window) == [lost]  # the replacement is not issued yet
    assert window.ledger.model.index(0, 3).data() == "revoked"
