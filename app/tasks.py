"""The one way off the GUI thread: every service call from the window runs here.

After Anki's `qt/aqt/taskman.py`: work runs on a single background thread, so calls run in the
order they were asked for and an operator's actions never overtake each other; a slow disk or a
long store lock never freezes the window. Finished work comes back as closures on a locked list,
announced by one signal that Qt queues to the GUI thread, where the result (or a plain message
for a refusal) is handed to the page. Only the GUI thread touches widgets.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

from app.i18n import service_message
from issuer.errors import ServiceError

log = logging.getLogger(__name__)

T = TypeVar("T")
Busy = QWidget | Sequence[QWidget] | None
THREAD_NAME = "frontdesk-task"


class Tasks(QObject):
    """A single-thread executor whose results are delivered on the GUI thread.

    Create it on the GUI thread and call `run` from there; call `shutdown` before the issuer stops.
    """

    _results_pending = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=THREAD_NAME)
        self._results: list[Callable[[], None]] = []
        self._results_lock = threading.Lock()
        self._busy: dict[QWidget, int] = {}
        self._outstanding = 0
        self._closed = False
        self._results_pending.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def run(
        self,
        work: Callable[[], T],
        on_done: Callable[[T], None],
        on_error: Callable[[str], None] | None = None,
        *,
        busy: Busy = None,
    ) -> Future[T] | None:
        """Run `work` after every task asked for before it; then `on_done(result)` on the GUI thread.

        A ServiceError, ValueError or OSError reaches `on_error` as a plain message (logged when
        there is no `on_error`); anything else is logged with its traceback and reported as a short
        message. `busy` widgets are disabled until the result has been handled; they are enabled
        again before the callback runs, so it may set their final state. A result whose receiver
        (the callback's widget, or a busy widget) was destroyed meanwhile is dropped.
        """
        if self._closed:
            log.debug("task %r not started: the window is closing", work)
            return None
        widgets = _widgets(busy)
        for widget in widgets:
            self._hold(widget)
        self._outstanding += 1
        future = self._executor.submit(work)
        future.add_done_callback(lambda done: self._post(partial(self._finish, done, on_done, on_error, widgets)))
        return future

    def is_idle(self) -> bool:
        """True when no task is waiting, running, or waiting to have its result handled."""
        return self._outstanding == 0

    def shutdown(self) -> None:
        """Take no more work, drop what has not started, and wait for the running task to end."""
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _post(self, result: Callable[[], None]) -> None:
        """Any thread: queue a closure for the GUI thread (Anki's `run_on_main`)."""
        with self._results_lock:
            self._results.append(result)
        self._results_pending.emit()

    def _deliver(self) -> None:
        with self._results_lock:
            results, self._results = self._results, []
        for result in results:
            result()

    def _finish(
        self,
        future: Future[Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None,
        widgets: tuple[QWidget, ...],
    ) -> None:
        try:
            for widget in widgets:
                self._release(widget)
            if future.cancelled():
                return
            error = future.exception()
            if error is not None:
                self._report(error, on_error, widgets)
            elif _alive(on_done, widgets):
                on_done(future.result())
            else:
                log.debug("result of a task dropped: its receiver is gone")
        except Exception:  # a bug in a callback: shown like any other, the next results still arrive
            sys.excepthook(*sys.exc_info())
        finally:
            self._outstanding -= 1  # after the callback: work it asks for keeps the runner busy

    def _report(
        self, error: BaseException, on_error: Callable[[str], None] | None, widgets: tuple[QWidget, ...]
    ) -> None:
        message = plain_message(error)
        if message is None:
            log.error("a task failed unexpectedly", exc_info=error)
            message = f"an unexpected error happened ({type(error).__name__}); the log has the details"
        if on_error is None:
            log.warning("a task failed: %s", message)
        elif _alive(on_error, widgets):
            on_error(message)

    def _hold(self, widget: QWidget) -> None:
        count = self._busy.get(widget, 0)
        if count == 0:
            widget.setEnabled(False)
        self._busy[widget] = count + 1

    def _release(self, widget: QWidget) -> None:
        count = self._busy.pop(widget, 1) - 1
        if count > 0:
            self._busy[widget] = count
        elif shiboken6.isValid(widget):
            widget.setEnabled(True)


def plain_message(error: BaseException) -> str | None:
    """What the operator is told about an expected refusal; None for anything else (a bug)."""
    if isinstance(error, ServiceError):
        return service_message(error.message)
    if isinstance(error, OSError):
        reason = error.strerror or str(error) or type(error).__name__
        return f"{reason}: {error.filename}" if error.filename else reason
    if isinstance(error, ValueError):
        return service_message(str(error)) or type(error).__name__
    return None


def _widgets(busy: Busy) -> tuple[QWidget, ...]:
    if busy is None:
        return ()
    if isinstance(busy, QWidget):
        return (busy,)
    return tuple(busy)


def _alive(callback: Callable[..., None], widgets: tuple[QWidget, ...]) -> bool:
    """Whether the Qt objects a callback belongs to still exist (bound methods, partials of them)."""
    while isinstance(callback, partial):
        callback = callback.func
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, QObject) and not shiboken6.isValid(owner):
        return False
    return all(shiboken6.isValid(widget) for widget in widgets)
