"""Token endpoint (OID4VCI §6, RFC 6749 §5): pre-authorized code, authorization code (with PKCE)
and refresh token grants.

Unknown parameters are ignored (§6.1). A `client_id`, optional for this grant (§6.1), is kept
in the access token: the proof's `iss` must then name it (Appendix F.1). A wallet attestation in
the request's headers authenticates the wallet (Appendix E); its `sub` is then the client_id, and
it is required when the issuer says so. `tx_code` belongs to the pre-authorized code grant only.
`authorization_details` of type `openid_credential` narrows the grant to a subset of the offer and
makes the response carry `credential_identifiers` (§6.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from issuer.errors import InvalidAuthorizationDetails, InvalidRequest, UnsupportedGrantType
from issuer.protocol import wire_json
from issuer.protocol.authorization import AUTHORIZATION_CODE_GRANT
from issuer.protocol.client_attestation import AttestedClient
from issuer.service.tokens import Tokens
from issuer.service.types import PRE_AUTHORIZED_GRANT, TokenResult

MAX_PARAMETER_LENGTH = 4096


def token_response(
    tokens: Tokens,
    form: Mapping[str, str],
    jkt: str | None = None,
    attestation: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The token response; `jkt` is the DPoP key the request proved, to bind the token to, and
    `attestation` the request's client attestation headers, by name."""
    grant_type = form.get("grant_type")
    if not grant_type:
        raise InvalidRequest("grant_type is missing")
    if grant_type != PRE_AUTHORIZED_GRANT and "tx_code" in form:
        raise InvalidRequest("tx_code is only valid with the pre-authorized code grant")
    wallet = tokens.attestations.verify(attestation or {}, form.get("client_id"))
    if grant_type == PRE_AUTHORIZED_GRANT:
        result = _pre_authorized(tokens, form, jkt, wallet)
    elif grant_type == AUTHORIZATION_CODE_GRANT:
        result = tokens.redeem_authorization(
            _required(form, "code"),
            client_id=wallet.client_id if wallet else _required(form, "client_id"),  # -07 §6.3: authenticated
            redirect_uri=_required(form, "redirect_uri"),
            code_verifier=_required(form, "code_verifier"),
            jkt=jkt,
            wallet=wallet,
        )
    elif grant_type == "refresh_token":
        result = tokens.refresh(_required(form, "refresh_token"), jkt, wallet)
    else:
        raise UnsupportedGrantType(f"grant_type {grant_type[:60]} is not supported")
    body: dict[str, Any] = {
        "access_token": result.access_token,
        "token_type": result.token_type,
        "expires_in": result.expires_in,
    }
    if result.authorization_details is not None:
        body["authorization_details"] = result.authorization_details
    if result.refresh_token:
        body["refresh_token"] = result.refresh_token
    return body


def _pre_authorized(
    tokens: Tokens, form: Mapping[str, str], jkt: str | None, wallet: AttestedClient | None
) -> TokenResult:
    code = _required(form, "pre-authorized_code")
    tx_code = form.get("tx_code")
    if tx_code is not None and len(tx_code) > 64:
        raise InvalidRequest("tx_code is too long")
    requested = _requested_configurations(form.get("authorization_details"))
    client_id = form.get("client_id")
    if client_id is not None and not 0 < len(client_id) <= 200:
        raise InvalidRequest("client_id must be 1 to 200 characters")
    return tokens.redeem_pre_authorized_code(code, tx_code, requested, client_id=client_id, jkt=jkt, wallet=wallet)


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise InvalidRequest(f"{name} is missing")
    if len(value) > MAX_PARAMETER_LENGTH:
        raise InvalidRequest(f"{name} is too long")
    return value


def _requested_configurations(raw: str | None) -> list[str] | None:
    """Configuration ids from `authorization_details` (OID4VCI §5.1.1, RFC 9396 §2)."""
    if raw is None:
        return None
    try:
        details = wire_json.loads(raw[:MAX_PARAMETER_LENGTH])
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deep
        raise InvalidAuthorizationDetails("authorization_details is not valid JSON") from error
    if not isinstance(details, list) or not details:
        raise InvalidAuthorizationDetails("authorization_details must be a non-empty JSON array")
    requested = []
    for entry in details:
        if not isinstance(entry, dict) or entry.get("type") != "openid_credential":
            raise InvalidAuthorizationDetails("each authorization_details entry must have type openid_credential")
        config_id = entry.get("credential_configuration_id")
        if not isinstance(config_id, str) or not config_id:
            raise InvalidAuthorizationDetails("credential_configuration_id is missing in authorization_details")
        requested.append(config_id)
    return requested
