"""What a locked window shows instead of its pages: who locked it and when, and a way back in.

The operator who locked it unlocks it with their password; an admin may unlock it with theirs, which
ends the other operator's session. The password is checked on the task thread, slowed down after
repeated failures like any login (the wait is counted down here too).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.style import ERROR_TONE, PLAIN_TONE, set_tone
from app.tasks import Tasks
from app.widgets.countdown import Countdown, Refusal, or_refusal
from app.widgets.password_dialog import password_field
from issuer.desk_api import DeskOperators
from issuer.records.operators import Operator

LOCK_TITLE_STYLE = "font-size: 18pt;"


class LockScreen(QWidget):
    unlocked = Signal(object)  # the Operator who unlocked it

    def __init__(
        self, operators: DeskOperators, tasks: Tasks, clock: Callable[[], float], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("lockScreen")
        self._operators = operators
        self._tasks = tasks
        self._clock = clock
        self.locked_by = ""
        self.locked_at = 0.0
        self.title = QLabel()
        self.title.setStyleSheet(LOCK_TITLE_STYLE)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        self.note = QLabel(
            self.tr(
                "The issuer keeps serving wallets and the customer display keeps its screen; "
                "approvals wait until someone unlocks."
            )
        )
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name = QLineEdit()
        self.name.setAccessibleName(self.tr("Operator name"))
        self.password = password_field(self.tr("Password"))
        self.password.returnPressed.connect(self.submit)
        self.unlock_button = QPushButton(self.tr("Unlock"))
        self.unlock_button.clicked.connect(self.submit)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.countdown = Countdown(self.error, clock, self)
        self.countdown.finished.connect(lambda: self.unlock_button.setEnabled(True))
        form = QFormLayout()
        form.addRow(self.tr("Operator"), self.name)
        form.addRow(self.tr("Password"), self.password)
        form.addRow("", self.unlock_button)
        form.addRow("", self.error)
        box = QWidget()
        box.setLayout(form)
        box.setMaximumWidth(480)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.note)
        layout.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)

    def show_locked(self, operator: str, at: float) -> None:
        self.locked_by, self.locked_at = operator, at
        when = datetime.fromtimestamp(at).strftime("%H:%M")
        self.title.setText(self.tr("Locked by {operator} at {time}").format(operator=operator, time=when))
        self.name.setText(operator)
        self.password.clear()
        self.error.clear()
        self.password.setFocus()

    def submit(self) -> None:
        if self.countdown.running:
            return
        work = partial(self._try_unlock, self.locked_by, self.name.text(), self.password.text())
        set_tone(self.error, PLAIN_TONE)
        self.error.setText(self.tr("Checking …"))
        self._tasks.run(work, self._answered, self._refused, busy=self.unlock_button)

    def _try_unlock(self, locked_by: str, name: str, password: str) -> Operator | Refusal:
        return or_refusal(partial(self._operators.unlock, locked_by, name, password))

    def _answered(self, result: Operator | Refusal) -> None:
        self.password.clear()
        if isinstance(result, Refusal):
            self._refused(result.message)
            if result.wait > 0:
                self.unlock_button.setEnabled(False)
                self.countdown.start(result.wait)
            return
        self.error.clear()
        self.unlocked.emit(result)

    def _refused(self, reason: str) -> None:
        self.password.clear()
        set_tone(self.error, ERROR_TONE)
        self.error.setText(reason)
