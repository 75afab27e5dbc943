"""Authorization endpoint, its waiting page, and the PAR endpoint (OID4VCI §5, RFC 9126).

The pages are small HTML without JavaScript: the waiting page refreshes itself and has a
link to check again. An error is either sent back to the wallet as redirect parameters or,
while the client or its redirect URI is not trusted, shown on a page (RFC 6749 §4.1.2.1);
a page never shows more than the error's description.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import Response, redirect, render_template
from werkzeug.wrappers import Response as BaseResponse

from issuer.endpoints.page_texts import PageTexts
from issuer.errors import AuthorizationError
from issuer.protocol.client_attestation import ClientAttestations
from issuer.service.sign_ins import SignIns

PAGE_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}
REFRESH_SECONDS = 3


@dataclass(frozen=True)
class Pages:
    """What the pages show of the issuer: its name, where the page's links point, and the texts in the
    browser's language."""

    issuer_name: str
    issuer_url: str
    texts: PageTexts

    def context(self, language: str) -> dict[str, str]:
        return {
            "issuer_name": self.issuer_name,
            "style_url": f"{self.issuer_url}/pages/style.css",
            "page_language": language,
        }

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        language = self.texts.language()
        html = render_template(template, **values, **self.context(language))
        headers = {**PAGE_HEADERS, **self.texts.headers(language)}
        return Response(html, status=status, mimetype="text/html", headers=headers)


def pushed_authorization_response(
    sign_ins: SignIns,
    attestations: ClientAttestations,
    form: Mapping[str, str],
    client: str,
    attestation: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The request_uri and its lifetime (RFC 9126 §2.2); a refusal raises, and is answered as the token
    endpoint answers errors, with 400 for invalid_client too: a public client sends no credentials a 401
    could challenge (RFC 6749 §5.2). A wallet attestation authenticates the wallet as at the token
    endpoint (HAIP 1.0 §4.3), a failed one with 401 `invalid_client`; its `sub` must be the client_id.
    `client` is the address the request came from."""
    attestations.verify(attestation or {}, form.get("client_id", ""))
    request_uri, expires_in = sign_ins.push(form, client)
    return {"request_uri": request_uri, "expires_in": expires_in}


def authorization_page(sign_ins: SignIns, pages: Pages, params: Mapping[str, str], client: str) -> BaseResponse:
    """`GET /authorize` from `client` (an address): the waiting page for a good request; for a bad one,
    the error."""
    try:
        progress = sign_ins.start(params, client)
    except AuthorizationError as error:
        location = sign_ins.error_location(params, error)
        return _to(location) if location else error_page(pages, error.description)
    return _waiting_page(pages, progress.confirmation or "", progress.session or "")


def waiting_page(sign_ins: SignIns, pages: Pages, session: str) -> BaseResponse:
    """`GET /authorize/wait`: still waiting, or back to the wallet with a code or an error."""
    try:
        progress = sign_ins.progress(session[:200])
    except AuthorizationError as error:
        return error_page(pages, error.description)
    if progress.location:
        return _to(progress.location)
    return _waiting_page(pages, progress.confirmation or "", session)


def error_page(pages: Pages, message: str, status: int = 400) -> Response:
    return pages.render("authorize_error.html", status, message=pages.texts.translate(message))


def _waiting_page(pages: Pages, confirmation: str, session: str) -> Response:
    wait_url = f"{pages.issuer_url}/authorize/wait?session={quote(session, safe='')}"
    return pages.render(
        "authorize_wait.html", confirmation=confirmation, wait_url=wait_url, refresh_seconds=REFRESH_SECONDS
    )


def _to(location: str) -> BaseResponse:
    response = redirect(location, code=303)
    response.headers.update(PAGE_HEADERS)
    return response
