"""A claim field for a binary value (an mdoc `bstr` element, such as a portrait): a picture from a file or a camera.

The operator picks a photo from a file, or takes one with the desk's camera when there is one
(`app.widgets.camera`); it becomes a JPEG (ISO/IEC 18013-5 portraits are JPEG) of at most
640 pixels on its longer side and at most the size the issuer accepts, lowering the quality until it fits.
A JPEG that already fits is kept as it is. The field reads and writes its value as base64 text, as the
line edits of the other claims read and write theirs.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, Signal
from PySide6.QtGui import QImage, QImageWriter, QPixmap
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from app.style import ERROR_TONE, PLAIN_TONE, set_tone
from app.widgets.camera import CameraDialog, CameraWatch, cameras
from issuer.protocol.claim_values import BINARY_MAX_BYTES

LONGER_SIDE = 640
THUMBNAIL = 64
QUALITIES = (90, 80, 70, 60, 50, 40, 30)
PICTURES = "Pictures (*.jpg *.jpeg *.png *.bmp *.gif *.webp);;All files (*)"
JPEG_START = b"\xff\xd8\xff"


class BinaryClaimField(QWidget):
    """Read, written, locked and watched like the QLineEdit of a text claim (`text`, `setText`,
    `setReadOnly`, `textChanged`), so the offer form treats every claim field alike."""

    textChanged = Signal(str)  # noqa: N815 - QLineEdit's name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._data = b""
        self.preview = QLabel()
        self.preview.setFixedSize(THUMBNAIL, THUMBNAIL)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.summary = QLabel("No picture")
        self.summary.setWordWrap(True)
        self.choose_button = QPushButton("Choose picture…")
        self.choose_button.clicked.connect(self._choose)
        self.camera_button = QPushButton("Take photo…")
        self.camera_button.clicked.connect(self._take_photo)
        self._cameras = CameraWatch(self)
        self._cameras.changed.connect(self._show_camera_button)
        self._show_camera_button()
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.clear)
        self.remove_button.setEnabled(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.preview)
        layout.addWidget(self.summary, 1)
        layout.addWidget(self.choose_button)
        layout.addWidget(self.camera_button)
        layout.addWidget(self.remove_button)

    def text(self) -> str:
        """The picture as base64, or "" when there is none."""
        return base64.b64encode(self._data).decode("ascii") if self._data else ""

    def setText(self, text: str) -> None:  # noqa: N802 - read and written like a QLineEdit
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            data = b""
        image = QImage.fromData(data)
        self._show(data, image, "Picture" if not image.isNull() else "File")

    def clear(self) -> None:
        self._data = b""
        self.preview.clear()
        self.summary.setText("No picture")
        set_tone(self.summary, PLAIN_TONE)
        self.remove_button.setEnabled(False)
        self.textChanged.emit("")

    def load_file(self, path: Path) -> bool:
        """Take the picture in `path`; a file that is no picture, or cannot be made small enough, is refused
        with a note in the field and leaves the value as it was."""
        try:
            original = path.read_bytes()
        except OSError as error:
            return self._refuse(f"Cannot read {path.name}: {error.strerror}")
        image = QImage.fromData(original)
        if image.isNull():
            return self._refuse(f"{path.name} is not a picture")
        fits = max(image.width(), image.height()) <= LONGER_SIDE and len(original) <= BINARY_MAX_BYTES
        if fits and original.startswith(JPEG_START):
            self._show(original, image, path.name)
            return True
        return self.load_image(image, path.name)

    def load_image(self, image: QImage, name: str) -> bool:
        """Take `image` (a photo from the camera, or a picture read from a file) as a JPEG that fits."""
        data = _as_jpeg(image)
        if not data:
            return self._refuse(f"{name} does not fit in {BINARY_MAX_BYTES // 1000} kB, even made smaller")
        self._show(data, QImage.fromData(data), name)
        return True

    def _choose(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Choose a picture", "", PICTURES)
        if name:
            self.load_file(Path(name))

    def _take_photo(self) -> None:
        dialog = CameraDialog(self)
        if dialog.exec() == CameraDialog.DialogCode.Accepted and dialog.image is not None:
            self.load_image(dialog.image, "Photo")

    def _show_camera_button(self) -> None:
        self.camera_button.setVisible(bool(cameras()))

    def _show(self, data: bytes, image: QImage, name: str) -> None:
        self._data = data
        if not image.isNull():
            thumbnail = QPixmap.fromImage(image).scaled(
                THUMBNAIL, THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            self.preview.setPixmap(thumbnail)
            name = f"{name}, {image.width()}×{image.height()}"
        self.summary.setText(f"{name}, {max(1, round(len(data) / 1000))} kB" if data else "No picture")
        set_tone(self.summary, PLAIN_TONE)
        self.remove_button.setEnabled(bool(data) and self.choose_button.isEnabled())
        self.textChanged.emit(self.text())

    def setReadOnly(self, read_only: bool) -> None:  # noqa: N802 - QLineEdit's name
        self.choose_button.setEnabled(not read_only)
        self.camera_button.setEnabled(not read_only)
        self.remove_button.setEnabled(not read_only and bool(self._data))

    def _refuse(self, reason: str) -> bool:
        self.summary.setText(reason)
        set_tone(self.summary, ERROR_TONE)
        return False


def _as_jpeg(image: QImage) -> bytes:
    """`image` as a JPEG of at most LONGER_SIDE pixels and BINARY_MAX_BYTES, or b"" if no quality fits."""
    if max(image.width(), image.height()) > LONGER_SIDE:
        image = image.scaled(
            LONGER_SIDE, LONGER_SIDE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    image = image.convertToFormat(QImage.Format.Format_RGB32)  # JPEG has no alpha channel
    for quality in QUALITIES:
        encoded = QByteArray()
        buffer = QBuffer(encoded)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        writer = QImageWriter(buffer, QByteArray(b"jpeg"))
        writer.setQuality(quality)
        written = writer.write(image)
        buffer.close()
        if written and encoded.size() <= BINARY_MAX_BYTES:
            return bytes(encoded.data())
    return b""
