"""Live offers as they move, and the deferred ones waiting for the desk's decision (taken on the task thread)."""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QPushButton, QTableView, QVBoxLayout, QWidget

from app.models.offers import OffersModel
from app.style import ERROR_STYLE, PLAIN_STYLE
from app.tasks import Tasks
from issuer.service import IssuerService


class OffersPage(QWidget):
    credentials_requested = Signal(str)  # offer id: show its credentials in the ledger

    def __init__(
        self,
        service: IssuerService,
        tasks: Tasks,
        model: OffersModel,
        operator: str | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._tasks = tasks
        self._operator = operator
        self.model = model
        self.table = QTableView()
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.approve_button = QPushButton("Approve")
        self.reject_button = QPushButton("Reject")
        self.approve_button.clicked.connect(lambda: self.decide(approve=True))
        self.reject_button.clicked.connect(lambda: self.decide(approve=False))
        self.credentials_button = QPushButton("Show credentials")
        self.credentials_button.clicked.connect(self._show_credentials)
        self.message = QLabel()
        buttons = QHBoxLayout()
        buttons.addWidget(self.approve_button)
        buttons.addWidget(self.reject_button)
        buttons.addWidget(self.credentials_button)
        buttons.addWidget(self.message, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def select_offer(self, offer_id: str) -> None:
        row = self.model.row_of(offer_id)
        if row is not None:
            self.table.selectRow(row)

    def _show_credentials(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self._say("Select an offer first.")
            return
        self.credentials_requested.emit(self.model.offer_at(rows[0].row())["offer_id"])

    def decide(self, *, approve: bool) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self._say("Select a deferred offer first.")
            return
        offer_id = self.model.offer_at(rows[0].row())["offer_id"]
        decide = self._service.offers.approve if approve else self._service.offers.reject
        self._tasks.run(
            partial(decide, offer_id, operator=self._operator),
            partial(self._decided, approve),
            partial(self._say, style=ERROR_STYLE),
            busy=(self.approve_button, self.reject_button),
        )

    def _decided(self, approved: bool, _offer: dict[str, Any]) -> None:
        self._say("Approved: the wallet receives it on its next poll." if approved else "Rejected.")

    def _say(self, text: str, style: str = PLAIN_STYLE) -> None:
        self.message.setStyleSheet(style)
        self.message.setText(text)
