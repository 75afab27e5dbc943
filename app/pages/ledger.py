"""The ledger: every credential ever issued, found by holder, type, date, operator or state;
revoked, suspended, reinstated or replaced from here, each with a reason for the audit log.

Searching reads the whole history in the worst case, so it runs off the GUI thread.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.worker import run_in_background
from issuer.errors import ServiceError
from issuer.records.ledger import STATES, LedgerQuery
from issuer.service import IssuerService

COLUMNS = ("Issued", "Holder", "Credential", "State", "Operator", "Expires", "Ledger id")
ERROR_STYLE = "color: #b00020;"


class LedgerPage(QWidget):
    replace_requested = Signal(object, object)  # ledger record, holder record or None

    def __init__(self, service: IssuerService, operator: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._operator = operator
        self._records: list[dict[str, Any]] = []
        self._offer_id: str | None = None

        self.search = QLineEdit()
        self.search.setPlaceholderText("Holder name, ledger id or offer id")
        self.search.returnPressed.connect(self.refresh)
        self.type_filter = QComboBox()
        self.state_filter = QComboBox()
        self.state_filter.addItem("Any state", None)
        for state in STATES:
            self.state_filter.addItem(state.capitalize(), state)
        self.operator_filter = QLineEdit()
        self.operator_filter.setPlaceholderText("Operator")
        self.dated = QCheckBox("Issued from")
        self.issued_from = QDateEdit(QDate.currentDate().addDays(-30))
        self.issued_until = QDateEdit(QDate.currentDate())
        for edit in (self.issued_from, self.issued_until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(self.refresh)
        self.scope = QLabel()

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Reason (kept in the audit log)")
        self.revoke_button = QPushButton("Revoke…")
        self.suspend_button = QPushButton("Suspend")
        self.unsuspend_button = QPushButton("Lift suspension")
        self.replace_button = QPushButton("Replace…")
        self.revoke_button.clicked.connect(lambda: self.change_status("revoke"))
        self.suspend_button.clicked.connect(lambda: self.change_status("suspend"))
        self.unsuspend_button.clicked.connect(lambda: self.change_status("unsuspend"))
        self.replace_button.clicked.connect(self._replace)
        self.message = QLabel()
        self.message.setWordWrap(True)

        filters = QHBoxLayout()
        filters.addWidget(self.search, 2)
        filters.addWidget(self.type_filter)
        filters.addWidget(self.state_filter)
        filters.addWidget(self.operator_filter)
        filters.addWidget(self.dated)
        filters.addWidget(self.issued_from)
        filters.addWidget(QLabel("until"))
        filters.addWidget(self.issued_until)
        filters.addWidget(self.search_button)
        actions = QHBoxLayout()
        actions.addWidget(self.reason, 1)
        for button in (self.revoke_button, self.suspend_button, self.unsuspend_button, self.replace_button):
            actions.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.scope)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        self.reload_types()
        self._update_buttons()

    def reload_types(self) -> None:
        self.type_filter.clear()
        self.type_filter.addItem("Any credential", None)
        for type_id, credential_type in self._service.credential_types.items():
            self.type_filter.addItem(credential_type.display_name, type_id)

    def show_offer(self, offer_id: str) -> None:
        """Show the credentials of one offer (from the offers page)."""
        self._offer_id = offer_id
        self.refresh()

    def query(self) -> LedgerQuery:
        issued_from = issued_until = None
        if self.dated.isChecked():
            issued_from = _timestamp(self.issued_from.date())
            issued_until = _timestamp(self.issued_until.date().addDays(1))
        return LedgerQuery(
            text=self.search.text().strip(),
            config_id=self.type_filter.currentData(),
            state=self.state_filter.currentData(),
            operator=self.operator_filter.text().strip() or None,
            offer_id=self._offer_id,
            issued_from=issued_from,
            issued_until=issued_until,
            limit=500,
        )

    def refresh(self) -> None:
        """Search with the current filters; the table fills when the ledger has been read."""
        if self.sender() in (self.search, self.search_button):
            self._offer_id = None  # a new search leaves the offer the offers page pointed at
        self.scope.setText(f"Credentials of offer {self._offer_id}" if self._offer_id else "")
        self.search_button.setEnabled(False)
        self.message.setText("Searching…")
        run_in_background(lambda: self._service.ledger.find(self.query()), self._show, self._search_failed)

    def selected(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        return self._records[rows[0].row()] if rows else None

    def change_status(self, action: str) -> None:
        record = self.selected()
        if record is None:
            self._error("Select a credential first.")
            return
        reason = self.reason.text().strip()
        if action == "revoke":
            if not reason:
                self._error("Give a reason for the revocation.")
                return
            answer = QMessageBox.question(
                self, "Revoke credential", "Revoking cannot be undone. Revoke this credential?"
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        try:
            updated = self._service.ledger.change_status(record["id"], action, self._operator, reason)
        except ServiceError as error:
            self._error(error.message)
            return
        self._records[self._records.index(record)] = updated
        self._fill()
        self.reason.clear()
        self.message.setStyleSheet("")
        self.message.setText(f"Credential {updated['id']} is now {updated['state']}.")

    def _replace(self) -> None:
        record = self.selected()
        if record is None:
            self._error("Select a credential first.")
            return
        holder = None
        if record.get("holder_id"):
            try:
                holder = self._service.desk.holder(record["holder_id"])
            except ServiceError:
                holder = None  # purged after its retention period: the operator fills the form again
        self.replace_requested.emit(record, holder)

    def _show(self, records: list[dict[str, Any]]) -> None:
        self.search_button.setEnabled(True)
        self._records = records
        self._fill()
        self.message.setStyleSheet("")
        self.message.setText(f"{len(records)} credential{'s' if len(records) != 1 else ''} found.")

    def _fill(self) -> None:
        holders: dict[str, str] = {}
        self.table.setRowCount(len(self._records))
        for row, record in enumerate(self._records):
            holder_id = record.get("holder_id")
            if holder_id and holder_id not in holders:
                holders[holder_id] = self._holder_name(holder_id)
            credential_type = self._service.credential_types.get(record["config_id"])
            values = (
                _date(record["issued_at"]),
                holders.get(holder_id, "") if holder_id else "",
                credential_type.display_name if credential_type else record["config_id"],
                record["state"],
                record.get("operator") or "",
                _date(record["expires_at"]),
                record["id"],
            )
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
        self._update_buttons()

    def _holder_name(self, holder_id: str) -> str:
        try:
            holder = self._service.desk.holder(holder_id)
        except ServiceError:
            return "(record purged)"
        return f"{holder['given_name']} {holder['family_name']}"

    def _update_buttons(self) -> None:
        state = (self.selected() or {}).get("state")
        self.revoke_button.setEnabled(state in ("valid", "suspended"))
        self.suspend_button.setEnabled(state == "valid")
        self.unsuspend_button.setEnabled(state == "suspended")
        self.replace_button.setEnabled(state is not None)

    def _search_failed(self, reason: str) -> None:
        self.search_button.setEnabled(True)
        self._error(f"The search failed: {reason}")

    def _error(self, text: str) -> None:
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setText(text)


def _timestamp(day: QDate) -> int:
    return int(datetime.combine(day.toPython(), time()).timestamp())


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")
