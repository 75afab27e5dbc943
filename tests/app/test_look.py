"""One look: the stylesheet's colours readable (WCAG AA) in both schemes, the scheme followed, the
same header size on every table, last columns that fill the width, dates on one line, dialogs as
wide as their titles, icons on the main actions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import groupby

import pytest
import segno
import zxingcpp
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFontInfo, QGuiApplication, QImage, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QHeaderView, QTableView
from pytestqt.qtbot import QtBot

from app import style
from app.pages.login import LoginDialog
from app.tasks import Tasks
from app.widgets.qr import paint_qr
from app.window import MainWindow
from tests.app.helpers import TIMEOUT_MS, create_offer, settle

WCAG_AA = 4.5
BADGE = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}


def luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour."""

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    parsed = QColor(colour)
    assert parsed.isValid(), colour
    red, green, blue = (linear(value) for value in (parsed.redF(), parsed.greenF(), parsed.blueF()))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_contrast_formula_matches_wcag_reference_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic AA near miss
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)


@pytest.mark.parametrize("scheme", [style.LIGHT, style.DARK], ids=lambda scheme: scheme.name)
def test_every_text_colour_reads_at_wcag_aa_in_both_schemes(scheme: style.Scheme) -> None:
    ratios = {what: contrast(*pair) for what, pair in scheme.text_pairs().items()}
    too_low = {what: round(ratio, 2) for what, ratio in ratios.items() if ratio < WCAG_AA}
    assert not too_low, f"below {WCAG_AA}:1 in the {scheme.name} scheme: {too_low}"


@pytest.mark.parametrize("scheme", [style.LIGHT, style.DARK], ids=lambda scheme: scheme.name)
def test_the_stylesheet_uses_only_colours_of_its_scheme(scheme: style.Scheme) -> None:
    """Every colour written in the stylesheet is one of the scheme's (so the ratios above are the
    stylesheet's), and the tones' colours are the scheme's error, ok and warning."""
    sheet = style.stylesheet(scheme)
    used = set(re.findall(r"#[0-9a-fA-F]{6}\b", sheet))
    checked = {colour for pair in scheme.text_pairs().values() for colour in pair} | {scheme.banner_border}
    assert used and used <= checked
    for tone, colour in ((style.ERROR_TONE, scheme.error), (style.OK_TONE, scheme.ok)):
        assert re.search(rf'QLabel\[tone="{tone}"\] {{ color: {colour}; }}', sheet)


@pytest.fixture
def restore_look(qapp: QApplication) -> Iterator[None]:
    yield
    style.apply(style.LIGHT)


def test_apply_gives_the_palette_and_follows_the_system(qapp: QApplication, restore_look: None) -> None:
    style.apply(style.DARK)
    assert qapp.palette().color(QPalette.ColorRole.Window) == QColor(style.DARK.window)
    assert style.DARK.error in qapp.styleSheet()
    style.apply(style.LIGHT)
    assert qapp.palette().color(QPalette.ColorRole.Base) == QColor(style.LIGHT.base)
    hints = QGuiApplication.styleHints()
    style.apply()  # the system's choice, followed from now on
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # what Qt emits when the system changes
    expected = style.system_scheme()
    assert style.current() is expected
    assert qapp.palette().color(QPalette.ColorRole.Window) == QColor(expected.window)


def test_a_message_label_takes_its_tone_colour(qtbot: QtBot, window: MainWindow, restore_look: None) -> None:
    style.apply(style.DARK)
    label = window.compose.error
    style.set_tone(label, style.ERROR_TONE)
    assert style.tone_of(label) == style.ERROR_TONE
    assert label.palette().color(QPalette.ColorRole.WindowText) == QColor(style.DARK.error)
    style.set_tone(label, style.PLAIN_TONE)
    assert label.palette().color(QPalette.ColorRole.WindowText) == QColor(style.DARK.text)


def tables(window: MainWindow) -> list[QTableView]:
    return window.findChildren(QTableView)


