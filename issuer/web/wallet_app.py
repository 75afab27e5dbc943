"""Flask apps: the wallet-facing issuer and the admin API. Views parse and render, nothing more.

Every error leaves as JSON with the spec's code: protocol errors from `issuer.errors`,
routing errors, oversized bodies (413), and, as a last resort, an unexpected failure,
which is logged with its traceback and answered without one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import tempfile
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wsgi import wrap_file

from issuer.endpoints import (
    access,
    admin,
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
from issuer.errors import (
    InvalidCredentialRequest,
    InvalidNotificationRequest,
    InvalidRequest,
    ProtocolError,
    ServiceError,
)
from issuer.protocol import wire_json
from issuer.protocol.encryption import encrypt_response
from issuer.service import IssuerService
from issuer.storage.backup import BACKUP_NAME
from issuer.web.guard import admin_guard, wallet_guard
from resources import resource_path

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# On every wallet-facing response: CORS for browser wallets (the guard adds the security headers).
WALLET_HEADERS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Headers", "Authorization, Content-Type, DPoP"),
    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
    ("Access-Control-Expose-Headers", "WWW-Authenticate, DPoP-Nonce"),
    ("Access-Control-Max-Age", "600"),
]


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    response = Response(json.dumps(body, separators=(",", ":")), status=status, mimetype="application/json")
    if headers:
        response.headers.update(headers)
    return response


def create_app(service: IssuerService) -> Flask:
    """The wallet-facing issuer: metadata, offers, token, nonce, credential, deferred, notification."""
    app = Flask(__name__, static_folder=None, template_folder=str(resource_path("templates")))
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    _install_error_handlers(app)
    url = service.issuer_url
    documents = {
        metadata.well_known_path(url, metadata.CREDENTIAL_ISSUER): lambda: metadata.credential_issuer_metadata(service),
        metadata.well_known_path(url, metadata.AUTHORIZATION_SERVER): lambda: metadata.authorization_server_metadata(
            service
        ),
        metadata.well_known_path(url, metadata.JWT_VC_ISSUER): lambda: metadata.jwt_vc_issuer_metadata(service),
        "/jwks": service.keys.jwks,
    }

    def version() -> tuple[int, str]:
        return id(service.credential_types), service.keys.active.kid

    for path, build in documents.items():
        app.add_url_rule(path, endpoint=path, view_func=_document_view(build, version), methods=["GET"])

    @app.get("/offers/<reference>")
    def credential_offer(reference: str) -> Response:
        return json_response(offer.credential_offer(service, reference), headers=NO_STORE)

    @app.get("/status/<list_id>")
    def status_list(list_id: str) -> Response:
        body, media_type = status.status_list_response(service, list_id, request.accept_mimetypes)
        cache = {"Cache-Control": f"public, max-age={service.settings.status_list_ttl}", "Vary": "Accept"}
        if isinstance(body, dict):
            return json_response(body, headers={**cache, "Content-Type": media_type})
        return Response(body, mimetype=media_type, headers=cache)

    @app.post("/token")
    def token_endpoint() -> Response:
        form = _form("the token request")
        jkt = access.token_request_key(service, request.headers, f"{url}/token")
        headers = {**NO_STORE, **({"DPoP-Nonce": service.dpop.new_nonce()} if service.dpop.require_nonce else {})}
        return json_response(token.token_response(service, form, jkt), headers=headers)

    @app.post("/par")
    def pushed_authorization_request() -> Response:
        body, status = authorize.pushed_authorization_response(service, _form("a pushed authorization request"))
        return json_response(body, status, {"Cache-Control": "no-cache, no-store", "Pragma": "no-cache"})

    @app.get("/authorize")
    def authorization_endpoint() -> Response:
        return authorize.authorization_page(service, _single_values(request.args))

    @app.get("/authorize/wait")
    def authorization_wait() -> Response:
        return authorize.waiting_page(service, request.args.get("session", ""))

    page_css = resource_path("templates", "style.css").read_bytes()

    @app.get("/pages/style.css")
    def page_style() -> Response:
        return Response(page_css, mimetype="text/css", headers={"Cache-Control": "public, max-age=86400"})

    @app.post("/nonce")
    def nonce_endpoint() -> Response:
        return json_response(nonce.nonce_response(service), headers=NO_STORE)

    @app.post("/credential")
    def credential_endpoint() -> Response:
        grant = access.access_grant(service, request.headers, "POST", f"{url}/credential")
        try:
            return _credential_reply(credential.credential_response(service, grant, _json_object()))
        except ProtocolError as error:
            service.credential_refused(grant.offer_id, error.error, error.description)
            raise

    @app.post("/deferred_credential")
    def deferred_endpoint() -> Response:
        grant = access.access_grant(service, request.headers, "POST", f"{url}/deferred_credential")
        return _credential_reply(deferred.deferred_credential_response(service, grant, _json_object()))

    @app.post("/notification")
    def notification_endpoint() -> Response:
        grant = access.access_grant(service, request.headers, "POST", f"{url}/notification")
        notification.notification_response(service, grant, _json_object(error=InvalidNotificationRequest))
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
        _mounted_at(wallet_guard(app.wsgi_app, service.settings, url, WALLET_HEADERS), urlsplit(url).path.rstrip("/")),
        service.settings.trusted_proxies,
    )
    return app


def create_admin_app(service: IssuerService, admin_token: str) -> Flask:
    """The admin API: the routes of IssuerService for the command line and remote desks."""
    app = Flask(__name__ + ".admin", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    _install_error_handlers(app)
    expected = f"Bearer {admin_token}".encode()

    @app.before_request
    def require_admin_token() -> Response | None:
        presented = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(presented, expected):
            return json_response(
                {"error": "invalid_token", "error_description": "the admin token is missing or wrong"},
                401,
                {"WWW-Authenticate": 'Bearer realm="frontdesk-admin"'},
            )
        return None

    @app.post("/api/offers")
    def create_offer() -> Response:
        return json_response(admin.create_offer(service, _json_object()), 201, NO_STORE)

    @app.get("/api/offers")
    def list_offers() -> Response:
        states = request.args.getlist("state")
        return json_response({"offers": service.list_offers(states or None)})

    @app.get("/api/offers/<offer_id>")
    def offer_status(offer_id: str) -> Response:
        return json_response(service.offer_status(offer_id))

    @app.post("/api/offers/<offer_id>/approve")
    def approve(offer_id: str) -> Response:
        return json_response(service.approve(offer_id, admin.operator_of(_json_object(optional=True))))

    @app.post("/api/offers/<offer_id>/reject")
    def reject(offer_id: str) -> Response:
        body = _json_object(optional=True)
        return json_response(service.reject(offer_id, admin.operator_of(body), admin.reason_of(body)))

    @app.post("/api/holders")
    def register_holder() -> Response:
        return json_response(admin.register_holder(service, _json_object()), 201, NO_STORE)

    @app.get("/api/holders")
    def search_holders() -> Response:
        return json_response({"holders": service.search_holders(request.args.get("q", "")[:200])})

    @app.get("/api/audit")
    def audit_log() -> Response:
        operator = request.args.get("operator") or None
        if request.args.get("format") == "csv":
            return Response(service.audit_csv(operator), mimetype="text/csv")
        return json_response({"entries": service.audit_log(operator=operator)})

    @app.get("/api/authorizations")
    def pending_authorizations() -> Response:
        return json_response({"authorizations": service.pending_authorizations()})

    @app.post("/api/authorizations/<auth_id>/approve")
    def approve_authorization(auth_id: str) -> Response:
        body = _json_object(optional=True)
        claims, holder_id = admin.authorization_claims(body)
        return json_response(service.approve_authorization(auth_id, admin.operator_of(body), claims, holder_id))

    @app.post("/api/authorizations/<auth_id>/deny")
    def deny_authorization(auth_id: str) -> Response:
        body = _json_object(optional=True)
        return json_response(service.deny_authorization(auth_id, admin.operator_of(body), admin.reason_of(body)))

    @app.get("/api/credentials")
    def find_credentials() -> Response:
        return json_response({"credentials": service.find_credentials(admin.credential_query(request.args))})

    @app.get("/api/credentials/<record_id>")
    def credential_record(record_id: str) -> Response:
        return json_response(service.credential_record(record_id))

    @app.post("/api/credentials/<record_id>/<any(revoke, suspend, unsuspend):action>")
    def change_credential_status(record_id: str, action: str) -> Response:
        body = _json_object(optional=True)
        return json_response(
            service.change_credential_status(record_id, action, admin.operator_of(body), admin.reason_of(body))
        )

    @app.get("/api/credential-types")
    def credential_types() -> Response:
        return json_response(admin.credential_types(service))

    @app.get("/api/backup")
    def backup_archive() -> Response:
        """The data folder as one tar.gz, taken consistently while the issuer runs (issuer.backup)."""
        spool = tempfile.TemporaryFile()
        try:
            service.backup(spool, operator=admin.operator_of(request.args))
            size = spool.tell()
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        headers = {"Content-Disposition": f'attachment; filename="{BACKUP_NAME}"', "Content-Length": str(size)}
        body = wrap_file(request.environ, spool)
        return Response(body, mimetype="application/gzip", headers=headers, direct_passthrough=True)

    app.wsgi_app = admin_guard(app.wsgi_app, service.settings)  # type: ignore[method-assign]
    return app


def _document_view(build: Callable[[], Any], version: Callable[[], Any]) -> Callable[[], Response]:
    """A GET view for a metadata document, serialized once per version of what it is built from."""
    cache: dict[str, Any] = {}

    def view() -> Response:
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
    if reply.encryption is None:
        return json_response(reply.body, reply.status, NO_STORE)
    jwe = encrypt_response(reply.body, reply.encryption)
    return Response(jwe, status=reply.status, mimetype="application/jwt", headers=NO_STORE)


def _form(what: str) -> dict[str, str]:
    """A form-encoded body, each parameter once (RFC 6749 §3.1: repeated parameters are an error)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise InvalidRequest(f"{what} must be application/x-www-form-urlencoded")
    return _single_values(request.form)


