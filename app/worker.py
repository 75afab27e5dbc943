"""Slow work (password hashing, exports, network checks) off the GUI thread.

`run_in_background` runs a function on Qt's thread pool and delivers its result or its
error back on the GUI thread, so the window never freezes and never sees a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Relay(QObject):
    done = Signal(object)
    failed = Signal(str)


class _Task(QRunnable):
    def __init__(self, work: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._work = work
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._work()
        except Exception as error:  # shown to the operator as a message, never raised in the GUI
            self._relay.failed.emit(str(error) or type(error).__name__)
            return
        self._relay.done.emit(result)


_running: set[_Relay] = set()


def run_in_background(work: Callable[[], Any], on_done: Callable[[Any], None], on_error: Callable[[str], None]) -> None:
    relay = _Relay()
    _running.add(relay)  # kept alive until it has delivered
    relay.done.connect(on_done)
    relay.failed.connect(on_error)
    relay.done.connect(lambda _: _running.discard(relay))
    relay.failed.connect(lambda _: _running.discard(relay))
    QThreadPool.globalInstance().start(_Task(work, relay))
