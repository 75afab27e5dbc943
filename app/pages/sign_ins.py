"""Wallets waiting at the desk (Authorization Code flow): each shows a code in its browser; the
operator checks the person, compares the code and confirms or denies.

A request that came with an offer's issuer_state already names its holder and claims, and is
confirmed here; one the wallet started on its own needs the holder's claims, filled in on the
offer form (`complete_requested`).

The list is read again when the issuer says a sign-in started or was decided (`on_event`), never
by polling; a request leaves the table by itself when its wait is over, which needs no read.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.models.sign_ins import SignIn, SignInsModel, read_sign_ins
from app.pages import REASON_MAX_LENGTH
from app.style import ERROR_TONE, PLAIN_TONE, SIGN_IN_TABLE_STYLE, fit_columns, set_tone, tidy_table
from app.tasks import Tasks
from issuer.desk_api import DeskService

EXPIRY_MARGIN_MS = 50  # the issuer refuses a request once the second it expires at has passed


class SignInsPage(QWidget):
    complete_requested = Signal(object)  # a pending request without an offer: fill in its claims
    count_changed = Signal(int)

    def __init__(self, service: DeskService, tasks: Tasks, operator: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._tasks = tasks
        self._operator = operator
        self.model = SignInsModel(service, self)
        self.model.modelReset.connect(self._count_changed)
        self.model.rowsRemoved.connect(self._count_changed)
        self.table = QTableView()
        tidy_table(self.table)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setStyleSheet(SIGN_IN_TABLE_STYLE)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Reason for denying (kept in the audit log)")
        self.reason.setAccessibleName("Reason for denying")
        self.reason.setMaxLength(REASON_MAX_LENGTH)
        self.confirm_button = QPushButton("Confirm")
        self.deny_button = QPushButton("Deny")
        self.confirm_button.clicked.connect(self.confirm)
        self.deny_button.clicked.connect(self.deny)
        self.message = QLabel("Compare the code on the person's phone with the code here before confirming.")
        self.message.setAccessibleName("Sign-ins message")
        self.message.setWordWrap(True)
        actions = QHBoxLayout()
        actions.addWidget(self.reason, 1)
        actions.addWidget(self.confirm_button)
        actions.addWidget(self.deny_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)
        self.model.rowsRemoved.connect(self._update_buttons)
        self._update_buttons()
        self._expiry = QTimer(self)
        self._expiry.setSingleShot(True)
        self._expiry.setTimerType(Qt.TimerType.PreciseTimer)
        self._expiry.timeout.connect(self._drop_expired)
        self.refresh()

    def on_event(self, kind: str, _offer_id: str) -> None:
        if kind.startswith("authorization_"):
            self.refresh()

    def refresh(self) -> None:
        self._tasks.run(partial(read_sign_ins, self._service), self._show, self._read_failed)

    def selected(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.sign_in_at(rows[0].row()).request if rows else None

    def select_code(self, confirmation: str) -> bool:
        row = self.model.row_of_code(confirmation)
        if row is not None:
            self.table.selectRow(row)
        return row is not None

    def confirm(self) -> None:
        request = self.selected()
        if request is None:
            self._say("Select the code the person shows you.", ERROR_TONE)
            return
        if request["offer_id"] is None:
            self.complete_requested.emit(request)
            return
        self._tasks.run(
            partial(self._service.sign_ins.approve, request["authorization_id"], self._operator),
            partial(self._confirmed, request["confirmation"]),
            partial(self._say, tone=ERROR_TONE),
            busy=(self.confirm_button, self.deny_button),
        )

    def deny(self) -> None:
        request = self.selected()
        if request is None:
            self._say("Select the request to deny.", ERROR_TONE)
            return
        reason = self.reason.text().strip()
        self._tasks.run(
            partial(self._service.sign_ins.deny, request["authorization_id"], self._operator, reason),
            partial(self._denied, request["confirmation"]),
            partial(self._say, tone=ERROR_TONE),
            busy=(self.confirm_button, self.deny_button),
        )

    def _show(self, sign_ins: list[SignIn]) -> None:
        """A fresh list from the issuer; the selected request stays selected while it waits."""
        selected = self.selected()
        self.model.set_sign_ins(sign_ins)
        row = self.model.row_of(selected["authorization_id"]) if selected else None
        if row is not None:
            self.table.selectRow(row)
        fit_columns(self.table)
        self._drop_expired()

    def _drop_expired(self) -> None:
        """Remove the requests whose wait is over, and wake up again at the next one's end."""
        now = time.time()
        self.model.remove_expired(now)
        following = self.model.next_expiry()
        if following is None:
            self._expiry.stop()
        else:
            self._expiry.start(max(0, int((following - now) * 1000)) + EXPIRY_MARGIN_MS)

    def _update_buttons(self) -> None:
        """Confirm and Deny apply to the selected waiting wallet only."""
        selected = self.selected() is not None
        self.confirm_button.setEnabled(selected)
        self.deny_button.setEnabled(selected)

    def _count_changed(self) -> None:
        self.count_changed.emit(self.model.rowCount())

    def _confirmed(self, confirmation: str, _view: dict[str, Any]) -> None:
        self._say(f"Confirmed {confirmation}: the wallet receives the credential now.")

    def _denied(self, confirmation: str, _view: dict[str, Any]) -> None:
        self.reason.clear()
        self._say(f"Denied {confirmation}.")

    def _read_failed(self, reason: str) -> None:
        self._say(f"The waiting sign-ins could not be read: {reason}", ERROR_TONE)

    def _say(self, text: str, tone: str = PLAIN_TONE) -> None:
        set_tone(self.message, tone)
        self.message.setText(text)
