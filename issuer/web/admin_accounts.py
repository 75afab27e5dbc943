"""Admin routes of the accounts: a remote desk's login, lock and own password; the operator accounts.

A login token acts as its operator with the role the account has now (issuer.service.logins); the
folder's admin token acts as an admin for the `operator` a body names. Each route only parses and
renders; the service's parts decide, and refuse an operator-role account the admin actions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, g, request

from issuer.endpoints import admin, admin_operators
from issuer.errors import Forbidden, InvalidInput
from issuer.service import IssuerService
from issuer.service.actors import Acting
from issuer.service.logins import LoginSession
from issuer.web.common import NO_STORE, json_object, json_response

ActorOf = Callable[[Mapping[str, Any]], Acting]


def presented_token() -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ")


def desk_session(what: str) -> LoginSession:
    """The login token's session: `what` is a desk's own, not the admin token's."""
    session: LoginSession | None = g.session
    if session is None:
        raise Forbidden(f"{what} is for a desk's login token, not the admin token")
    return session


def add_account_routes(app: Flask, service: IssuerService, actor: ActorOf) -> None:
    logins, operators = service.logins, service.operators

    @app.post("/api/login")
    def login() -> Response:
        body = admin.known_fields(json_object(), ("operator", "password"))
        return json_response(logins.open(body.get("operator"), body.get("password")), 200, NO_STORE)

    @app.post("/api/logout")
    def logout() -> Response:
        return json_response({"logged_out": logins.close(presented_token())}, 200, NO_STORE)

    @app.post("/api/lock")
    def lock() -> Response:
        """The desk covered its pages: recorded under its operator."""
        session = desk_session("locking")
        body = admin.known_fields(json_object(optional=True), ("automatic",))
        automatic = body.get("automatic", False)
        if not isinstance(automatic, bool):
            raise InvalidInput("automatic must be true or false")
        operators.record_lock(session.operator, automatic)
        return json_response({"locked_by": session.operator})

    @app.post("/api/unlock")
    def unlock() -> Response:
        """The operator who locked the desk, or an admin, types their password. An admin's unlock ends
        the other's token and answers a new one for the admin."""
        session = desk_session("unlocking")
        body = admin.known_fields(json_object(), admin_operators.UNLOCK_FIELDS)
        name, password = admin_operators.text(body, "operator"), admin_operators.text(body, "password")
        account = operators.unlock(session.operator, name, password)
        if account.name == session.operator:
            return json_response({**account.to_json(), "token": None}, 200, NO_STORE)
        logins.close(presented_token(), audited=False)  # the service recorded the other's logout
        return json_response({**account.to_json(), **logins.issue(account)}, 200, NO_STORE)

    @app.post("/api/password")
    def change_own_password() -> Response:
        session = desk_session("changing one's own password")
        return json_response(admin_operators.change_own_password(operators, session.operator, json_object()))

    @app.get("/api/operators")
    def list_operators() -> Response:
        return json_response(admin_operators.list_operators(operators, actor(request.args)))

    @app.post("/api/operators")
    def add_operator() -> Response:
        body = json_object()
        return json_response(admin_operators.add_operator(operators, actor(body), body), 201, NO_STORE)

    @app.post("/api/operators/<path:name>/<any(enable, disable):action>")
    def enable_operator(name: str, action: str) -> Response:
        body = json_object(optional=True)
        return json_response(admin_operators.set_enabled(operators, actor(body), name, action == "enable", body))

    @app.post("/api/operators/<path:name>/reset-password")
    def reset_password(name: str) -> Response:
        body = json_object()
        return json_response(admin_operators.reset_password(operators, actor(body), name, body), 200, NO_STORE)

    @app.post("/api/operators/<path:name>/role")
    def change_role(name: str) -> Response:
        body = json_object()
        return json_response(admin_operators.set_role(operators, actor(body), name, body))
