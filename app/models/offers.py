"""The offers table: one row per live offer, updated from issuer events, never by polling.

Every read goes through the task runner; the rows change only on the GUI thread, when a read
comes back. Reads run in the order the events came, so the last answer is the newest state.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from app.tasks import Tasks
from issuer.service import IssuerService, OfferState

COLUMNS = ("Created", "Credential", "State", "Last step")
STATE_LABELS: dict[OfferState, str] = {
    OfferState.CREATED: "created",
    OfferState.FETCHED: "scanned",
    OfferState.REDEEMED: "scanned",
    OfferState.PENDING: "waiting for approval",
    OfferState.APPROVED: "approved",
    OfferState.REJECTED: "rejected",
    OfferState.ISSUED: "issued",
    OfferState.EXPIRED: "expired",
    OfferState.BURNED: "failed",
    OfferState.DENIED: "rejected",
}
NOTIFICATION_LABELS = {
    "credential_accepted": "accepted",
    "credential_failure": "failed",
    "credential_deleted": "deleted",
}
Index = QModelIndex | QPersistentModelIndex


class OffersModel(QAbstractTableModel):
    def __init__(self, service: IssuerService, tasks: Tasks, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service  # read here only for the credential types, which are in memory
        self._tasks = tasks
        self._rows: list[dict[str, Any]] = []
        tasks.run(service.offers.recent, self._loaded)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default argument
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        row = self._rows[index.row()]
        return (
            datetime.fromtimestamp(row["created_at"]).strftime("%H:%M:%S"),
            self._credential_names(row),
            state_label(row),
            step_label(row),
        )[index.column()]

    def offer_at(self, row: int) -> dict[str, Any]:
        return self._rows[row]

    def row_of(self, offer_id: str) -> int | None:
        return next((n for n, row in enumerate(self._rows) if row["offer_id"] == offer_id), None)

    def on_offer_changed(self, kind: str, offer_id: str) -> None:
        """Refresh (or add) the offer an issuer event is about (a sign-in without an offer has none)."""
        if offer_id:
            self._tasks.run(partial(self._service.offers.status, offer_id), self._update, self._status_unavailable)

    def _loaded(self, rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def _update(self, status: dict[str, Any]) -> None:
        offer_id = status["offer_id"]
        row = self.row_of(offer_id)
        if row is None:
            self.beginInsertRows(QModelIndex(), 0, 0)
            self._rows.insert(0, status)
            self.endInsertRows()
            return
        self._rows[row] = status
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def _status_unavailable(self, _reason: str) -> None:
        """An offer that is no longer known (purged) keeps the row it had."""

    def _credential_names(self, row: dict[str, Any]) -> str:
        types = self._service.credential_types
        return ", ".join(types[c].display_name if c in types else c for c in row["credential_configuration_ids"])


def state_label(row: dict[str, Any]) -> str:
    notifications = [s for s in row["timeline"] if s["event"] == "notification_received"]
    if notifications:
        return NOTIFICATION_LABELS.get(str(notifications[-1]["detail"]["event"]), "issued")
    return STATE_LABELS[OfferState(row["state"])]


def step_label(row: dict[str, Any]) -> str:
    """The latest step in plain words, with what went wrong when a step failed."""
    step = row["timeline"][-1]
    detail = step.get("detail", {})
    if step["event"] == "token_failed":
        left = detail.get("attempts_left")
        return f"wrong transaction code, {left} attempt{'s' if left != 1 else ''} left"
    if step["event"] == "credential_failed":
        return f"the wallet's request was refused: {detail.get('reason') or detail.get('error')}"
    if step["event"] == "issuance_rejected" and detail.get("reason"):
        return f"rejected: {detail['reason']}"
    return str(step["event"]).replace("_", " ")
