"""The customer display: for a second screen facing the holder. The QR, the credential's name and
the time left; never the transaction code, which the operator reads out."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.style import CUSTOMER_COUNTDOWN_STYLE, CUSTOMER_TITLE_STYLE
from app.widgets.qr import QrView
from issuer.service import CreatedOffer


class CustomerDisplay(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Scan with your wallet")
        self.title = QLabel("Scan with your wallet")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setStyleSheet(CUSTOMER_TITLE_STYLE)
        self.qr = QrView()
        self.countdown = QLabel()
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.countdown.setStyleSheet(CUSTOMER_COUNTDOWN_STYLE)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.qr, 1)
        layout.addWidget(self.countdown)
        self._expires_at = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.tick)
        self.resize(600, 700)

    def show_offer(self, offer: CreatedOffer, credential_name: str) -> None:
        self.title.setText(f"Scan with your wallet: {credential_name}")
        self.qr.set_text(offer.offer_uri)
        self._expires_at = offer.expires_at
        self.tick()
        self._timer.start(1000)

    def tick(self) -> None:
        left = int(self._expires_at - time.time())
        if left <= 0:
            self._timer.stop()
            self.qr.set_text("")
            self.countdown.setText("This offer has expired. Please ask the desk for a new one.")
            return
        minutes, seconds = divmod(left, 60)
        self.countdown.setText(f"Valid for {minutes}:{seconds:02d}")
