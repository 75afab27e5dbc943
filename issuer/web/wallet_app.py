"""The wallet-facing Flask app: metadata, offers, token, nonce, challenge, credential, deferred,
notification, status lists and the sign-in pages. Views parse and render; the endpoints and the service
decide."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse

from issuer.crypto.keys import IssuerKey
from issuer.endpoints import (
    access,
    authorize,
    challenge,
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
from issuer.endpoints.page_texts import PageTexts
from issuer.errors import InvalidNotificationRequest, ProtocolError
from issuer.protocol.client_attestation import ATTESTATION_HEADER, POP_HEADER
from issuer.protocol.encryption import REQUEST_MEDIA_TYPE, RequestEncryption
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
    ("Access-Control-Allow-Headers", f"Authorization, Content-Type, DPoP, {ATTESTATION_HEADER}, {POP_HEADER}"),
    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
    ("Access-Control-Expose-Headers", "WWW-Authenticate, DPoP-Nonce, OAuth-Client-Attestation-Challenge"),
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
    encryption, attestations = service.request_encryption, service.tokens.attestations
    pages = authorize.Pages(settings.issuer_name, url, PageTexts(resource_path("translations", "pages")))
    pages.texts.install(app)

    def issuer_metadata() -> dict[str, Any]:
        return metadata.credential_issuer_metadata(url, settings, types, encryption)

    documents = {
        metadata.AUTHORIZATION_SERVER: lambda: metadata.authorization_server_metadata(
            url, settings, types, attestations
        ),
        metadata.JWT_VC_ISSUER: lambda: metadata.jwt_vc_issuer_metadata(url, keys),
    }

    def version() -> tuple[Any, ...]:
        request_key = encryption.keys.active if encryption.keys else None
        return types.version, keys.active.kid, keys.active.x5c, request_key.kid if request_key else None

    for segment, build in documents.items():
        path = metadata.well_known_path(url, segment)
        app.add_url_rule(path, endpoint=path, view_func=_document_view(build, version), methods=["GET"])
    app.add_url_rule("/jwks", endpoint="jwks", view_func=_document_view(keys.jwks, version), methods=["GET"])
    issuer_path = metadata.well_known_path(url, metadata.CREDENTIAL_ISSUER)
    signed = _signed_document(issuer_metadata, version, lambda: keys.active, ctx.now)
    json_view = _document_view(issuer_metadata, version)

    @app.get(issuer_path, endpoint=issuer_path)
    def credential_issuer_metadata() -> BaseResponse:
        """JSON, or signed (§12.2.3) for a wallet that prefers `application/jwt`, once there is a chain."""
        wanted = metadata.prefers_signed(request.accept_mimetypes) and keys.active.x5c
        response = signed() if wanted else json_view()
        response.headers["Vary"] = "Accept"
        return response

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
        return json_response(token.token_response(tokens, body, jkt, _attestation_headers()), headers=headers)

    @app.post("/par")
    def pushed_authorization_request() -> Response:
        body = authorize.pushed_authorization_response(
            service.sign_ins,
            attestations,
            form("a pushed authorization request"),
            client_key(request.remote_addr or ""),
            _attestation_headers(),
        )
        return json_response(body, 201, PAR_HEADERS)

    @app.post("/challenge")
    def challenge_endpoint() -> Response:
        return json_response(challenge.challenge_response(attestations), headers=NO_STORE)

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
        """A `c_nonce`, and a fresh `DPoP-Nonce` for the wallet's next DPoP proof (HAIP 1.0 §4)."""
        headers = {**NO_STORE, "DPoP-Nonce": tokens.dpop.new_nonce()}
        return json_response(nonce.nonce_response(tokens), headers=headers)

    @app.post("/credential")
    def credential_endpoint() -> Response:
        grant = _access_grant(tokens, f"{url}/credential")
        try:
            body = _credential_request(encryption)
            reply = credential.credential_response(ctx, issuance, tokens, grant, body, service.trust_anchors)
        except ProtocolError as error:
            issuance.refused(grant.offer_id, error.error, error.description)
            raise
        return _credential_reply(reply)

    @app.post("/deferred_credential")
    def deferred_endpoint() -> Response:
        grant = _access_grant(tokens, f"{url}/deferred_credential")
        body = _credential_request(encryption)
        return _credential_reply(deferred.deferred_credential_response(issuance, grant, body))

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


def _attestation_headers() -> dict[str, list[str]]:
    return {name: request.headers.getlist(name) for name in (ATTESTATION_HEADER, POP_HEADER)}


def _credential_request(encryption: RequestEncryption) -> dict[str, Any]:
    """A (Deferred) Credential Request's body: JSON, or a JWE to one of the issuer's keys (§10)."""
    if request.mimetype == REQUEST_MEDIA_TYPE:
        return credential.encrypted_request(encryption, request.get_data(cache=True))
    body = json_object()
    credential.check_plain_request(encryption, body)
    return body


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


def _signed_document(
    build: Callable[[], dict[str, Any]],
    version: Callable[[], Any],
    signer: Callable[[], IssuerKey],
    now: Callable[[], int],
) -> Callable[[], BaseResponse]:
    """A GET view for the signed Credential Issuer metadata, signed again when what it is built from
    changes or half its lifetime has passed."""
    cache: dict[str, Any] = {}

    def view() -> BaseResponse:
        current, signed_at = version(), now()
        if cache.get("version") != current or signed_at - cache["at"] >= metadata.SIGNED_METADATA_LIFETIME // 2:
            cache.update(version=current, at=signed_at, body=metadata.signed_metadata(build(), signer(), signed_at))
        return Response(cache["body"], mimetype=metadata.SIGNED_MEDIA_TYPE, headers={"Cache-Control": "no-cache"})

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