def _single_values(values: Any) -> dict[str, str]:
    repeated = [name for name in values if len(values.getlist(name)) > 1]
    if repeated:
        raise InvalidRequest(f"parameters must not be repeated: {', '.join(sorted(repeated))[:100]}")
    return values.to_dict()


def _json_object(*, optional: bool = False, error: type[ProtocolError] = InvalidCredentialRequest) -> dict[str, Any]:
    """The request body as a JSON object, or `error`: the endpoint's own code for a malformed
    request (invalid_credential_request at the Credential endpoint, §8.3.1.2)."""
    if optional and not request.get_data(cache=True):
        return {}
    if request.mimetype != "application/json":
        raise error("the request body must be application/json")
    try:
        body = wire_json.loads(request.get_data(cache=True))
    except (ValueError, UnicodeDecodeError) as failure:
        raise error("the request body is not valid JSON") from failure
    if not isinstance(body, dict):
        raise error("the request body must be a JSON object")
    return body


def _install_error_handlers(app: Flask) -> None:
    # Werkzeug answers a path with '//' by a redirect with an HTML body, past the handlers below.
    app.url_map.merge_slashes = False

    @app.before_request
    def limit_body() -> None:
        """Refuse an oversized body before anything else looks at the request."""
        if (request.content_length or 0) > MAX_BODY_BYTES:
            raise RequestEntityTooLarge()

    @app.errorhandler(ProtocolError)
    def protocol_error(error: ProtocolError) -> Response:
        headers = {**NO_STORE, **error.headers}
        if error.status == 401:
            challenge = f'{error.scheme} error="{error.error}", error_description="{error.description}"'
            headers["WWW-Authenticate"] = challenge
        return json_response(error.body(), error.status, headers)

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError) -> Response:
        return json_response({"error": error.code, "error_description": error.message}, error.status, NO_STORE)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> Response:
        return json_response(
            {"error": "invalid_request", "error_description": f"the body is larger than {MAX_BODY_BYTES} bytes"},
            413,
            NO_STORE,
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        code = (error.name or "error").lower().replace(" ", "_")
        headers = dict(error.get_headers())
        headers.pop("Content-Type", None)
        return json_response({"error": code}, error.code or 400, headers)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        # The route's rule, not the path: an offer path carries a secret.
        log.exception("unexpected error on %s %s", request.method, request.url_rule or "(no route)")
        return json_response({"error": "server_error"}, 500, NO_STORE)


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
