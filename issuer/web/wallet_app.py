"""The wallet-facing Flask app: metadata, offers, token, nonce, credential, deferred, notification,
status lists and the sign-in pages. Views parse and render; the endpoints and the service decide."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse

from issuer.endpoints import (
    access,
    authorize,
    credential,
    deferred,
    metadata,
    nonce,
    notification,
    offer,
    status,
    token,
)
from issuer.endpoints.credential import CredentialReply
from issuer.errors import InvalidNotificationRequest, ProtocolError
from issuer.service import AccessGrant, IssuerService
from issuer.service.tokens import Tokens
from issuer.web.common import (
    MAX_BODY_BYTES,
    NO_STORE,
    form,
    install_error_handlers,
    json_object,
    json_response,
    single_values,
)
from issuer.web.guard import client_key, wallet_guard
from resources import resource_path

# On every wallet-facing response: CORS for browser wallets (the guard adds the security headers).
WALLET_HEADERS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Headers", "Authorization, Content-Type, DPoP"),
    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
    ("Access-Control-Expose-Headers", "WWW-Authenticate, DPoP-Nonce"),
    ("Access-Control-Max-Age", "600"),
]
PAR_HEADERS = {"Cache-Control": "no-cache, no-store", "Pragma": "no-cache"}  # RFC 9126 §2.2


def create_app(service: IssuerService) -> Flask:
    """The wallet-facing issuer, on the service's parts."""
    app = Flask(__name__, static_folder=None, template_folder=str(resource_path("templates")))
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    install_error_handlers(app)
    url, settings, types, keys = service.issuer_url, service.settings, service.credential_types, service.keys
    tokens, issuance, ctx = service.tokens, service.issuance, service.context
    pages = authorize.Pages(settings.issuer_name, url)
    documents = {
        metadata.CREDENTIAL_ISSUER: lambda: metadata.credential_issuer_metadata(url, settings, types),
        metadata.AUTHORIZATION_SERVER: lambda: metadata.authorization_server_metadata(url, settings, types),
        metadata.JWT_VC_ISSUER: lambda: metadata.jwt_vc_issuer_metadata(url, keys),
    }

    def version() -> tuple[int, str]:
        return types.version, keys.active.kid

    for segment, build in documents.items():
        path = metadata.well_known_path(url, segment)
        app.add_url_rule(path, endpoint=path, view_func=_document_view(build, version), methods=["GET"])
    app.add_url_rule("/jwks", endpoint="jwks", view_func=_document_view(keys.jwks, version), methods=["GET"])

    @app.get("/offers/<reference>")
    def credential_offer(reference: str) -> Response:
        return json_response(offer.credential_offer(service.offers, reference), headers=NO_STORE)

    @app.get("/status/<list_id>")
    def status_list(list_id: str) -> Response:
        body, media_type = status.status_list_response(service.ledger, list_id, request.accept_mimetypes)
        cache = {"Cache-Control": f"public, max-age={settings.status_list_ttl}", "Vary": "Accept"}
        if isinstance(body, dict):
            return json_response(body, headers={**cache, "Content-Type": media_type})
        return Response(body, mimetype=media_type, headers=cache)

    @app.post("/token")
    def token_endpoint() -> Response:
        body = form("the token request")
        proof = request.headers.get("DPoP")
        jkt = access.token_request_key(tokens, proof, f"{url}/token", required=settings.require_dpop)
        headers = {**NO_STORE, **({"DPoP-Nonce": tokens.dpop.new_nonce()} if tokens.dpop.require_nonce else {})}
        return json_response(token.token_response(tokens, body, jkt), headers=headers)

    @app.post("/par")
    def pushed_authorization_request() -> Response:
        body = authorize.pushed_authorization_response(
            service.sign_ins, form("a pushed authorization request"), client_key(request.remote_addr or "")
        )
        return json_response(body, 201, PAR_HEADERS)

    @app.get("/authorize")
    def authorization_endpoint() -> BaseResponse:
        params = single_values(request.args)
        return authorize.authorization_page(service.sign_ins, pages, params, client_key(request.remote_addr or ""))

    @app.get("/authorize/wait")
    def authorization_wait() -> BaseResponse:
        return authorize.waiting_page(service.sign_ins, pages, request.args.get("session", ""))

    page_css = resource_path("templates", "style.css").read_bytes()

    @app.get("/pages/style.css")
    def page_style() -> Response:
        return Response(page_css, mimetype="text/css", headers={"Cache-Control": "public, max-age=86400"})

    @app.post("/nonce")
    def nonce_endpoint() -> Response:
        return json_response(nonce.nonce_response(tokens), headers=NO_STORE)

    @app.post("/credential")
    def credential_endpoint() -> Response:
        grant = _access_grant(tokens, f"{url}/credential")
        try:
            reply = credential.credential_response(ctx, issuance, tokens, grant, json_object())
        except ProtocolError as error:
            issuance.refused(grant.offer_id, error.error, error.description)
            raise
        return _credential_reply(reply)

    @app.post("/deferred_credential")
    def deferred_endpoint() -> Response:
        grant = _access_grant(tokens, f"{url}/deferred_credential")
        return _credential_reply(deferred.deferred_credential_response(issuance, grant, json_object()))

    @app.post("/notification")
    def notification_endpoint() -> Response:
        grant = _access_grant(tokens, f"{url}/notification")
        notification.notification_response(issuance, grant, json_object(error=InvalidNotificationRequest))
        return Response(status=204, headers=NO_STORE)

    @app.get("/logos/<name>")
    def logo(name: str) -> Response:
        path = resource_path("logos", name)
        try:
            found = "/" not in name and "\\" not in name and not name.startswith(".") and path.is_file()
        except OSError:  # a name the file system refuses (ENAMETOOLONG): no such logo
            found = False
        if not found:
            return json_response({"error": "not_found"}, 404)
        mimetype = "image/svg+xml" if name.endswith(".svg") else "image/png"
        return Response(path.read_bytes(), mimetype=mimetype, headers={"Cache-Control": "public, max-age=86400"})

    @app.before_request
    def preflight() -> Response | None:
        """CORS preflight for browser wallets: no body, just the headers added below."""
        return Response(status=204) if request.method == "OPTIONS" and request.url_rule else None

    app.wsgi_app = _trusted_proxy(  # type: ignore[method-assign]
        _mounted_at(wallet_guard(app.wsgi_app, settings, url, WALLET_HEADERS), urlsplit(url).path.rstrip("/")),
        settings.trusted_proxies,
    )
    return app


