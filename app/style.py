"""The look of the app in one place: the light and dark colour schemes, the one application
stylesheet built from them, message tones, the sizes read from a distance, the QR's colours.

`apply(app)` follows the system's scheme (QStyleHints.colorScheme, and the platform palette when the
hint is unknown) and again whenever it changes. A message label gets its colour by tone
(`set_tone(label, ERROR_TONE)`), so the same label reads well in both schemes; the contrast of
every colour pair the stylesheet uses is tested against WCAG AA.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QAbstractItemView, QApplication, QDialog, QTableView, QWidget

from resources import resource_path

PLAIN_TONE = ""
ERROR_TONE = "error"
OK_TONE = "ok"
WARNING_TONE = "warning"

HEADER_POINT_SIZE = 10  # every table header, whatever its table's own font
RESULT_STYLE = "font-size: 16pt; padding: 12px;"  # the offer's result, where its QR code was
TX_CODE_STYLE = "font-size: 20pt; font-weight: bold;"  # read out to the holder across the desk
SIGN_IN_TABLE_STYLE = "QTableView { font-size: 14pt; }"  # codes compared with a phone held up at the desk
CUSTOMER_TITLE_STYLE = "font-size: 24pt;"
CUSTOMER_COUNTDOWN_STYLE = "font-size: 16pt;"
CUSTOMER_MESSAGE_STYLE = "font-size: 28pt; padding: 24px;"
QR_DARK = "black"  # ISO/IEC 18004: dark modules on a light background, as scanners expect, in both schemes
QR_LIGHT = "white"


@dataclass(frozen=True)
class Scheme:
    """The colours of one scheme: the palette's and the stylesheet's."""

    name: str
    window: str
    base: str  # inputs and tables
    alternate_base: str
    text: str
    button: str
    highlight: str
    highlighted_text: str
    placeholder: str
    link: str
    error: str
    ok: str
    warning: str
    banner_background: str  # what Create will revoke
    banner_border: str
    chip_background: str  # the holder linked to the offer

    def text_pairs(self) -> dict[str, tuple[str, str]]:
        """Every (text, background) pair the app draws with these colours, by what it is."""
        pairs: dict[str, tuple[str, str]] = {}
        for background in ("window", "base"):
            back = getattr(self, background)
            for colour in ("text", "error", "ok", "warning", "link"):
                pairs[f"{colour} on {background}"] = (getattr(self, colour), back)
        pairs["text on alternate base"] = (self.text, self.alternate_base)
        pairs["text on button"] = (self.text, self.button)
        pairs["placeholder on base"] = (self.placeholder, self.base)
        pairs["disabled text on window"] = (self.placeholder, self.window)  # the palette's disabled text
        pairs["highlighted text"] = (self.highlighted_text, self.highlight)
        pairs["banner"] = (self.text, self.banner_background)
        pairs["holder chip"] = (self.text, self.chip_background)
        return pairs


LIGHT = Scheme(
    name="light",
    window="#f3f3f3",
    base="#ffffff",
    alternate_base="#f5f7fa",
    text="#1a1a1a",
    button="#e9e9e9",
    highlight="#2f65ca",
    highlighted_text="#ffffff",
    placeholder="#5f5f5f",
    link="#1a56b8",
    error="#b00020",
    ok="#1b5e20",
    warning="#8a5300",
    banner_background="#fff4d6",
    banner_border="#c9962c",
    chip_background="#e3ecfa",
)

DARK = Scheme(
    name="dark",
    window="#202124",
    base="#2a2b2e",
    alternate_base="#303134",
    text="#e8eaed",
    button="#3a3b3e",
    highlight="#8ab4f8",
    highlighted_text="#202124",
    placeholder="#a8abb0",
    link="#8ab4f8",
    error="#ff8a80",
    ok="#81c995",
    warning="#fdd663",
    banner_background="#4a3b12",
    banner_border="#a8872e",
    chip_background="#26364f",
)


def stylesheet(scheme: Scheme) -> str:
    """The application's one stylesheet: headers, message tones, the banner and the holder chip."""
    return f"""
QHeaderView {{ font-size: {HEADER_POINT_SIZE}pt; font-weight: normal; }}
QLabel[tone="{ERROR_TONE}"] {{ color: {scheme.error}; }}
QLabel[tone="{OK_TONE}"] {{ color: {scheme.ok}; }}
QLabel[tone="{WARNING_TONE}"] {{ color: {scheme.warning}; }}
QLabel#replacesBanner {{
    background: {scheme.banner_background}; color: {scheme.text};
    border: 1px solid {scheme.banner_border}; padding: 6px;
}}
QWidget#holderChip {{ background: {scheme.chip_background}; border-radius: 10px; }}
QWidget#holderChip QLabel {{ color: {scheme.text}; padding: 2px 8px; }}
"""


