"""The desktop app's translations: `.ts` sources kept in the repository, `.qm` files compiled from them.

    .venv/bin/python tools/translations.py update [--fill FILE.json ...]
        write app/service_messages.py (the issuer's refusals, see tools/service_messages.py), then
        scan app/ with pyside6-lupdate into resources/translations/app/frontdesk_<language>.ts:
        new texts are added unfinished, translated ones stay, texts gone from the code are dropped;
        --fill takes translations from JSON lists of {"context", "source", "translation"}
    .venv/bin/python tools/translations.py release
        compile every .ts to its .qm next to it (pyside6-lrelease), and copy Qt's own translation
        of its standard texts (qtbase_<language>.qm: dialog buttons, context menus) beside them
    .venv/bin/python tools/translations.py check
        list the texts that have no translation yet; exits 1 when there is one

tools/install.sh and packaging/build.sh run `release`; the .qm files are not in the repository.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import service_messages  # tools/, beside this script

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "app"
TRANSLATIONS = ROOT / "resources" / "translations" / "app"
LANGUAGES = ("de",)
SERVICE_MESSAGES = SOURCES / "service_messages.py"


def tool(name: str) -> str:
    """A Qt tool of the PySide6 installed beside this interpreter."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else name


def ts_path(language: str) -> Path:
    return TRANSLATIONS / f"frontdesk_{language}.ts"


def update(fills: list[Path]) -> None:
    SERVICE_MESSAGES.write_text(service_messages.module(service_messages.templates(ROOT / "issuer")), encoding="utf-8")
    subprocess.run([tool("ruff"), "format", "--quiet", str(SERVICE_MESSAGES)], check=True)
    files = sorted(str(path.relative_to(ROOT)) for path in SOURCES.rglob("*.py"))
    TRANSLATIONS.mkdir(parents=True, exist_ok=True)
    for language in LANGUAGES:
        target = ts_path(language)
        subprocess.run(
            [tool("pyside6-lupdate"), "-no-obsolete", "-locations", "none", "-target-language", language]
            + files
            + ["-ts", str(target.relative_to(ROOT))],
            cwd=ROOT,
            check=True,
        )
        if fills:
            filled = fill(target, fills)
            print(f"{target.name}: {filled} translations filled in")


def fill(target: Path, fills: list[Path]) -> int:
    given: dict[tuple[str, str], str] = {}
    for path in fills:
        for entry in json.loads(path.read_text(encoding="utf-8")):
            given[(entry["context"], entry["source"])] = entry["translation"]
    tree = ElementTree.parse(target)
    filled = 0
    for context in tree.getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            text = given.get((name, message.findtext("source") or ""))
            if translation is not None and text is not None:
                translation.text = text
                translation.attrib.pop("type", None)
                filled += 1
    ElementTree.indent(tree)
    tree.write(target, encoding="utf-8", xml_declaration=True)
    return filled


def unfinished(target: Path) -> list[tuple[str, str]]:
    """(context, source) of each text without a translation."""
    missing = []
    for context in ElementTree.parse(target).getroot().iter("context"):
        for message in context.iter("message"):
            translation = message.find("translation")
            if translation is None or translation.get("type") == "unfinished" or not (translation.text or "").strip():
                missing.append((context.findtext("name") or "", message.findtext("source") or ""))
    return missing


def release() -> None:
    from PySide6.QtCore import QLibraryInfo  # only here: `check` runs without Qt's libraries

    qt_translations = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for language in LANGUAGES:
        source = ts_path(language)
        compiled = source.with_suffix(".qm")
        subprocess.run([tool("pyside6-lrelease"), "-silent", str(source), "-qm", str(compiled)], check=True)
        standard = Path(qt_translations) / f"qtbase_{language}.qm"
        if standard.exists():
            shutil.copyfile(standard, TRANSLATIONS / standard.name)


def check() -> int:
    status = 0
    for language in LANGUAGES:
        for context, source in unfinished(ts_path(language)):
            print(f"{language}: {context}: {source!r} has no translation")
            status = 1
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("update").add_argument("--fill", type=Path, action="append", default=[])
    commands.add_parser("release")
    commands.add_parser("check")
    args = parser.parse_args()
    if args.command == "update":
        update(args.fill)
    elif args.command == "release":
        release()
    else:
        return check()
    return 0


if __name__ == "__main__":
    sys.exit(main())
