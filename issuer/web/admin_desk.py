"""Admin routes a remote desk needs beyond the command line's: live events, and what the pages show
(settings, keys, certificates, credential type definitions, the store's health).

Each route only parses and renders; the service's parts decide, as for every admin route.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from flask import Flask, Response, request

from issuer.endpoints import admin
from issuer.errors import InvalidInput
from issuer.protocol.credential_types import CredentialTypeError, read_documents
from issuer.service import IssuerService
from issuer.service.actors import Acting
from issuer.web.common import json_object, json_response
from issuer.web.event_feed import EventFeed, stream_headers

# What the desk's pages show of the settings; nothing secret (no store URL, no passphrase file).
DESK_SETTINGS = (
    "public_url",
    "issuer_name",
    "port",
    "admin_port",
    "offer_ttl",
    "holder_retention_days",
    "lock_after_minutes",
    "require_par",
    "require_dpop",
    "profile",
)
SAVABLE_SETTINGS = (
    "public_url",
    "port",
    "admin_port",
    "holder_retention_days",
    "lock_after_minutes",
    "require_par",
    "require_dpop",
    "profile",
)

ActorOf = Callable[[Mapping[str, Any]], Acting]


def desk_settings(service: IssuerService) -> dict[str, Any]:
    settings = service.settings
    shown = {name: getattr(settings, name) for name in DESK_SETTINGS}
    return {**shown, "data_dir": str(settings.data_dir), "issuer_url": service.issuer_url}


def add_desk_routes(app: Flask, service: IssuerService, actor: ActorOf, feed: EventFeed) -> None:
    administration = service.admin

    @app.get("/api/events")
    def event_stream() -> Response:
        stream = feed.open_stream(request.headers.get("Last-Event-ID"))
        return Response(stream, mimetype="text/event-stream", headers=stream_headers(), direct_passthrough=True)

    @app.get("/api/settings")
    def settings() -> Response:
        return json_response(desk_settings(service))

    @app.post("/api/settings")
    def save_settings() -> Response:
        body = json_object()
        changes = dict(admin.known_fields(body, (*SAVABLE_SETTINGS, "operator")))
        changes.pop("operator", None)
        saved = administration.save_settings(changes, actor(body))
        return json_response({name: getattr(saved, name) for name in DESK_SETTINGS})

    @app.post("/api/public-url/check")
    def check_public_url() -> Response:
        body = admin.known_fields(json_object(optional=True), ("url",))
        url = body.get("url")
        if url is not None and not isinstance(url, str):
            raise InvalidInput("url must be text")
        return json_response(asdict(administration.check_public_url(url)))

    @app.get("/api/keys")
    def keys() -> Response:
        return json_response({"keys": administration.key_info()})

    @app.post("/api/keys/rotate")
    def rotate_key() -> Response:
        body = admin.known_fields(json_object(optional=True), ("operator",))
        return json_response(administration.rotate_key(actor(body)))

    @app.get("/api/certificates")
    def certificates() -> Response:
        return json_response(administration.certificate_status())

    @app.post("/api/certificates/ca")
    def create_issuing_ca() -> Response:
        body = admin.known_fields(json_object(), ("country", "replace", "operator"))
        country, replace = body.get("country"), body.get("replace", False)
        if not isinstance(country, str) or not isinstance(replace, bool):
            raise InvalidInput("country must be a two-letter code and replace true or false")
        return json_response(administration.create_issuing_ca(country, actor(body), replace=replace))

    @app.get("/api/credential-types/definitions")
    def credential_type_definitions() -> Response:
        try:
            documents = read_documents(administration.credential_types_folder)
        except (OSError, ValueError) as error:
            raise InvalidInput(f"the credential type definitions cannot be read: {error}") from error
        return json_response(
            {"definitions": {key: value for key, value in documents.items() if key in service.credential_types}}
        )

    @app.post("/api/credential-types/reload")
    def reload_credential_types() -> Response:
        body = admin.known_fields(json_object(optional=True), ("operator",))
        try:
            administration.reload_credential_types(actor(body))
        except CredentialTypeError as error:
            raise InvalidInput(str(error)) from error
        return json_response({"credential_types": sorted(service.credential_types)})

    @app.get("/api/holders/<holder_id>")
    def holder(holder_id: str) -> Response:
        return json_response(service.desk.holder(holder_id))

    @app.get("/api/offers/recent")
    def recent_offers() -> Response:
        limit = request.args.get("limit", "200")
        if not (limit.isascii() and limit.isdigit() and 0 < int(limit) <= 1000):
            raise InvalidInput("limit must be a whole number from 1 to 1000")
        return json_response({"offers": service.offers.recent(int(limit))})

    @app.get("/api/storage")
    def storage() -> Response:
        return json_response({"problem": service.storage_problem()})
