"""Live offers as they move, and the deferred ones waiting for the desk's decision."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QPushButton, QTableView, QVBoxLayout, QWidget

from app.models.offers import OffersModel
from issuer.errors import ServiceError
from issuer.service import IssuerService


class OffersPage(QWidget):
    credentials_requested = Signal(str)  # offer id: show its credentials in the ledger

    def __init__(
        self, service: IssuerService, model: OffersModel, operator: str | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._service = service
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
            self.message.setText("Select an offer first.")
            return
        self.credentials_requested.emit(self.model.offer_at(rows[0].row())["offer_id"])

    def decide(self, *, approve: bool) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.message.setText("Select a deferred offer first.")
            return
        offer_id = self.model.offer_at(rows[0].row())["offer_id"]
        try:
            if approve:
                self._service.offers.approve(offer_id, operator=self._operator)
            else:
                self._service.offers.reject(offer_id, operator=self._operator)
        except ServiceError as error:
            self.message.setText(error.message)
            return
        self.message.setText("Approved: the wallet receives it on its next poll." if approve else "Rejected.")
