"""Operators (admins only): the accounts of the desk, added, disabled and enabled, their role changed,
their password reset. A new or reset password is one the person must change at their next login.

The service decides (it refuses an operator, and keeps one enabled admin); the page asks it on the
task thread and says what happened, or why not, in the message line.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import confirm
from app.style import ERROR_TONE, OK_TONE, PLAIN_TONE, set_tone, tidy_table
from app.tasks import Tasks
from app.widgets.password_dialog import PasswordDialog
from issuer.desk_api import DeskOperators
from issuer.records.operators import Operator, Role


class AddOperatorDialog(PasswordDialog):
    """Name, role and the initial password of a new account."""

    def __init__(
        self, operators: DeskOperators, tasks: Tasks, actor: str | None, parent: QWidget | None = None
    ) -> None:
        def add(password: str) -> Operator:
            return operators.add(actor, self.name.text(), self.role.currentData(), password)

        super().__init__(
            tasks,
            "",
            add,
            QCoreApplication.translate("AddOperatorDialog", "Frontdesk Issuer: add an operator"),
            QCoreApplication.translate(
                "AddOperatorDialog", "The person chooses their own password at their first login."
            ),
            parent,
        )
        self.name = QLineEdit()
        self.name.setAccessibleName(self.tr("Name of the new operator"))
        self.role = QComboBox()
        self.role.setAccessibleName(self.tr("Role"))
        self.role.addItem(self.tr("Operator: customers, offers, approvals, sign-ins"), Role.OPERATOR)
        self.role.addItem(self.tr("Admin: also operators, settings, keys, backups, revocation"), Role.ADMIN)
        self.form.insertRow(0, self.tr("Name"), self.name)
        self.form.insertRow(1, self.tr("Role"), self.role)
        label = self.form.labelForField(self.new)
        if isinstance(label, QLabel):
            label.setText(self.tr("Initial password"))

    def account_name(self) -> str:
        return self.name.text()


class OperatorsPage(QWidget):
    def __init__(
        self, operators: DeskOperators, tasks: Tasks, operator: str | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._operators = operators
        self._tasks = tasks
        self._operator = operator
        self.accounts: list[Operator] = []
        self.dialog: PasswordDialog | None = None
        columns = (self.tr("Name"), self.tr("Role"), self.tr("State"), self.tr("Password"))
        self.table = QTableWidget(0, len(columns))
        self.table.setHorizontalHeaderLabels(list(columns))
        tidy_table(self.table)
        self.table.setAccessibleName(self.tr("Operator accounts"))
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.add_button = QPushButton(self.tr("Add…"))
        self.add_button.clicked.connect(self.add)
        self.enable_button = QPushButton(self.tr("Disable"))
        self.enable_button.clicked.connect(self.toggle_enabled)
        self.role_button = QPushButton(self.tr("Make admin"))
        self.role_button.clicked.connect(self.toggle_role)
        self.reset_button = QPushButton(self.tr("Reset password…"))
        self.reset_button.clicked.connect(self.reset_password)
        self.message = QLabel()
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.enable_button, self.role_button, self.reset_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self._selection_changed()
        self.refresh()

    def refresh(self) -> None:
        self._tasks.run(partial(self._operators.list, self._operator), self._show, self._failed, busy=self.table)

    def selected(self) -> Operator | None:
        rows = self.table.selectionModel().selectedRows()
        return self.accounts[rows[0].row()] if rows else None

    def select(self, name: str) -> None:
        for row, account in enumerate(self.accounts):
            if account.name == name:
                self.table.selectRow(row)

    def add(self) -> None:
        dialog = AddOperatorDialog(self._operators, self._tasks, self._operator, self)
        dialog.accepted.connect(lambda: self._added(dialog.result_account))
        self.dialog = dialog
        dialog.open()

    def toggle_enabled(self) -> None:
        account = self.selected()
        if account is None:
            return
        if account.enabled:
            question = self.tr("Disable {name}? They cannot log in until an admin enables the account again.")
            if not confirm.ask(
                self, self.tr("Disable an operator"), question.format(name=account.name), self.tr("Disable")
            ):
                return
        said = self.tr("{name} is enabled.") if not account.enabled else self.tr("{name} is disabled.")
        work = partial(self._operators.set_enabled, self._operator, account.name, not account.enabled)
        self._change(work, said)

    def toggle_role(self) -> None:
        account = self.selected()
        if account is None:
            return
        role = Role.OPERATOR if account.is_admin else Role.ADMIN
        said = self.tr("{name} is an admin now.") if role is Role.ADMIN else self.tr("{name} is an operator now.")
        self._change(partial(self._operators.set_role, self._operator, account.name, role), said)

    def reset_password(self) -> None:
        account = self.selected()
        if account is None:
            return
        dialog = PasswordDialog(
            self._tasks,
            account.name,
            partial(self._operators.reset_password, self._operator, account.name),
            self.tr("Frontdesk Issuer: reset a password"),
            self.tr("A new password for {name}, who must change it at their next login.").format(name=account.name),
            self,
        )
        dialog.accepted.connect(
            lambda: self._changed(
                self.tr("The password of {name} is reset: they choose a new one at their next login."),
                dialog.result_account,
            )
        )
        self.dialog = dialog
        dialog.open()

    def _added(self, account: Operator | None) -> None:
        if account is not None:
            said = self.tr("{name} is added: they choose their own password at their first login.")
            self._changed(said, account)

    def _change(self, work: Callable[[], Operator], said: str) -> None:
        self._say(self.tr("Saving …"))
        self._tasks.run(work, partial(self._changed, said), self._refused, busy=self)

    def _changed(self, said: str, account: Any) -> None:
        name = account.name if isinstance(account, Operator) else ""
        self._say(said.format(name=name), OK_TONE)
        self._tasks.run(partial(self._operators.list, self._operator), partial(self._show, keep=name), self._failed)

    def _show(self, accounts: list[Operator], keep: str = "") -> None:
        current = self.selected()
        keep = keep or (current.name if current else "")
        self.accounts = accounts
        self.table.setRowCount(len(accounts))
        for row, account in enumerate(accounts):
            cells = (
                account.name,
                self.tr("admin") if account.is_admin else self.tr("operator"),
                self.tr("enabled") if account.enabled else self.tr("disabled"),
                self.tr("to change at next login") if account.must_change_password else self.tr("set"),
            )
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        if keep:
            self.select(keep)
        self._selection_changed()

    def _selection_changed(self) -> None:
        account = self.selected()
        for button in (self.enable_button, self.role_button, self.reset_button):
            button.setEnabled(account is not None)
        if account is not None:
            self.enable_button.setText(self.tr("Disable") if account.enabled else self.tr("Enable"))
            self.role_button.setText(self.tr("Make operator") if account.is_admin else self.tr("Make admin"))

    def _refused(self, reason: str) -> None:
        self._say(reason, ERROR_TONE)

    def _failed(self, reason: str) -> None:
        self._say(self.tr("The operators could not be read: {reason}").format(reason=reason), ERROR_TONE)

    def _say(self, text: str, tone: str = PLAIN_TONE) -> None:
        set_tone(self.message, tone)
        self.message.setText(text)