def test_every_table_header_has_the_same_font_size(qtbot: QtBot, window: MainWindow) -> None:
    style.apply(style.LIGHT)
    headers = [view.horizontalHeader() for view in tables(window)]
    assert len(headers) >= 4  # offers, sign-ins, ledger, audit
    sizes = {QFontInfo(header.font()).pointSize() for header in headers}
    assert sizes == {style.HEADER_POINT_SIZE}, "the sign-ins table's large font reaches its header"
    body = window.sign_ins.table
    assert QFontInfo(body.font()).pointSize() > style.HEADER_POINT_SIZE  # codes read from a distance


def test_last_columns_fill_the_width_and_dates_stay_on_one_line_after_a_refresh(
    qtbot: QtBot, window: MainWindow
) -> None:
    for name, value in BADGE.items():
        window.compose.field(name).setText(value)
    create_offer(qtbot, window)
    qtbot.waitUntil(lambda: window.offers_model.rowCount() == 1, timeout=TIMEOUT_MS)
    window.tabs.setCurrentWidget(window.audit)
    settle(qtbot, window.tasks)
    for page, refresh in ((window.audit, window.audit.refresh),):
        window.tabs.setCurrentWidget(page)
        settle(qtbot, window.tasks)
        view = page.table
        header: QHeaderView = view.horizontalHeader()
        qtbot.waitUntil(lambda view=view: view.model().rowCount() > 0, timeout=TIMEOUT_MS)
        refresh()  # the columns fit their contents again
        settle(qtbot, window.tasks)
        QApplication.processEvents()
        last = header.count() - 1
        assert header.sectionViewportPosition(last) + header.sectionSize(last) == view.viewport().width()
        assert not view.wordWrap()
        for column in range(header.count()):
            text = str(view.model().index(0, column).data() or "")
            if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d", text):  # a date: all of it fits its column
                assert view.fontMetrics().horizontalAdvance(text) < header.sectionSize(column)


def test_the_login_dialog_is_as_wide_as_its_title(qtbot: QtBot, window: MainWindow) -> None:
    tasks = Tasks()
    dialog = LoginDialog(window.service, tasks)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.is_ready, timeout=TIMEOUT_MS)
    dialog.show()
    title = dialog.fontMetrics().horizontalAdvance(dialog.windowTitle())
    assert dialog.width() >= title + 100
    tasks.shutdown()


def test_the_main_actions_have_icons(window: MainWindow) -> None:
    actions = window.menu_actions
    for action in (
        actions.new_customer,
        actions.save_qr,
        actions.print_sheet,
        actions.back_up,
        actions.restore,
        actions.quit,
        actions.find,
        actions.customer_display,
        actions.diagnostics,
    ):
        assert not action.icon().isNull(), action.text()
    for button in (window.compose.create_button, window.compose.new_customer_button, window.holders.register_button):
        assert not button.icon().isNull(), button.text()


def test_the_window_icon_has_sizes_for_hidpi_screens(qapp: QApplication) -> None:
    sizes = {size.width() for size in style.window_icon().availableSizes()}
    assert {16, 32, 64, 256, 512} <= sizes


def test_the_qr_code_has_equal_sharp_modules_at_a_fractional_hidpi_scale(qapp: QApplication) -> None:
    """At 125 % every module is the same whole number of device pixels, pure black or white, and the
    code still decodes to the offer."""
    offer = "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example%2Foffers%2Fabc"
    image = QImage(600, 600, QImage.Format.Format_RGB32)
    image.setDevicePixelRatio(1.25)
    image.fill(QColor("white"))
    painter = QPainter(image)
    paint_qr(painter, segno.make(offer, error="m"), QRect(0, 0, 480, 480))
    painter.end()
    colours = {image.pixelColor(x, y).name() for x in range(0, 600, 3) for y in range(0, 600, 7)}
    assert colours == {"#000000", "#ffffff"}
    [decoded] = zxingcpp.read_barcodes(image)
    assert decoded.text == offer
    for y in range(150, 450, 37):
        runs = [len(list(group)) for _, group in groupby(image.pixelColor(x, y).name() for x in range(600))]
        inner = runs[1:-1]  # between the white margins
        smallest = min(inner)
        assert all(run % smallest == 0 for run in inner), f"modules of unequal width on row {y}: {set(inner)}"