def _access_grant(tokens: Tokens, url: str) -> AccessGrant:
    headers = request.headers
    return access.access_grant(tokens, headers.get("Authorization", ""), headers.get("DPoP"), request.method, url)


def _document_view(build: Callable[[], Any], version: Callable[[], Any]) -> Callable[[], BaseResponse]:
    """A GET view for a metadata document, serialized once per version of what it is built from."""
    cache: dict[str, Any] = {}

    def view() -> BaseResponse:
        current = version()
        if cache.get("version") != current:
            body = json.dumps(build(), separators=(",", ":")).encode()
            cache.update(version=current, body=body, etag=hashlib.sha256(body).hexdigest()[:32])
        # Cacheable, but revalidated on every use: a key rotation or new type shows at once.
        response = Response(cache["body"], mimetype="application/json", headers={"Cache-Control": "no-cache"})
        response.set_etag(cache["etag"])
        return response.make_conditional(request)

    return view


def _credential_reply(reply: CredentialReply) -> Response:
    if reply.jwe is None:
        return json_response(reply.body, reply.status, NO_STORE)
    return Response(reply.jwe, status=reply.status, mimetype="application/jwt", headers=NO_STORE)


def _mounted_at(wsgi_app: Callable[..., Any], prefix: str) -> Callable[..., Any]:
    """Serve an issuer whose identifier has a path (https://host/desk) behind a proxy that keeps it.

    Requests under the prefix are routed without it; the well-known documents are registered
    with the path appended, as OID4VCI §12.2.2 builds them, and need no stripping.
    """
    if not prefix:
        return wsgi_app

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith(prefix + "/"):
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
            environ["PATH_INFO"] = path[len(prefix) :]
        return wsgi_app(environ, start_response)

    return app


def _trusted_proxy(wsgi_app: Callable[..., Any], trusted: tuple[str, ...]) -> Callable[..., Any]:
    """Honour X-Forwarded-* only when the direct peer is a configured proxy."""
    if not trusted:
        return wsgi_app
    fixed = ProxyFix(wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REMOTE_ADDR") in trusted:
            return fixed(environ, start_response)
        return wsgi_app(environ, start_response)

    return app
