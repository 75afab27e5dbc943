"""Help ▸ Diagnostics: what support asks first (the version, the data folder, where the issuer
listens and whether wallets can reach it), selectable so it can be copied into a message."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from app.style import fit_title
from issuer import __version__


def tr(text: str) -> str:
    return QCoreApplication.translate("Diagnostics", text)


@dataclass(frozen=True)
class Facts:
    data_dir: Path
    issuer_url: str
    admin_url: str
    reachability: str
    remote: bool = False  # the app is a desk of an issuer on another computer
    version: str = __version__

    def rows(self) -> list[tuple[str, str]]:
        return [
            (tr("Version"), self.version),
            (
                tr("Data folder"),
                tr("{folder} (on the issuer's computer, not this one)").format(folder=self.data_dir)
                if self.remote
                else str(self.data_dir),
            ),
            (tr("Issuer URL"), self.issuer_url),
            (tr("Admin URL"), self.admin_url),
            (tr("Reachability"), self.reachability),
        ]

    def text(self) -> str:
        return "\n".join(f"{label}: {value}" for label, value in self.rows())


class DiagnosticsDialog(QDialog):
    def __init__(self, facts: Facts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Diagnostics"))
        self.facts = facts
        form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        for label, value in facts.rows():
            shown = QLabel(value)
            shown.setTextInteractionFlags(
                Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
            )
            shown.setAccessibleName(label)
            shown.setWordWrap(True)
            form.addRow(label, shown)
            self.values[label] = shown
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton(tr("Copy all"), QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(facts.text()))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(480)
        fit_title(self)
