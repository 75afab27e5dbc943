"""Choosing a password: one's own change (current password required, also at the first login after an
admin set it), and the new password an admin gives someone else (added or reset).

The rules are the service's (at least 10 characters, not the name, not the name reversed); the hint
shows them before anything is typed, and a refusal says which one was broken. Hashing runs on the
task thread.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.style import ERROR_TONE, PLAIN_TONE, set_tone
from app.tasks import Tasks
from issuer.desk_api import DeskOperators
from issuer.records.operators import MIN_PASSWORD_LENGTH, Operator, password_problem


def password_field(accessible_name: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setAccessibleName(accessible_name)
    return field


class PasswordDialog(QDialog):
    """A new password typed twice, checked against the rules before `work(password)` runs on the task
    thread; `result_account` holds what the work returned once the dialog is accepted."""

    def __init__(
        self,
        tasks: Tasks,
        name: str,
        work: Callable[[str], Operator],
        title: str,
        intro: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._name = name
        self._work = work
        self.result_account: Operator | None = None
        self.setWindowTitle(title)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.rules = QLabel(
            self.tr("At least {length} characters, and neither the name nor the name reversed.").format(
                length=MIN_PASSWORD_LENGTH
            )
        )
        self.rules.setWordWrap(True)
        self.current = password_field(self.tr("Current password"))
        self.new = password_field(self.tr("New password"))
        self.repeat = password_field(self.tr("Repeat the new password"))
        self.form = QFormLayout()
        self.form.addRow(self.tr("Current password"), self.current)
        self.form.addRow(self.tr("New password"), self.new)
        self.form.addRow(self.tr("Repeat it"), self.repeat)
        self.form.setRowVisible(self.current, False)
        self.error = QLabel()
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.rules)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def submit(self) -> None:
        password = self.new.text()
        if password != self.repeat.text():
            self._refused(self.tr("The two new passwords differ."))
            return
        problem = password_problem(self.account_name(), password)
        if problem:
            self._refused(problem)
            return
        set_tone(self.error, PLAIN_TONE)
        self.error.setText(self.tr("Saving …"))
        self._tasks.run(partial(self._work, password), self._done, self._refused, busy=self.ok_button)

    def account_name(self) -> str:
        """Whose password it is, for the rule against passwords that hold the name."""
        return self._name

    def _done(self, account: Operator) -> None:
        self.result_account = account
        self.accept()

    def _refused(self, reason: str) -> None:
        set_tone(self.error, ERROR_TONE)
        self.error.setText(reason)
        self.new.clear()
        self.repeat.clear()


def own_password_dialog(
    operators: DeskOperators, tasks: Tasks, name: str, current: str | None = None, parent: QWidget | None = None
) -> PasswordDialog:
    """An operator changes their own password; with `current` known (just typed at the login, when an
    admin set the password) it is not asked again."""
    given = current

    def change(password: str) -> Operator:
        return operators.change_password(name, given if given is not None else dialog.current.text(), password)

    if current is None:
        intro = QCoreApplication.translate("PasswordDialog", "Change the password of {name}.").format(name=name)
    else:
        intro = QCoreApplication.translate(
            "PasswordDialog", "{name}, your password was set by an admin: choose your own to go on."
        ).format(name=name)
    dialog = PasswordDialog(
        tasks,
        name,
        change,
        QCoreApplication.translate("PasswordDialog", "Frontdesk Issuer: new password"),
        intro,
        parent,
    )
    dialog.form.setRowVisible(dialog.current, current is None)
    return dialog
