"""Operator login; on the first start, the first operator account (an admin) is created here.

Whether an operator exists, and the password check itself (scrypt, slow by design), are asked of
the task thread: the dialog says "Checking…" meanwhile and can still be moved or cancelled. After
repeated failures the service makes the name wait before its next try: the dialog counts the wait
down. An account whose password an admin set asks for a new one first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.style import ERROR_TONE, PLAIN_TONE, fit_title, set_tone
from app.tasks import Tasks
from app.widgets.countdown import Countdown, Refusal, or_refusal
from app.widgets.password_dialog import own_password_dialog
from issuer.desk_api import DeskService
from issuer.records.operators import MIN_PASSWORD_LENGTH, Operator

LOGIN_TITLE = "Frontdesk Issuer: log in"
FIRST_START_TITLE = "Frontdesk Issuer: create the first operator"


class LoginDialog(QDialog):
    ready = Signal()  # it is known whether this is the first start: the form can be filled in

    def __init__(
        self,
        service: DeskService,
        tasks: Tasks,
        parent: QWidget | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock`: what the countdown of a wait reads (tests move it forward)."""
        super().__init__(parent)
        self._service = service
        self._tasks = tasks
        self._clock = clock
        self.first_start = False
        self.is_ready = False
        self.operator: str | None = None
        self.account: Operator | None = None
        self.password_dialog: QDialog | None = None
        self._cancelled = False
        self.setWindowTitle(LOGIN_TITLE)
        self.name = QLineEdit()
        self.name.setAccessibleName("Operator name")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.repeat = QLineEdit()
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat.setAccessibleName("Repeat the password")
        self.hint = QLabel(
            f"No operator exists yet. Choose a name and a password of at least {MIN_PASSWORD_LENGTH} characters."
        )
        self.hint.setWordWrap(True)
        self.hint.hide()
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.countdown = Countdown(self.error, self._clock, self)
        self.countdown.finished.connect(self._may_try_again)
        self.form = QFormLayout()
        self.form.addRow("Operator", self.name)
        self.form.addRow("Password", self.password)
        self.form.addRow("Repeat password", self.repeat)
        self.form.setRowVisible(self.repeat, False)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.fields = QWidget()
        self.fields.setLayout(self.form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addWidget(self.fields)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        fit_title(self)
        self._say("Opening …")
        tasks.run(service.operators.exists, self._operators_known, self._failed, busy=(self.fields, self.ok_button))

    def submit(self) -> None:
        """Create or check the account; a refusal is explained and the dialog stays open."""
        name, password = self.name.text(), self.password.text()
        if self.first_start:
            if password != self.repeat.text():
                self._refused("the two passwords differ")
                return
            work: Callable[[], Operator | Refusal] = partial(self._service.operators.create_first, name, password)
        else:
            work = partial(or_refusal, partial(self._service.operators.login, name, password))
        self._say("Checking…")
        self._tasks.run(work, self._logged_in, self._refused, busy=(self.fields, self.ok_button))

    def reject(self) -> None:
        self._cancelled = True  # a check still running must not log in after the operator cancelled
        super().reject()

    def _operators_known(self, exists: bool) -> None:
        self.first_start = not exists
        if self.first_start:
            self.setWindowTitle(FIRST_START_TITLE)
            self.form.setRowVisible(self.repeat, True)
            self.hint.show()
            fit_title(self)
        self._say("")
        self.is_ready = True
        self.name.setFocus()
        self.ready.emit()

    def _logged_in(self, result: Operator | Refusal) -> None:
        if self._cancelled:
            return
        if isinstance(result, Refusal):
            self._refused(result.message)
            if result.wait > 0:
                self.ok_button.setEnabled(False)
                self.countdown.start(result.wait)
            return
        if result.must_change_password:
            self._choose_own_password(result)
            return
        self._say("")
        self.account = result
        self.operator = result.name
        self.accept()

    def _may_try_again(self) -> None:
        self.ok_button.setEnabled(True)

    def _choose_own_password(self, account: Operator) -> None:
        """The password an admin set works once: the person chooses their own before the window opens."""
        dialog = own_password_dialog(self._service.operators, self._tasks, account.name, self.password.text(), self)
        self.password_dialog = dialog
        dialog.accepted.connect(lambda: self._logged_in(dialog.result_account or account))
        dialog.rejected.connect(lambda: self._say(self.tr("Choose a new password to log in."), ERROR_TONE))
        dialog.open()

    def _refused(self, reason: str) -> None:
        self.countdown.stop()
        self._say(reason, ERROR_TONE)
        self.password.clear()
        self.repeat.clear()

    def _failed(self, reason: str) -> None:
        self._say(f"The operator accounts could not be read: {reason}", ERROR_TONE)

    def _say(self, text: str, tone: str = PLAIN_TONE) -> None:
        set_tone(self.error, tone)
        self.error.setText(text)
