"""The audit log: every operator action, newest first; exported as CSV off the GUI thread."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.worker import run_in_background
from issuer.service import IssuerService

COLUMNS = ("When", "Operator", "Action", "Subject")


class AuditPage(QWidget):
    def __init__(self, service: IssuerService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self._choose_export_file)
        self.message = QLabel()
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.message, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        entries = self._service.desk.audit_log(limit=500)
        self.table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            values = (
                datetime.fromtimestamp(entry["at"]).strftime("%Y-%m-%d %H:%M:%S"),
                entry["operator"] or "",
                entry["action"].replace("_", " "),
                entry["subject"],
            )
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))

    def export(self, path: Path) -> None:
        """Write the whole log to `path` in the background; the result shows in the message line."""
        self.export_button.setEnabled(False)
        self.message.setText("Exporting…")

        def work() -> int:
            text = self._service.desk.audit_csv()
            path.write_text(text, encoding="utf-8")
            return text.count("\n") - 1

        run_in_background(work, lambda rows: self._exported(path, rows), self._export_failed)

    def _choose_export_file(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export the audit log", "audit.csv", "CSV files (*.csv)")
        if name:
            self.export(Path(name))

    def _exported(self, path: Path, rows: int) -> None:
        self.export_button.setEnabled(True)
        self.message.setText(f"Exported {rows} entries to {path}")

    def _export_failed(self, reason: str) -> None:
        self.export_button.setEnabled(True)
        self.message.setText(f"The export failed: {reason}")
