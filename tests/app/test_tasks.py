"""The task runner: one background thread, results in order on the GUI thread, plain messages for refusals."""

from __future__ import annotations

import logging
import threading
import time
from functools import partial

import pytest
import shiboken6
from PySide6.QtWidgets import QLabel, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from app.tasks import THREAD_NAME, Tasks
from issuer.errors import NotFound
from tests.app.helpers import settle


def test_tasks_run_in_submission_order_on_one_thread_that_is_not_the_gui_thread(qtbot: QtBot, tasks: Tasks) -> None:
    ran: list[tuple[int, threading.Thread]] = []
    delivered: list[tuple[int, threading.Thread]] = []

    def work(number: int) -> int:
        time.sleep(0.001 * (number % 3))  # uneven lengths: a pool of threads would reorder them
        ran.append((number, threading.current_thread()))
        return number

    for number in range(20):
        tasks.run(partial(work, number), lambda n: delivered.append((n, threading.current_thread())))
    settle(qtbot, tasks)

    assert [n for n, _ in ran] == list(range(20)) == [n for n, _ in delivered]
    workers = {thread for _, thread in ran}
    assert len(workers) == 1
    (worker,) = workers
    assert worker is not threading.main_thread() and worker.name.startswith(THREAD_NAME)
    assert {thread for _, thread in delivered} == {threading.main_thread()}


def raise_(error: BaseException) -> str:
    raise error


def unexpected(result: object) -> None:
    pytest.fail(f"no result expected, got {result!r}")


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (NotFound("no offer 'abc'"), "no offer 'abc'"),
        (ValueError("the port is out of range"), "the port is out of range"),
        (
            FileNotFoundError(2, "No such file or directory", "/nowhere/audit.csv"),
            "No such file or directory: /nowhere/audit.csv",
        ),
    ],
)
def test_a_refusal_reaches_on_error_as_a_plain_message(
    qtbot: QtBot, tasks: Tasks, error: Exception, message: str
) -> None:
    reasons: list[str] = []
    tasks.run(partial(raise_, error), unexpected, reasons.append)
    settle(qtbot, tasks)
    assert reasons == [message]


def test_an_unexpected_error_is_logged_with_its_traceback_and_the_gui_keeps_working(
    qtbot: QtBot, tasks: Tasks, caplog: pytest.LogCaptureFixture
) -> None:
    reasons: list[str] = []
    results: list[str] = []
    with caplog.at_level(logging.ERROR, logger="app.tasks"):
        tasks.run(partial(raise_, KeyError("holder_id")), results.append, reasons.append)
        tasks.run(lambda: "still working", results.append, reasons.append)
        settle(qtbot, tasks)
    assert results == ["still working"]
    [reason] = reasons
    assert "KeyError" in reason and "Traceback" not in reason and "holder_id" not in reason
    [record] = [r for r in caplog.records if r.name == "app.tasks"]
    assert record.exc_info is not None and record.exc_info[0] is KeyError


def test_busy_widgets_are_disabled_while_their_task_runs(qtbot: QtBot, tasks: Tasks) -> None:
    button = QPushButton("Search")
    qtbot.addWidget(button)
    child_kept_disabled = QPushButton("Revoke…", button)
    child_kept_disabled.setEnabled(False)
    release_first, release_second = threading.Event(), threading.Event()
    done: list[str] = []
    tasks.run(lambda: release_first.wait(5), lambda _: done.append("first"), busy=button)
    tasks.run(lambda: release_second.wait(5), lambda _: done.append("second"), busy=[button])
    assert not button.isEnabled()

    release_first.set()
    qtbot.waitUntil(lambda: done == ["first"])
    assert not button.isEnabled()  # the second task still holds it
    release_second.set()
    settle(qtbot, tasks)
    assert done == ["first", "second"] and button.isEnabled()
    assert not child_kept_disabled.isEnabled()  # a state the page chose is not overridden


def test_a_result_after_its_receiver_was_deleted_is_dropped(qtbot: QtBot, tasks: Tasks) -> None:
    page = QWidget()
    label = QLabel(page)
    button = QPushButton(page)
    release = threading.Event()

    def late() -> str:
        release.wait(5)
        return "late"

    tasks.run(late, label.setText, label.setText)
    dropped: list[str] = []
    tasks.run(lambda: "late", dropped.append, dropped.append, busy=button)
    shiboken6.delete(page)  # the page is closed while its work runs
    assert not shiboken6.isValid(label) and not shiboken6.isValid(button)
    release.set()
    after: list[str] = []
    tasks.run(lambda: "next", after.append)
    settle(qtbot, tasks)  # pytest-qt fails the test on any exception raised in the event loop
    assert dropped == [] and after == ["next"]


def test_shutdown_waits_for_the_running_task_and_drops_the_rest(qtbot: QtBot) -> None:
    tasks = Tasks()
    started, finished = threading.Event(), threading.Event()
    queued_ran = threading.Event()

    def slow() -> None:
        started.set()
        time.sleep(0.3)
        finished.set()

    tasks.run(slow, lambda _: None)
    tasks.run(queued_ran.set, lambda _: None)
    assert started.wait(5)
    tasks.shutdown()
    assert finished.is_set() and not queued_ran.is_set()
    assert tasks.run(queued_ran.set, lambda _: None) is None
    settle(qtbot, tasks)
    assert not queued_ran.is_set()
    assert not [t for t in threading.enumerate() if t.name.startswith(THREAD_NAME)]
