"""A remote desk's Holders, Ledger, Sign-ins and Audit log pages against a real `serve`: each shows
the issuer's data, and what the operator does there is done on the issuer (read back through its
admin API)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app.window import MainWindow
from issuer.records.ledger import LedgerQuery
from tests.app.helpers import TIMEOUT_MS, create_offer, settle
from tests.app.remote_desk import OPERATOR, ServedIssuer, remote_window, served  # noqa: F401 - fixtures
from tests.app.test_desk_flow import fill, row_state
from tests.app.test_holders_and_audit import register
from tests.app.test_ledger_page import ledger_ids, search, select
from tests.app.test_sign_ins_page import BADGE, waiting
from wallet.client import TestWallet
from wallet.code_flow import CodeFlowWallet


def issue_to_holder(qtbot: QtBot, window: MainWindow, holder: dict, employee_id: str) -> str:
    """An offer for a registered holder, taken by a wallet: the ledger id of its credential."""
    window.compose.new_customer()
    window.compose.use_holder(holder)
    window.compose.tx_code.setChecked(False)
    window.compose.field("employee_id").setText(employee_id)
    created = create_offer(qtbot, window)
    with TestWallet() as wallet:
        (received,) = wallet.receive(created.offer_uri)
    assert received.notification_id is not None
    return received.notification_id


def test_holders_are_registered_and_found_on_the_issuer(
    qtbot: QtBot,
    remote_window: MainWindow,  # noqa: F811
    served: ServedIssuer,  # noqa: F811
) -> None:
    window = remote_window
    holder = register(qtbot, window, "Grace", "Hopper", "P 1234 9876")
    assert holder is not None and window.holders.message.text() == "Grace Hopper is registered."
    [on_issuer] = served.admin("GET", "/api/holders", q="hopper")["holders"]
    assert on_issuer["holder_id"] == holder["holder_id"]
    register(qtbot, window, "Ada", "Lovelace", "X-55555")
    window.holders.search.setText("hopper")
    settle(qtbot, window.tasks)
    assert [window.holders.results.item(n).text() for n in range(window.holders.results.count())] == [
        "Grace Hopper  ·  Passport …9876"
    ]
    window.holders.results.setCurrentRow(0)
    window.holders.use_button.click()
    assert window.compose.holder_label.text() == "For: Grace Hopper"
    window.compose.field("employee_id").setText("E-1906")
    created = create_offer(qtbot, window)
    assert served.admin("GET", f"/api/offers/{created.offer_id}")["holder_id"] == holder["holder_id"]
    assert register(qtbot, window, "Alan", "Turing", "12") is None  # refused by the issuer, explained here
    assert "at least 4" in window.holders.message.text()


def test_the_ledger_finds_by_holder_and_changes_status_on_the_issuer(
    qtbot: QtBot,
    remote_window: MainWindow,  # noqa: F811
    served: ServedIssuer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = remote_window
    grace = register(qtbot, window, "Grace", "Hopper", "P-12345")
    ada = register(qtbot, window, "Ada", "Lovelace", "X-55555")
    assert grace is not None and ada is not None
    first = issue_to_holder(qtbot, window, grace, "E-1")
    second = issue_to_holder(qtbot, window, ada, "E-2")

    window.tabs.setCurrentWidget(window.ledger)
    settle(qtbot, window.tasks)  # the search the tab started
    window.ledger.search.setText("hopper")  # by the holder's name, which only the holders table knows
    assert search(qtbot, window) == [first]
    assert window.ledger.model.index(0, 1).data() == "Grace Hopper"
    window.ledger.search.clear()
    assert search(qtbot, window) == [second, first]
    by_holders = window.service.ledger.find(LedgerQuery(holder_ids=[ada["holder_id"]]))
    assert [record["id"] for record in by_holders] == [second]
    assert window.service.ledger.find(LedgerQuery(holder_ids=[])) == []

    monkeypatch.setattr(QMessageBox, "question", lambda *_: QMessageBox.StandardButton.Yes)
    select(window, first)
    window.ledger.reason.setText("left the company")
    window.ledger.revoke_button.click()
    settle(qtbot, window.tasks)
    assert window.ledger.message.text() == f"Credential {first} is now revoked."
    assert served.admin("GET", f"/api/credentials/{first}")["state"] == "revoked"
    select(window, second)
    window.ledger.suspend_button.click()
    settle(qtbot, window.tasks)
    assert served.admin("GET", f"/api/credentials/{second}")["state"] == "suspended"
    window.ledger.state_filter.setCurrentIndex(window.ledger.state_filter.findData("suspended"))
    assert search(qtbot, window) == [second]
    select(window, second)
    window.ledger.unsuspend_button.click()
    settle(qtbot, window.tasks)
    assert served.admin("GET", f"/api/credentials/{second}")["state"] == "valid"
    entries = served.admin("GET", "/api/audit")["entries"]
    revoked = next(entry for entry in entries if entry["action"] == "credential_revoked")
    assert (revoked["operator"], revoked["detail"]["reason"]) == (OPERATOR, "left the company")
    assert ledger_ids(window) == [second]


def test_a_wallets_sign_in_is_confirmed_and_denied_at_the_remote_desk(
    qtbot: QtBot,
    remote_window: MainWindow,  # noqa: F811
    served: ServedIssuer,  # noqa: F811
) -> None:
    window = remote_window
    with CodeFlowWallet() as wallet:
        window.compose.sign_in_grant.setChecked(True)
        fill(window, BADGE)
        created = create_offer(qtbot, window)
        session = wallet.resolve_offer(created.offer_uri)
        wallet.fetch_metadata(session)
        authorization = wallet.start(session)
        window.tabs.setCurrentWidget(window.sign_ins)
        waiting(qtbot, window, authorization.confirmation)  # arrived through the event stream
        assert window.sign_ins.model.index(0, 3).data() == "Grace Hopper"
        window.sign_ins.confirm_button.click()
        settle(qtbot, window.tasks)
        assert window.sign_ins.message.text().startswith(f"Confirmed {authorization.confirmation}")
        wallet.follow(authorization)
        wallet.exchange(authorization)
        received = wallet.request_credential(session, "employee_badge")
        assert not isinstance(received, str) and received.credentials
        assert served.admin("GET", f"/api/offers/{created.offer_id}")["state"] == "issued"

        other = wallet.authorization_session(served.url, ["employee_badge"])
        refused = wallet.start(other, config_ids=["employee_badge"])
        waiting(qtbot, window, refused.confirmation)
        pending = served.admin("GET", "/api/authorizations")["authorizations"]
        assert [request["confirmation"] for request in pending] == [refused.confirmation]
        window.sign_ins.reason.setText("the code did not match")
        window.sign_ins.deny_button.click()
        qtbot.waitUntil(lambda: window.sign_ins.model.rowCount() == 0, timeout=TIMEOUT_MS)
        assert wallet.follow(refused)["error"] == "access_denied"
    assert served.admin("GET", "/api/authorizations")["authorizations"] == []


def test_the_audit_page_shows_and_exports_the_issuers_log(
    qtbot: QtBot,
    remote_window: MainWindow,  # noqa: F811
    served: ServedIssuer,  # noqa: F811
    tmp_path: Path,
) -> None:
    window = remote_window
    register(qtbot, window, "Grace", "Hopper", "P-12345")
    window.tabs.setCurrentWidget(window.audit)
    settle(qtbot, window.tasks)
    on_issuer = served.admin("GET", "/api/audit")["entries"]
    assert [entry["action"] for entry in on_issuer] == ["holder_registered", "login", "operator_added"]
    shown = [
        [window.audit.model.index(row, column).data() for column in (1, 2)]
        for row in range(window.audit.model.rowCount())
    ]
    assert shown[0] == [OPERATOR, "holder registered"] and len(shown) == len(on_issuer)
    target = tmp_path / "audit.csv"
    window.audit.export(target)
    qtbot.waitUntil(lambda: window.audit.message.text().startswith("Exported"), timeout=TIMEOUT_MS)
    rows = list(csv.reader(target.open()))
    assert rows[1][1:3] == [OPERATOR, "holder_registered"]


def test_a_wallet_that_starts_on_its_own_gets_the_claims_typed_at_the_remote_desk(
    qtbot: QtBot,
    remote_window: MainWindow,  # noqa: F811
    served: ServedIssuer,  # noqa: F811
) -> None:
    window = remote_window
    with CodeFlowWallet() as wallet:
        session = wallet.authorization_session(served.url, ["employee_badge"])
        authorization = wallet.start(session, config_ids=["employee_badge"])
        waiting(qtbot, window, authorization.confirmation)
        window.sign_ins.confirm_button.click()
        assert window.tabs.currentWidget() is window.compose
        fill(window, BADGE)
        window.compose.create_button.click()
        settle(qtbot, window.tasks)
        assert window.tabs.currentWidget() is window.sign_ins
        wallet.follow(authorization)
        wallet.exchange(authorization)
        received = wallet.request_credential(session, "employee_badge")
        assert not isinstance(received, str) and received.notification_id
    record = served.admin("GET", f"/api/credentials/{received.notification_id}")
    assert (record["holder_name"], record["operator"]) == ("Grace Hopper", OPERATOR)

    window.tabs.setCurrentWidget(window.offers)  # the offers page links to the offer's credentials
    qtbot.waitUntil(lambda: row_state(window, record["offer_id"]) == "issued", timeout=TIMEOUT_MS)
    window.offers.select_offer(record["offer_id"])
    window.offers.credentials_button.click()
    assert window.tabs.currentWidget() is window.ledger
    qtbot.waitUntil(lambda: ledger_ids(window) == [received.notification_id], timeout=TIMEOUT_MS)
    assert window.ledger.scope.text() == f"Credentials of offer {record['offer_id']}"
