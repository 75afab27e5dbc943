"""Authorization requests of the Authorization Code flow (OID4VCI §5, RFC 6749 §4.1, RFC 7636,
RFC 9126, RFC 9396): parsed and checked, before anything is stored.

The order of the checks matters: while the client and its redirect URI are not known to be
good, an error must not be sent to that URI (RFC 6749 §4.1.2.1) and is shown in the browser
instead; after that, errors go back to the wallet as redirect parameters. With no list of clients
(`clients` empty, for testing), nothing vouches for a redirect URI: only https and loopback http
are accepted, and only a request that is valid in every other respect is sent back to one
(`issuer.service.sign_ins.SignIns.error_location`), so the issuer is no open redirector.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from issuer.errors import AuthorizationError
from issuer.protocol import wire_json

AUTHORIZATION_CODE_GRANT = "authorization_code"
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
CODE_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")  # RFC 7636 §4.1
CODE_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")  # base64url of a SHA-256 digest
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_PARAMETER_LENGTH = 4096


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    code_challenge: str
    config_ids: tuple[str, ...]  # what was asked for; empty when an offer's issuer_state decides
    with_details: bool  # asked with authorization_details: the token response names identifiers
    state: str | None = None
    issuer_state: str | None = None
    dpop_jkt: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuthorizationRequest:
        return cls(**{**data, "config_ids": tuple(data["config_ids"])})


def check_client(params: Mapping[str, str], clients: Mapping[str, list[str]]) -> tuple[str, str]:
    """The client and redirect URI, or an error shown in the browser (never redirected)."""
    client_id = params.get("client_id", "")
    if not client_id or len(client_id) > 200:
        raise AuthorizationError("invalid_request", "client_id is missing", redirect=False)
    if clients and client_id not in clients:
        raise AuthorizationError("invalid_client", "this wallet is not registered with the issuer", redirect=False)
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri:
        raise AuthorizationError("invalid_request", "redirect_uri is missing", redirect=False)
    if clients:
        if redirect_uri not in clients[client_id]:
            raise AuthorizationError(
                "invalid_request", "redirect_uri is not registered for this wallet", redirect=False
            )
    elif not acceptable_redirect_uri(redirect_uri):
        raise AuthorizationError(
            "invalid_request",
            "redirect_uri must be https or http on loopback; any other needs the wallet registered in clients",
            redirect=False,
        )
    return client_id, redirect_uri


def acceptable_redirect_uri(uri: str) -> bool:
    """A redirect URI no registration vouches for: absolute, without fragment, https with a host or
    http on loopback (RFC 8252 §7.3). A wallet's own scheme needs the wallet in `clients`."""
    if len(uri) > 2000 or any(ch.isspace() for ch in uri):
        return False
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if parts.fragment or "#" in uri:
        return False
    if scheme == "http":
        return parts.hostname in LOOPBACK_HOSTS
    return scheme == "https" and bool(parts.hostname)


def parse_request(
    params: Mapping[str, str], *, clients: Mapping[str, list[str]], scopes: Mapping[str, str], config_ids: set[str]
) -> AuthorizationRequest:
    """An authorization request from its parameters (direct or pushed). Unknown parameters and
    unknown scope values are ignored (§5.1.2, §5.1.3)."""
    client_id, redirect_uri = check_client(params, clients)
    if "request" in params:
        raise AuthorizationError("request_not_supported", "request objects are not supported; use PAR")
    if params.get("response_type") != "code":
        raise AuthorizationError("unsupported_response_type", "response_type must be code")
    challenge = params.get("code_challenge")
    if not challenge:
        raise AuthorizationError("invalid_request", "code_challenge is missing: PKCE is required")
    if params.get("code_challenge_method") != "S256":
        raise AuthorizationError("invalid_request", "code_challenge_method must be S256")
    if not CODE_CHALLENGE.match(challenge):
        raise AuthorizationError("invalid_request", "code_challenge is not a base64url SHA-256 digest")
    from_details = _detailed_configurations(params.get("authorization_details"), config_ids)
    from_scope = [scopes[value] for value in params.get("scope", "").split() if value in scopes]
    state = params.get("state")
    issuer_state = params.get("issuer_state") or None
    dpop_jkt = params.get("dpop_jkt") or None
    for name, value in (("state", state), ("issuer_state", issuer_state), ("dpop_jkt", dpop_jkt)):
        if value is not None and len(value) > 500:
            raise AuthorizationError("invalid_request", f"{name} is too long")
    requested = tuple(dict.fromkeys([*from_details, *from_scope]))
    if not requested and issuer_state is None:
        raise AuthorizationError("invalid_scope", "no credential is requested: use authorization_details or scope")
    return AuthorizationRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        config_ids=requested,
        with_details=bool(from_details),
        state=state,
        issuer_state=issuer_state,
        dpop_jkt=dpop_jkt,
    )


def pkce_matches(verifier: str, challenge: str) -> bool:
    """RFC 7636 §4.6 with S256."""
    if not CODE_VERIFIER.match(verifier):
        return False
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    return hmac.compare_digest(digest, challenge)


def _detailed_configurations(raw: str | None, config_ids: set[str]) -> list[str]:
    """Configuration ids from `authorization_details` entries of type openid_credential (§5.1.1);
    entries of other types are left to other parts of a deployment, and extra fields are allowed."""
    if raw is None:
        return []
    try:
        details = wire_json.loads(raw[:MAX_PARAMETER_LENGTH])
    except ValueError as error:
        raise AuthorizationError("invalid_authorization_details", "authorization_details is not JSON") from error
    if not isinstance(details, list) or not details or not all(isinstance(entry, dict) for entry in details):
        raise AuthorizationError("invalid_authorization_details", "authorization_details must be an array of objects")
    requested = []
    for entry in details:
        if entry.get("type") != "openid_credential":
            raise AuthorizationError("invalid_authorization_details", "only type openid_credential is supported")
        config_id = entry.get("credential_configuration_id")
        if not isinstance(config_id, str) or config_id not in config_ids:
            raise AuthorizationError(
                "invalid_authorization_details", "credential_configuration_id is not supported by this issuer"
            )
        requested.append(config_id)
    return requested
