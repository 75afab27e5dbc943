"""The desk in the window: compose an offer, scan the QR, watch the row move, approve."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PySide6.QtGui import QImage, QPdfWriter
from pytestqt.qtbot import QtBot

from app.models.offers import LAST_STEP, STATE
from app.widgets.takeaway import print_sheet
from app.window import MainWindow
from tests.app.helpers import create_offer, settle
from wallet.client import TestWallet, WalletError

BADGE = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}


@pytest.fixture
def wallet() -> Iterator[TestWallet]:
    client = TestWallet()
    yield client
    client.close()


def fill(window: MainWindow, claims: dict[str, str]) -> None:
    for name, value in claims.items():
        window.compose.field(name).setText(value)


def scanned(image: QImage) -> str:
    """Decode a QR code the way a phone would see it: from grey pixels."""
    grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
    width, height, stride = grey.width(), grey.height(), grey.bytesPerLine()
    raw = bytes(grey.constBits())
    pixels = b"".join(raw[y * stride : y * stride + width] for y in range(height))
    [barcode] = zxingcpp.read_barcodes(memoryview(pixels).cast("B", (height, width)))
    return barcode.text


def row_state(window: MainWindow, offer_id: str) -> str:
    row = window.offers_model.row_of(offer_id)
    return "" if row is None else window.offers_model.index(row, STATE).data()


def test_the_form_follows_the_credential_type(window: MainWindow) -> None:
    compose = window.compose
    labels = [
        compose.form.itemAt(i, compose.form.ItemRole.LabelRole).widget().text() for i in range(compose.form.rowCount())
    ]
    assert labels == ["Given name *", "Family name *", "Employee number *", "Department"]
    compose.type_picker.setCurrentIndex(compose.type_picker.findData("membership_card"))
    assert compose.form.rowCount() == 4 and compose.field("member_id").accessibleName() == "Member number"


def test_missing_claims_are_explained_and_nothing_is_created(qtbot: QtBot, window: MainWindow) -> None:
    fill(window, {"given_name": "Ada"})
    window.compose.create_offer()
    settle(qtbot, window.tasks)
    assert "Family name" in window.compose.error.text()
    assert window.compose.field("given_name").text() == "Ada"  # the form keeps what was typed
    assert window.offers_model.rowCount() == 0


def test_scan_the_qr_and_watch_the_row(qtbot: QtBot, window: MainWindow, wallet: TestWallet, tmp_path: Path) -> None:
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    assert created is not None and created.tx_code
    assert window.compose.tx_code_label.text() == f"Transaction code: {created.tx_code}"
    offer_uri = scanned(window.compose.qr.render_image())
    assert offer_uri == created.offer_uri == window.compose.link.text()
    window.compose.qr.save(tmp_path / "offer.png")  # while the code is there: it leaves once issued
    window.compose.qr.save(tmp_path / "offer.svg")
    qtbot.waitUntil(lambda: row_state(window, created.offer_id) == "created")

    session = wallet.resolve_offer(offer_uri)
    qtbot.waitUntil(lambda: row_state(window, created.offer_id) == "scanned")
    wallet.fetch_metadata(session)
    wallet.token(session, created.tx_code)
    received = wallet.request_credential(session, "employee_badge")
    qtbot.waitUntil(lambda: row_state(window, created.offer_id) == "issued")
    assert not isinstance(received, str) and received.notification_id
    wallet.notify(session, received.notification_id)
    row = window.offers_model.row_of(created.offer_id)
    qtbot.waitUntil(lambda: window.offers_model.index(row, LAST_STEP).data() == "stored in the wallet")
    assert row_state(window, created.offer_id) == "issued"  # one word for the state, as `status` says
    assert window.compose.panel.result.text().startswith("Received by the wallet at")
    assert scanned(QImage(str(tmp_path / "offer.png"))) == offer_uri
    assert (tmp_path / "offer.svg").read_text().startswith("<?xml")


def test_a_wrong_transaction_code_shows_in_plain_words(qtbot: QtBot, window: MainWindow, wallet: TestWallet) -> None:
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    assert created is not None and created.tx_code
    session = wallet.resolve_offer(created.offer_uri)
    wrong = "1" * 6 if created.tx_code != "1" * 6 else "2" * 6
    response = wallet.post_form(
        f"{session.issuer}/token",
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            "pre-authorized_code": session.grant["pre-authorized_code"],
            "tx_code": wrong,
        },
    )
    assert response.status == 400
    row = lambda: window.offers_model.row_of(created.offer_id)  # noqa: E731
    qtbot.waitUntil(lambda: row() is not None)
    qtbot.waitUntil(
        lambda: window.offers_model.index(row(), LAST_STEP).data() == "wrong transaction code, 4 attempts left"
    )


def test_approve_a_deferred_issuance_from_the_offers_page(qtbot: QtBot, window: MainWindow, wallet: TestWallet) -> None:
    window.compose.deferred.setChecked(True)
    window.compose.tx_code.setChecked(False)
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    assert created is not None
    session = wallet.resolve_offer(created.offer_uri)
    wallet.fetch_metadata(session)
    wallet.token(session)
    keys = []
    transaction_id = wallet.request_credential(session, "employee_badge", holder_keys=keys or None)
    assert isinstance(transaction_id, str)
    qtbot.waitUntil(lambda: row_state(window, created.offer_id) == "waiting for approval")
    assert wallet.deferred(session, transaction_id, "employee_badge", []) is None

    window.tabs.setCurrentWidget(window.offers)
    window.offers.select_offer(created.offer_id)
    window.offers.approve_button.click()
    settle(qtbot, window.tasks)
    assert window.offers.message.text().startswith("Approved")
    qtbot.waitUntil(lambda: row_state(window, created.offer_id) == "approved")
    received = wallet.deferred(session, transaction_id, "employee_badge", [])
    assert received is not None and received.credentials[0].endswith("~")
    qtbot.waitUntil(lambda: row_state(window, created.offer_id) == "issued")
    entry = window.service.desk.audit_log(limit=1)[0]
    assert (entry["operator"], entry["action"]) == ("Ada", "issuance_approved")


def test_deciding_without_a_selection_says_what_to_do(window: MainWindow) -> None:
    assert not window.offers.approve_button.isEnabled()  # enabled only on a row waiting for approval
    window.offers.decide(approve=True)
    assert window.offers.message.text() == "Select a deferred offer first."


def test_a_refused_credential_request_is_explained(qtbot: QtBot, window: MainWindow, wallet: TestWallet) -> None:
    window.compose.tx_code.setChecked(False)
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    assert created is not None
    session = wallet.resolve_offer(created.offer_uri)
    wallet.token(session)
    with pytest.raises(WalletError):
        wallet.request_credential(session, "employee_badge", nonce="made-up-nonce")
    row = lambda: window.offers_model.row_of(created.offer_id)  # noqa: E731
    qtbot.waitUntil(lambda: row() is not None)
    qtbot.waitUntil(
        lambda: (
            window.offers_model.index(row(), LAST_STEP).data()
            == "the wallet's request was refused: the nonce is unknown, expired or already used"
        )
    )


def test_print_the_qr_code(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    fill(window, BADGE)
    assert create_offer(qtbot, window) is not None
    writer = QPdfWriter(str(tmp_path / "offer.pdf"))  # the same paged-device path a printer takes
    sheet = window.compose.sheet()
    assert sheet is not None
    print_sheet(writer, sheet)
    del writer
    pdf = (tmp_path / "offer.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000


def test_closing_the_window_leaves_no_server_thread(window: MainWindow) -> None:
    window.close()
    leftover = [t.name for t in threading.enumerate() if t.name.startswith(("waitress", "issuer-purge"))]
    assert leftover == []
