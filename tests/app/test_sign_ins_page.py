"""The desk's side of the Authorization Code flow in the app: a wallet signs in over HTTP, its
code appears on the Sign-ins page, the operator confirms (filling in claims when there was no
offer) or denies, and the wallet's browser goes on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from app.window import MainWindow
from issuer.config import Settings
from issuer.runtime import IssuerRuntime
from tests.app.helpers import create_offer, settle
from tests.e2e.helpers import jwt_payload
from wallet.code_flow import CodeFlowWallet

BADGE = {"given_name": "Grace", "family_name": "Hopper", "employee_id": "E-1906", "department": "Navy"}


@pytest.fixture
def wallet() -> Iterator[CodeFlowWallet]:
    with CodeFlowWallet() as client:
        yield client


def fill(window: MainWindow, claims: dict[str, str]) -> None:
    for name, value in claims.items():
        window.compose.field(name).setText(value)


def waiting(qtbot: QtBot, window: MainWindow, confirmation: str | None) -> None:
    assert confirmation
    qtbot.waitUntil(lambda: window.sign_ins.select_code(confirmation))
    assert window.tabs.tabText(window.tabs.indexOf(window.sign_ins)) == "Sign-ins (1)"


def test_an_offer_whose_wallet_signs_in(qtbot: QtBot, window: MainWindow, wallet: CodeFlowWallet) -> None:
    window.compose.sign_in_grant.setChecked(True)
    assert not window.compose.tx_code.isEnabled() and not window.compose.tx_code.isChecked()
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    assert created is not None and "authorization_code" in created.credential_offer["grants"]

    session = wallet.resolve_offer(created.offer_uri)
    wallet.fetch_metadata(session)
    authorization = wallet.start(session)
    window.tabs.setCurrentWidget(window.sign_ins)
    waiting(qtbot, window, authorization.confirmation)
    shown = window.sign_ins.model.index(0, 3).data()
    assert shown == "Grace Hopper" and created.offer_id not in shown  # the person, not an offer id
    window.sign_ins.confirm_button.click()
    settle(qtbot, window.tasks)
    assert window.sign_ins.message.text().startswith(f"Confirmed {authorization.confirmation}")

    wallet.follow(authorization)
    wallet.exchange(authorization)
    received = wallet.request_credential(session, "employee_badge")
    assert not isinstance(received, str)
    assert jwt_payload(received.credentials[0])["iss"] == window.service.issuer_url
    qtbot.waitUntil(lambda: window.tabs.tabText(window.tabs.indexOf(window.sign_ins)) == "Sign-ins")


def test_a_wallet_that_starts_on_its_own(qtbot: QtBot, window: MainWindow, wallet: CodeFlowWallet) -> None:
    session = wallet.authorization_session(window.service.issuer_url, ["employee_badge"])
    authorization = wallet.start(session, config_ids=["employee_badge"])
    waiting(qtbot, window, authorization.confirmation)
    window.sign_ins.confirm_button.click()
    assert window.tabs.currentWidget() is window.compose
    assert window.compose.create_button.text() == f"Confirm sign-in {authorization.confirmation}"
    assert not window.compose.type_picker.isEnabled()

    window.compose.create_button.click()  # the form is empty: refused, nothing confirmed
    settle(qtbot, window.tasks)
    assert "is required" in window.compose.error.text()
    assert window.service.sign_ins.pending()
    fill(window, BADGE)
    window.compose.create_button.click()
    settle(qtbot, window.tasks)
    assert window.tabs.currentWidget() is window.sign_ins
    assert window.compose.create_button.text() == "Create offer"

    wallet.follow(authorization)
    wallet.exchange(authorization)
    received = wallet.request_credential(session, "employee_badge")
    assert not isinstance(received, str) and received.credentials


def test_deny_with_a_reason(qtbot: QtBot, window: MainWindow, wallet: CodeFlowWallet) -> None:
    session = wallet.authorization_session(window.service.issuer_url, ["employee_badge"])
    authorization = wallet.start(session, config_ids=["employee_badge"])
    waiting(qtbot, window, authorization.confirmation)
    window.sign_ins.reason.setText("the code did not match")
    window.sign_ins.deny_button.click()
    qtbot.waitUntil(lambda: window.sign_ins.model.rowCount() == 0)
    assert window.sign_ins.model.rowCount() == 0
    assert wallet.follow(authorization)["error"] == "access_denied"
    entry = window.service.desk.audit_log(limit=1)[0]
    assert (entry["action"], entry["operator"], entry["detail"]["reason"]) == (
        "authorization_denied",
        "Ada",
        "the code did not match",
    )


@pytest.fixture
def short_wait_window(qtbot: QtBot, tmp_path: Path) -> Iterator[MainWindow]:
    """The window around an issuer whose wallets wait at the desk for two seconds at most."""
    runtime = IssuerRuntime(Settings.load(data_dir=tmp_path / "data", port=0, admin_port=0, authorization_wait=2))
    runtime.start()
    window = MainWindow(runtime, operator="Ada")
    qtbot.addWidget(window, before_close_func=MainWindow.stop_issuer)
    window.show()
    yield window
    window.stop_issuer()


def test_a_sign_in_appears_on_its_event_and_leaves_when_its_wait_ends(
    qtbot: QtBot, short_wait_window: MainWindow, wallet: CodeFlowWallet, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = short_wait_window
    settle(qtbot, window.tasks)
    reads: list[float] = []
    read = window.service.sign_ins.pending

    def counted_read() -> list[dict[str, Any]]:
        reads.append(time.time())
        return read()

    monkeypatch.setattr(window.service.sign_ins, "pending", counted_read)
    assert window.sign_ins.model.rowCount() == 0

    session = wallet.authorization_session(window.service.issuer_url, ["employee_badge"])
    authorization = wallet.start(session, config_ids=["employee_badge"])
    waiting(qtbot, window, authorization.confirmation)
    reads_for_the_event = len(reads)
    assert reads_for_the_event >= 1  # the authorization_requested event asked for the list
    expires_at = window.sign_ins.model.sign_in_at(0).expires_at
    polling = [t for t in window.sign_ins.findChildren(QTimer) if t.isActive() and not t.isSingleShot()]
    assert polling == []

    qtbot.waitUntil(lambda: window.sign_ins.model.rowCount() == 0, timeout=5_000)
    assert time.time() > expires_at
    assert len(reads) == reads_for_the_event  # it left the table without another read
    assert window.tabs.tabText(window.tabs.indexOf(window.sign_ins)) == "Sign-ins"
