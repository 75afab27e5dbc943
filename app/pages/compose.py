"""Compose an offer: pick a credential type, fill the form its claims metadata defines, show the QR.

Creating the offer (and confirming a wallet's sign-in) runs on the task thread; the form is built
from the credential types, which the service holds in memory.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.style import ERROR_STYLE, TX_CODE_STYLE
from app.tasks import Tasks
from app.widgets.binary_claim import BinaryClaimField
from app.widgets.qr import QrView
from issuer.protocol.claim_values import BOOL, BSTR, FULL_DATE, UINT
from issuer.service import CreatedOffer, IssuerService, OfferRequest

HINTS = {FULL_DATE: "YYYY-MM-DD", UINT: "a whole number", BOOL: "true or false"}


class ComposePage(QWidget):
    offer_created = Signal(object)  # CreatedOffer
    sign_in_confirmed = Signal(str)  # the confirmation code of a wallet-started request

    def __init__(
        self, service: IssuerService, tasks: Tasks, operator: str | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._tasks = tasks
        self._operator = operator
        self._fields: dict[str, QLineEdit | BinaryClaimField] = {}
        self._holder: dict[str, Any] | None = None
        self._replaces: tuple[str, ...] = ()
        self._sign_in: dict[str, Any] | None = None  # a waiting wallet's request this form completes
        self.sign_in_label = QLabel()
        self.sign_in_label.setWordWrap(True)
        self.holder_label = QLabel("For: nobody registered (optional)")
        self.replaces_label = QLabel()
        self.replaces_label.setWordWrap(True)

        self.type_picker = QComboBox()
        self._fill_type_picker()
        self.type_picker.currentIndexChanged.connect(self._build_form)
        self.form = QFormLayout()
        self.tx_code = QCheckBox("Transaction code (read it to the holder)")
        self.tx_code.setChecked(True)
        self.deferred = QCheckBox("Needs approval before issuing")
        self.by_reference = QCheckBox("Offer by reference (smaller QR code)")
        self.by_reference.setChecked(True)
        self.sign_in_grant = QCheckBox("Wallet signs in and shows a code at the desk")
        self.sign_in_grant.toggled.connect(self._grant_changed)
        self.expiry = QSpinBox()
        self.expiry.setRange(1, 7 * 24 * 60)
        self.expiry.setValue(service.settings.offer_ttl // 60)
        self.expiry.setSuffix(" min")
        self.create_button = QPushButton("Create offer")
        self.create_button.clicked.connect(self.create_offer)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)

        self.qr = QrView()
        self.link = QLineEdit()
        self.link.setReadOnly(True)
        self.copy_button = QPushButton("Copy link")
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.link.text()))
        self.save_png = QPushButton("Save PNG…")
        self.save_svg = QPushButton("Save SVG…")
        self.print_button = QPushButton("Print…")
        self.save_png.clicked.connect(lambda: self._save_as("png"))
        self.save_svg.clicked.connect(lambda: self._save_as("svg"))
        self.print_button.clicked.connect(self._print)
        self.file_message = QLabel()
        self.tx_code_label = QLabel()
        self.tx_code_label.setStyleSheet(TX_CODE_STYLE)

        left = QVBoxLayout()
        picker = QFormLayout()
        picker.addRow("Credential", self.type_picker)
        left.addLayout(picker)
        left.addWidget(self.holder_label)
        left.addWidget(self.replaces_label)
        left.addWidget(self.sign_in_label)
        left.addLayout(self.form)
        options = QFormLayout()
        options.addRow(self.tx_code)
        options.addRow(self.deferred)
        options.addRow(self.by_reference)
        options.addRow(self.sign_in_grant)
        options.addRow("Expires after", self.expiry)
        left.addLayout(options)
        left.addWidget(self.create_button)
        left.addWidget(self.error)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.qr, 1)
        link_row = QHBoxLayout()
        link_row.addWidget(self.link, 1)
        link_row.addWidget(self.copy_button)
        right.addLayout(link_row)
        file_row = QHBoxLayout()
        for button in (self.save_png, self.save_svg, self.print_button):
            file_row.addWidget(button)
        file_row.addWidget(self.file_message, 1)
        right.addLayout(file_row)
        right.addWidget(self.tx_code_label)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)
        self._build_form()

    def field(self, claim: str) -> QLineEdit | BinaryClaimField:
        return self._fields[claim]

    def create_offer(self) -> None:
        """Create the offer on the task thread (`offer_created` follows); a refusal is shown next to
        the button, and nothing is lost from the form."""
        type_id = self.type_picker.currentData()
        claims = {name: edit.text() for name, edit in self._fields.items() if edit.text().strip()}
        if self._sign_in is not None:
            self._confirm_sign_in(claims)
            return
        request = OfferRequest(
            credential_configuration_ids=[type_id],
            claims=claims,
            tx_code=self.tx_code.isChecked(),
            deferred=self.deferred.isChecked(),
            by_reference=self.by_reference.isChecked(),
            expires_in=self.expiry.value() * 60,
            operator=self._operator,
            holder_id=self._holder["holder_id"] if self._holder else None,
            replaces=self._replaces,
            grant="authorization_code" if self.sign_in_grant.isChecked() else "pre-authorized_code",
        )
        self._tasks.run(
            partial(self._service.offers.create, request), self._offer_made, self._refused, busy=self.create_button
        )

    def _offer_made(self, created: CreatedOffer) -> None:
        self.error.clear()
        self._replaces = ()
        self.replaces_label.clear()
        self.qr.set_text(created.offer_uri)
        self.link.setText(created.offer_uri)
        self.tx_code_label.setText(f"Transaction code: {created.tx_code}" if created.tx_code else "")
        self.offer_created.emit(created)

    def _refused(self, reason: str) -> None:
        self.error.setText(reason)

    def _save_as(self, suffix: str) -> None:
        if not self.qr.text:
            self.file_message.setText("Create an offer first.")
            return
        name, _ = QFileDialog.getSaveFileName(
            self, "Save the QR code", f"offer.{suffix}", f"{suffix.upper()} (*.{suffix})"
        )
        if name:
            try:
                self.qr.save(Path(name))
            except (OSError, ValueError) as error:
                self.file_message.setText(f"Not saved: {error}")
                return
            self.file_message.setText(f"Saved {name}")

    def _print(self) -> None:
        if not self.qr.text:
            self.file_message.setText("Create an offer first.")
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        if QPrintDialog(printer, self).exec() == QPrintDialog.DialogCode.Accepted:
            self.qr.print_to(printer)

    def reload_types(self) -> None:
        """After the definitions were reloaded: the picker and the form follow them."""
        self.type_picker.blockSignals(True)
        self.type_picker.clear()
        self._fill_type_picker()
        self.type_picker.blockSignals(False)
        self._build_form()

    def _fill_type_picker(self) -> None:
        for type_id, credential_type in self._service.credential_types.items():
            self.type_picker.addItem(credential_type.display_name, type_id)

    def use_holder(self, holder: dict[str, Any]) -> None:
        """Bind the next offer to a registered holder and prefill what the form asks of them."""
        self._holder = holder
        self.holder_label.setText(f"For: {holder['given_name']} {holder['family_name']}")
        self._prefill()

    def replace_credential(self, record: dict[str, Any], holder: dict[str, Any] | None) -> None:
        """Prepare a re-issue: same type and holder; the old credential is revoked when the offer is made."""
        index = self.type_picker.findData(record["config_id"])
        if index >= 0:
            self.type_picker.setCurrentIndex(index)
        if holder is not None:
            self.use_holder(holder)
        self._replaces = (record["id"],)
        self.replaces_label.setText(f"Replaces credential {record['id']}: it is revoked when this offer is created.")

    def complete_sign_in(self, request: dict[str, Any]) -> None:
        """Fill in the claims for a wallet that signed in without an offer; the button confirms it."""
        self._sign_in = request
        index = self.type_picker.findData(request["credential_configuration_ids"][0])
        self.type_picker.setCurrentIndex(index)
        self.type_picker.setEnabled(False)
        self._build_form()
        self.create_button.setText(f"Confirm sign-in {request['confirmation']}")
        self.sign_in_label.setText(
            f"Completing the sign-in with code {request['confirmation']}: check the person, fill in "
            "the form, then confirm. The credential goes straight to their wallet."
        )

    def _confirm_sign_in(self, claims: dict[str, str]) -> None:
        request = self._sign_in
        assert request is not None
        work = partial(
            self._service.sign_ins.approve,
            request["authorization_id"],
            self._operator,
            claims=claims,
            holder_id=self._holder["holder_id"] if self._holder else None,
        )
        self._tasks.run(work, partial(self._sign_in_done, request), self._refused, busy=self.create_button)

    def _sign_in_done(self, request: dict[str, Any], _view: dict[str, Any]) -> None:
        self.error.clear()
        self._end_sign_in()
        for edit in self._fields.values():
            edit.clear()
        self.sign_in_confirmed.emit(request["confirmation"])

    def _end_sign_in(self) -> None:
        self._sign_in = None
        self.type_picker.setEnabled(True)
        self.create_button.setText("Create offer")
        self.sign_in_label.clear()
        self._build_form()

    def _grant_changed(self, sign_in: bool) -> None:
        """A wallet that signs in is confirmed at the desk: no transaction code or approval step."""
        for option in (self.tx_code, self.deferred):
            option.setEnabled(not sign_in)
            if sign_in:
                option.setChecked(False)

    def _prefill(self) -> None:
        if self._holder is None:
            return
        for name in ("given_name", "family_name", "email"):
            if name in self._fields and not self._fields[name].text():
                self._fields[name].setText(self._holder.get(name, ""))

    def _build_form(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self._fields.clear()
        type_ids = self._sign_in["credential_configuration_ids"] if self._sign_in else [self.type_picker.currentData()]
        specs = {spec.name: spec for t in type_ids for spec in self._service.credential_types[t].claims}
        for spec in specs.values():
            edit = BinaryClaimField() if spec.value_type == BSTR else QLineEdit()
            if isinstance(edit, QLineEdit):
                edit.setPlaceholderText(HINTS.get(spec.value_type or "", ""))
            edit.setObjectName(f"claim_{spec.name}")
            edit.setAccessibleName(spec.label)
            self._fields[spec.name] = edit
            self.form.addRow(f"{spec.label}{' *' if spec.mandatory else ''}", edit)
        self._prefill()
