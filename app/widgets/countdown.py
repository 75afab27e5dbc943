"""A label that counts down to the end of a wait the service imposed (a login slowed down after failures).

The service says how long the name must wait (`retry_after` on the refusal, a Retry-After header from
a remote issuer); the countdown reads its own clock, which tests move forward, and says when the person
may try again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel

from app.style import ERROR_TONE, PLAIN_TONE, set_tone
from issuer.errors import Throttled, Unauthenticated

T = TypeVar("T")


@dataclass(frozen=True)
class Refusal:
    """A refused login as a dialog shows it: why, and how many seconds the name must wait (0: none)."""

    message: str
    wait: float = 0.0


def or_refusal(work: Callable[[], T]) -> T | Refusal:
    """Task thread: `work()`, or the refused login it raised, with the wait that started."""
    try:
        return work()
    except (Throttled, Unauthenticated) as error:
        return Refusal(error.message, error.retry_after)


TICK_MS = 250


class Countdown(QObject):
    finished = Signal()

    def __init__(self, label: QLabel, clock: Callable[[], float], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._label = label
        self._clock = clock
        self._until = 0.0
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)

    @property
    def running(self) -> bool:
        return self.timer.isActive()

    def start(self, seconds: float) -> None:
        self._until = self._clock() + seconds
        self.timer.start()
        self.tick()

    def stop(self) -> None:
        self.timer.stop()

    def tick(self) -> None:
        left = self._until - self._clock()
        if left <= 0:
            self.timer.stop()
            set_tone(self._label, PLAIN_TONE)
            self._label.setText(self.tr("You can try again now."))
            self.finished.emit()
            return
        set_tone(self._label, ERROR_TONE)
        self._label.setText(
            self.tr("Too many failed logins for this name: try again in {seconds} s").format(seconds=math.ceil(left))
        )
