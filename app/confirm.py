"""The questions the desk asks before an action that cannot be undone, in one replaceable place.

Pages call `confirm.ask(...)` through this module, so a test replaces `ask` and answers without a
dialog that would block it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def ask(parent: QWidget | None, title: str, question: str, yes: str = "Yes") -> bool:
    """A Yes/No question with No as the default answer; True when the operator chose `yes`."""
    box = QMessageBox(QMessageBox.Icon.Question, title, question, QMessageBox.StandardButton.NoButton, parent)
    accept = box.addButton(yes, QMessageBox.ButtonRole.YesRole)
    box.setDefaultButton(box.addButton("No", QMessageBox.ButtonRole.NoRole))
    box.exec()
    return box.clickedButton() is accept
