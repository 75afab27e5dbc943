"""Noticing that nobody is at the desk: no key press, click or mouse move for `minutes` minutes.

Watches every input event of the application (an event filter on it) and checks on a timer; the
clock is injected so that tests move time forward instead of waiting. `idle` fires once per quiet
spell, and again only after new input (or `reset`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal

CHECK_MS = 5_000
INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TabletPress,
    }
)


class IdleWatch(QObject):
    idle = Signal()

    def __init__(
        self, minutes: int, clock: Callable[[], float] = time.monotonic, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self.minutes = minutes
        self._last_input = clock()
        self._fired = False
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_MS)
        self.timer.timeout.connect(self.check)
        self.timer.start()
        app = QCoreApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def set_minutes(self, minutes: int) -> None:
        """0 never locks."""
        self.minutes = minutes
        self.reset()

    def reset(self) -> None:
        self._last_input = self._clock()
        self._fired = False

    def stop(self) -> None:
        self.timer.stop()
        app = QCoreApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in INPUT_EVENTS:
            self.reset()
        return False

    def check(self) -> None:
        if self.minutes <= 0 or self._fired:
            return
        if self._clock() - self._last_input >= self.minutes * 60:
            self._fired = True
            self.idle.emit()
