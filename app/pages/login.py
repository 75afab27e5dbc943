"""Operator login; on the first start, the first operator account is created here."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from issuer.errors import ServiceError
from issuer.records.operators import MIN_PASSWORD_LENGTH
from issuer.service import IssuerService

ERROR_STYLE = "color: #b00020;"


class LoginDialog(QDialog):
    def __init__(self, service: IssuerService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self.first_start = not service.desk.has_operators()
        self.operator: str | None = None
        self.setWindowTitle(
            "Frontdesk Issuer: create the first operator" if self.first_start else "Frontdesk Issuer: log in"
        )
        self.name = QLineEdit()
        self.name.setAccessibleName("Operator name")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.repeat = QLineEdit()
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat.setAccessibleName("Repeat the password")
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Operator", self.name)
        form.addRow("Password", self.password)
        if self.first_start:
            form.addRow("Repeat password", self.repeat)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout = QVBoxLayout(self)
        if self.first_start:
            hint = QLabel(
                f"No operator exists yet. Choose a name and a password of at least {MIN_PASSWORD_LENGTH} characters."
            )
            hint.setWordWrap(True)
            layout.addWidget(hint)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def submit(self) -> None:
        """Create or check the account; a refusal is explained and the dialog stays open."""
        name, password = self.name.text(), self.password.text()
        try:
            if self.first_start:
                if password != self.repeat.text():
                    raise ServiceError("the two passwords differ")
                operator = self._service.desk.create_operator(name, password)
            else:
                operator = self._service.desk.login(name, password)
        except ServiceError as error:
            self.error.setText(error.message)
            self.password.clear()
            self.repeat.clear()
            return
        self.operator = operator.name
        self.accept()