def palette(scheme: Scheme) -> QPalette:
    colours = QPalette()
    roles = QPalette.ColorRole
    for role, colour in (
        (roles.Window, scheme.window),
        (roles.WindowText, scheme.text),
        (roles.Base, scheme.base),
        (roles.AlternateBase, scheme.alternate_base),
        (roles.Text, scheme.text),
        (roles.Button, scheme.button),
        (roles.ButtonText, scheme.text),
        (roles.ToolTipBase, scheme.base),
        (roles.ToolTipText, scheme.text),
        (roles.Highlight, scheme.highlight),
        (roles.HighlightedText, scheme.highlighted_text),
        (roles.PlaceholderText, scheme.placeholder),
        (roles.Link, scheme.link),
        (roles.LinkVisited, scheme.link),
    ):
        colours.setColor(role, QColor(colour))
    for role in (roles.Text, roles.WindowText, roles.ButtonText):
        colours.setColor(QPalette.ColorGroup.Disabled, role, QColor(scheme.placeholder))
    return colours


def system_scheme() -> Scheme:
    """The system's choice: the colour-scheme hint, or the platform palette's window when it has none."""
    chosen = QGuiApplication.styleHints().colorScheme()
    if chosen == Qt.ColorScheme.Dark:
        return DARK
    if chosen == Qt.ColorScheme.Light:
        return LIGHT
    window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    return DARK if window.lightness() < 128 else LIGHT


@dataclass
class _Applied:
    scheme: Scheme = LIGHT
    follows_system: bool = False
    listening: bool = False


_APPLIED = _Applied()


def apply(scheme: Scheme | None = None) -> Scheme:
    """Give the running app `scheme`'s palette and the stylesheet; with None, the system's scheme,
    followed from then on when the system changes it."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("the look is applied to a running QApplication")
    _APPLIED.scheme = scheme or system_scheme()
    _APPLIED.follows_system = scheme is None
    if not _APPLIED.listening:
        _APPLIED.listening = True
        QGuiApplication.styleHints().colorSchemeChanged.connect(_follow)
    app.setPalette(palette(_APPLIED.scheme))
    app.setStyleSheet(stylesheet(_APPLIED.scheme))
    return _APPLIED.scheme


def _follow(_scheme: Qt.ColorScheme) -> None:
    if _APPLIED.follows_system:
        apply()


def current() -> Scheme:
    """The scheme applied last (light before any)."""
    return _APPLIED.scheme


def set_tone(widget: QWidget, tone: str) -> None:
    """Colour a message by what it says (error, ok, warning, or plain) in the current scheme."""
    if widget.property("tone") == tone:
        return
    widget.setProperty("tone", tone)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def tone_of(widget: QWidget) -> str:
    return str(widget.property("tone") or PLAIN_TONE)


def tidy_table(table: QTableView) -> None:
    """One look for every table: rows selected whole, dates and names on one line, the last column
    filling the width (also after `resizeColumnsToContents`)."""
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    header = table.horizontalHeader()
    header.setStretchLastSection(True)
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    table.verticalHeader().setVisible(False)


def fit_title(dialog: QDialog, margin: int = 160) -> None:
    """A dialog at least as wide as its title (window managers cut a title wider than the dialog);
    `margin` leaves room for the title bar's buttons."""
    wanted = dialog.fontMetrics().horizontalAdvance(dialog.windowTitle()) + margin
    dialog.setMinimumWidth(max(dialog.minimumWidth(), wanted))
    dialog.adjustSize()


ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)


def window_icon() -> QIcon:
    """The app's icon at every size it ships, so title bars and docks on HiDPI screens pick a sharp one."""
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(resource_path("icons", f"frontdesk-issuer-{size}.png")), QSize(size, size))
    return icon


def fit_columns(table: QTableView) -> None:
    """Columns as wide as their contents, the last one still filling the width (resizing it to its
    contents would otherwise leave a gap at the right until the window is resized)."""
    header = table.horizontalHeader()
    header.setStretchLastSection(False)
    table.resizeColumnsToContents()
    header.setStretchLastSection(True)
