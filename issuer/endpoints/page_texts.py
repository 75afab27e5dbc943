"""The sign-in pages in the holder's language: English, or German when the browser prefers it.

The templates and the messages a page can show are written in English; `resources/translations/pages/de.po`
holds their German. Babel reads the catalogue when the app is made, so there is no compiled file to keep
in step with it. A text the catalogue lacks stays English, and the page still says everything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from flask import Flask, request

SOURCE_LANGUAGE = "en"


class PageTexts:
    """The translations of the pages' texts, by language."""

    def __init__(self, folder: Path) -> None:
        self._catalogues: dict[str, dict[str, str]] = {SOURCE_LANGUAGE: {}}
        for path in sorted(folder.glob("*.po")):
            with path.open("rb") as file:
                catalogue = read_po(file)
            self._catalogues[path.stem] = {
                str(message.id): str(message.string) for message in catalogue if message.id and message.string
            }
        self.languages = tuple(self._catalogues)

    def language(self) -> str:
        """The language of the page being rendered: the first of the browser's Accept-Language, by quality,
        that the pages speak, any region of it included (en-GB is English, de-AT German)."""
        for value, _quality in request.accept_languages:
            primary = value.partition("-")[0].lower()
            if primary in self.languages:
                return primary
        return SOURCE_LANGUAGE

    def translate(self, message: str, language: str | None = None) -> str:
        return self._catalogues.get(language or self.language(), {}).get(message, message)

    def install(self, app: Flask) -> None:
        """`{{ _("...") }}` in the app's templates, in the language of each request."""
        app.jinja_env.add_extension("jinja2.ext.i18n")

        def ngettext(singular: str, plural: str, count: int) -> str:
            return self.translate(singular if count == 1 else plural)

        app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
            gettext=self.translate, ngettext=ngettext, newstyle=True
        )

    def headers(self, language: str) -> dict[str, Any]:
        return {"Content-Language": language, "Vary": "Accept-Language"}
