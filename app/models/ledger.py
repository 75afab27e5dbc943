"""The ledger table: credentials found by a search, with their holders' names.

`read_ledger` runs on the task thread (a search may read the whole history, and each holder's
name is a store read); the model shows its answer and takes changed records one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from issuer.desk_api import DeskService
from issuer.errors import ServiceError
from issuer.records.ledger import LedgerQuery

COLUMNS = ("Issued", "Holder", "Credential", "State", "Operator", "Expires", "Ledger id")
PURGED = "(record purged)"
Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class LedgerResult:
    records: list[dict[str, Any]]
    holder_names: dict[str, str] = field(default_factory=dict)  # holder id -> name, or PURGED


def read_ledger(service: DeskService, query: LedgerQuery) -> LedgerResult:
    """One search and the names of the holders it found (task thread)."""
    records = service.ledger.find(query)
    names: dict[str, str] = {}
    for holder_id in {r["holder_id"] for r in records if r.get("holder_id") and not r.get("holder_name")}:
        try:
            holder = service.desk.holder(holder_id)
        except ServiceError:
            names[holder_id] = PURGED  # removed after its retention period; the credential stays
            continue
        names[holder_id] = f"{holder['given_name']} {holder['family_name']}"
    return LedgerResult(records, names)


class LedgerModel(QAbstractTableModel):
    def __init__(self, service: DeskService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service  # read here only for the credential types, which are in memory
        self._result = LedgerResult([])

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default argument
        return 0 if parent.isValid() else len(self._result.records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        record = self._result.records[index.row()]
        holder_id = record.get("holder_id")
        credential_type = self._service.credential_types.get(record["config_id"])
        return (
            _date(record["issued_at"]),
            record.get("holder_name") or (self._result.holder_names.get(holder_id, "") if holder_id else ""),
            credential_type.display_name if credential_type else record["config_id"],
            record["state"],
            record.get("operator") or "",
            _date(record["expires_at"]),
            record["id"],
        )[index.column()]

    def show(self, result: LedgerResult) -> None:
        self.beginResetModel()
        self._result = result
        self.endResetModel()

    def record_at(self, row: int) -> dict[str, Any]:
        return self._result.records[row]

    def row_of(self, record_id: str) -> int | None:
        return next((n for n, r in enumerate(self._result.records) if r["id"] == record_id), None)

    def replace_record(self, updated: dict[str, Any]) -> None:
        """A record whose state changed (revoked, suspended, reinstated) takes its row's place."""
        row = self.row_of(updated["id"])
        if row is None:
            return
        self._result.records[row] = updated
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")
