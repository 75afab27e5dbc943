"""GUI tests run offscreen: the platform must be chosen before the first QApplication exists."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

from app import style  # noqa: E402
from app.main import parse_args, start_issuer  # noqa: E402
from app.tasks import Tasks  # noqa: E402
from app.window import MainWindow  # noqa: E402


@pytest.fixture(autouse=True)
def desk_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own desk settings (Settings -> Connect to an issuer), never the user's."""
    path = tmp_path / "desk-config" / "connection.json"
    monkeypatch.setenv("FRONTDESK_DESK_CONFIG", str(path))
    return path


@pytest.fixture
def tasks() -> Iterator[Tasks]:
    """A task runner for a test that drives a page or dialog itself, stopped after it."""
    runner = Tasks()
    yield runner
    runner.shutdown()


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> Iterator[MainWindow]:
    """The main window around a real embedded issuer, logged in as Ada, in the light scheme."""
    style.apply(style.LIGHT)
    runtime = start_issuer(parse_args(["--data-dir", str(tmp_path / "data"), "--port", "0", "--admin-port", "0"]))
    main_window = MainWindow(runtime, operator="Ada")
    # the issuer stops before pytest-qt closes the window, so closing asks nothing
    qtbot.addWidget(main_window, before_close_func=lambda widget: widget.stop_issuer())
    main_window.show()
    yield main_window
    main_window.stop_issuer()
