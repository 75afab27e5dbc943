"""The take-away sheet: what the person carries home to scan later, not a bare QR code.

The issuer's name and logo, the credential's name (and logo), whom it is for, the QR code, when it
expires and two lines on how to scan it. One paint function draws it on any device: the printer,
a PDF, an image for a test. Printing shows a preview first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import segno
from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPagedPaintDevice, QPainter
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QWidget

from app.widgets.qr import paint_qr
from resources import resource_path

ISSUER_LOGO = resource_path("icons", "frontdesk-issuer.svg")
HOW_TO_SCAN = (
    "1. Open your wallet app and choose to add a credential, or to scan a QR code.",
    "2. Point the camera at the code above before it expires, and accept the credential in the wallet.",
)
INK = QColor("#1a1a1a")
MUTED = QColor("#555555")


@dataclass(frozen=True)
class Sheet:
    issuer_name: str
    credential_name: str
    holder_name: str | None
    offer_uri: str
    expires_at: int
    credential_logo: Path | None = None

    @property
    def expiry_text(self) -> str:
        when = datetime.fromtimestamp(self.expires_at)
        return f"Valid until {when:%H:%M} on {when:%d %B %Y}"


def paint_sheet(painter: QPainter, page: QRect, sheet: Sheet) -> None:
    """The sheet laid out in `page` (device pixels), sized from its height so it reads the same
    on paper and on screen."""
    unit = page.height() / 100  # one hundredth of the page's height
    margin = int(6 * unit)
    inner = page.adjusted(margin, margin, -margin, -margin)
    painter.save()
    painter.fillRect(page, QColor("white"))
    logo = int(7 * unit)
    _svg(painter, ISSUER_LOGO, QRectF(inner.left(), inner.top(), logo, logo))
    _text(painter, QRect(inner.left() + logo + int(2 * unit), inner.top(), inner.width(), logo), 2.6 * unit,
          sheet.issuer_name, bold=True, align=Qt.AlignmentFlag.AlignVCenter)  # fmt: skip
    top = inner.top() + logo + int(4 * unit)
    if sheet.credential_logo is not None:
        _svg(painter, sheet.credential_logo, QRectF(inner.left(), top, 5 * unit, 5 * unit))
    _text(painter, QRect(inner.left() + int(6.5 * unit), top, inner.width(), int(5 * unit)), 3.4 * unit,
          sheet.credential_name, bold=True, align=Qt.AlignmentFlag.AlignVCenter)  # fmt: skip
    top += int(6 * unit)
    if sheet.holder_name:
        _text(painter, QRect(inner.left(), top, inner.width(), int(4 * unit)), 2.2 * unit, f"For {sheet.holder_name}")
    top += int(5 * unit)
    side = min(inner.width(), int(50 * unit))
    paint_qr(painter, segno.make(sheet.offer_uri, error="m"), QRect(inner.left(), top, side, side))
    top += side + int(2 * unit)
    _text(painter, QRect(inner.left(), top, inner.width(), int(4 * unit)), 2.2 * unit, sheet.expiry_text, bold=True)
    top += int(5 * unit)
    for line in HOW_TO_SCAN:
        _text(painter, QRect(inner.left(), top, inner.width(), int(6 * unit)), 1.6 * unit, line, color=MUTED)
        top += int(4.5 * unit)
    painter.restore()


def print_sheet(device: QPagedPaintDevice, sheet: Sheet) -> None:
    """The sheet on one page of a printer or a PDF writer."""
    painter = QPainter(device)
    page = device.pageLayout().paintRectPixels(device.logicalDpiX())
    paint_sheet(painter, QRect(0, 0, page.width(), page.height()), sheet)
    painter.end()


def render_sheet(sheet: Sheet, width: int = 850, height: int = 1100) -> QImage:
    """The sheet as an image (US Letter's proportions at 100 dpi by default)."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    paint_sheet(painter, QRect(0, 0, width, height), sheet)
    painter.end()
    return image


def preview_and_print(parent: QWidget, sheet: Sheet) -> None:
    """The print preview; printing from it prints the sheet."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintPreviewDialog(printer, parent)
    dialog.setWindowTitle(f"Print: {sheet.credential_name}")
    dialog.paintRequested.connect(lambda device: print_sheet(device, sheet))
    dialog.exec()


def _text(
    painter: QPainter,
    area: QRect,
    size: float,
    text: str,
    *,
    bold: bool = False,
    color: QColor = INK,
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignTop,
) -> None:
    font = QFont()
    font.setPixelSize(max(1, int(size)))
    font.setBold(bold)
    painter.setFont(font)
    painter.setPen(color)
    painter.drawText(area, int(Qt.AlignmentFlag.AlignLeft | align | Qt.TextFlag.TextWordWrap), text)


def _svg(painter: QPainter, path: Path, area: QRectF) -> None:
    renderer = QSvgRenderer(str(path))
    if renderer.isValid():
        renderer.render(painter, area)
