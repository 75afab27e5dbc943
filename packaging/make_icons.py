"""Render the application icon from resources/icons/frontdesk-issuer.svg into what each platform takes.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icons.py [--out DIR]

PNG files in the sizes desktops and installers ask for, a Windows `.ico` and a macOS `.icns`,
each holding PNG images (accepted since Windows Vista and OS X 10.7). Run it after editing the
SVG and commit the results: builds use the committed files and need nothing but PyInstaller.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
NAME = "frontdesk-issuer"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# Apple's ICNS element types that hold PNG data, and the pixel size of each.
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"ic11", 32),  # 16 pt @2x
    (b"icp6", 64),
    (b"ic12", 64),  # 32 pt @2x
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic13", 256),  # 128 pt @2x
    (b"ic09", 512),
    (b"ic14", 512),  # 256 pt @2x
    (b"ic10", 1024),  # 512 pt @2x
)


def render_pngs(svg: Path, sizes: Iterable[int]) -> dict[int, bytes]:
    """The SVG drawn at each size, as PNG bytes."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg} is not a valid SVG")
    images: dict[int, bytes] = {}
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        buffer.close()
        images[size] = bytes(data.data())
    return images


def ico(images: dict[int, bytes]) -> bytes:
    """A Windows icon: ICONDIR, one 16-byte entry per image, then the PNG data."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries, blobs = [], []
    for size, png in sorted(images.items()):
        side = 0 if size >= 256 else size  # 0 means 256 pixels
        entries.append(struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset))
        blobs.append(png)
        offset += len(png)
    return header + b"".join(entries) + b"".join(blobs)


def icns(images: dict[int, bytes]) -> bytes:
    """A macOS icon: the `icns` header, then one (type, length, PNG) element per type."""
    elements = b"".join(kind + struct.pack(">I", 8 + len(images[size])) + images[size] for kind, size in ICNS_TYPES)
    return b"icns" + struct.pack(">I", 8 + len(elements)) + elements


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ICONS, help="output folder (default resources/icons)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    images = render_pngs(ICONS / f"{NAME}.svg", PNG_SIZES)
    for size, png in images.items():
        (args.out / f"{NAME}-{size}.png").write_bytes(png)
    (args.out / f"{NAME}.ico").write_bytes(ico({size: images[size] for size in ICO_SIZES}))
    (args.out / f"{NAME}.icns").write_bytes(icns(images))
    print(f"icons written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
