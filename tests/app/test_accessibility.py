"""Accessibility: every input, the QR code and the status texts have names a screen reader says,
and Tab reaches every input of every page."""

from __future__ import annotations

from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.window import MainWindow
from tests.app.helpers import settle

INPUTS = (QLineEdit, QComboBox, QAbstractSpinBox, QAbstractButton, QTextEdit, QPlainTextEdit)


def spoken_name(widget: QWidget) -> str:
    """The name assistive technology reads: Qt's accessible interface (a set name, a button's
    text, or the buddy label of a form row)."""
    interface = QAccessible.queryAccessibleInterface(widget)
    assert interface is not None
    return interface.text(QAccessible.Text.Name).strip()


def page_inputs(page: QWidget) -> list[QWidget]:
    found: list[QWidget] = []
    for kind in INPUTS:
        found += [widget for widget in page.findChildren(kind) if widget.isVisibleTo(page)]
    # the editors inside a spin box or combo box belong to it
    return [widget for widget in found if not isinstance(widget.parentWidget(), (QAbstractSpinBox, QComboBox))]


def pages(window: MainWindow) -> list[QWidget]:
    return [window.tabs.widget(number) for number in range(window.tabs.count())]


def test_every_input_of_every_page_has_a_spoken_name(qtbot: QtBot, window: MainWindow) -> None:
    settle(qtbot, window.tasks)
    nameless: list[str] = []
    for page in pages(window):
        window.tabs.setCurrentWidget(page)
        for widget in page_inputs(page):
            if not spoken_name(widget):
                nameless.append(f"{type(page).__name__}: {type(widget).__name__} {widget.objectName()!r}")
    assert not nameless


def test_the_qr_code_and_the_status_texts_are_named(window: MainWindow) -> None:
    assert spoken_name(window.compose.qr) == "QR code of the credential offer"
    assert spoken_name(window.customer_display.qr) == "QR code of the credential offer"
    for label in (window.url_label, window.reachability_label, window.certificate_label, window.storage_label):
        assert label.accessibleName(), label.objectName()
    messages = [window.compose.error, window.compose.panel.result, window.holders.message, window.offers.message]
    for label in messages:
        assert isinstance(label, QLabel) and label.accessibleName()


def tab_chain(start: QWidget) -> list[QWidget]:
    """The widgets Tab visits from `start` until it comes round again."""
    chain = [start]
    widget = start.nextInFocusChain()
    while widget is not start and len(chain) < 2000:
        chain.append(widget)
        widget = widget.nextInFocusChain()
    return chain


def test_tab_reaches_every_input_of_every_page_in_form_order(qtbot: QtBot, window: MainWindow) -> None:
    settle(qtbot, window.tasks)
    unreachable: list[str] = []
    for page in pages(window):
        window.tabs.setCurrentWidget(page)
        inputs = page_inputs(page)
        chain = tab_chain(window.tabs)
        for widget in inputs:
            takes_tab = widget.focusPolicy().value & 0x1  # Qt.TabFocus
            if widget not in chain or not takes_tab:
                unreachable.append(f"{type(page).__name__}: {spoken_name(widget) or type(widget).__name__}")
    assert not unreachable
    # on the offer form, Tab goes down the fields in the order they are shown
    fields = [window.compose.field(name) for name in ("given_name", "family_name", "employee_id", "department")]
    chain = tab_chain(window.tabs)
    positions = [chain.index(field) for field in fields]
    assert positions == sorted(positions)
