"""The Qt binding this app ships with must not corrupt the interpreter.

PySide6 6.12.0 on Python 3.11 released a reference to None on every call of a void method;
a desktop session makes millions of such calls and then aborts with "deallocating None".
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_void_calls_keep_none_alive() -> None:
    image = QImage(16, 16, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(1000):
        painter.drawRect(QRectF(1, 1, 2, 2))
        image.fill(QColor("white"))
    after = sys.getrefcount(None)
    painter.end()
    assert after >= before - 10  # a little noise from the interpreter, never one per call
