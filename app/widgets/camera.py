"""Taking a photo with the desk's camera, for a binary claim such as an mdoc portrait.

The camera needs QtMultimedia, which comes with PySide6-Addons (`pip install 'frontdesk-issuer[camera]'`)
and, on Linux, the PulseAudio client library. Without them, or without a camera, `cameras()` is empty and
the offer form offers the file picker alone. Cameras plugged in or out while the app runs are followed
through `CameraWatch`.
"""

from __future__ import annotations

from PySide6.QtCore import QLoggingCategory, QObject, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from app.style import ERROR_TONE, PLAIN_TONE, set_tone

# QtMultimedia probes optional libraries (PipeWire, VA-API) as it loads and prints a warning for each
# one missing: noise on every start of the app, and in the one line of stderr a refusal to start must
# be. QT_LOGGING_RULES still turns them back on.
QLoggingCategory.setFilterRules("qt.multimedia.symbolsresolver=false\nqt.multimedia.ffmpeg.info=false")

try:
    from PySide6.QtMultimedia import QCamera, QCameraDevice, QImageCapture, QMediaCaptureSession, QMediaDevices
    from PySide6.QtMultimediaWidgets import QVideoWidget
except ImportError:  # PySide6-Essentials only, or a library QtMultimedia links to is missing
    MULTIMEDIA = False
else:
    MULTIMEDIA = True


def cameras() -> list[str]:
    """The names of the cameras the app can use now; empty without QtMultimedia."""
    if not MULTIMEDIA:
        return []
    return [device.description() for device in QMediaDevices.videoInputs()]


class CameraWatch(QObject):
    """Says when cameras come or go (`changed`), so a form shows its camera button only while one is there."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if MULTIMEDIA:
            self._devices = QMediaDevices(self)
            self._devices.videoInputsChanged.connect(self.changed)


class CameraDialog(QDialog):
    """A viewfinder and *Take photo*; `image` holds the photo once the dialog is accepted.

    A camera that fails (taken by another program, unplugged) is said in the dialog in plain words, and
    *Take photo* stays off; the operator can still cancel and pick a file."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Take a photo")
        self.image: QImage | None = None
        self._camera: QCamera | None = None
        self.status = QLabel("Starting the camera…")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.take_button = self.buttons.addButton("Take photo", QDialogButtonBox.ButtonRole.AcceptRole)
        self.take_button.setEnabled(False)
        self.take_button.clicked.connect(self._take)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if not MULTIMEDIA:
            self._fail("The camera cannot be used: this installation has no camera support.")
            layout.addWidget(self.status)
            layout.addWidget(self.buttons)
            return
        self.viewfinder = QVideoWidget()
        self.viewfinder.setMinimumSize(480, 360)
        self.viewfinder.setAccessibleName("Camera viewfinder")
        layout.addWidget(self.viewfinder, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        device: QCameraDevice = QMediaDevices.defaultVideoInput()
        self._camera = live_camera = QCamera(device)
        self._capture = QImageCapture()
        self._session = QMediaCaptureSession()
        self._session.setCamera(live_camera)
        self._session.setImageCapture(self._capture)
        self._session.setVideoOutput(self.viewfinder)
        live_camera.errorOccurred.connect(lambda _error, message: self._fail(f"The camera cannot be used: {message}"))
        self._capture.errorOccurred.connect(lambda _id, _error, message: self._fail(f"No photo was taken: {message}"))
        self._capture.readyForCaptureChanged.connect(self._ready)
        self._capture.imageCaptured.connect(self.photo_taken)
        if device.isNull():
            self._fail("No camera is connected.")
        else:
            live_camera.start()

    def photo_taken(self, _request: int, image: QImage) -> None:
        """The camera's photo: kept, and the dialog accepted."""
        self.image = image
        self.accept()

    def done(self, result: int) -> None:  # noqa: D102 - QDialog's
        if self._camera is not None:
            self._camera.stop()
        super().done(result)

    def _ready(self, ready: bool) -> None:
        self.take_button.setEnabled(ready)
        if ready:
            self.status.setText("Ask the person to look at the camera, then take the photo.")
            set_tone(self.status, PLAIN_TONE)

    def _take(self) -> None:
        self.take_button.setEnabled(False)
        self.status.setText("Taking the photo…")
        self._capture.capture()

    def _fail(self, message: str) -> None:
        self.take_button.setEnabled(False)
        self.status.setText(message)
        set_tone(self.status, ERROR_TONE)
