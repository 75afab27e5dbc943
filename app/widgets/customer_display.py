"""The customer display: for a second screen facing the holder. The QR, the credential's name and
the time left; never the transaction code, which the operator reads out.

It follows the offer on the desk (`show_outcome`, the same outcome the QR panel shows): "Done,
you can put your phone away" for a few seconds once the wallet has the credential, expiry and
cancellation in words, then its idle screen; *New customer* makes it idle at once.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.models.outcome import EXPIRED_TEXT, Outcome, Stage
from app.style import CUSTOMER_COUNTDOWN_STYLE, CUSTOMER_MESSAGE_STYLE, CUSTOMER_TITLE_STYLE
from app.widgets.qr import QrView
from issuer.service import CreatedOffer

IDLE_TITLE = "Welcome"
IDLE_TEXT = "Your QR code will appear here."
DONE_MS = 5000  # "Done" stays this long, then the idle screen
MESSAGE_MS = 15000  # an expiry or a cancellation stays this long


class CustomerDisplay(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Scan with your wallet")
        self.title = QLabel()
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setStyleSheet(CUSTOMER_TITLE_STYLE)
        self.qr = QrView()
        self.message = QLabel()
        self.message.setAccessibleName("Message to the customer")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet(CUSTOMER_MESSAGE_STYLE)
        self.countdown = QLabel()
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.countdown.setStyleSheet(CUSTOMER_COUNTDOWN_STYLE)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.qr, 1)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.countdown)
        self.done_ms, self.message_ms = DONE_MS, MESSAGE_MS
        self._expires_at = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.tick)
        self._back_to_idle = QTimer(self)
        self._back_to_idle.setSingleShot(True)
        self._back_to_idle.timeout.connect(self.show_idle)
        self.resize(600, 700)
        self.show_idle()

    @property
    def idle(self) -> bool:
        return self.title.text() == IDLE_TITLE

    def show_offer(self, offer: CreatedOffer, credential_name: str) -> None:
        self._back_to_idle.stop()
        self.title.setText(f"Scan with your wallet: {credential_name}")
        self.qr.set_text(offer.offer_uri)
        self.qr.show()
        self.message.hide()
        self._expires_at = offer.expires_at
        self.tick()
        self._timer.start(1000)

    def show_outcome(self, outcome: Outcome) -> None:
        """What the wallet did, in the customer's words; a finished offer gives way to the idle screen."""
        if outcome.shows_code:
            self.title.setText(outcome.customer if outcome.stage != Stage.WAITING else self.title.text())
            return
        self._timer.stop()
        self._show_message(outcome.customer)
        if outcome.final:
            self._back_to_idle.start(self.done_ms if outcome.stage == Stage.RECEIVED else self.message_ms)

    def show_idle(self) -> None:
        self._timer.stop()
        self._back_to_idle.stop()
        self.title.setText(IDLE_TITLE)
        self._show_message(IDLE_TEXT)

    def tick(self) -> None:
        left = int(self._expires_at - time.time())
        if left <= 0:
            self._timer.stop()
            self.qr.set_text("")
            self.qr.hide()
            self.countdown.setText(EXPIRED_TEXT)
            return
        minutes, seconds = divmod(left, 60)
        self.countdown.setText(f"Valid for {minutes}:{seconds:02d}")

    def _show_message(self, text: str) -> None:
        self.qr.set_text("")
        self.qr.hide()
        self.countdown.clear()
        self.message.setText(text)
        self.message.show()
