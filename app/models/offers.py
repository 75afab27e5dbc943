"""The offers table: one row per live offer, updated from issuer events, never by polling.

Every read goes through the task runner; the rows change only on the GUI thread, when a read
comes back. Reads run in the order the events came, so the last answer is the newest state.
"""

from __future__ import annotations

import time
from datetime import datetime
from functools import partial
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer

from app.tasks import Tasks
from issuer.desk_api import DeskService
from issuer.service import FINISHED, STATE_WORDS, OfferState

COLUMNS = ("Created", "Holder", "Credential", "Operator", "State", "Time left", "Last step")
STATE, TIME_LEFT, LAST_STEP = COLUMNS.index("State"), COLUMNS.index("Time left"), COLUMNS.index("Last step")
STATE_LABELS: dict[OfferState, str] = dict(STATE_WORDS)  # one vocabulary with the command line and the README
NOTIFICATION_LABELS = {
    "credential_accepted": "stored in the wallet",
    "credential_failure": "the wallet could not store it",
    "credential_deleted": "deleted from the wallet",
}
TICK_MS = 1000
Index = QModelIndex | QPersistentModelIndex


class OffersModel(QAbstractTableModel):
    def __init__(self, service: DeskService, tasks: Tasks, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service  # read here only for the credential types, which are in memory
        self._tasks = tasks
        self._rows: list[dict[str, Any]] = []
        self._ticker = QTimer(self)  # the time left moves on by the clock alone, without reading the issuer
        self._ticker.timeout.connect(self._tick)
        self._ticker.start(TICK_MS)
        self.reload()

    def reload(self) -> None:
        """Read the recent offers again (at start, and when a remote desk missed events)."""
        self._tasks.run(self._service.offers.recent, self._loaded)

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
            row.get("holder_name") or "",
            self.credential_names(row),
            row.get("operator") or "",
            state_label(row),
            time_left(row, time.time()),
            step_label(row),
        )[index.column()]

    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows)

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

    def _tick(self) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0, TIME_LEFT), self.index(len(self._rows) - 1, TIME_LEFT))

    def _status_unavailable(self, _reason: str) -> None:
        """An offer that is no longer known (purged) keeps the row it had."""

    def credential_names(self, row: dict[str, Any]) -> str:
        types = self._service.credential_types
        return ", ".join(types[c].display_name if c in types else c for c in row["credential_configuration_ids"])


def is_live(row: dict[str, Any]) -> bool:
    return OfferState(row["state"]) not in FINISHED


def state_label(row: dict[str, Any]) -> str:
    """The state in the desk's words; what the wallet reported afterwards is a step, not a state."""
    return STATE_LABELS[OfferState(row["state"])]


def time_left(row: dict[str, Any], now: float) -> str:
    """How long the wallet has left to scan the code: only while it is not yet redeemed."""
    if OfferState(row["state"]) not in (OfferState.CREATED, OfferState.FETCHED):
        return ""
    left = int(row["expires_at"] - now)
    if left <= 0:
        return "expired"
    minutes, seconds = divmod(left, 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}" if minutes >= 60 else f"{minutes}:{seconds:02d}"


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
    if step["event"] == "notification_received":
        return NOTIFICATION_LABELS.get(str(detail.get("event")), "the wallet reported back")
    if step["event"] == "offer_cancelled":
        return f"cancelled by {detail['operator']}" if detail.get("operator") else "cancelled"
    return str(step["event"]).replace("_", " ")
