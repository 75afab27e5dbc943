"""The camera at the offer form: offered only while one is connected, its photo made a JPEG that fits like a
picture from a file, and a missing or failing camera said in plain words."""

from __future__ import annotations

import base64

import pytest
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from app.widgets import camera
from app.widgets.binary_claim import LONGER_SIDE, BinaryClaimField
from app.widgets.camera import CameraDialog
from issuer.protocol.claim_values import BINARY_MAX_BYTES


def photo(width: int, height: int) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    for x in range(0, width, 4):
        for y in range(0, height, 4):
            image.setPixelColor(x, y, QColor((x * 5) % 256, (y * 3) % 256, (x + y) % 256))
    return image


def test_the_camera_button_follows_the_connected_cameras(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    field = BinaryClaimField()
    qtbot.addWidget(field)
    # This machine has no camera: the form offers the file picker alone.
    assert camera.cameras() == [] and field.camera_button.isHidden()
    monkeypatch.setattr("app.widgets.binary_claim.cameras", lambda: ["Desk camera"])
    field._cameras.changed.emit()  # what QMediaDevices says when a camera is plugged in
    assert not field.camera_button.isHidden()
    field.setReadOnly(True)
    assert not field.camera_button.isEnabled()


@pytest.mark.skipif(not camera.MULTIMEDIA, reason="QtMultimedia is not installed (the camera extra)")
def test_without_a_camera_the_dialog_says_so_and_takes_nothing(qtbot: QtBot) -> None:
    dialog = CameraDialog()
    qtbot.addWidget(dialog)
    assert dialog.status.text() == "No camera is connected."
    assert not dialog.take_button.isEnabled() and dialog.image is None


def test_without_qtmultimedia_the_dialog_says_so(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(camera, "MULTIMEDIA", False)
    assert camera.cameras() == []
    dialog = CameraDialog()
    qtbot.addWidget(dialog)
    assert "no camera support" in dialog.status.text() and not dialog.take_button.isEnabled()
    dialog.reject()


def test_a_photo_from_the_camera_becomes_a_jpeg_that_fits(qtbot: QtBot) -> None:
    dialog = CameraDialog()
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.accepted):
        dialog.photo_taken(1, photo(1920, 1080))  # what QImageCapture.imageCaptured delivers
    assert dialog.image is not None
    field = BinaryClaimField()
    qtbot.addWidget(field)
    with qtbot.waitSignal(field.textChanged):
        assert field.load_image(dialog.image, "Photo")
    data = base64.b64decode(field.text())
    assert data.startswith(b"\xff\xd8\xff") and len(data) <= BINARY_MAX_BYTES
    image = QImage.fromData(data)
    assert (image.width(), image.height()) == (LONGER_SIDE, 360)
    assert field.summary.text().startswith("Photo, 640×360, ")
