"""The desktop app as a desk of a running issuer (`frontdesk --connect`): two `serve` processes on
one PostgreSQL store; the desk logs in against the first, makes an offer, watches a wallet redeem
it through the second (the row moves through the event stream the first relays from the store),
and revokes the credential."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.main import connect_to
from app.models.offers import STATE
from app.window import MainWindow
from issuer.records.ledger import LedgerQuery
from issuer.service.operators import Operators
from issuer.storage.postgres.store import PostgresStore
from tests.app.helpers import TIMEOUT_MS, create_offer, settle
from tests.conftest import KEY_PASSPHRASE
from tests.e2e.helpers import BADGE_CLAIMS
from tests.postgres.test_two_processes import Deployment, deployment  # noqa: F401, F811 - the fixture
from wallet.client import TestWallet

pytestmark = pytest.mark.postgres
PASSWORD = "correct horse battery"


def add_operator(deployment: Deployment, name: str) -> None:  # noqa: F811
    database = deployment.database
    store = PostgresStore(database.url, password=database.password, key_passphrase=KEY_PASSPHRASE)
    try:
        Operators(store, time.time).create_first(name, PASSWORD)
    finally:
        store.close()


def row_state(window: MainWindow, offer_id: str) -> str:
    row = window.offers_model.row_of(offer_id)
    return "" if row is None else str(window.offers_model.index(row, STATE).data())


def test_a_remote_desk_sees_a_wallet_served_by_another_process(qtbot: QtBot, deployment: Deployment) -> None:  # noqa: F811
    add_operator(deployment, "ada")
    runtime = connect_to(deployment.one.admin_url)
    assert runtime.service is not None
    runtime.service.operators.login("ada", PASSWORD)
    runtime.service.connect()
    window = MainWindow(runtime, operator="ada")
    qtbot.addWidget(window)
    try:
        settle(qtbot, window.tasks)
        assert window.url_label.text().startswith(f"Issuer: {deployment.one.public_url}")
        for name, value in BADGE_CLAIMS.items():
            window.compose.field(name).setText(value)
        created = create_offer(qtbot, window)
        qtbot.waitUntil(lambda: row_state(window, created.offer_id) == "created", timeout=TIMEOUT_MS)
        # the issuer runs elsewhere: closing this desk stops no offer, and its data folder is not here
        assert window.close_question() is None
        assert not window.menu_actions.open_data_folder.isVisible()
        assert "on the issuer's computer" in dict(window.diagnostics().rows())["Data folder"]

        settle(qtbot, window.tasks)  # the status bar's reachability check went through the balancer
        deployment.balancer.pinned = 1  # the wallet reaches the other process only
        before = dict(deployment.balancer.connections)
        with TestWallet() as wallet:
            wallet.receive(created.offer_uri, created.tx_code)
        assert deployment.balancer.connections[0] == before.get(0, 0)
        assert deployment.balancer.connections[1] > before.get(1, 0)
        qtbot.waitUntil(lambda: row_state(window, created.offer_id) == "issued", timeout=TIMEOUT_MS)

        found: list[list[dict[str, Any]]] = []
        records = window.service.ledger.find

        window.tasks.run(partial(records, LedgerQuery(offer_id=created.offer_id)), found.append)
        qtbot.waitUntil(lambda: bool(found), timeout=TIMEOUT_MS)
        [record] = found[0]
        done: list[dict[str, Any]] = []
        change = partial(window.service.ledger.change_status, record["id"], "revoke", "ada", "lost phone")
        window.tasks.run(change, done.append)
        qtbot.waitUntil(lambda: bool(done), timeout=TIMEOUT_MS)
        assert deployment.other.admin("GET", f"/api/credentials/{record['id']}")["state"] == "revoked"
        audit = deployment.other.admin("GET", "/api/audit")["entries"]
        assert {entry["action"]: entry["operator"] for entry in audit}["credential_revoked"] == "ada"
    finally:
        window.close()
    assert runtime.service is None  # closing the window logged the desk out
