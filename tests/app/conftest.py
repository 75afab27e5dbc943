"""GUI tests run offscreen: the platform must be chosen before the first QApplication exists."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
