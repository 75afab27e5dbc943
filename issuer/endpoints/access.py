"""Who may call the protected endpoints: Bearer tokens (RFC 6750) and DPoP-bound ones (RFC 9449).

A DPoP-bound token works only with the `DPoP` scheme and a proof from the key it is bound to,
naming this request and this token (`ath`); a Bearer token works only as Bearer. At the
token endpoint a proof makes the new token DPoP-bound, and is required when a setting says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from issuer.errors import DpopAuthorizationError, InvalidDpopProof, InvalidToken, UseDpopNonce
from issuer.protocol.dpop import DpopError
from issuer.service import AccessGrant, IssuerService

B64TOKEN = re.compile(r"[A-Za-z0-9._~+/-]+=*")  # RFC 6750 §2.1 b64token


def token_request_key(service: IssuerService, headers: Mapping[str, str], url: str) -> str | None:
    """The thumbprint of the DPoP key a token request proves, None without a proof (RFC 9449 §5)."""
    proof = headers.get("DPoP")
    if proof is None:
        if service.settings.require_dpop:
            raise InvalidDpopProof("this issuer binds access tokens to a key: send a DPoP proof")
        return None
    try:
        return service.dpop.verify(proof, "POST", url).jkt
    except DpopError as error:
        nonce_header = {"DPoP-Nonce": error.nonce} if error.nonce else None
        if error.error == "use_dpop_nonce":
            raise UseDpopNonce(error.description, headers=nonce_header) from error
        raise InvalidDpopProof(error.description, headers=nonce_header) from error


def access_grant(service: IssuerService, headers: Mapping[str, str], method: str, url: str) -> AccessGrant:
    """The grant behind the request's access token, checked as its scheme requires."""
    scheme, _, value = headers.get("Authorization", "").partition(" ")
    token = value.strip()
    scheme = scheme.lower()
    if scheme not in ("bearer", "dpop") or not token:
        raise InvalidToken("an access token is required")
    if not B64TOKEN.fullmatch(token):
        raise _refusal(scheme, "the access token is invalid or has expired")
    try:
        grant = service.authorize(token)
    except InvalidToken as error:
        raise _refusal(scheme, error.description) from error
    if grant.jkt is None:
        if scheme != "bearer":
            raise DpopAuthorizationError("invalid_token", "this access token is not bound to a key: use Bearer")
        return grant
    if scheme != "dpop":
        raise DpopAuthorizationError("invalid_token", "this access token is bound to a key: use DPoP")
    proof = headers.get("DPoP")
    if proof is None:
        raise DpopAuthorizationError("invalid_dpop_proof", "a DPoP proof is required with this access token")
    try:
        verified = service.dpop.verify(proof, method, url, access_token=token)
    except DpopError as error:
        raise DpopAuthorizationError(error.error, error.description, nonce=error.nonce) from error
    if verified.jkt != grant.jkt:
        raise DpopAuthorizationError("invalid_dpop_proof", "the DPoP proof is signed by another key than the token's")
    return grant


def _refusal(scheme: str, description: str) -> InvalidToken | DpopAuthorizationError:
    if scheme == "dpop":
        return DpopAuthorizationError("invalid_token", description)
    return InvalidToken(description)
