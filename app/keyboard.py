"""Working without a mouse: Enter in a form's field presses the form's button."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QAbstractButton, QLineEdit


def submit_on_enter(fields: Iterable[QLineEdit], button: QAbstractButton) -> None:
    """Enter in any of `fields` clicks `button`; a disabled button (a form not ready) does nothing."""
    for field in fields:
        field.returnPressed.connect(button.click)
