"""The admin API: the service's parts for the command line and remote desks, behind a bearer token.

It listens on its own port (loopback by default); the wallet-facing port serves no admin route.
Two tokens open it. The data folder's admin token (the command line on the issuer's machine) acts
as an admin, for the `operator` a body names (which must be an enabled operator) in the audit log.
An operator's login token from `POST /api/login` (a remote desk) acts as that operator, whatever
`operator` the body names, with the role the account has at each request: the service refuses an
operator-role account the admin actions (403), and a disabled account's tokens stop working.
"""

from __future__ import annotations

import hmac
import tempfile
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.wsgi import wrap_file

from issuer.endpoints import admin
from issuer.errors import Forbidden
from issuer.service import IssuerService
from issuer.service.actors import Acting, Actor
from issuer.storage.backup import BACKUP_NAME
from issuer.web.admin_accounts import add_account_routes
from issuer.web.admin_desk import add_desk_routes
from issuer.web.common import MAX_BODY_BYTES, NO_STORE, install_error_handlers, json_object, json_response
from issuer.web.event_feed import EventFeed
from issuer.web.guard import admin_guard

OPEN_ROUTES = ("/api/login",)  # the one route reached without a token: it gives one
# What a login token may reach while its account must choose a new password (an admin set it).
PASSWORD_CHANGE_ROUTES = ("/api/password", "/api/logout")


def create_admin_app(service: IssuerService, admin_token: str, feed: EventFeed | None = None) -> Flask:
    """`feed`: the event stream for remote desks (one is made when none is given); close it before
    stopping the server, so that open streams end."""
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    install_error_handlers(app)
    expected = f"Bearer {admin_token}".encode()
    offers, desk, ledger, sign_ins = service.offers, service.desk, service.ledger, service.sign_ins
    operators = service.operators

    feed = feed or EventFeed(service.events)
    app.extensions["event_feed"] = feed

    @app.before_request
    def require_token() -> Response | None:
        g.session = None
        if request.path in OPEN_ROUTES and request.method == "POST":
            return None
        presented = request.headers.get("Authorization", "")
        if hmac.compare_digest(presented.encode(), expected):
            return None
        session = service.logins.check(presented.removeprefix("Bearer ")) if presented.startswith("Bearer ") else None
        if session is None:
            return json_response(
                {
                    "error": "invalid_token",
                    "error_description": "the admin or login token is missing, wrong or expired",
                },
                401,
                {"WWW-Authenticate": 'Bearer realm="frontdesk-admin"'},
            )
        if session.must_change_password and request.path not in PASSWORD_CHANGE_ROUTES:
            raise Forbidden(f"{session.operator} must choose a new password first (POST /api/password)")
        g.session = session
        return None

    def actor(body: Mapping[str, Any]) -> Acting:
        """Who acts in an admin-only call: a login token's operator (the service reads their role), or
        the admin token, for the operator the body names."""
        return g.session.operator if g.session is not None else Actor(admin.operator_of(body))

    def acting(body: Mapping[str, Any]) -> str | None:
        """The name recorded for the desk's other actions: a login token's operator, or the one the
        body names, which must be an enabled operator."""
        return g.session.operator if g.session is not None else operators.acting(admin.operator_of(body))

    def signed(body: dict[str, Any]) -> dict[str, Any]:
        """The body with the acting operator in place of the one it names."""
        name = acting(body)
        return {**body, "operator": name} if name is not None else body

    add_account_routes(app, service, actor)
    add_desk_routes(app, service, actor, feed)

    @app.post("/api/offers")
    def create_offer() -> Response:
        return json_response(admin.create_offer(offers, signed(json_object())), 201, NO_STORE)

    @app.get("/api/offers")
    def list_offers() -> Response:
        states = request.args.getlist("state")
        return json_response({"offers": offers.live(states or None)})

    @app.get("/api/offers/<offer_id>")
    def offer_status(offer_id: str) -> Response:
        return json_response(offers.status(offer_id))

    def decision_body(allowed: tuple[str, ...] = admin.DECISION_FIELDS) -> dict[str, Any]:
        """An optional body of `operator` (and `reason`), nothing else."""
        body = json_object(optional=True)
        admin.known_fields(body, allowed)
        return body

    @app.post("/api/offers/<offer_id>/approve")
    def approve(offer_id: str) -> Response:
        return json_response(offers.approve(offer_id, acting(decision_body(("operator",)))))

    @app.post("/api/offers/<offer_id>/reject")
    def reject(offer_id: str) -> Response:
        body = decision_body()
        return json_response(offers.reject(offer_id, acting(body), admin.reason_of(body)))

    @app.post("/api/offers/<offer_id>/cancel")
    def cancel(offer_id: str) -> Response:
        """Cancel a live offer: its codes, issuer_state and access tokens stop working now."""
        return json_response(offers.cancel(offer_id, acting(decision_body(("operator",)))))

    @app.post("/api/holders")
    def register_holder() -> Response:
        return json_response(admin.register_holder(desk, signed(json_object())), 201, NO_STORE)

    @app.get("/api/holders")
    def search_holders() -> Response:
        return json_response({"holders": desk.search_holders(request.args.get("q", "")[:200])})

    @app.get("/api/audit")
    def audit_log() -> Response:
        operator = request.args.get("operator") or None
        if request.args.get("format") == "csv":
            return Response(desk.audit_csv(operator), mimetype="text/csv")
        return json_response({"entries": desk.audit_log(operator=operator)})

    @app.get("/api/authorizations")
    def pending_authorizations() -> Response:
        return json_response({"authorizations": sign_ins.pending()})

    @app.post("/api/authorizations/<auth_id>/approve")
    def approve_authorization(auth_id: str) -> Response:
        body = json_object(optional=True)
        claims, holder_id = admin.authorization_claims(body)
        return json_response(sign_ins.approve(auth_id, acting(body), claims, holder_id))

    @app.post("/api/authorizations/<auth_id>/deny")
    def deny_authorization(auth_id: str) -> Response:
        body = decision_body()
        return json_response(sign_ins.deny(auth_id, acting(body), admin.reason_of(body)))

    @app.get("/api/credentials")
    def find_credentials() -> Response:
        return json_response(
            {"credentials": ledger.find(admin.credential_query(request.args, service.credential_types))}
        )

    @app.get("/api/credentials/<record_id>")
    def credential_record(record_id: str) -> Response:
        return json_response(ledger.record(record_id))

    @app.post("/api/credentials/<record_id>/<any(revoke, suspend, unsuspend):action>")
    def change_credential_status(record_id: str, action: str) -> Response:
        body = decision_body()
        return json_response(ledger.change_status(record_id, action, actor(body), admin.reason_of(body)))

    @app.get("/api/credential-types")
    def credential_types() -> Response:
        return json_response(admin.credential_types(service.credential_types))

    @app.get("/api/backup")
    def backup_archive() -> Response:
        """The data folder as one tar.gz, taken consistently while the issuer runs (issuer.storage.backup)."""
        spool = tempfile.TemporaryFile()
        try:
            service.admin.backup(spool, operator=actor(request.args))
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
