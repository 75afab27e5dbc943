"""The sign-in pages a wallet's browser shows follow its Accept-Language: German when it comes first,
English otherwise; and every text a page can show has its German."""

from __future__ import annotations

import ast
import html
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from tests.conftest import RunningIssuer
from wallet.client import Session
from wallet.code_flow import Authorization, CodeFlowWallet
from wallet.transport import HttpResponse

ROOT = Path(__file__).resolve().parents[2]
GERMAN = ROOT / "resources" / "translations" / "pages" / "de.po"
# The modules whose authorization errors can end on a page (those that cannot be sent back to the wallet).
PAGE_MESSAGE_SOURCES = [ROOT / "issuer" / "protocol" / "authorization.py", ROOT / "issuer" / "service" / "sign_ins.py"]


@pytest.fixture
def wallet() -> Iterator[CodeFlowWallet]:
    with CodeFlowWallet() as client:
        yield client


@pytest.fixture
def waiting(issuer: RunningIssuer, wallet: CodeFlowWallet) -> Authorization:
    session = wallet.authorization_session(issuer.url, ["employee_badge"])
    return wallet.start(session, config_ids=["employee_badge"])


def page(wallet: CodeFlowWallet, url: str, accept_language: str | None) -> HttpResponse:
    headers = {"Accept-Language": accept_language} if accept_language is not None else {}
    return wallet.request("GET", url, headers=headers)


def german_catalogue() -> dict[str, str]:
    with GERMAN.open("rb") as file:
        return {str(message.id): str(message.string) for message in read_po(file) if message.id}


def test_the_waiting_page_is_german_for_a_german_browser(wallet: CodeFlowWallet, waiting: Authorization) -> None:
    assert waiting.wait_url and waiting.confirmation
    answer = page(wallet, waiting.wait_url, "de-DE,de;q=0.9,en;q=0.5")
    text = html.unescape(answer.body.decode())
    assert answer.status == 200
    assert answer.headers["content-language"] == "de" and "Accept-Language" in answer.headers["vary"]
    assert '<html lang="de">' in text
    assert "<h1>Zeigen Sie diesen Code am Schalter vor</h1>" in text
    assert f'aria-label="Bestätigungscode: {" ".join(waiting.confirmation)}"' in text
    assert ">Erneut prüfen</a>" in text
    assert "Show this code" not in text and "Check again" not in text


@pytest.mark.parametrize("accept_language", [None, "fr-FR,fr;q=0.9", "en-GB,de;q=0.5", "*"])
def test_the_waiting_page_is_english_otherwise(
    wallet: CodeFlowWallet, waiting: Authorization, accept_language: str | None
) -> None:
    assert waiting.wait_url
    answer = page(wallet, waiting.wait_url, accept_language)
    text = answer.body.decode()
    assert answer.headers["content-language"] == "en"
    assert '<html lang="en">' in text and "<h1>Show this code at the desk</h1>" in text


def test_an_error_page_says_the_error_in_german(issuer: RunningIssuer, wallet: CodeFlowWallet) -> None:
    answer = page(wallet, f"{issuer.url}/authorize/wait?session=forged.session", "de")
    text = html.unescape(answer.body.decode())
    assert answer.status == 400 and answer.headers["content-language"] == "de"
    assert "<h1>Diese Anmeldung kann nicht fortgesetzt werden</h1>" in text
    assert "Diese Anmeldung ist unbekannt oder schon beendet." in text
    assert "oder bitten Sie am Schalter um Hilfe." in text
    assert "cannot continue" not in text and "unknown or finished" not in text


def test_a_refused_redirect_uri_is_explained_in_german(issuer: RunningIssuer, wallet: CodeFlowWallet) -> None:
    session: Session = wallet.authorization_session(issuer.url, ["employee_badge"])
    wallet.fetch_as_metadata(session)
    params, _ = wallet.authorization_parameters(
        session, config_ids=["employee_badge"], redirect_uri="ms-excel:ofe|u|https://evil.example/x"
    )
    url = f"{session.as_metadata['authorization_endpoint']}?{urlencode(params)}"
    text = html.unescape(page(wallet, url, "de").body.decode())
    assert "verlangt, dass die Wallet beim Aussteller registriert ist" in text
    assert "registered" not in text


def test_every_template_text_has_its_german() -> None:
    catalogue = german_catalogue()
    checked = 0
    for template in sorted((ROOT / "resources" / "templates").glob("*.html")):
        with template.open("rb") as file:
            found = [message for _, _, message, _ in babel_extract(file, ("_",), [], {})]
        texts = [message[0] if isinstance(message, tuple) else message for message in found]
        for text in texts:
            assert catalogue.get(text), f"{template.name}: {text!r} has no German"
        checked += len(texts)
    assert checked >= 8


def test_every_message_a_page_can_show_has_its_german() -> None:
    """Each fixed description of an AuthorizationError in the sign-in modules (a new one fails here)."""
    catalogue = german_catalogue()
    messages = []
    for source in PAGE_MESSAGE_SOURCES:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "AuthorizationError":
                description = node.args[1] if len(node.args) > 1 else None
                if isinstance(description, ast.Constant) and isinstance(description.value, str):
                    messages.append(description.value)
    assert len(messages) >= 20
    untranslated = [message for message in messages if not catalogue.get(message)]
    assert untranslated == []
