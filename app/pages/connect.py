"""Settings -> Connect to an issuer: make this desk a desk of a running issuer, or go back to the
embedded one. The address is checked (reachable, and a Frontdesk admin API) before it is saved in
the desk's own settings (app.desk_choice); the app uses it from its next start.

What a remote desk cannot do from here (backups, restores, the credential type files) is said on
the Settings page itself, by `explain_remote_limits`.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Protocol

from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.desk_choice import DeskChoice
from app.style import ERROR_TONE, OK_TONE, PLAIN_TONE, set_tone
from app.tasks import Tasks
from issuer.desk_api import DeskService, is_remote
from issuer.remote.probe import probe_issuer

ON_THE_ISSUER = (
    "Backups and restores are made on the issuer's machine (frontdesk-issuer backup and restore there): "
    "the archive holds the issuer's signing keys, which stay on that machine."
)
TYPES_ON_THE_ISSUER = (
    "The credential type definitions are files in the issuer's data folder: edit them on the issuer's "
    "machine, then press Reload here."
)


class FolderActions(Protocol):
    """The Settings page's widgets for what needs the issuer's own folder."""

    backup_button: QPushButton
    restore_button: QPushButton
    open_types_button: QPushButton
    save_button: QPushButton
    backup_result: QLabel
    types_result: QLabel
    data_folder: QLabel


def connected_to(service: DeskService) -> str | None:
    """The admin URL of the issuer this run is a desk of; None when the issuer is the embedded one."""
    if not is_remote(service):
        return None
    connection = getattr(service, "connection", None)
    return str(getattr(connection, "base_url", "")) or None


class ConnectBox(QGroupBox):
    def __init__(self, tasks: Tasks, current: str | None, parent: QWidget | None = None) -> None:
        """`current`: the issuer this run is a desk of (None: the embedded issuer)."""
        super().__init__("Connect to an issuer", parent)
        self._tasks = tasks
        saved = DeskChoice.load()
        now = f"the issuer at {current}" if current else "the issuer embedded in this app"
        self.current = QLabel(f"This desk now uses {now}.")
        self.current.setWordWrap(True)
        self.url = QLineEdit(saved.connect or "")
        self.url.setPlaceholderText("https://issuer.example.org:8441 (the issuer's admin API)")
        self.url.setAccessibleName("The issuer's admin URL")
        self.connect_button = QPushButton("Check and connect")
        self.connect_button.clicked.connect(self.connect_to)
        self.embedded_button = QPushButton("Use the embedded issuer")
        self.embedded_button.clicked.connect(self.use_embedded)
        self.embedded_button.setEnabled(bool(saved.connect or current))
        self.result = QLabel()
        self.result.setWordWrap(True)
        self._say(_plan(saved.connect) if saved.connect != current else "")
        top = QHBoxLayout()
        top.addWidget(self.current, 1)
        top.addWidget(self.embedded_button)
        row = QHBoxLayout()
        row.addWidget(QLabel("Admin URL"))
        row.addWidget(self.url, 1)
        row.addWidget(self.connect_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(row)
        layout.addWidget(self.result)

    def connect_to(self) -> None:
        url = self.url.text().strip()
        if not url:
            self._say("Enter the issuer's admin URL first (https://…; http only on this computer).", ERROR_TONE)
            return
        self._say(f"Checking {url} …")
        self._tasks.run(partial(_check_and_save, url), self._connected, self._refused, busy=self._buttons())

    def use_embedded(self) -> None:
        self._say("Saving …")
        self._tasks.run(partial(_save_choice, None), self._embedded, self._refused, busy=self._buttons())

    def _buttons(self) -> tuple[QWidget, ...]:
        return (self.connect_button, self.embedded_button)

    def _connected(self, url: str) -> None:
        self.url.setText(url)
        self.embedded_button.setEnabled(True)
        self._say(f"Saved. {_plan(url)}", OK_TONE)

    def _embedded(self, _path: object) -> None:
        self._say(f"Saved. {_plan(None)}", OK_TONE)

    def _refused(self, reason: str) -> None:
        self._say(f"Not saved: {reason}", ERROR_TONE)

    def _say(self, text: str, tone: str = PLAIN_TONE) -> None:
        set_tone(self.result, tone)
        self.result.setText(text)
        self.result.setVisible(bool(text))


def _check_and_save(url: str) -> str:
    """Task thread: the address as checked, saved only when it is a Frontdesk issuer's admin API."""
    checked = probe_issuer(url)
    _save_choice(checked)
    return checked


def _save_choice(url: str | None) -> Path:
    """The issuer this desk uses from its next start; the desk's other choices (its language) stay."""
    return replace(DeskChoice.load(), connect=url).save()


def _plan(url: str | None) -> str:
    if url:
        return (
            f"After a restart, the app starts as a desk of the issuer at {url}: you log in there with your "
            "operator name, and this computer's embedded issuer stays off."
        )
    return "After a restart, the app starts its embedded issuer (with the data folder on this computer)."


def explain_remote_limits(page: FolderActions, service: DeskService) -> None:
    """On a remote desk, say what is done on the issuer's machine instead of offering it here."""
    if not is_remote(service):
        return
    for button in (page.backup_button, page.restore_button, page.open_types_button):
        button.setEnabled(False)
        button.setToolTip("Done on the issuer's machine")
    page.backup_result.setText(ON_THE_ISSUER)
    page.types_result.setText(TYPES_ON_THE_ISSUER)
    page.data_folder.setText(f"{service.settings.data_dir} (on the issuer's machine)")
    page.save_button.setText("Save (applies at the issuer's next start)")
