"""The audit table: operator actions, newest first, with whom each was about by name and why.

`read_audit` runs on the task thread: it reads the log and puts a name on each subject (a holder,
an offer, a credential, a sign-in), which the log itself records by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from issuer.desk_api import DeskService
from issuer.errors import ServiceError

COLUMNS = ("When", "Operator", "Action", "About", "Reason")
Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class AuditRead:
    entries: list[dict[str, Any]]
    about: list[str] = field(default_factory=list)  # for each entry, whom or what it is about, in words


def read_audit(service: DeskService, limit: int) -> AuditRead:
    """The log's newest entries and, for each, its subject in words (task thread: it reads the store)."""
    entries = service.desk.audit_log(limit=limit)
    names: dict[tuple[str, str], str] = {}
    about = []
    for entry in entries:
        kind = _kind(entry["action"])
        key = (kind, str(entry.get("subject", "")))
        if key not in names:
            names[key] = _about(service, kind, entry)
        about.append(names[key])
    return AuditRead(entries, about)


def _kind(action: str) -> str:
    for prefix in ("holder", "offer", "issuance", "credential", "authorization"):
        if action.startswith(prefix):
            return "offer" if prefix == "issuance" else prefix
    return "operator"


def _about(service: DeskService, kind: str, entry: dict[str, Any]) -> str:
    subject, detail = str(entry.get("subject", "")), entry.get("detail") or {}
    try:
        if kind == "holder":
            if entry["action"] == "holders_purged":
                return f"{detail.get('count', 0)} holders past the retention period"
            holder = service.desk.holder(subject)
            return f"{holder['given_name']} {holder['family_name']}"
        if kind == "offer":
            name = detail.get("holder_name") or service.offers.status(subject).get("holder_name")
            return f"the offer for {name}" if name else "an offer without a name"
        if kind == "credential":
            record = service.ledger.record(subject)
            credential_type = service.credential_types.get(record["config_id"])
            credential = credential_type.display_name if credential_type else record["config_id"]
            return f"{record['holder_name']}'s {credential}" if record.get("holder_name") else credential
        if kind == "authorization":
            offer_id = detail.get("offer_id")
            name = service.offers.status(offer_id).get("holder_name") if offer_id else None
            return f"the sign-in of {name}" if name else "a wallet's sign-in"
    except ServiceError:
        return {"holder": "a holder no longer registered", "credential": "a credential"}.get(kind, "an offer")
    return subject


class AuditModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._read = AuditRead([])

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default argument
        return 0 if parent.isValid() else len(self._read.entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        entry = self._read.entries[index.row()]
        about = self._read.about[index.row()] if index.row() < len(self._read.about) else entry["subject"]
        return (
            datetime.fromtimestamp(entry["at"]).strftime("%Y-%m-%d %H:%M:%S"),
            entry["operator"] or "",
            entry["action"].replace("_", " "),
            about,
            (entry.get("detail") or {}).get("reason", ""),
        )[index.column()]

    def show(self, read: AuditRead) -> None:
        self.beginResetModel()
        self._read = read
        self.endResetModel()
