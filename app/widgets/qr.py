"""A QR code that stays crisp at any size: the segno matrix painted module by module.

Saving goes through segno itself (PNG and SVG), so a saved file is the same code.
"""

from __future__ import annotations

from pathlib import Path

import segno
from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.style import QR_DARK, QR_LIGHT

QUIET_ZONE = 4  # modules of white border, as ISO/IEC 18004 asks


class QrView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._qr: segno.QRCode | None = None
        self.text = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 160)
        self.setAccessibleName("QR code of the credential offer")

    def set_text(self, text: str) -> None:
        self.text = text
        self._qr = segno.make(text, error="m") if text else None
        self.setAccessibleName("QR code of the credential offer")
        self.setAccessibleDescription("Scan it with a wallet" if text else "No offer yet")
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(360, 360)

    def render_image(self, size: int = 600) -> QImage:
        """The code as an image, for tests and printing."""
        image = QImage(size, size, QImage.Format.Format_RGB32)
        image.fill(QColor(QR_LIGHT))
        painter = QPainter(image)
        self._paint(painter, size, size)
        painter.end()
        return image

    def save(self, path: Path) -> None:
        """PNG or SVG, by the file's suffix."""
        if self._qr is None:
            raise ValueError("there is no offer to save")
        suffix = path.suffix.lower()
        if suffix not in (".png", ".svg"):
            raise ValueError("save as .png or .svg")
        self._qr.save(str(path), scale=10, border=QUIET_ZONE)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(QR_LIGHT))
        self._paint(painter, self.width(), self.height())
        painter.end()

    def _paint(self, painter: QPainter, width: int, height: int) -> None:
        if self._qr is not None:
            paint_qr(painter, self._qr, QRect(0, 0, width, height))


def paint_qr(painter: QPainter, qr: segno.QRCode, area: QRect) -> None:
    """The code centred in `area`, as large as fits, with whole device pixels per module: sharp
    edges of equal modules also on a HiDPI screen with a fractional scale (1.25, 1.5)."""
    matrix = qr.matrix
    modules = len(matrix) + 2 * QUIET_ZONE
    device = painter.device()
    ratio = device.devicePixelRatioF() if device is not None else 1.0
    module = max(1, int(min(area.width(), area.height()) * ratio) // modules) / ratio
    side = module * modules
    # the top left corner on a device pixel too
    left = round((area.left() + (area.width() - side) / 2) * ratio) / ratio
    top = round((area.top() + (area.height() - side) / 2) * ratio) / ratio
    painter.save()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(QR_LIGHT))
    painter.drawRect(QRectF(left, top, side, side))
    painter.setBrush(QColor(QR_DARK))
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                painter.drawRect(
                    QRectF(left + (x + QUIET_ZONE) * module, top + (y + QUIET_ZONE) * module, module, module)
                )
    painter.restore()
