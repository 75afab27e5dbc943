"""Authorization endpoint, its waiting page, and the PAR endpoint (OID4VCI §5, RFC 9126).

The pages are small HTML without JavaScript: the waiting page refreshes itself and has a
link to check again. An error is either sent back to the wallet as redirect parameters or,
while the client or its redirect URI is not trusted, shown on a page (RFC 6749 §4.1.2.1);
a page never shows more than the error's description.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from flask import Response, redirect, render_template

from issuer.protocol.authorization import AuthorizationError
from issuer.service import IssuerService

PAGE_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}
REFRESH_SECONDS = 3


def pushed_authorization_response(service: IssuerService, form: Mapping[str, str]) -> tuple[dict[str, Any], int]:
    """201 with the request_uri and its lifetime, or the error as the token endpoint gives it (RFC 9126 §2.3)."""
    try:
        request_uri, expires_in = service.push_authorization_request(form)
    except AuthorizationError as error:
        # 400 for invalid_client too: a public client sends no credentials a 401 could challenge (RFC 6749 §5.2)
        return {"error": error.error, "error_description": error.description}, 400
    return {"request_uri": request_uri, "expires_in": expires_in}, 201


def authorization_page(service: IssuerService, params: Mapping[str, str]) -> Response:
    """`GET /authorize`: the waiting page for a good request; for a bad one, the error."""
    try:
        progress = service.start_authorization(params)
    except AuthorizationError as error:
        location = service.authorization_error_location(params, error)
        return _to(location) if location else error_page(service, error.description)
    return _waiting_page(service, progress.confirmation or "", progress.session or "")


def waiting_page(service: IssuerService, session: str) -> Response:
    """`GET /authorize/wait`: still waiting, or back to the wallet with a code or an error."""
    try:
        progress = service.authorization_progress(session[:200])
    except AuthorizationError as error:
        return error_page(service, error.description)
    if progress.location:
        return _to(progress.location)
    return _waiting_page(service, progress.confirmation or "", session)


def error_page(service: IssuerService, message: str, status: int = 400) -> Response:
    html = render_template("authorize_error.html", message=message, **_page_context(service))
    return Response(html, status=status, mimetype="text/html", headers=PAGE_HEADERS)


def _waiting_page(service: IssuerService, confirmation: str, session: str) -> Response:
    wait_url = f"{service.issuer_url}/authorize/wait?session={quote(session, safe='')}"
    html = render_template(
        "authorize_wait.html",
        confirmation=confirmation,
        wait_url=wait_url,
        refresh_seconds=REFRESH_SECONDS,
        **_page_context(service),
    )
    return Response(html, mimetype="text/html", headers=PAGE_HEADERS)


def _to(location: str) -> Response:
    response = redirect(location, code=303)
    response.headers.update(PAGE_HEADERS)
    return response


def _page_context(service: IssuerService) -> dict[str, str]:
    return {"issuer_name": service.settings.issuer_name, "style_url": f"{service.issuer_url}/pages/style.css"}
