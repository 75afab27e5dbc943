"""The desk's language: Qt translators for the app's own texts and Qt's standard ones (dialog
buttons, context menus), chosen by the desk's setting or, by default, the system's languages.

Sources are `resources/translations/app/frontdesk_<language>.ts`, kept by
`tools/translations.py`; the app loads the `.qm` files compiled from them at install and
build time. English is the source language and needs no file. Module functions translate through
`translate("Context", "text")`, which `pyside6-lupdate` finds like a widget's `self.tr("text")`.
"""

from __future__ import annotations

import logging
import re
from functools import cache, partial
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

import resources

log = logging.getLogger(__name__)

translate = QCoreApplication.translate

SYSTEM = "system"
SOURCE_LANGUAGE = "en"
LANGUAGES = {"en": "English", "de": "Deutsch"}  # each in its own language, as a language menu shows them
TRANSLATIONS = Path(resources.__file__).parent / "translations" / "app"

_shown = SOURCE_LANGUAGE


def language() -> str:
    """The language the app shows now (a key of LANGUAGES): credential type names follow it."""
    return _shown


def resolve(choice: str, system: QLocale | None = None) -> str:
    """The language to show: the one chosen, else the first of the system's languages the app has."""
    if choice in LANGUAGES:
        return choice
    for name in (system or QLocale.system()).uiLanguages():
        primary = name.replace("_", "-").split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return SOURCE_LANGUAGE


def install(app: QCoreApplication, language: str) -> str:
    """Show the app in `language` (a key of LANGUAGES) from now on, numbers and dates included;
    returns the language installed, English when its translation cannot be loaded."""
    for old in app.findChildren(QTranslator):
        app.removeTranslator(old)
        old.deleteLater()
    if language != SOURCE_LANGUAGE:
        own = QTranslator(app)
        if not own.load(str(TRANSLATIONS / f"frontdesk_{language}.qm")):
            log.warning("no translation into %s in %s: the app stays in English", language, TRANSLATIONS)
            own.deleteLater()
            language = SOURCE_LANGUAGE
        else:
            app.installTranslator(own)
            standard = QTranslator(app)
            folders = (TRANSLATIONS, Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)))
            if any(standard.load(f"qtbase_{language}", str(folder)) for folder in folders):
                app.installTranslator(standard)
            else:
                standard.deleteLater()
    QLocale.setDefault(QLocale(language))
    global _shown
    _shown = language
    return language


VALUE = re.compile(r"\{[^{}]+\}")  # a value in a service message's template: {expression}


def service_message(message: str) -> str:
    """An issuer's refusal (English, from the service or a remote issuer's admin API) in the app's
    language: the message is matched against the issuer's templates, and its values are carried over."""
    if _shown == SOURCE_LANGUAGE:
        return message
    for template, pattern in _service_templates():
        match = pattern.fullmatch(message)
        if match is not None:
            values = dict(zip(VALUE.findall(template), match.groups(), strict=True))
            return VALUE.sub(partial(_value, values), translate("ServiceMessages", template))
    return message


def _value(values: dict[str, str], placeholder: re.Match[str]) -> str:
    return values.get(placeholder.group(0), placeholder.group(0))


@cache
def _service_templates() -> list[tuple[str, re.Pattern[str]]]:
    """Each template with the pattern of the messages it makes; the most literal text first, so
    that a template of mostly values does not take a message meant for a more specific one."""
    from app.service_messages import TEMPLATES

    def pattern(template: str) -> re.Pattern[str]:
        literals = VALUE.split(template)
        return re.compile("(.+?)".join(re.escape(literal) for literal in literals), re.DOTALL)

    return sorted(((str(t), pattern(str(t))) for t in TEMPLATES), key=lambda item: -len(VALUE.sub("", item[0])))
