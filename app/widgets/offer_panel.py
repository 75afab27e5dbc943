"""The right half of the New offer page: the offer's QR code and link while the wallet may use it,
then the result in words ("Received by the wallet at 10:42 ✓", or what went wrong and what to do).

Its buttons apply only while there is a code: copy, save, print (the take-away sheet, asked of the
page through `print_requested`) and cancel (`cancel_requested`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.models.outcome import Outcome, Stage
from app.style import ERROR_TONE, OK_TONE, PLAIN_TONE, RESULT_STYLE, TX_CODE_STYLE, set_tone
from app.widgets.qr import QrView
from issuer.service import CreatedOffer

IDLE_TEXT = "No offer yet: fill in the form and create it; its QR code appears here."
STAGE_TONES = {Stage.RECEIVED: OK_TONE, Stage.FAILED: ERROR_TONE, Stage.RETRY: ERROR_TONE}


class OfferPanel(QWidget):
    cancel_requested = Signal()
    print_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.qr = QrView()
        self.result = QLabel(IDLE_TEXT)
        self.result.setAccessibleName("Offer status")
        self.result.setObjectName("offerResult")
        self.result.setStyleSheet(RESULT_STYLE)
        self.result.setWordWrap(True)
        self.result.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.link = QLineEdit()
        self.link.setReadOnly(True)
        self.link.setAccessibleName("Offer link")
        self.copy_button = QPushButton("Copy link")
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.link.text()))
        self.save_png = QPushButton("Save PNG…")
        self.save_svg = QPushButton("Save SVG…")
        self.print_button = QPushButton("Print…")
        self.cancel_button = QPushButton("Cancel offer")
        self.save_png.clicked.connect(lambda: self._save_as("png"))
        self.save_svg.clicked.connect(lambda: self._save_as("svg"))
        self.print_button.clicked.connect(self.print_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.file_message = QLabel()
        self.file_message.setAccessibleName("Offer panel message")
        self.tx_code_label = QLabel()
        self.tx_code_label.setStyleSheet(TX_CODE_STYLE)
        self._shown = False  # an offer is on the panel, live or finished
        self._final = False

        layout = self._layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.qr, 1)
        layout.addWidget(self.result, 0)
        link_row = QHBoxLayout()
        link_row.addWidget(self.link, 1)
        link_row.addWidget(self.copy_button)
        layout.addLayout(link_row)
        file_row = QHBoxLayout()
        for button in (self.save_png, self.save_svg, self.print_button, self.cancel_button):
            file_row.addWidget(button)
        file_row.addWidget(self.file_message, 1)
        layout.addLayout(file_row)
        layout.addWidget(self.tx_code_label)
        self.clear()

    @property
    def buttons(self) -> tuple[QPushButton, ...]:
        return (self.copy_button, self.save_png, self.save_svg, self.print_button, self.cancel_button)

    def show_offer(self, created: CreatedOffer) -> None:
        self._shown, self._final = True, False
        self.qr.set_text(created.offer_uri)
        self.link.setText(created.offer_uri)
        self.tx_code_label.setText(f"Transaction code: {created.tx_code}" if created.tx_code else "")
        self.file_message.clear()
        self._say("Waiting for the wallet to scan the code.", PLAIN_TONE)
        self._update_buttons()

    def show_outcome(self, outcome: Outcome) -> None:
        """The wallet moved on: the result in words; once the code has done its work it leaves the panel."""
        self._final = outcome.final
        if not outcome.shows_code:
            self.qr.set_text("")
            self.link.clear()
            self.tx_code_label.clear()
        self._say(outcome.desk, STAGE_TONES.get(outcome.stage, PLAIN_TONE))
        self._update_buttons()

    def say(self, text: str, tone: str = PLAIN_TONE) -> None:
        """A message about the panel's own actions (a refused cancel, a saved file)."""
        set_tone(self.file_message, tone)
        self.file_message.setText(text)

    def clear(self) -> None:
        self._shown, self._final = False, False
        self.qr.set_text("")
        self.link.clear()
        self.tx_code_label.clear()
        self.file_message.clear()
        self._say(IDLE_TEXT, PLAIN_TONE)
        self._update_buttons()

    def _say(self, text: str, tone: str) -> None:
        set_tone(self.result, tone)
        self.result.setText(text)

    def _update_buttons(self) -> None:
        """The code's actions while there is a code; cancel while the offer lives. The rest is hidden."""
        has_code = bool(self.qr.text)
        for widget in (self.link, self.copy_button, self.save_png, self.save_svg, self.print_button):
            widget.setEnabled(has_code)
            widget.setVisible(has_code)
        cancellable = self._shown and not self._final
        self.cancel_button.setEnabled(cancellable)
        self.cancel_button.setVisible(cancellable)
        self.qr.setVisible(has_code or not self._shown)
        self._layout.setStretchFactor(self.result, 0 if self.qr.isVisibleTo(self) else 1)  # the result takes its place

    def _save_as(self, suffix: str) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save the QR code", f"offer.{suffix}", f"{suffix.upper()} (*.{suffix})"
        )
        if not name:
            return
        try:
            self.qr.save(Path(name))
        except (OSError, ValueError) as error:
            self.say(f"Not saved: {error}", ERROR_TONE)
            return
        self.say(f"Saved {name}")
