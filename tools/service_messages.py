"""The issuer's refusals as templates the desktop app can translate.

The service speaks English to every client (the admin API, the command line, the app), so its
messages are not marked for Qt. This reads issuer/ for the messages its errors are raised with
(ServiceError and its kinds, SettingsError): a literal as it is, an f-string with each value shown
as `{expression}`. `tools/translations.py update` writes them to app/service_messages.py, where
pyside6-lupdate finds them like any marked text, and app.i18n matches a message against them.
"""

from __future__ import annotations

import ast
from pathlib import Path

ERRORS = {
    "ServiceError",
    "InvalidInput",
    "NotFound",
    "Conflict",
    "Forbidden",
    "Unauthenticated",
    "Throttled",
    "TooManyStreams",
    "NotAnIssuer",
    "SettingsError",
}
MIN_WORDS = 2  # a template that is mostly values ("{label} {error}") would match anything


def template(node: ast.expr) -> str | None:
    """The message of an error's first argument, None when it is not written out in the call."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                parts.append("{" + ast.unparse(value.value) + "}")
        return "".join(parts)
    return None


def words(text: str) -> int:
    literal = "".join(part.split("}", 1)[-1] for part in text.split("{"))
    return sum(1 for word in literal.split() if any(letter.isalpha() for letter in word))


def templates(folder: Path) -> list[str]:
    found: set[str] = set()
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ERRORS and node.args:
                text = template(node.args[0])
                if text and words(text) >= MIN_WORDS:
                    found.add(text)
    return sorted(found)


def module(found: list[str]) -> str:
    lines = [
        '"""The issuer\'s refusals, for translation: written by tools/translations.py update, do not edit."""',
        "",
        "from PySide6.QtCore import QT_TRANSLATE_NOOP",
        "",
        "TEMPLATES = (",
        *(f'    QT_TRANSLATE_NOOP("ServiceMessages", {text!r}),' for text in found),
        ")",
        "",
    ]
    return "\n".join(lines)
