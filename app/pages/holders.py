"""Holders: register the person at the desk with how their identity was checked, and find them again.

Registering and searching run on the task thread, in the order typed: the last search shown is
the last one asked for.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.keyboard import submit_on_enter
from app.style import ERROR_TONE, PLAIN_TONE, WARNING_TONE, set_tone, tone_of
from app.tasks import Tasks
from issuer.desk_api import DeskService
from issuer.records.holders import DOCUMENT_TYPES, MAX_FIELD_LENGTH, HolderRequest

DOCUMENT_LABELS = {
    "passport": "Passport",
    "identity_card": "Identity card",
    "driving_licence": "Driving licence",
    "residence_permit": "Residence permit",
    "other": "Other document",
}


class HoldersPage(QWidget):
    holder_chosen = Signal(object)  # the holder record, to prefill an offer

    def __init__(self, service: DeskService, tasks: Tasks, operator: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._tasks = tasks
        self._operator = operator
        self.given_name = QLineEdit()
        self.family_name = QLineEdit()
        self.email = QLineEdit()
        self.document_type = QComboBox()
        for document_type in DOCUMENT_TYPES:
            self.document_type.addItem(DOCUMENT_LABELS[document_type], document_type)
        self.document_number = QLineEdit()
        self.document_number.setPlaceholderText("only the last 4 characters are kept")
        for edit in (self.given_name, self.family_name, self.email, self.document_number):
            edit.setMaxLength(MAX_FIELD_LENGTH)  # the same limit as the offer form's fields
        self.register_button = QPushButton("Identity checked: register")
        self.register_button.clicked.connect(self.register)
        submit_on_enter((self.given_name, self.family_name, self.email, self.document_number), self.register_button)
        self.message = QLabel()
        self.message.setAccessibleName("Holders message")
        self.message.setWordWrap(True)
        for edit in (self.given_name, self.family_name, self.email, self.document_number):
            edit.textChanged.connect(self._form_changed)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name or e-mail (any case, any accents)")
        self.search.setAccessibleName("Search holders by name or e-mail")
        self.search.textChanged.connect(self.refresh)
        self.results = QListWidget()
        self.use_button = QPushButton("New offer for this holder")
        self.use_button.clicked.connect(self._use_selected)
        self.use_button.setEnabled(False)  # until a holder is selected
        self.results.itemActivated.connect(lambda _item: self.use_button.click())  # Enter on a holder
        self.results.currentItemChanged.connect(lambda item, _previous: self.use_button.setEnabled(item is not None))

        form = QFormLayout()
        form.addRow("Given name *", self.given_name)
        form.addRow("Family name *", self.family_name)
        form.addRow("E-mail", self.email)
        form.addRow("Document checked *", self.document_type)
        form.addRow("Document number *", self.document_number)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.register_button)
        left.addWidget(self.message)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.search)
        right.addWidget(self.results, 1)
        right.addWidget(self.use_button)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)
        self.refresh()

    def register(self) -> None:
        request = HolderRequest(
            given_name=self.given_name.text(),
            family_name=self.family_name.text(),
            document_type=self.document_type.currentData(),
            document_number=self.document_number.text(),
            email=self.email.text(),
        )
        self._say("Registering …")
        self._tasks.run(
            partial(self._service.desk.register_holder, request, self._operator),
            self._registered,
            partial(self._say, tone=ERROR_TONE),
            busy=self.register_button,
        )

    def refresh(self) -> None:
        self._tasks.run(partial(self._service.desk.search_holders, self.search.text()), self._show, self._search_failed)

    def _registered(self, holder: dict[str, Any]) -> None:
        registered = f"{holder['given_name']} {holder['family_name']} is registered."
        if holder.get("warnings"):
            self._say(" ".join([registered, *(f"Note: {warning}." for warning in holder["warnings"])]), WARNING_TONE)
        else:
            self._say(registered)
        for edit in (self.given_name, self.family_name, self.email, self.document_number):
            edit.clear()
        self.refresh()

    def _form_changed(self) -> None:
        """A refusal clears once the form changes: the operator is fixing it."""
        if tone_of(self.message) == ERROR_TONE:
            self._say("")

    def _search_failed(self, reason: str) -> None:
        self._say(f"The search failed: {reason}", ERROR_TONE)

    def _show(self, holders: list[dict[str, Any]]) -> None:
        self.results.clear()
        for holder in holders:
            check = holder["identity_check"]
            label = (
                f"{holder['given_name']} {holder['family_name']}  ·  "
                f"{DOCUMENT_LABELS[check['document_type']]} …{check['document_suffix']}"
            )
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, holder)
            self.results.addItem(item)

    def _use_selected(self) -> None:
        item = self.results.currentItem()
        if item is None:
            self._say("Select a holder first.")
            return
        self.holder_chosen.emit(item.data(Qt.ItemDataRole.UserRole))

    def _say(self, text: str, tone: str = PLAIN_TONE) -> None:
        set_tone(self.message, tone)
        self.message.setText(text)
