"""The desk's sessions around one running issuer: log in, work, log out, log in again.

Logging out (or an admin unlocking someone else's locked window) closes the window without stopping
the issuer, which keeps serving wallets; the login dialog comes back, and the next window starts on
the same runtime and task runner. Cancelling that dialog, or closing the window, stops the issuer.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from app.pages.login import LoginDialog
from app.tasks import Tasks
from app.window import MainWindow
from issuer.desk_api import DeskRuntime
from issuer.records.operators import Operator


class DeskSession(QObject):
    window_opened = Signal(object)  # the MainWindow of the new session
    login_shown = Signal(object)  # the LoginDialog after a log out

    def __init__(self, runtime: DeskRuntime, tasks: Tasks, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        if runtime.service is None:
            raise ValueError("the issuer is not running")
        self._runtime = runtime
        self._service = runtime.service
        self._tasks = tasks
        self._clock = clock
        self.window: MainWindow | None = None
        self.login: LoginDialog | None = None

    def current(self) -> QWidget | None:
        """What is on screen: the login dialog or the window (for Ctrl+C and SIGTERM to close)."""
        return self.login if self.login is not None and self.login.isVisible() else self.window

    def first_login(self) -> Operator | None:
        """Ask for the first login (modal): the account that logged in, None when it was cancelled. The
        caller opens the window (a remote desk first reads what its pages show)."""
        self.login = LoginDialog(self._service, self._tasks)
        if self.login.exec() != QDialog.DialogCode.Accepted:
            return None
        return self.login.account

    def open_window(self, account: Operator) -> MainWindow:
        self.login = None
        window = MainWindow(self._runtime, account.name, self._tasks, role=account.role, clock=self._clock)
        window.session_ended.connect(self._session_ended)
        self.window = window
        window.show()
        self.window_opened.emit(window)
        return window

    def stop_issuer(self) -> None:
        if self.window is not None:
            self.window.stop_issuer()
        else:
            self._tasks.shutdown()
            self._runtime.stop()

    def _session_ended(self, next_account: Operator | None) -> None:
        ended = self.window
        if next_account is not None:  # an admin unlocked: they go on at once
            self.open_window(next_account)
        else:
            self._show_login()
        if ended is not None:
            ended.end_session()
            ended.deleteLater()

    def _show_login(self) -> None:
        self.window = None
        login = LoginDialog(self._service, self._tasks)
        login.accepted.connect(lambda: self._logged_in_again(login))
        login.rejected.connect(self._quit)
        self.login = login
        login.show()
        self.login_shown.emit(login)

    def _logged_in_again(self, login: LoginDialog) -> None:
        if login.account is not None:
            self.open_window(login.account)

    def _quit(self) -> None:
        self.stop_issuer()
        app = QApplication.instance()
        if app is not None:
            app.quit()
