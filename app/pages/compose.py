"""New offer: one customer session at a time, so nothing of one person is carried into the next.

*New customer* (Ctrl+N) clears the claims, the holder link, the replace target, the options, the
QR code and the customer display. After *Create* the form is read-only for that offer until *Next
customer*; a second offer for the same person is an explicit *Another credential for this person*.
A replacement starts only from the ledger, keeps the credential type, names the credential that
will be revoked, and *Create* asks before revoking it.

Creating, cancelling and confirming a wallet's sign-in run on the task thread; the form is built
from the credential types, which the service holds in memory. The QR panel follows the offer
through the issuer's events (`on_offer_event`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import confirm
from app.keyboard import submit_on_enter
from app.models.outcome import Outcome, outcome_of
from app.style import ERROR_TONE, set_tone
from app.tasks import Tasks
from app.widgets import takeaway
from app.widgets.binary_claim import BinaryClaimField
from app.widgets.offer_panel import OfferPanel
from issuer.desk_api import DeskService
from issuer.protocol.claim_values import BOOL, BSTR, FULL_DATE, UINT
from issuer.protocol.credential_types import CLAIM_VALUE_MAX_LENGTH
from issuer.service import CreatedOffer, OfferRequest
from resources import resource_path

PERSON_FIELDS = ("given_name", "family_name", "email")  # what a holder record gives, and another offer keeps
TICK_MS = 1000

HINTS = {FULL_DATE: "YYYY-MM-DD", UINT: "a whole number", BOOL: "true or false"}


class ComposePage(QWidget):
    offer_created = Signal(object)  # CreatedOffer
    outcome_changed = Signal(object)  # Outcome of the offer on the panel, for the customer display
    session_cleared = Signal()  # the panel is empty again: the customer display goes idle
    sign_in_confirmed = Signal(str)  # the confirmation code of a wallet-started request

    def __init__(self, service: DeskService, tasks: Tasks, operator: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._tasks = tasks
        self._operator = operator
        self._fields: dict[str, QLineEdit | BinaryClaimField] = {}
        self._labels: dict[str, str] = {}
        self._holder: dict[str, Any] | None = None
        self._prefilled: dict[str, str] = {}  # what choosing the holder put in the form
        self._replace: dict[str, Any] | None = None  # the ledger record this offer replaces
        self._sign_in: dict[str, Any] | None = None  # a waiting wallet's request this form completes
        self._current: CreatedOffer | None = None  # the offer on the panel
        self._status: dict[str, Any] | None = None
        self._outcome: Outcome | None = None
        self._error_field: str | None = None
        self._choices = (True, False)  # transaction code and approval, kept while a sign-in hides them

        self.new_customer_button = QPushButton("New customer")
        self.new_customer_button.setToolTip("Clear everything for the next person (Ctrl+N)")
        self.new_customer_button.clicked.connect(self.new_customer)
        self.another_button = QPushButton("Another credential for this person")
        self.another_button.clicked.connect(self.another_for_this_person)
        self.holder_label = QLabel()
        self.unlink_button = QToolButton()
        self.unlink_button.setText("×")
        self.unlink_button.setAccessibleName("Remove the holder link")
        self.unlink_button.clicked.connect(self.remove_holder)
        self.holder_chip = QWidget()
        self.holder_chip.setObjectName("holderChip")
        self.holder_chip.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        chip = QHBoxLayout(self.holder_chip)
        chip.setContentsMargins(0, 0, 0, 0)
        chip.addWidget(self.holder_label)
        chip.addWidget(self.unlink_button)
        self.replaces_label = QLabel()
        self.replaces_label.setWordWrap(True)
        self.replaces_label.setObjectName("replacesBanner")
        self.sign_in_label = QLabel()
        self.sign_in_label.setWordWrap(True)

        self.type_picker = QComboBox()
        self._fill_type_picker()
        self.type_picker.currentIndexChanged.connect(self._type_changed)
        self.form = QFormLayout()
        self.tx_code = QCheckBox("Transaction code (read it to the holder)")
        self.deferred = QCheckBox("Needs approval before issuing")
        self.by_reference = QCheckBox("Offer by reference (smaller QR code)")
        self.sign_in_grant = QCheckBox("Wallet signs in and shows a code at the desk")
        self.sign_in_grant.toggled.connect(self._grant_changed)
        self.expiry = QSpinBox()
        self.expiry.setRange(1, 7 * 24 * 60)
        self.expiry.setSuffix(" min")
        for option in (self.tx_code, self.deferred, self.by_reference, self.sign_in_grant):
            option.toggled.connect(lambda _checked: self._form_changed(None))
        self.create_button = QPushButton("Create offer")
        self.create_button.clicked.connect(self.create_offer)
        self.error = QLabel()
        self.error.setAccessibleName("Offer form problems")
        set_tone(self.error, ERROR_TONE)
        self.error.setWordWrap(True)

        self.panel = OfferPanel()
        self.qr, self.link, self.tx_code_label = self.panel.qr, self.panel.link, self.panel.tx_code_label
        self.panel.cancel_requested.connect(self.cancel_offer)
        self.panel.print_requested.connect(self.print_sheet)
        self._ticker = QTimer(self)
        self._ticker.timeout.connect(self._show_outcome)

        left = QVBoxLayout()
        session = QHBoxLayout()
        session.addWidget(self.new_customer_button)
        session.addWidget(self.another_button)
        session.addStretch(1)
        left.addLayout(session)
        picker = QFormLayout()
        picker.addRow("Credential", self.type_picker)
        left.addLayout(picker)
        holder_row = QHBoxLayout()
        holder_row.addWidget(self.holder_chip)
        holder_row.addStretch(1)
        left.addLayout(holder_row)
        left.addWidget(self.replaces_label)
        left.addWidget(self.sign_in_label)
        left.addLayout(self.form)
        options = QFormLayout()
        for option in (self.tx_code, self.deferred, self.by_reference, self.sign_in_grant):
            options.addRow(option)
        options.addRow("Expires after", self.expiry)
        left.addLayout(options)
        left.addWidget(self.create_button)
        left.addWidget(self.error)
        left.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(self.panel, 1)
        self._build_form()
        self._reset_options()
        self._show_session()

    def field(self, claim: str) -> QLineEdit | BinaryClaimField:
        return self._fields[claim]

    @property
    def current(self) -> CreatedOffer | None:
        """The offer on the panel, if any."""
        return self._current

    @property
    def locked(self) -> bool:
        """An offer was made from the form: it is read-only until the next customer."""
        return self._current is not None

    # ----- the customer session -----

    def new_customer(self) -> None:
        """Clear everything of the person before: claims, holder link, replace target, options, the QR."""
        self._forget_offer()
        self._holder, self._prefilled, self._replace = None, {}, None
        if self._sign_in is not None:
            self._end_sign_in()
        for edit in self._fields.values():
            edit.clear()
        self._reset_options()
        self._clear_error()
        self._show_session()

    def another_for_this_person(self) -> None:
        """A second offer for the same person: the holder link and their name stay, the rest is new."""
        kept = {name: self._fields[name].text() for name in PERSON_FIELDS if name in self._fields}
        holder, prefilled = self._holder, self._prefilled
        self.new_customer()
        self._holder, self._prefilled = holder, prefilled
        for name, value in kept.items():
            self._fields[name].setText(value)
        self._show_session()

    def use_holder(self, holder: dict[str, Any]) -> None:
        """Bind the offer to a registered holder and fill the form from their record, after asking
        when that replaces what the operator typed (or a credential being replaced for someone else)."""
        if self.locked:
            self.new_customer()
        name = _name(holder)
        other_person = self._replace is not None and self._replace.get("holder_id") != holder["holder_id"]
        if self._typed() or other_person:
            question = f"Fill the form with {name}'s details? What is in it now is replaced."
            if other_person and self._replace is not None:
                question += f" {_replaced(self._replace)} is then not replaced."
            if not confirm.ask(self, "Choose a holder", question, yes=f"Use {name}"):
                return
            if other_person:
                self._drop_replace()
        self._holder = holder
        self._prefilled = {name: str(holder.get(name, "")) for name in self._fields if name in PERSON_FIELDS}
        for field_name, edit in self._fields.items():
            edit.setText(self._prefilled.get(field_name, ""))
        self._show_session()

    def remove_holder(self) -> None:
        """Unlink the holder (the chip's ×); what is in the form stays."""
        self._holder, self._prefilled = None, {}
        self._show_session()

    def replace_credential(self, record: dict[str, Any], holder: dict[str, Any] | None) -> None:
        """Start a re-issue from the ledger: same type (fixed) and holder; `Create` asks before it
        revokes the old credential."""
        if self._typed() and not self.locked:
            question = f"Start replacing {_replaced(record)}? What is in the form now is cleared."
            if not confirm.ask(self, "Replace a credential", question, yes="Start the replacement"):
                return
        self.new_customer()
        index = self.type_picker.findData(record["config_id"])
        if index >= 0:
            self.type_picker.setCurrentIndex(index)
        credential_type = self._service.credential_types.get(record["config_id"])
        self._replace = {
            **record,
            "holder_name": record.get("holder_name") or (_name(holder) if holder else None),
            "credential_name": credential_type.display_name if credential_type else record["config_id"],
        }
        if holder is not None:
            self.use_holder(holder)
        self._show_session()

    def complete_sign_in(self, request: dict[str, Any]) -> None:
        """Fill in the claims for a wallet that signed in without an offer; the button confirms it."""
        self.new_customer()
        self._sign_in = request
        index = self.type_picker.findData(request["credential_configuration_ids"][0])
        self.type_picker.blockSignals(True)
        self.type_picker.setCurrentIndex(index)
        self.type_picker.blockSignals(False)
        self._build_form()
        self.create_button.setText(f"Confirm sign-in {request['confirmation']}")
        self.sign_in_label.setText(
            f"Completing the sign-in with code {request['confirmation']}: check the person, fill in "
            "the form, then confirm. The credential goes straight to their wallet."
        )
        self._show_session()

    # ----- the offer -----

    def create_offer(self) -> None:
        """Create the offer on the task thread (`offer_created` follows); a refusal is shown next to
        the button, and nothing is lost from the form. A replacement asks first, naming what it revokes."""
        if self.locked:
            return
        claims = {name: edit.text() for name, edit in self._fields.items() if edit.text().strip()}
        if self._sign_in is not None:
            self._confirm_sign_in(claims)
            return
        if self._replace is not None:
            question = (
                f"Creating this offer revokes {_replaced(self._replace)} at once; it cannot be undone. "
                "Create the offer and revoke the old credential?"
            )
            if not confirm.ask(self, "Replace a credential", question, yes="Create and revoke"):
                return
        sign_in = self.sign_in_grant.isChecked()
        request = OfferRequest(
            credential_configuration_ids=[self.type_picker.currentData()],
            claims=claims,
            tx_code=self.tx_code.isChecked() and not sign_in,
            deferred=self.deferred.isChecked() and not sign_in,
            by_reference=self.by_reference.isChecked(),
            expires_in=self.expiry.value() * 60,
            operator=self._operator,
            holder_id=self._holder["holder_id"] if self._holder else None,
            replaces=(self._replace["id"],) if self._replace else (),
            grant="authorization_code" if sign_in else "pre-authorized_code",
        )
        self._tasks.run(
            partial(self._service.offers.create, request), self._offer_made, self._refused, busy=self.create_button
        )

    def on_offer_event(self, _kind: str, offer_id: str) -> None:
        """The issuer moved an offer on: read the one on the panel again (task thread)."""
        if self._current is not None and offer_id == self._current.offer_id:
            self._tasks.run(partial(self._service.offers.status, offer_id), self._status_read, self._status_unread)

    def cancel_offer(self) -> None:
        """Cancel the offer on the panel, after asking: its codes and tokens stop working at once."""
        offer = self._current
        if offer is None:
            return
        who = f" for {self._sheet_holder()}" if self._sheet_holder() else ""
        question = f"Cancel the offer{who} ({self.type_picker.currentText()})? Its QR code stops working at once."
        if not confirm.ask(self, "Cancel the offer", question, yes="Cancel offer"):
            return
        self._tasks.run(
            partial(self._service.offers.cancel, offer.offer_id, self._operator),
            self._status_read,
            partial(self.panel.say, tone=ERROR_TONE),
            busy=self.panel.cancel_button,
        )

    def sheet(self) -> takeaway.Sheet | None:
        """The take-away sheet of the offer on the panel."""
        offer = self._current
        if offer is None:
            return None
        credential_type = self._service.credential_types.get(self.type_picker.currentData())
        return takeaway.Sheet(
            issuer_name=self._service.settings.issuer_name,
            credential_name=self.type_picker.currentText(),
            holder_name=self._sheet_holder(),
            offer_uri=offer.offer_uri,
            expires_at=offer.expires_at,
            credential_logo=_logo(credential_type.configuration if credential_type else {}),
        )

    def print_sheet(self) -> None:
        sheet = self.sheet()
        if sheet is not None:
            takeaway.preview_and_print(self, sheet)

    def reload_types(self) -> None:
        """After the definitions were reloaded: the picker and the form follow them."""
        self.type_picker.blockSignals(True)
        self.type_picker.clear()
        self._fill_type_picker()
        self.type_picker.blockSignals(False)
        self._build_form()
        self._show_session()

    # ----- internals -----

    def _offer_made(self, created: CreatedOffer) -> None:
        self._clear_error()
        replaced, self._replace = self._replace, None
        self._current = created
        self._status = {"state": "created", "timeline": [], "expires_at": created.expires_at, "issued": []}
        self.panel.show_offer(created)
        if replaced is not None:
            self.panel.say(f"{_replaced(replaced)} is now revoked.")
        self._show_session()
        self.offer_created.emit(created)
        self._show_outcome()
        self._ticker.start(TICK_MS)

    def _status_read(self, status: dict[str, Any]) -> None:
        if self._current is not None and status["offer_id"] == self._current.offer_id:
            self._status = status
            self._show_outcome()

    def _status_unread(self, reason: str) -> None:
        self.panel.say(f"The offer's state could not be read: {reason}", ERROR_TONE)

    def _show_outcome(self) -> None:
        """Both screens follow the offer; a change of outcome is shown once, expiry by the clock."""
        if self._status is None:
            return
        outcome = outcome_of(self._status, time.time())
        if outcome == self._outcome:
            return
        self._outcome = outcome
        self.panel.show_outcome(outcome)
        self.outcome_changed.emit(outcome)
        if outcome.final:
            self._ticker.stop()

    def _forget_offer(self) -> None:
        self._ticker.stop()
        self._current, self._status, self._outcome = None, None, None
        self.panel.clear()
        self.session_cleared.emit()

    def _refused(self, reason: str) -> None:
        self.error.setText(reason)
        self._error_field = next((n for n, label in self._labels.items() if reason.startswith(f"{label} ")), None)

    def _form_changed(self, field_name: str | None) -> None:
        """A message clears when its cause is fixed: its field filled in, or for a general one, any change."""
        if not self.error.text():
            return
        if self._error_field is None or (field_name == self._error_field and self._fields[field_name].text().strip()):
            self._clear_error()

    def _clear_error(self) -> None:
        self.error.clear()
        self._error_field = None

    def _typed(self) -> bool:
        return any(edit.text().strip() and edit.text() != self._prefilled.get(n) for n, edit in self._fields.items())

    def _drop_replace(self) -> None:
        self._replace = None
        self._show_session()

    def _reset_options(self) -> None:
        self.sign_in_grant.setChecked(False)
        self.tx_code.setChecked(True)
        self.deferred.setChecked(False)
        self.by_reference.setChecked(True)
        self.expiry.setValue(self._service.settings.offer_ttl // 60)

    def _grant_changed(self, sign_in: bool) -> None:
        """A wallet that signs in is confirmed at the desk: the transaction code and approval do not
        apply, and come back as they were when it is unticked."""
        if sign_in:
            self._choices = (self.tx_code.isChecked(), self.deferred.isChecked())
            self.tx_code.setChecked(False)
            self.deferred.setChecked(False)
        else:
            self.tx_code.setChecked(self._choices[0])
            self.deferred.setChecked(self._choices[1])
        self._show_session()

    def _type_changed(self) -> None:
        """A replacement keeps the type of the credential it replaces; otherwise the form follows the type."""
        replace = self._replace
        if replace is not None and self.type_picker.currentData() != replace["config_id"]:
            self.type_picker.blockSignals(True)
            self.type_picker.setCurrentIndex(self.type_picker.findData(replace["config_id"]))
            self.type_picker.blockSignals(False)
            self._refused("A replacement keeps the type of the credential it replaces: use New customer for another")
            return
        self._build_form()
        self._show_session()

    def _show_session(self) -> None:
        """Every control as the session allows: read-only after Create, the type fixed while replacing."""
        locked, sign_in = self.locked, self.sign_in_grant.isChecked()
        self.holder_chip.setVisible(self._holder is not None)
        self.holder_label.setText(f"For: {_name(self._holder)}" if self._holder else "")
        self.unlink_button.setVisible(not locked)
        self.replaces_label.setVisible(self._replace is not None)
        self.replaces_label.setText(
            f"Replaces {_replaced(self._replace)}: it is revoked when you create this offer."
            if self._replace is not None
            else ""
        )
        for edit in self._fields.values():
            edit.setReadOnly(locked)
        self.type_picker.setEnabled(not locked and self._replace is None and self._sign_in is None)
        for option in (self.by_reference, self.sign_in_grant, self.expiry):
            option.setEnabled(not locked and self._sign_in is None)
        for option in (self.tx_code, self.deferred):
            option.setEnabled(not locked and not sign_in and self._sign_in is None)
        self.create_button.setEnabled(not locked)
        self.new_customer_button.setText("Next customer" if locked else "New customer")
        self.another_button.setVisible(locked)

    def _sheet_holder(self) -> str | None:
        if self._holder is not None:
            return _name(self._holder)
        name = " ".join(self._fields[n].text().strip() for n in ("given_name", "family_name") if n in self._fields)
        return name.strip() or None

    def _fill_type_picker(self) -> None:
        for type_id, credential_type in self._service.credential_types.items():
            self.type_picker.addItem(credential_type.display_name, type_id)

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
        self.new_customer()
        self.sign_in_confirmed.emit(request["confirmation"])

    def _end_sign_in(self) -> None:
        self._sign_in = None
        self.create_button.setText("Create offer")
        self.sign_in_label.clear()
        self._build_form()

    def _build_form(self) -> None:
        """The fields of the chosen type; a value typed for a field of the same name stays (same person)."""
        kept = {name: edit.text() for name, edit in self._fields.items()}
        while self.form.rowCount():
            self.form.removeRow(0)
        self._fields.clear()
        self._labels.clear()
        type_ids = self._sign_in["credential_configuration_ids"] if self._sign_in else [self.type_picker.currentData()]
        specs = {spec.name: spec for t in type_ids for spec in self._service.credential_types[t].claims}
        for spec in specs.values():
            edit: QLineEdit | BinaryClaimField
            if spec.value_type == BSTR:
                edit = BinaryClaimField()
                edit.setText(kept.get(spec.name, ""))
            else:
                edit = QLineEdit(kept.get(spec.name, ""))
                edit.setPlaceholderText(HINTS.get(spec.value_type or "", ""))
                edit.setMaxLength(CLAIM_VALUE_MAX_LENGTH)
            edit.setObjectName(f"claim_{spec.name}")
            edit.setAccessibleName(spec.label)
            edit.textChanged.connect(partial(self._field_edited, spec.name))
            if isinstance(edit, QLineEdit):
                submit_on_enter([edit], self.create_button)
            self._fields[spec.name] = edit
            self._labels[spec.name] = spec.label
            self.form.addRow(f"{spec.label}{' *' if spec.mandatory else ''}", edit)

    def _field_edited(self, name: str, _text: str) -> None:
        self._form_changed(name)


def _name(holder: dict[str, Any] | None) -> str:
    return f"{holder['given_name']} {holder['family_name']}" if holder else ""


def _replaced(record: dict[str, Any]) -> str:
    """The credential a replacement revokes, as the operator knows it: whose, which, its ledger id."""
    whose = f"{record['holder_name']}'s " if record.get("holder_name") else "the "
    return f"{whose}{record.get('credential_name') or record['config_id']} (ledger id {record['id']})"


def _logo(configuration: Mapping[str, Any]) -> Path | None:
    """The credential type's logo shipped with the app, if it names one."""
    displays = configuration.get("credential_metadata", {}).get("display", [])
    uri = displays[0].get("logo", {}).get("uri", "") if displays else ""
    if not uri.startswith("logos/"):
        return None
    path = resource_path(*uri.split("/"))
    return path if path.is_file() else None
