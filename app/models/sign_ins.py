"""The sign-ins table: wallets whose browser waits at the desk (Authorization Code flow).

`read_sign_ins` runs on the task thread and says in words whom each request is for; the model
only shows what it is given, and drops a request when its wait is over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from issuer.desk_api import DeskService
from issuer.errors import ServiceError

COLUMNS = ("Code", "Credential", "Waiting since", "For")
Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class SignIn:
    request: dict[str, Any]  # as DeskService.pending_authorizations gives it
    holder: str  # whom the request is for, in words

    @property
    def authorization_id(self) -> str:
        return str(self.request["authorization_id"])

    @property
    def expires_at(self) -> int:
        return int(self.request["expires_at"])


def read_sign_ins(service: DeskService) -> list[SignIn]:
    """The waiting requests with their holders' names (task thread: it reads the store)."""
    return [SignIn(request, _holder_text(service, request)) for request in service.sign_ins.pending()]


def _holder_text(service: DeskService, request: dict[str, Any]) -> str:
    """The person a request is for, by name: the offer's holder, or the name its claims give."""
    if request["offer_id"] is None:
        return "started in the wallet: fill in on confirming"
    if request.get("holder_name"):
        return str(request["holder_name"])
    if request.get("holder_id"):
        try:
            holder = service.desk.holder(request["holder_id"])
        except ServiceError:
            return "a holder no longer registered"
        return f"{holder['given_name']} {holder['family_name']}"
    return "an offer made at the desk, without a name"


class SignInsModel(QAbstractTableModel):
    def __init__(self, service: DeskService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service  # read here only for the credential types, which are in memory
        self._rows: list[SignIn] = []

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
        sign_in = self._rows[index.row()]
        request = sign_in.request
        return (
            request["confirmation"],
            ", ".join(self._type_name(c) for c in request["credential_configuration_ids"]),
            datetime.fromtimestamp(request["created_at"]).strftime("%H:%M:%S"),
            sign_in.holder,
        )[index.column()]

    def set_sign_ins(self, sign_ins: list[SignIn]) -> None:
        self.beginResetModel()
        self._rows = list(sign_ins)
        self.endResetModel()

    def sign_in_at(self, row: int) -> SignIn:
        return self._rows[row]

    def row_of(self, authorization_id: str) -> int | None:
        return next((n for n, s in enumerate(self._rows) if s.authorization_id == authorization_id), None)

    def row_of_code(self, confirmation: str) -> int | None:
        return next((n for n, s in enumerate(self._rows) if s.request["confirmation"] == confirmation), None)

    def remove_expired(self, now: float) -> int:
        """Drop the requests whose wait ended before `now` (the issuer refuses them from then on)."""
        removed = 0
        for row in reversed(range(len(self._rows))):
            if self._rows[row].expires_at < now:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()
                removed += 1
        return removed

    def next_expiry(self) -> int | None:
        return min((s.expires_at for s in self._rows), default=None)

    def _type_name(self, config_id: str) -> str:
        credential_type = self._service.credential_types.get(config_id)
        return credential_type.display_name if credential_type else config_id
