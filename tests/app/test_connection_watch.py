"""The status bar of a remote desk: lost, refused with the issuer's reason, back again."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow
from pytestqt.qtbot import QtBot

from app.bridge import IssuerBridge
from app.connection_watch import BACK, LOST, ConnectionWatch
from issuer.events import Event, EventBus
from issuer.remote.events import DESK_OFFLINE, DESK_ONLINE

REASON = "the issuer cannot do this now: this issuer process serves at most 8 desks' event streams"


def watched(qtbot: QtBot) -> tuple[EventBus, QMainWindow, ConnectionWatch]:
    bus = EventBus()
    window = QMainWindow()
    qtbot.addWidget(window)
    watch = ConnectionWatch(window, IssuerBridge(bus, window))
    return bus, window, watch


def test_a_refused_stream_is_said_with_the_issuers_reason(qtbot: QtBot) -> None:
    bus, _, watch = watched(qtbot)
    bus.publish(Event(DESK_OFFLINE, "", {"reason": REASON}, remote=True))
    qtbot.waitUntil(lambda: watch.lost and REASON in watch.label.text())
    assert watch.label.text().startswith("The issuer turned this desk's live updates away")


def test_a_broken_stream_is_lost_and_its_return_said(qtbot: QtBot) -> None:
    bus, window, watch = watched(qtbot)
    bus.publish(Event(DESK_OFFLINE, "", remote=True))
    qtbot.waitUntil(lambda: watch.lost)
    assert watch.label.text() == LOST
    bus.publish(Event(DESK_ONLINE, "", remote=True))
    qtbot.waitUntil(lambda: not watch.lost)
    assert window.statusBar().currentMessage() == BACK
