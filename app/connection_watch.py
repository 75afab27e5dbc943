"""A remote desk's connection to its issuer, said in the status bar while it is lost.

The remote client's event stream publishes DESK_OFFLINE when it breaks (the issuer stopped, the
network went away), DESK_ONLINE when it is back, and DESK_RESYNC when the issuer could not replay
what the desk missed (it restarted): then the lists are read again, so the tables catch up. When the
login ended, the window says to log in again. An embedded issuer never publishes these.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QMainWindow

from app.bridge import IssuerBridge
from app.style import ERROR_TONE, set_tone
from issuer.remote.events import DESK_LOGIN_ENDED, DESK_OFFLINE, DESK_ONLINE, DESK_RESYNC

LOST = (
    "The connection to the issuer is lost (it stopped, or the network is down). Trying again every few "
    "seconds; what you do now does not reach it."
)
REFUSED = "The issuer turned this desk's live updates away ({reason}). Trying again every few seconds."
LOGIN_ENDED = "Your login on the issuer has ended (it expired, or it was logged out): close the app and log in again."
BACK = "Connected to the issuer again: the lists are up to date."


class ConnectionWatch(QObject):
    """Says in the window's status bar while the connection is lost; `lists_stale` asks the window to
    read its lists again. It keeps no reference to the window (its parent), so a window closed at a
    log out goes at once."""

    lists_stale = Signal()

    def __init__(self, window: QMainWindow, bridge: IssuerBridge) -> None:
        super().__init__(window)
        self._status_bar = window.statusBar()
        self.label = QLabel(LOST)
        self.label.setObjectName("connectionLost")
        set_tone(self.label, ERROR_TONE)
        self.label.setWordWrap(True)
        self.label.hide()
        window.statusBar().addWidget(self.label, 1)
        bridge.offer_changed.connect(self.on_event)
        bridge.reason_given.connect(self.on_reason)

    @property
    def lost(self) -> bool:
        return not self.label.isHidden()

    def on_reason(self, kind: str, reason: str) -> None:
        """An issuer that answered and refused the stream: its words, not "lost"."""
        if kind == DESK_OFFLINE:
            self.label.setText(REFUSED.format(reason=reason))
            self.label.show()

    def on_event(self, kind: str, _offer_id: str) -> None:
        if kind == DESK_OFFLINE:
            self.label.setText(LOST)
            self.label.show()
        elif kind == DESK_LOGIN_ENDED:
            self.label.setText(LOGIN_ENDED)
            self.label.show()
        elif kind == DESK_ONLINE:
            self.label.hide()
            self._status_bar.showMessage(BACK, 10_000)
        elif kind == DESK_RESYNC:
            self.lists_stale.emit()  # what changed while the desk was away
