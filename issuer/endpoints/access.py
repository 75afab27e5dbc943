"""Who may call the protected endpoints: Bearer tokens (RFC 6750) and DPoP-bound ones (RFC 9449).

A DPoP-bound token works only with the `DPoP` scheme and a proof from the key it is bound to,
naming this request and this token (`ath`); a Bearer token works only as Bearer. At the
token endpoint a proof makes the new token DPoP-bound, and is required when a setting says so.
"""

from __future__ import annotations

import re

from issuer.errors import DpopAuthorizationError, DpopError, InvalidToken
from issuer.service.tokens import Tokens
from issuer.service.types import AccessGrant

B64TOKEN = re.compile(r"[A-Za-z0-9._~+/-]+=*")  # RFC 6750 §2.1 b64token


def token_request_key(tokens: Tokens, proof: str | None, url: str, *, required: bool) -> str | None:
    """The thumbprint of the DPoP key a token request proves, None without a proof (RFC 9449 §5);
    a refused proof is answered as the token endpoint's `invalid_dpop_proof` or `use_dpop_nonce`."""
    if proof is None:
        if required:
            raise DpopError("invalid_dpop_proof", "this issuer binds access tokens to a key: send a DPoP proof")
        return None
    return tokens.dpop.verify(proof, "POST", url).jkt


def access_grant(tokens: Tokens, authorization: str, proof: str | None, method: str, url: str) -> AccessGrant:
    """The grant behind the request's access token (its `Authorization` header), checked as its
    scheme requires, with the request's `DPoP` header for a bound token."""
    scheme, _, value = authorization.partition(" ")
    token = value.strip()
    scheme = scheme.lower()
    if scheme not in ("bearer", "dpop") or not token:
        raise InvalidToken("an access token is required")
    if not B64TOKEN.fullmatch(token):
        raise _refusal(scheme, "the access token is invalid or has expired")
    try:
        grant = tokens.authorize(token)
    except InvalidToken as error:
        raise _refusal(scheme, error.description) from error
    if grant.jkt is None:
        if scheme != "bearer":
            raise DpopAuthorizationError("invalid_token", "this access token is not bound to a key: use Bearer")
        return grant
    if scheme != "dpop":
        raise DpopAuthorizationError("invalid_token", "this access token is bound to a key: use DPoP")
    if proof is None:
        raise DpopAuthorizationError("invalid_dpop_proof", "a DPoP proof is required with this access token")
    try:
        verified = tokens.dpop.verify(proof, method, url, access_token=token)
    except DpopError as error:
        raise DpopAuthorizationError(error.error, error.description, nonce=error.nonce) from error
    if verified.jkt != grant.jkt:
        raise DpopAuthorizationError("invalid_dpop_proof", "the DPoP proof is signed by another key than the token's")
    return grant


def _refusal(scheme: str, description: str) -> InvalidToken | DpopAuthorizationError:
    if scheme == "dpop":
        return DpopAuthorizationError("invalid_token", description)
    return InvalidToken(description)
