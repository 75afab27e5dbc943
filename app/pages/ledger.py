"""The ledger: every credential ever issued, found by holder, type, date, operator or state;
revoked, suspended, reinstated or replaced from here, each with a reason for the audit log.

Searching reads the whole history in the worst case; it runs on the task thread, as every
status change and the holder lookup before a replacement do.
"""

from __future__ import annotations

from datetime import date, datetime, time
from functools import partial
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
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.models.ledger import LedgerModel, LedgerResult, read_ledger
from app.pages import REASON_MAX_LENGTH
from app.style import ERROR_TONE, PLAIN_TONE, fit_columns, set_tone, tidy_table
from app.tasks import Tasks
from issuer.desk_api import DeskService
from issuer.errors import ServiceError
from issuer.records.ledger import STATES, LedgerQuery

SEARCH_LIMIT = 500


class LedgerPage(QWidget):
    replace_requested = Signal(object, object)  # ledger record, holder record or None

    def __init__(self, service: DeskService, tasks: Tasks, operator: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._tasks = tasks
        self._operator = operator
        self._offer_id: str | None = None

        self.search = QLineEdit()
        self.search.setPlaceholderText("Holder name, ledger id or offer id")
        self.search.setAccessibleName("Search the ledger by holder name, ledger id or offer id")
        self.search.setToolTip("Case and accents do not matter: 'luden' finds 'Lüdenscheidt'")
        self.search.returnPressed.connect(self.refresh)
        self.type_filter = QComboBox()
        self.type_filter.setAccessibleName("Credential type")
        self.state_filter = QComboBox()
        self.state_filter.setAccessibleName("Credential state")
        self.state_filter.addItem("Any state", None)
        for state in STATES:
            self.state_filter.addItem(state.capitalize(), state)
        self.operator_filter = QLineEdit()
        self.operator_filter.setPlaceholderText("Operator")
        self.operator_filter.setAccessibleName("Issued by operator")
        self.dated = QCheckBox("Issued from")
        self.issued_from = QDateEdit(QDate.currentDate().addDays(-30))
        self.issued_until = QDateEdit(QDate.currentDate())
        self.issued_from.setAccessibleName("Issued from")
        self.issued_until.setAccessibleName("Issued until")
        for edit in (self.issued_from, self.issued_until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(self.refresh)
        self.scope = QLabel()

        self.model = LedgerModel(service, self)
        self.table = QTableView()
        tidy_table(self.table)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)
        self.model.dataChanged.connect(self._update_buttons)

        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Reason (kept in the audit log)")
        self.reason.setAccessibleName("Reason for the status change")
        self.reason.setMaxLength(REASON_MAX_LENGTH)
        self.revoke_button = QPushButton("Revoke…")
        self.suspend_button = QPushButton("Suspend")
        self.unsuspend_button = QPushButton("Lift suspension")
        self.replace_button = QPushButton("Replace…")
        self.revoke_button.clicked.connect(lambda: self.change_status("revoke"))
        self.suspend_button.clicked.connect(lambda: self.change_status("suspend"))
        self.unsuspend_button.clicked.connect(lambda: self.change_status("unsuspend"))
        self.replace_button.clicked.connect(self._replace)
        self.message = QLabel()
        self.message.setAccessibleName("Ledger message")
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
        self.action_row = QWidget()  # disabled as one while a change is being made
        actions = QHBoxLayout(self.action_row)
        actions.setContentsMargins(0, 0, 0, 0)
        actions.addWidget(self.reason, 1)
        for button in (self.revoke_button, self.suspend_button, self.unsuspend_button, self.replace_button):
            actions.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.scope)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.action_row)
        layout.addWidget(self.message)
        self.reload_types()
        self._update_buttons()

    def reload_types(self) -> None:
        """The type filter from the credential types, which the service holds in memory."""
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
            limit=SEARCH_LIMIT,
        )

    def refresh(self) -> None:
        """Search with the current filters; the table fills when the ledger has been read."""
        if self.sender() in (self.search, self.search_button):
            self._offer_id = None  # a new search leaves the offer the offers page pointed at
        self.scope.setText(f"Credentials of offer {self._offer_id}" if self._offer_id else "")
        self._say("Searching…")
        self._tasks.run(
            partial(read_ledger, self._service, self.query()), self._show, self._search_failed, busy=self.search_button
        )

    def selected(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.record_at(rows[0].row()) if rows else None

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
        self._tasks.run(
            partial(self._service.ledger.change_status, record["id"], action, self._operator, reason),
            self._changed,
            self._error,
            busy=self.action_row,
        )

    def _changed(self, updated: dict[str, Any]) -> None:
        self.model.replace_record(updated)
        self.reason.clear()
        self._say(f"Credential {updated['id']} is now {updated['state']}.")

    def _replace(self) -> None:
        record = self.selected()
        if record is None:
            self._error("Select a credential first.")
            return
        self._tasks.run(
            partial(self._holder_of, record), partial(self._replace_with, record), self._error, busy=self.action_row
        )

    def _replace_with(self, record: dict[str, Any], holder: dict[str, Any] | None) -> None:
        self.replace_requested.emit(record, holder)

    def _holder_of(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """Task thread: the holder a replacement is for, if their record is still kept."""
        if not record.get("holder_id"):
            return None
        try:
            return self._service.desk.holder(record["holder_id"])
        except ServiceError:
            return None  # purged after its retention period: the operator fills the form again

    def _show(self, result: LedgerResult) -> None:
        self.model.show(result)
        fit_columns(self.table)
        found = len(result.records)
        self._say(f"{found} credential{'s' if found != 1 else ''} found.")

    def _update_buttons(self) -> None:
        state = (self.selected() or {}).get("state")
        self.revoke_button.setEnabled(state in ("valid", "suspended"))
        self.suspend_button.setEnabled(state == "valid")
        self.unsuspend_button.setEnabled(state == "suspended")
        self.replace_button.setEnabled(state in ("valid", "suspended"))  # a revoked one is replaced already

    def _search_failed(self, reason: str) -> None:
        self._error(f"The search failed: {reason}")

    def _error(self, text: str) -> None:
        self._say(text, ERROR_TONE)

    def _say(self, text: str, tone: str = PLAIN_TONE) -> None:
        set_tone(self.message, tone)
        self.message.setText(text)


def _timestamp(day: QDate) -> int:
    return int(datetime.combine(date(day.year(), day.month(), day.day()), time()).timestamp())
