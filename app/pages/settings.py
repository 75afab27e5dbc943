"""Settings: the public URL (with a check from outside), ports, retention, the signing key,
the credential type definitions, high assurance (the HAIP 1.0 profile and the issuer's certificates),
and backups. Every action runs on the task thread.

A restore cannot swap the data folder under the running issuer: the page stages it through
the service, and it is applied when the app next starts (the current data is kept aside)."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.pages.connect import ConnectBox, connected_to, explain_remote_limits
from app.style import ERROR_TONE, OK_TONE, PLAIN_TONE, set_tone
from app.tasks import Tasks
from issuer.config import Settings
from issuer.desk_api import DeskService
from issuer.reachability import Reachability

BACKUP_FILTER = "Backups (*.tar.gz)"
CERTIFICATE_FILTER = "Certificates (*.pem)"
HAIP = "haip"
NO_ANCHOR = (
    "No certificate yet: make the issuer's own CA below, or import your organisation's chain with "
    "'frontdesk-issuer certificates import'."
)


class SettingsPage(QWidget):
    credential_types_reloaded = Signal()
    certificates_changed = Signal()
    lock_after_changed = Signal(int)  # minutes without input before the window locks itself; 0 never

    def __init__(self, service: DeskService, tasks: Tasks, operator: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._tasks = tasks
        self._operator = operator
        settings = service.settings  # in memory, as are the keys and the credential types shown below

        self.public_url = QLineEdit(settings.public_url or service.issuer_url)
        self.test_button = QPushButton("Test from outside")
        self.test_button.clicked.connect(self.test_public_url)
        self.test_result = QLabel()
        self.test_result.setAccessibleName("Public URL check result")
        self.test_result.setWordWrap(True)
        self.port = _port_box(settings.port)
        self.admin_port = _port_box(settings.admin_port)
        self.retention = QSpinBox()
        self.retention.setRange(1, 36500)
        self.retention.setValue(settings.holder_retention_days)
        self.retention.setSuffix(" days")
        self.lock_after = QSpinBox()
        self.lock_after.setRange(0, 1440)
        self.lock_after.setValue(settings.lock_after_minutes)
        self.lock_after.setSuffix(self.tr(" min without input"))
        self.lock_after.setSpecialValueText(self.tr("never"))
        self.lock_after.setAccessibleName(self.tr("Lock the window after this many minutes without input"))
        self.require_par = QCheckBox("Wallets must push sign-in requests first (PAR)")
        self.require_par.setChecked(settings.require_par)
        self.require_dpop = QCheckBox("Bind every access token to the wallet's key (DPoP required)")
        self.require_dpop.setChecked(settings.require_dpop)
        self.save_button = QPushButton("Save (applies at the next start)")
        self.save_button.clicked.connect(self.save)
        self.save_result = QLabel()
        self.save_result.setAccessibleName("Settings save result")
        self.save_result.setWordWrap(True)
        url_row = QHBoxLayout()
        url_row.addWidget(self.public_url, 1)
        url_row.addWidget(self.test_button)
        server = QFormLayout()
        server.addRow("Public issuer URL", url_row)
        server.addRow("", self.test_result)
        server.addRow("Issuer port", self.port)
        server.addRow("Admin port", self.admin_port)
        server.addRow("Keep holders for", self.retention)
        server.addRow(self.tr("Lock the window after"), self.lock_after)
        server.addRow("Wallet sign-in", self.require_par)
        server.addRow("", self.require_dpop)
        self.data_folder = QLabel(str(settings.data_dir))
        server.addRow("Data folder", self.data_folder)
        server.addRow(self.save_button, self.save_result)
        server_box = QGroupBox("Server")
        server_box.setLayout(server)

        self.keys = QListWidget()
        self.rotate_button = QPushButton("Rotate key")
        self.rotate_button.clicked.connect(self.rotate_key)
        self.key_result = QLabel()
        self.key_result.setAccessibleName("Signing key result")
        key_layout = QVBoxLayout()
        key_layout.addWidget(self.keys)
        key_layout.addWidget(self.rotate_button)
        key_layout.addWidget(self.key_result)
        key_box = QGroupBox("Issuer signing key")
        key_box.setLayout(key_layout)

        self.types = QListWidget()
        self.reload_button = QPushButton("Reload")
        self.reload_button.clicked.connect(self.reload_types)
        self.open_types_button = open_button = QPushButton("Open the definitions folder")
        open_button.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(service.admin.credential_types_folder)))
        )
        self.types_result = QLabel()
        self.types_result.setAccessibleName("Credential types result")
        self.types_result.setWordWrap(True)
        types_layout = QVBoxLayout()
        types_layout.addWidget(self.types)
        buttons = QHBoxLayout()
        buttons.addWidget(self.reload_button)
        buttons.addWidget(open_button)
        types_layout.addLayout(buttons)
        types_layout.addWidget(self.types_result)
        types_box = QGroupBox("Credential types")
        types_box.setLayout(types_layout)

        self.high_assurance = HighAssuranceBox(service, tasks, operator)
        self.high_assurance.certificates_changed.connect(self.certificates_changed)

        layout = QVBoxLayout(self)
        layout.addWidget(server_box)
        columns = QHBoxLayout()
        columns.addWidget(key_box, 1)
        columns.addWidget(types_box, 1)
        layout.addLayout(columns, 1)
        layout.addWidget(self.high_assurance)

        self.backup_button = QPushButton("Back up…")
        self.backup_button.clicked.connect(self.back_up)
        self.restore_button = QPushButton("Restore…")
        self.restore_button.clicked.connect(self.restore)
        self.backup_result = QLabel("A backup holds the signing keys: keep it as safe as this computer.")
        self.backup_result.setAccessibleName("Backup result")
        self.backup_result.setWordWrap(True)
        backup_row = QHBoxLayout()
        backup_row.addWidget(self.backup_button)
        backup_row.addWidget(self.restore_button)
        backup_row.addWidget(self.backup_result, 1)
        backup_box = QGroupBox("Backup")
        backup_box.setLayout(backup_row)
        layout.addWidget(backup_box)
        self.connect_box = ConnectBox(tasks, connected_to(service))
        layout.addWidget(self.connect_box)
        explain_remote_limits(self, service)
        self._show_keys(service.admin.key_info())
        self._show_types()

    def test_public_url(self) -> None:
        url = self.public_url.text().strip()
        _say(self.test_result, f"Fetching the metadata through {url} …")
        self._tasks.run(
            partial(self._service.admin.check_public_url, url), self._tested, self._test_failed, busy=self.test_button
        )

    def save(self) -> None:
        changes = {
            "public_url": self.public_url.text().strip() or None,
            "port": self.port.value(),
            "admin_port": self.admin_port.value(),
            "holder_retention_days": self.retention.value(),
            "lock_after_minutes": self.lock_after.value(),
            "require_par": self.require_par.isChecked(),
            "require_dpop": self.require_dpop.isChecked(),
            "profile": HAIP if self.high_assurance.profile.isChecked() else None,  # None: no profile
        }
        _say(self.save_result, "Saving …")
        self._tasks.run(
            partial(self._service.admin.save_settings, changes, self._operator),
            self._saved,
            self._save_failed,
            busy=self.save_button,
        )

    def rotate_key(self) -> None:
        _say(self.key_result, "Generating a new key …")
        self._tasks.run(self._rotate, self._rotated, self._rotate_failed, busy=self.rotate_button)

    def reload_types(self) -> None:
        _say(self.types_result, "Reading the definitions …")
        self._tasks.run(
            partial(self._service.admin.reload_credential_types, self._operator),
            self._reloaded,
            self._reload_failed,
            busy=self.reload_button,
        )

    def back_up(self) -> None:
        """Ask where, then write the archive off the GUI thread while wallets are still served."""
        suggested = f"frontdesk-backup-{datetime.now():%Y%m%d-%H%M}.tar.gz"
        chosen, _ = QFileDialog.getSaveFileName(self, "Back up the issuer's data", suggested, BACKUP_FILTER)
        if not chosen:
            return
        path = Path(chosen if chosen.endswith(".tar.gz") else chosen + ".tar.gz")
        _say(self.backup_result, "Backing up …")
        self._tasks.run(
            partial(self._service.admin.backup, path, self._operator),
            partial(self._backed_up, path),
            self._failed,
            busy=(self.backup_button, self.restore_button),
        )

    def restore(self) -> None:
        """Check a backup and stage it for the next start, after the operator confirms."""
        chosen, _ = QFileDialog.getOpenFileName(self, "Restore a backup", "", BACKUP_FILTER)
        if not chosen:
            return
        answer = QMessageBox.question(
            self,
            "Restore a backup",
            "When the app next starts, the data in this backup replaces the current data "
            "(which is kept in a folder next to it). Continue?",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        _say(self.backup_result, "Checking the backup …")
        self._tasks.run(
            partial(self._service.admin.restore_at_next_start, Path(chosen), self._operator),
            self._staged,
            self._failed,
            busy=(self.backup_button, self.restore_button),
        )

    def _saved(self, settings: Settings) -> None:
        _say(self.save_result, "Saved. Restart the app to use the new settings.", OK_TONE)
        self.lock_after_changed.emit(settings.lock_after_minutes)  # the lock applies at once

    def _save_failed(self, reason: str) -> None:
        _say(self.save_result, reason, ERROR_TONE)

    def _rotate(self) -> list[dict[str, Any]]:
        """Task thread: a new key, then the key list as it is after the rotation."""
        self._service.admin.rotate_key(self._operator)
        return self._service.admin.key_info()

    def _reloaded(self, _nothing: None) -> None:
        _say(self.types_result, f"{len(self._service.credential_types)} credential types loaded.", OK_TONE)
        self._show_types()
        self.credential_types_reloaded.emit()

    def _reload_failed(self, reason: str) -> None:
        _say(self.types_result, f"Not reloaded: {reason}", ERROR_TONE)

    def _backed_up(self, path: Path, info: dict[str, Any]) -> None:
        _say(self.backup_result, f"Backed up {info['files']} files to {path}.", OK_TONE)

    def _staged(self, checked: dict[str, Any]) -> None:
        taken = datetime.fromtimestamp(int(checked["created_at"])).strftime("%Y-%m-%d %H:%M")
        text = f"The backup of {taken} ({checked['files']} files) is restored when the app next starts."
        _say(self.backup_result, text, OK_TONE)

    def _failed(self, reason: str) -> None:
        _say(self.backup_result, f"Not done: {reason}", ERROR_TONE)

    def _tested(self, result: Reachability) -> None:
        _say(self.test_result, result.summary, OK_TONE if result.reachable and not result.problems else ERROR_TONE)

    def _test_failed(self, reason: str) -> None:
        _say(self.test_result, f"The check failed: {reason}", ERROR_TONE)

    def _rotated(self, keys: list[dict[str, Any]]) -> None:
        _say(self.key_result, "New key active; the old one stays published for its credentials.")
        self._show_keys(keys)
        self.high_assurance.refresh()

    def _rotate_failed(self, reason: str) -> None:
        _say(self.key_result, f"The key was not rotated: {reason}", ERROR_TONE)

    def _show_keys(self, keys: list[dict[str, Any]]) -> None:
        self.keys.clear()
        for key in reversed(keys):
            created = datetime.fromtimestamp(int(key["created_at"])).strftime("%Y-%m-%d %H:%M")
            state = "active" if key["active"] else "retired, still published"
            self.keys.addItem(f"{key['fingerprint'][:16]}…  created {created}  ({state})")

    def _show_types(self) -> None:
        self.types.clear()
        for type_id, credential_type in self._service.credential_types.items():
            self.types.addItem(f"{credential_type.display_name}  ({type_id}, {credential_type.format})")


class HighAssuranceBox(QGroupBox):
    """The HAIP 1.0 profile (applied at the next start, with the page's Save), the trust anchor verifiers
    import (Copy, Save), and the issuer's own CA, made here for its signing keys (docs/haip.md)."""

    certificates_changed = Signal()

    def __init__(self, service: DeskService, tasks: Tasks, operator: str | None) -> None:
        super().__init__("High assurance (HAIP 1.0)")
        self._service = service
        self._tasks = tasks
        self._operator = operator
        self._anchor: str | None = None
        self.profile = QCheckBox("Keep to the HAIP 1.0 profile (applies at the next start, with Save above)")
        self.profile.setChecked(service.settings.profile == HAIP)
        self.certificates = QLabel("Reading the certificates …")
        self.certificates.setWordWrap(True)
        self.trust_anchor = QPlainTextEdit()
        self.trust_anchor.setReadOnly(True)
        self.trust_anchor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.trust_anchor.setMaximumHeight(90)
        self.copy_button = QPushButton("Copy")
        self.copy_button.clicked.connect(self.copy_trust_anchor)
        self.save_button = QPushButton("Save…")
        self.save_button.clicked.connect(self.save_trust_anchor)
        self.country = QLineEdit()
        self.country.setMaxLength(2)
        self.country.setPlaceholderText("DE")
        self.country.setMaximumWidth(50)
        self.create_button = QPushButton("Make the issuer's own CA")
        self.create_button.clicked.connect(self.create_ca)
        self.result = QLabel()
        self.result.setAccessibleName("Certificate authority result")
        self.result.setWordWrap(True)
        anchor_buttons = QVBoxLayout()
        anchor_buttons.addWidget(self.copy_button)
        anchor_buttons.addWidget(self.save_button)
        anchor_row = QHBoxLayout()
        anchor_row.addWidget(self.trust_anchor, 1)
        anchor_row.addLayout(anchor_buttons)
        ca_row = QHBoxLayout()
        ca_row.addWidget(QLabel("Country (ISO 3166)"))
        ca_row.addWidget(self.country)
        ca_row.addWidget(self.create_button)
        ca_row.addStretch(1)
        form = QFormLayout(self)
        form.addRow("Profile", self.profile)
        form.addRow("Certificates", self.certificates)
        form.addRow("Trust anchor", anchor_row)
        form.addRow("Own CA", ca_row)
        form.addRow("", self.result)
        self.refresh()

    def refresh(self) -> None:
        self._tasks.run(self._service.admin.certificate_status, self._show, self._failed)

    def create_ca(self) -> None:
        country = self.country.text().strip().upper()
        replace = self._anchor is not None
        if (
            replace
            and QMessageBox.question(
                self,
                "Make a new CA",
                "The issuer already has a trust anchor. A new CA replaces it: verifiers must import the new one. "
                "Continue?",
            )
            != QMessageBox.StandardButton.Yes
        ):
            return
        _say(self.result, "Making the CA and a certificate for the signing key …")
        self._tasks.run(
            partial(self._service.admin.create_issuing_ca, country, self._operator, replace=replace),
            self._created,
            self._failed,
            busy=self.create_button,
        )

    def copy_trust_anchor(self) -> None:
        if self._anchor:
            QGuiApplication.clipboard().setText(self._anchor)
            _say(self.result, "The trust anchor is on the clipboard.", OK_TONE)

    def save_trust_anchor(self) -> None:
        if not self._anchor:
            return
        chosen, _ = QFileDialog.getSaveFileName(self, "Save the trust anchor", "trust-anchor.pem", CERTIFICATE_FILTER)
        if not chosen:
            return
        path, pem = Path(chosen), self._anchor
        self._tasks.run(partial(path.write_text, pem, encoding="ascii"), lambda _: self._saved(path), self._failed)

    def _created(self, status: dict[str, Any]) -> None:
        _say(self.result, "The CA is made and the signing key certified: credentials now carry the chain.", OK_TONE)
        self._show(status)
        self.certificates_changed.emit()

    def _saved(self, path: Path) -> None:
        _say(self.result, f"Saved the trust anchor to {path}.", OK_TONE)

    def _failed(self, reason: str) -> None:
        _say(self.result, f"Not done: {reason}", ERROR_TONE)

    def _show(self, status: dict[str, Any]) -> None:
        self._anchor = status["trust_anchor"]
        self.trust_anchor.setPlainText(self._anchor or NO_ANCHOR)
        self.copy_button.setEnabled(bool(self._anchor))
        self.save_button.setEnabled(bool(self._anchor))
        lines = [
            f"{c['role'].capitalize()}: {c['subject']}, valid until "
            f"{datetime.fromtimestamp(int(c['not_after'])).strftime('%Y-%m-%d')}"
            for c in status["certificates"]
        ]
        self.certificates.setText("\n".join([*lines, *status["warnings"]]) or "None.")
        set_tone(self.certificates, ERROR_TONE if status["warnings"] else PLAIN_TONE)


def _say(label: QLabel, text: str, tone: str = PLAIN_TONE) -> None:
    set_tone(label, tone)
    label.setText(text)


def _port_box(value: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(0, 65535)
    box.setValue(value)
    return box
