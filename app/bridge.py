"""Issuer events (published on Waitress threads) re-emitted as a Qt signal on the GUI thread.

The bridge lives on the GUI thread; emitting its signal from another thread makes Qt queue
the call, so slots always run where widgets may be touched. Nothing here blocks the issuer.
Only strings cross threads (the event kind and the offer id): a queued Python object that is
never delivered, when the window closes with events in flight, was seen to crash PySide6 at exit.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from issuer.events import Event, EventBus


class IssuerBridge(QObject):
    offer_changed = Signal(str, str)  # event kind, offer id
    reason_given = Signal(str, str)  # event kind, the `reason` in its detail (an event that has one)

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe: Callable[[], None] | None = bus.subscribe(self._relay)

    def _relay(self, event: Event) -> None:
        self.offer_changed.emit(event.kind, event.offer_id)
        reason = event.detail.get("reason")
        if isinstance(reason, str) and reason:
            self.reason_given.emit(event.kind, reason)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
