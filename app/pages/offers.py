"""Offers as they move: whom each is for, who made it, the time left; live or finished ones; the
deferred ones waiting for the desk's decision; cancel one. Every action runs on the task thread and
is enabled only on a row it applies to."""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app import confirm
from app.models.offers import OffersModel, is_live
from app.style import ERROR_TONE, PLAIN_TONE, fit_columns, set_tone, tidy_table
from app.tasks import Tasks
from issuer.desk_api import DeskService

SHOWN = {"All offers": None, "Live": True, "Finished": False}


class LiveOrFinished(QSortFilterProxyModel):
    """The rows of the offers model that are live, finished, or all of them."""

    def __init__(self, model: OffersModel) -> None:
        super().__init__()
        self._model = model
        self.live: bool | None = None
        self.setSourceModel(model)

    def show_live(self, live: bool | None) -> None:
        self.beginFilterChange()
        self.live = live
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, _parent: QModelIndex | QPersistentModelIndex) -> bool:
        return self.live is None or is_live(self._model.offer_at(source_row)) == self.live


class OffersPage(QWidget):
    credentials_requested = Signal(str)  # offer id: show its credentials in the ledger

    def __init__(
        self,
        service: DeskService,
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
        self.shown = LiveOrFinished(model)
        self.filter = QComboBox()
        self.filter.setAccessibleName("Offers shown")
        for label, live in SHOWN.items():
            self.filter.addItem(label, live)
        self.filter.currentIndexChanged.connect(lambda: self.shown.show_live(self.filter.currentData()))
        self.table = QTableView()
        tidy_table(self.table)
        self.table.setModel(self.shown)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        model.modelReset.connect(lambda: fit_columns(self.table))
        self.approve_button = QPushButton("Approve")
        self.reject_button = QPushButton("Reject")
        self.approve_button.clicked.connect(lambda: self.decide(approve=True))
        self.reject_button.clicked.connect(lambda: self.decide(approve=False))
        self.cancel_button = QPushButton("Cancel offer")
        self.cancel_button.clicked.connect(self.cancel)
        self.credentials_button = QPushButton("Show credentials")
        self.credentials_button.clicked.connect(self._show_credentials)
        self.message = QLabel()
        self.message.setAccessibleName("Offers message")
        self.message.setWordWrap(True)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        for changed in (model.dataChanged, model.rowsInserted, model.modelReset, self.shown.layoutChanged):
            changed.connect(self._update_buttons)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show"))
        top.addWidget(self.filter)
        top.addStretch(1)
        buttons = QHBoxLayout()
        for button in (self.approve_button, self.reject_button, self.cancel_button, self.credentials_button):
            buttons.addWidget(button)
        buttons.addWidget(self.message, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def select_offer(self, offer_id: str) -> None:
        row = self.model.row_of(offer_id)
        if row is not None:
            shown = self.shown.mapFromSource(self.model.index(row, 0))
            if shown.isValid():
                self.table.selectRow(shown.row())

    def selected(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.offer_at(self.shown.mapToSource(rows[0]).row()) if rows else None

    def decide(self, *, approve: bool) -> None:
        offer = self.selected()
        if offer is None:
            self._say("Select a deferred offer first.")
            return
        decide = self._service.offers.approve if approve else self._service.offers.reject
        self._tasks.run(
            partial(decide, offer["offer_id"], operator=self._operator),
            partial(self._decided, approve),
            partial(self._say, tone=ERROR_TONE),
            busy=(self.approve_button, self.reject_button),
        )

    def cancel(self) -> None:
        """Cancel the selected live offer, after asking: its QR code and tokens stop working."""
        offer = self.selected()
        if offer is None:
            self._say("Select a live offer first.")
            return
        who = f" for {offer['holder_name']}" if offer.get("holder_name") else ""
        credential = self.model.credential_names(offer)
        question = f"Cancel the offer{who} ({credential})? Its QR code stops working at once."
        if not confirm.ask(self, "Cancel the offer", question, yes="Cancel offer"):
            return
        self._tasks.run(
            partial(self._service.offers.cancel, offer["offer_id"], self._operator),
            self._cancelled,
            partial(self._say, tone=ERROR_TONE),
            busy=self.cancel_button,
        )

    def _show_credentials(self) -> None:
        offer = self.selected()
        if offer is None:
            self._say("Select an offer first.")
            return
        self.credentials_requested.emit(offer["offer_id"])

    def _update_buttons(self) -> None:
        offer = self.selected()
        live = offer is not None and is_live(offer)
        waiting = live and offer is not None and bool(offer.get("deferred")) and not offer.get("decision")
        self.approve_button.setEnabled(waiting)
        self.reject_button.setEnabled(waiting)
        self.cancel_button.setEnabled(live)
        self.credentials_button.setEnabled(offer is not None and bool(offer.get("issued")))

    def _decided(self, approved: bool, _offer: dict[str, Any]) -> None:
        self._update_buttons()
        self._say("Approved: the wallet receives it on its next poll." if approved else "Rejected.")

    def _cancelled(self, _offer: dict[str, Any]) -> None:
        self._update_buttons()
        self._say("Cancelled: its QR code no longer works.")

    def _say(self, text: str, tone: str = PLAIN_TONE) -> None:
        set_tone(self.message, tone)
        self.message.setText(text)
