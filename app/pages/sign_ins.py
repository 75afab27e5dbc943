"""Wallets waiting at the desk (Authorization Code flow): each shows a code in its browser; the
operator checks the person, compares the code and confirms or denies.

A request that came with an offer's issuer_state already names its holder and claims, and is
confirmed here; one the wallet started on its own needs the holder's claims, filled in on the
offer form (`complete_requested`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from issuer.errors import ServiceError
from issuer.service import IssuerService

COLUMNS = ("Code", "Credential", "Waiting since", "For")
REFRESH_MS = 5000  # requests expire on their own: the list is refreshed even without events
ERROR_STYLE = "color: #b00020;"


class SignInsPage(QWidget):
    complete_requested = Signal(object)  # a pending request without an offer: fill in its claims
    count_changed = Signal(int)

    def __init__(self, service: IssuerService, operator: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._operator = operator
        self._requests: list[dict[str, Any]] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setStyleSheet("font-size: 14pt;")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Reason for denying (kept in the audit log)")
        self.confirm_button = QPushButton("Confirm")
        self.deny_button = QPushButton("Deny")
        self.confirm_button.clicked.connect(self.confirm)
        self.deny_button.clicked.connect(self.deny)
        self.message = QLabel("Compare the code on the person's phone with the code here before confirming.")
        self.message.setWordWrap(True)
        actions = QHBoxLayout()
        actions.addWidget(self.reason, 1)
        actions.addWidget(self.confirm_button)
        actions.addWidget(self.deny_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(REFRESH_MS)
        self.refresh()

    def on_event(self, kind: str, _offer_id: str) -> None:
        if kind.startswith("authorization_"):
            self.refresh()

    def refresh(self) -> None:
        selected = self.selected()
        self._requests = self._service.sign_ins.pending()
        self.table.setRowCount(len(self._requests))
        for row, request in enumerate(self._requests):
            values = (
                request["confirmation"],
                ", ".join(self._type_name(c) for c in request["credential_configuration_ids"]),
                datetime.fromtimestamp(request["created_at"]).strftime("%H:%M:%S"),
                self._holder_text(request),
            )
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
            if selected and request["authorization_id"] == selected["authorization_id"]:
                self.table.selectRow(row)
        self.table.resizeColumnsToContents()
        self.count_changed.emit(len(self._requests))

    def selected(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self._requests[rows[0].row()] if rows and rows[0].row() < len(self._requests) else None

    def select_code(self, confirmation: str) -> bool:
        for row, request in enumerate(self._requests):
            if request["confirmation"] == confirmation:
                self.table.selectRow(row)
                return True
        return False

    def confirm(self) -> None:
        request = self.selected()
        if request is None:
            self._error("Select the code the person shows you.")
            return
        if request["offer_id"] is None:
            self.complete_requested.emit(request)
            return
        try:
            self._service.sign_ins.approve(request["authorization_id"], self._operator)
        except ServiceError as error:
            self._error(error.message)
            return
        self._say(f"Confirmed {request['confirmation']}: the wallet receives the credential now.")
        self.refresh()

    def deny(self) -> None:
        request = self.selected()
        if request is None:
            self._error("Select the request to deny.")
            return
        try:
            self._service.sign_ins.deny(request["authorization_id"], self._operator, self.reason.text().strip())
        except ServiceError as error:
            self._error(error.message)
            return
        self.reason.clear()
        self._say(f"Denied {request['confirmation']}.")
        self.refresh()

    def _holder_text(self, request: dict[str, Any]) -> str:
        if request["offer_id"] is None:
            return "started in the wallet: fill in on confirming"
        if request.get("holder_id"):
            try:
                holder = self._service.desk.holder(request["holder_id"])
            except ServiceError:
                return f"offer {request['offer_id']}"
            return f"{holder['given_name']} {holder['family_name']} (offer {request['offer_id']})"
        return f"offer {request['offer_id']}"

    def _type_name(self, config_id: str) -> str:
        credential_type = self._service.credential_types.get(config_id)
        return credential_type.display_name if credential_type else config_id

    def _say(self, text: str) -> None:
        self.message.setStyleSheet("")
        self.message.setText(text)

    def _error(self, text: str) -> None:
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setText(text)
