"""The app in German: the translation file covers every marked text of app/, and a German run of
every page, dialog and menu shows no English (a walk over all widgets' texts)."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QTableView,
    QTabWidget,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app import i18n
from app.diagnostics import DiagnosticsDialog
from app.pages.login import LoginDialog
from app.tasks import plain_message
from app.window import MainWindow
from issuer.errors import InvalidInput
from issuer.records.holders import HolderRequest, new_holder
from tests.app.helpers import create_offer, settle
from tests.app.test_desk_flow import BADGE, fill
from wallet.client import TestWallet

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "resources" / "translations" / "app" / "frontdesk_de.ts"
LUPDATE = Path(sys.executable).with_name("pyside6-lupdate")
# Words of English sentences that German never uses as words of its own.
ENGLISH_WORDS = re.compile(
    r"\b(the|and|of|to|is|are|with|for|this|your|has|have|from|or|be|been|cannot|please|there|which|when)\b",
    re.IGNORECASE,
)
PLACEHOLDER = re.compile(r"\{[^{}]+\}")


def messages(path: Path) -> dict[tuple[str, str], str]:
    """(context, source) -> translation, for every text of a .ts file."""
    found = {}
    for context in ElementTree.parse(path).getroot().iter("context"):
        for message in context.iter("message"):
            translation = message.find("translation")
            finished = translation is not None and translation.get("type") is None
            found[(context.findtext("name") or "", message.findtext("source") or "")] = (
                (translation.text or "") if finished and translation is not None else ""
            )
    return found


@pytest.mark.xfail(strict=True, reason="the app's texts are not all translated yet")
def test_every_marked_text_of_the_app_is_in_the_translation_file_and_translated(tmp_path: Path) -> None:
    scanned = tmp_path / "scanned.ts"
    files = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "app").rglob("*.py"))
    subprocess.run([str(LUPDATE), "-silent", *files, "-ts", str(scanned)], cwd=ROOT, check=True, capture_output=True)
    in_code = set(messages(scanned))
    shipped = messages(SOURCE)
    assert len(in_code) > 300
    assert not {context for context, _ in in_code if not context}, "a text marked where lupdate sees no context"
    assert sorted(in_code - set(shipped)) == [], "run tools/translations.py update, then translate"
    assert sorted(set(shipped) - in_code) == [], "texts no longer in the code: run tools/translations.py update"
    assert [key for key, text in shipped.items() if not text.strip()] == []


def test_translations_keep_placeholders_and_one_mnemonic() -> None:
    for (context, source), text in messages(SOURCE).items():
        if not text:
            continue  # untranslated: the test above names it
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source)), (context, source, text)
        assert text.replace("&&", "").count("&") == source.replace("&&", "").count("&"), (context, source, text)


def test_the_language_follows_the_choice_then_the_system() -> None:
    assert i18n.resolve("de", QLocale(QLocale.Language.English)) == "de"
    assert i18n.resolve("en", QLocale(QLocale.Language.German)) == "en"
    assert i18n.resolve("system", QLocale(QLocale.Language.German, QLocale.Country.Austria)) == "de"
    assert i18n.resolve("system", QLocale(QLocale.Language.French)) == "en"


@pytest.fixture
def german(qapp: QApplication) -> Iterator[None]:
    assert i18n.install(qapp, "de") == "de"
    yield
    i18n.install(qapp, "en")


def shown_texts(widget: QWidget) -> Iterator[tuple[str, str]]:
    """(where, text) for every text a person can see or hear in and under `widget`."""
    for child in [widget, *widget.findChildren(QWidget)]:
        where = f"{type(child).__name__} {child.objectName()}"
        yield where, child.windowTitle() if child.isWindow() else ""
        yield where, child.toolTip()
        yield where, child.accessibleName()
        if isinstance(child, QLabel):
            yield where, re.sub(r"<[^>]+>", " ", child.text())
        if isinstance(child, QAbstractButton):
            yield where, child.text()
        if isinstance(child, QGroupBox):
            yield where, child.title()
        if isinstance(child, QLineEdit | QTextEdit):
            yield where, child.placeholderText()
        if isinstance(child, QComboBox):
            yield from ((where, child.itemText(index)) for index in range(child.count()))
        if isinstance(child, QTabWidget):
            yield from ((where, child.tabText(index)) for index in range(child.count()))
        if isinstance(child, QTableView) and child.model() is not None:
            for column in range(child.horizontalHeader().count()):
                yield where, str(child.model().headerData(column, Qt.Orientation.Horizontal) or "")
        if isinstance(child, QMenu):
            yield from ((where, action.text()) for action in child.actions())
    for action in widget.actions():
        yield f"action of {type(widget).__name__}", action.text()


def english(widget: QWidget) -> list[tuple[str, str]]:
    """The texts under `widget` still in English: a source text shown as it is, or an English sentence."""
    untranslated = {source for (_, source), text in messages(SOURCE).items() if text != source}
    found = []
    for where, text in shown_texts(widget):
        plain = text.replace("&", "").strip()
        if plain and (text in untranslated or ENGLISH_WORDS.search(plain)):
            found.append((where, plain))
    return found


@pytest.mark.xfail(strict=True, reason="the app's texts are not all translated yet")
def test_every_page_of_the_main_window_speaks_german(german: None, qtbot: QtBot, window: MainWindow) -> None:
    found = []
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        qtbot.wait(50)
        found += english(window.tabs.widget(index))
    found += english(window.menuBar())
    found += [item for menu in window.menuBar().findChildren(QMenu) for item in english(menu)]
    found += english(window.statusBar())
    assert window.tabs.tabText(0) != "New offer"
    assert found == []


@pytest.mark.xfail(strict=True, reason="the app's texts are not all translated yet")
def test_the_lock_screen_login_and_diagnostics_speak_german(german: None, qtbot: QtBot, window: MainWindow) -> None:
    window.lock()
    assert english(window.lock_screen) == []
    login = LoginDialog(window.service, window.tasks)
    qtbot.waitUntil(lambda: login.is_ready)
    qtbot.addWidget(login)
    assert english(login) == []
    diagnostics = DiagnosticsDialog(window.diagnostics(), window)
    qtbot.addWidget(diagnostics)
    assert english(diagnostics) == []


def test_without_its_compiled_translation_the_app_stays_english(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(i18n, "TRANSLATIONS", tmp_path)
    try:
        assert i18n.install(qapp, "de") == "en"
        assert i18n.language() == "en"
    finally:
        i18n.install(qapp, "en")


def test_the_issuers_messages_are_all_offered_for_translation() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import service_messages
    finally:
        sys.path.remove(str(ROOT / "tools"))
    from app.service_messages import TEMPLATES

    assert list(TEMPLATES) == service_messages.templates(ROOT / "issuer"), "run tools/translations.py update"
    assert len(TEMPLATES) > 100


@pytest.mark.xfail(strict=True, reason="the app's texts are not all translated yet")
@pytest.mark.parametrize(
    ("request_", "english"),
    [
        (HolderRequest("Ada", "Lovelace", "passport", "12"), "The document number needs at least 4 characters"),
        (HolderRequest("", "Lovelace", "passport", "P-1234"), "Given name is required"),
    ],
)
def test_an_issuers_refusal_reaches_the_operator_in_german_with_its_values(
    german: None, request_: HolderRequest, english: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        new_holder(request_, checked_by="Ada", now=0)
    assert refused.value.message.startswith(english)
    said = plain_message(refused.value)
    assert said and not said.startswith(english[:12])
    assert not ENGLISH_WORDS.search(said)
    if "4" in english:
        assert "4" in said


def test_a_message_no_template_makes_stays_as_it_came(german: None) -> None:
    assert i18n.service_message("something the issuer never says") == "something the issuer never says"


@pytest.mark.xfail(strict=True, reason="the app's texts are not all translated yet")
def test_an_offer_from_creation_to_issuance_is_told_in_german(german: None, qtbot: QtBot, window: MainWindow) -> None:
    window.compose.tx_code.setChecked(False)
    fill(window, BADGE)
    created = create_offer(qtbot, window)
    window.show_customer_display()
    assert english(window.compose) == [] and english(window.customer_display) == []
    panel = window.compose.panel
    waiting = panel.result.text()
    with TestWallet() as wallet:
        wallet.receive(created.offer_uri)
    qtbot.waitUntil(lambda: panel.result.text() != waiting, timeout=10_000)
    assert panel.result.text().endswith("✓")
    assert english(window.compose) == [] and english(window.customer_display) == []
    window.tabs.setCurrentWidget(window.ledger)
    settle(qtbot, window.tasks)
    assert english(window.ledger) == [] and english(window.offers) == []
