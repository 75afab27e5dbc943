"""After the QR code: the result on both screens, cancellation, expiry, and the printed take-away sheet."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PySide6.QtGui import QImage, QPdfWriter
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from pytestqt.qtbot import QtBot

from app import confirm
from app.models.offers import COLUMNS
from app.widgets import takeaway
from app.window import MainWindow
from issuer.records.holders import HolderRequest
from tests.app.helpers import create_offer, settle
from tests.app.test_desk_flow import BADGE, fill, scanned
from wallet.client import TestWallet, WalletError


def test_after_issuance_both_screens_say_it_is_done(qtbot: QtBot, window: MainWindow) -> None:
    window.customer_display.done_ms = 300
    window.compose.tx_code.setChecked(False)
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    assert window.compose.panel.result.text() == "Waiting for the wallet to scan the code."
    with TestWallet() as wallet:
        wallet.receive(created.offer_uri)
    panel = window.compose.panel
    qtbot.waitUntil(lambda: panel.result.text().startswith("Received by the wallet at"))
    assert panel.result.text().endswith("✓") and panel.qr.text == "" and not panel.print_button.isEnabled()
    display = window.customer_display
    assert display.message.text() == "Done, you can put your phone away" and display.qr.text == ""
    qtbot.waitUntil(lambda: display.idle, timeout=3000)


def test_a_refused_request_is_said_in_plain_words_with_what_to_do(qtbot: QtBot, window: MainWindow) -> None:
    window.compose.tx_code.setChecked(False)
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    with TestWallet() as wallet:
        session = wallet.resolve_offer(created.offer_uri)
        wallet.token(session)
        with pytest.raises(WalletError):
            wallet.request_credential(session, "employee_badge", nonce="made-up-nonce")
    panel = window.compose.panel
    qtbot.waitUntil(lambda: "refused" in panel.result.text())
    assert "the nonce is unknown" in panel.result.text() and "scan the code again" in panel.result.text()
    assert panel.cancel_button.isEnabled()


def test_cancel_from_the_qr_panel_shows_on_both_screens(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    questions: list[str] = []
    monkeypatch.setattr(confirm, "ask", lambda _p, _t, question, yes="": questions.append(question) or True)
    window.compose.panel.cancel_button.click()
    qtbot.waitUntil(lambda: window.compose.panel.result.text().startswith("Cancelled at"))
    assert questions == ["Cancel the offer for Ada Lovelace (Employee Badge)? Its QR code stops working at once."]
    assert window.customer_display.message.text() == "This offer was cancelled. Please ask the desk."
    assert window.service.offers.status(created.offer_id)["state"] == "cancelled"
    entry = window.service.desk.audit_log(limit=1)[0]
    assert (entry["operator"], entry["action"]) == ("Ada", "offer_cancelled")
    assert not window.compose.panel.cancel_button.isEnabled()


def test_cancel_from_the_offers_table(qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    offers = window.offers
    qtbot.waitUntil(lambda: window.offers_model.row_of(created.offer_id) is not None)
    assert not offers.cancel_button.isEnabled()
    offers.select_offer(created.offer_id)
    assert offers.cancel_button.isEnabled() and not offers.approve_button.isEnabled()
    monkeypatch.setattr(confirm, "ask", lambda *_a, **_k: False)
    offers.cancel_button.click()
    assert window.service.offers.status(created.offer_id)["state"] == "created"
    monkeypatch.setattr(confirm, "ask", lambda *_a, **_k: True)
    offers.cancel_button.click()
    state = COLUMNS.index("State")
    qtbot.waitUntil(lambda: window.offers_model.index(0, state).data() == "cancelled")
    assert offers.message.text() == "Cancelled: its QR code no longer works."
    qtbot.waitUntil(lambda: not offers.cancel_button.isEnabled())
    qtbot.waitUntil(lambda: window.compose.panel.result.text().startswith("Cancelled at"))  # the panel follows


def test_expiry_shows_the_same_on_both_screens(qtbot: QtBot, window: MainWindow) -> None:
    fill(window, BADGE)
    create_offer(qtbot, window)
    service = window.service
    real_clock = service.clock
    service.clock = lambda: real_clock() + 3600
    try:
        service.purge_expired()  # what the sweeper does every 30 seconds
    finally:
        service.clock = real_clock
    panel = window.compose.panel
    qtbot.waitUntil(lambda: panel.result.text().startswith("This offer expired at"))
    assert "Another credential for this person" in panel.result.text() and panel.qr.text == ""
    assert window.customer_display.message.text() == "This offer has expired. Please ask the desk for a new one."


def sheet_for_grace(qtbot: QtBot, window: MainWindow) -> takeaway.Sheet:
    grace = window.service.desk.register_holder(HolderRequest("Grace", "Hopper", "passport", "P-19061209"), "Ada")
    window.compose.use_holder(grace)
    fill(window, {"employee_id": "E-1906"})
    create_offer(qtbot, window)
    sheet = window.compose.sheet()
    assert sheet is not None
    return sheet


def test_print_shows_a_preview_of_the_take_away_sheet_then_prints_it(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sheet = sheet_for_grace(qtbot, window)
    pdf = tmp_path / "printed.pdf"

    def preview_then_print(dialog: QPrintPreviewDialog) -> int:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(pdf))
        dialog.paintRequested.emit(printer)  # what "Print" in the preview does
        return 1

    monkeypatch.setattr(QPrintPreviewDialog, "exec", preview_then_print)
    window.compose.panel.print_button.click()
    assert pdf.read_bytes().startswith(b"%PDF")
    assert sheet.holder_name == "Grace Hopper" and sheet.credential_name == "Employee Badge"


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils: tools/install.sh --test installs it")
def test_the_printed_sheet_scans_and_says_what_it_is(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    sheet = sheet_for_grace(qtbot, window)
    writer = QPdfWriter(str(tmp_path / "sheet.pdf"))
    takeaway.print_sheet(writer, sheet)
    del writer
    subprocess.run(
        ["pdftoppm", "-r", "100", "-png", "-singlefile", tmp_path / "sheet.pdf", tmp_path / "sheet"], check=True
    )
    assert scanned(QImage(str(tmp_path / "sheet.png"))) == sheet.offer_uri
    text = subprocess.run(["pdftotext", tmp_path / "sheet.pdf", "-"], capture_output=True, text=True, check=True).stdout
    for expected in (
        "Frontdesk Issuer",
        "Employee Badge",
        "For Grace Hopper",
        sheet.expiry_text,
        "Open your wallet app",
    ):
        assert expected in text


def test_the_sheet_renders_through_the_same_paint_code(qtbot: QtBot, window: MainWindow) -> None:
    sheet = sheet_for_grace(qtbot, window)
    assert scanned(takeaway.render_sheet(sheet)) == sheet.offer_uri


def test_actions_apply_only_when_there_is_something_to_act_on(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.compose.panel
    assert not any(button.isEnabled() for button in panel.buttons)
    fill(window, BADGE)
    create_offer(qtbot, window)
    assert all(button.isEnabled() for button in panel.buttons)
    window.compose.new_customer()
    assert not any(button.isEnabled() for button in panel.buttons)
    settle(qtbot, window.tasks)
