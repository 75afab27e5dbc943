"""The audit log: every operator action, newest first; read and exported as CSV off the GUI thread."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QTableView, QVBoxLayout, QWidget

from app.models.audit import AuditModel, AuditRead, read_audit
from app.style import ERROR_TONE, PLAIN_TONE, fit_columns, set_tone, tidy_table
from app.tasks import Tasks
from issuer.desk_api import DeskService

SHOWN_ENTRIES = 500


class AuditPage(QWidget):
    def __init__(self, service: DeskService, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._tasks = tasks
        self.model = AuditModel(self)
        self.table = QTableView()
        tidy_table(self.table)
        self.table.setModel(self.model)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self._choose_export_file)
        self.message = QLabel()
        self.message.setAccessibleName("Audit log message")
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.message, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        self._tasks.run(
            partial(read_audit, self._service, SHOWN_ENTRIES),
            self._show,
            self._failed,
            busy=self.refresh_button,
        )

    def export(self, path: Path) -> None:
        """Write the whole log to `path` in the background; the result shows in the message line."""
        self._say("Exporting…")
        self._tasks.run(
            partial(self._write_csv, path), partial(self._exported, path), self._export_failed, busy=self.export_button
        )

    def _write_csv(self, path: Path) -> int:
        """Task thread: the log as CSV in `path`; the number of entries written."""
        text = self._service.desk.audit_csv()
        path.write_text(text, encoding="utf-8")
        return text.count("\n") - 1

    def _choose_export_file(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export the audit log", "audit.csv", "CSV files (*.csv)")
        if name:
            self.export(Path(name))

    def _show(self, read: AuditRead) -> None:
        self.model.show(read)
        fit_columns(self.table)

    def _failed(self, reason: str) -> None:
        self._say(f"The log could not be read: {reason}", ERROR_TONE)

    def _exported(self, path: Path, rows: int) -> None:
        self._say(f"Exported {rows} entries to {path}")

    def _export_failed(self, reason: str) -> None:
        self._say(f"The export failed: {reason}", ERROR_TONE)

    def _say(self, text: str, tone: str = PLAIN_TONE) -> None:
        set_tone(self.message, tone)
        self.message.setText(text)
