"""What both Flask apps share: JSON responses, request bodies read strictly, and one error handler
per error family.

Every error leaves as JSON with the spec's code: protocol errors, service refusals, routing
errors, oversized bodies (413), a change the store cannot save now (503, `temporarily_unavailable`
with `Retry-After`: a full disk, answered before anything counts as done), and, as a last resort,
an unexpected failure, which is logged with its traceback and answered without one.
"""

from __future__ import annotations

import errno
import json
import logging
import math
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from issuer.errors import InvalidCredentialRequest, InvalidRequest, ProtocolError, ServiceError
from issuer.protocol import wire_json
from issuer.storage.interfaces import StorageUnavailable
from issuer.storage.journal import failure_reason

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
STORAGE_RETRY_AFTER = 30  # seconds: a full disk is not cleared in a moment
NO_ROOM = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    response = Response(json.dumps(body, separators=(",", ":")), status=status, mimetype="application/json")
    if headers:
        response.headers.update(headers)
    return response


def form(what: str) -> dict[str, str]:
    """A form-encoded body, each parameter once (RFC 6749 §3.1: repeated parameters are an error)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise InvalidRequest(f"{what} must be application/x-www-form-urlencoded")
    return single_values(request.form)


def single_values(values: MultiDict[str, str]) -> dict[str, str]:
    repeated = [name for name in values if len(values.getlist(name)) > 1]
    if repeated:
        raise InvalidRequest(f"parameters must not be repeated: {', '.join(sorted(repeated))[:100]}")
    return values.to_dict()


def json_object(*, optional: bool = False, error: type[ProtocolError] = InvalidCredentialRequest) -> dict[str, Any]:
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


def _unavailable(reason: str) -> Response:
    return json_response(
        {"error": "temporarily_unavailable", "error_description": f"the issuer cannot save now ({reason})"},
        503,
        {**NO_STORE, "Retry-After": str(STORAGE_RETRY_AFTER)},
    )


def install_error_handlers(app: Flask) -> None:
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
        headers = dict(NO_STORE)
        if error.retry_after > 0:  # RFC 9110 §10.2.3, in whole seconds
            headers["Retry-After"] = str(math.ceil(error.retry_after))
        return json_response({"error": error.code, "error_description": error.message}, error.status, headers)

    @app.errorhandler(StorageUnavailable)
    def storage_unavailable(error: StorageUnavailable) -> Response:
        """Nothing of the request was kept; the same request can be sent again (RFC 6749 §4.1.2.1's
        temporarily_unavailable, with the 503 and Retry-After of RFC 9110 §15.6.4, §10.2.3)."""
        return _unavailable(error.reason)

    @app.errorhandler(OSError)
    def os_error(error: OSError) -> Response:
        """A full disk met outside the store (a key file, a backup's copy): answered as above."""
        if error.errno in NO_ROOM:
            log.error("cannot write on %s %s: %s", request.method, request.url_rule, failure_reason(error))
            return _unavailable(failure_reason(error))
        return unexpected(error)

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
