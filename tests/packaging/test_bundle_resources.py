"""What the installers take from the source tree: one version, one resource helper, the icons,
and names that agree between the app, its data folder and every platform's recipe."""

from __future__ import annotations

import configparser
import importlib.metadata
import importlib.util
import json
import os
import re
import struct
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

import issuer
import resources
from issuer.config import Settings
from resources import resource_path

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
ICONS = ROOT / "resources" / "icons"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_spec = importlib.util.spec_from_file_location("appinfo", PACKAGING / "appinfo.py")
assert _spec is not None and _spec.loader is not None
appinfo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(appinfo)


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    return struct.unpack(">II", data[16:24])


def read_ico(data: bytes) -> list[tuple[int, bytes]]:
    """(side, PNG bytes) of each image of a Windows icon."""
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1)
    images = []
    for index in range(count):
        width, height, _, _, planes, bits, size, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * index)
        assert (width, planes, bits) == (height, 1, 32)
        assert offset + size <= len(data)
        images.append((width or 256, data[offset : offset + size]))
    return images


def read_icns(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, PNG bytes) of each element of a macOS icon."""
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    elements, offset = [], 8
    while offset < len(data):
        kind, length = data[offset : offset + 4], struct.unpack(">I", data[offset + 4 : offset + 8])[0]
        elements.append((kind, data[offset + 8 : offset + length]))
        offset += length
    assert offset == len(data)
    return elements


def test_one_version_for_the_code_the_package_and_the_installers() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "issuer.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", issuer.__version__)
    assert appinfo.version() == issuer.__version__
    assert importlib.metadata.version("frontdesk-issuer") == issuer.__version__  # as installed by pip
    printed = subprocess.run(
        [sys.executable, str(PACKAGING / "appinfo.py"), "version"], capture_output=True, text=True, check=True
    )
    assert printed.stdout == f"{issuer.__version__}\n"


def test_resource_path_from_the_source_tree() -> None:
    assert resource_path() == Path(resources.__file__).parent
    assert resource_path("credential_types", "employee_badge.json").is_file()
    assert resource_path("icons", "frontdesk-issuer.svg").is_file()


def test_resource_path_in_a_frozen_bundle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_path("logos", "employee_badge.svg") == tmp_path / "resources" / "logos" / "employee_badge.svg"


def test_the_names_agree_everywhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    info = appinfo.load()
    assert info == {**json.loads(resource_path("app.json").read_text(encoding="utf-8")), "version": issuer.__version__}
    # The data folder the app uses by default is the one the installers name and keep.
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert Settings.load().data_dir == tmp_path / ".local" / "share" / info["id"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["gui-scripts"][info["executable"]] == "app.main:main"
    inno = (PACKAGING / "windows" / "frontdesk.iss").read_text(encoding="utf-8")
    assert f'#define DataDirName "{info["id"]}"' in inno
    assert f'#define AppId "{info["windows_app_id"]}"' in inno
    assert f'#define AppExe "{info["executable"]}"' in inno
    assert "OutputBaseFilename=FrontdeskIssuer-{#AppVersion}-setup" in inno
    linux_installer = (PACKAGING / "linux" / "install.sh").read_text(encoding="utf-8")
    assert f"app_id={info['id']}\n" in linux_installer and f"executable={info['executable']}\n" in linux_installer


def test_the_desktop_entry_is_complete() -> None:
    info = appinfo.load()
    text = (PACKAGING / "linux" / "frontdesk-issuer.desktop.in").read_text(encoding="utf-8")
    for placeholder, value in {"NAME": "name", "SUMMARY": "summary", "CATEGORIES": "linux_categories"}.items():
        text = text.replace(f"@{placeholder}@", info[value])
    text = text.replace("@EXECUTABLE@", info["executable"])
    assert "@" not in text
    entry = configparser.ConfigParser(interpolation=None, strict=True)
    entry.optionxform = str  # type: ignore[assignment, method-assign]  # keys are case-sensitive
    entry.read_string(text)
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Name"] == "Frontdesk Issuer"
    assert section["Exec"] == "frontdesk" and section["Terminal"] == "false"
    assert section["Icon"] == info["id"]
    assert section["Categories"].endswith(";") and section["Keywords"].endswith(";")


@pytest.mark.parametrize("size", [16, 24, 32, 48, 64, 128, 256, 512, 1024])
def test_icon_png_sizes(size: int) -> None:
    path = ICONS / f"frontdesk-issuer-{size}.png"
    assert png_size(path.read_bytes()) == (size, size)
    image = QImage(str(path))
    assert image.hasAlphaChannel() and image.width() == size
    assert image.pixelColor(0, 0).alpha() == 0  # rounded corners are transparent
    assert image.pixelColor(size // 2, size // 2).alpha() == 255


def test_windows_icon_holds_every_size_up_to_256() -> None:
    images = read_ico((ICONS / "frontdesk-issuer.ico").read_bytes())
    assert [side for side, _ in images] == [16, 24, 32, 48, 64, 128, 256]
    assert all(png_size(png) == (side, side) for side, png in images)


def test_macos_icon_holds_every_retina_size() -> None:
    elements = dict(read_icns((ICONS / "frontdesk-issuer.icns").read_bytes()))
    expected = {b"icp4": 16, b"icp5": 32, b"ic11": 32, b"icp6": 64, b"ic12": 64, b"ic07": 128, b"ic08": 256}
    expected |= {b"ic13": 256, b"ic09": 512, b"ic14": 512, b"ic10": 1024}
    assert {kind: png_size(png)[0] for kind, png in elements.items()} == expected


def test_the_icons_are_rendered_from_the_svg(tmp_path: Path) -> None:
    """make_icons.py, run as documented, renders the same set of files from the committed SVG."""
    subprocess.run(
        [sys.executable, str(PACKAGING / "make_icons.py"), "--out", str(tmp_path)],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in ICONS.iterdir() if p.suffix != ".svg")
    fresh = QImage(str(tmp_path / "frontdesk-issuer-256.png"))
    committed = QImage(str(ICONS / "frontdesk-issuer-256.png"))
    # Same picture, allowing for anti-aliasing differences between Qt versions.
    differing = sum(
        1
        for x in range(0, 256, 4)
        for y in range(0, 256, 4)
        if abs(fresh.pixelColor(x, y).lightness() - committed.pixelColor(x, y).lightness()) > 32
    )
    assert differing < 0.02 * 64 * 64
