"""The holder's keys and what it signs with them: key proofs (OID4VCI Appendix F.1), DPoP proofs
(RFC 9449 §4.2), the public key a Credential Request asks responses to be encrypted to (§8.2), and
requests encrypted to the issuer's key (§10).

Proof builders take overrides so that tests can make exactly the broken proof they need.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from typing import Any

from jwcrypto import jwe, jwk, jws
from jwcrypto.common import base64url_encode

PROOF_TYP = "openid4vci-proof+jwt"
PUBLIC_MEMBERS = ("kty", "crv", "x", "y", "n", "e")


def new_key(alg: str | None = None) -> jwk.JWK:
    """A fresh P-256 key; `alg` (e.g. "ECDH-ES") is set on the JWK when given."""
    key = jwk.JWK.generate(kty="EC", crv="P-256")
    if alg:
        key.update(alg=alg)
    return key


def public_jwk(key: jwk.JWK | Mapping[str, Any]) -> dict[str, Any]:
    """The public key members only (no `alg`, `kid`, `d`)."""
    members = key.export_public(as_dict=True) if isinstance(key, jwk.JWK) else key
    return {name: members[name] for name in PUBLIC_MEMBERS if name in members}


def make_proof(
    key: jwk.JWK,
    audience: str,
    nonce: str | None,
    *,
    header: Mapping[str, Any] | None = None,
    claims: Mapping[str, Any] | None = None,
    alg: str = "ES256",
) -> str:
    """A `jwt` key proof (Appendix F.1): typ, alg and jwk in the header; aud, iat, nonce in the payload.

    `header` and `claims` override the defaults, and a None value removes a member, so tests can
    build the broken proofs they need; the signature is made over whatever results.
    """
    payload: dict[str, Any] = {"aud": audience, "iat": int(time.time()), "nonce": nonce, **(claims or {})}
    protected = {"typ": PROOF_TYP, "alg": alg, "jwk": public_jwk(key), **(header or {})}
    return sign_jws(key, _present(protected), _present(payload))


def sign_jws(key: jwk.JWK, header: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
    """A compact JWS over exactly this header, signed with `key` using the header's `alg`."""
    signed = jws.JWSCore(header["alg"], key, _compact_json(header), _compact_json(payload).encode()).sign()
    return ".".join(_text(signed[part]) for part in ("protected", "payload", "signature"))


def make_dpop_proof(
    key: jwk.JWK,
    method: str,
    url: str,
    *,
    nonce: str | None = None,
    access_token: str | None = None,
    header: Mapping[str, Any] | None = None,
    claims: Mapping[str, Any] | None = None,
) -> str:
    """A DPoP proof JWT (RFC 9449 §4.2) for one request; `header` and `claims` override members
    (None removes one), so tests can build the broken proofs they need."""
    payload: dict[str, Any] = {
        "jti": base64url_encode(os.urandom(16)),
        "htm": method,
        "htu": url.split("?")[0].split("#")[0],
        "iat": int(time.time()),
        "nonce": nonce,
        "ath": base64url_encode(hashlib.sha256(access_token.encode()).digest()) if access_token else None,
        **(claims or {}),
    }
    protected = {"typ": "dpop+jwt", "alg": "ES256", "jwk": public_jwk(key), **(header or {})}
    return sign_jws(key, _present(protected), _present(payload))


def encryption_parameters(key: jwk.JWK, enc: str = "A128GCM", zip_: str | None = None) -> dict[str, Any]:
    """`credential_response_encryption` (§8.2): the public JWK (with `alg`, and `kid` if set) and `enc`."""
    parameters: dict[str, Any] = {"jwk": key.export_public(as_dict=True), "enc": enc}
    if zip_:
        parameters["zip"] = zip_
    return parameters


def encrypt_request(body: Any, issuer_key: Mapping[str, Any], enc: str, zip_: str | None = None) -> str:
    """A request as a compact JWE (§10) to one of the issuer's `credential_request_encryption` keys:
    `alg` the key's, its `kid` copied, `enc` one the issuer supports."""
    header = {"alg": issuer_key["alg"], "enc": enc, "kid": issuer_key["kid"], **({"zip": zip_} if zip_ else {})}
    token = jwe.JWE(json.dumps(body).encode(), protected=json.dumps(header))
    token.add_recipient(jwk.JWK(**issuer_key))
    return str(token.serialize(compact=True))


def _present(members: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in members.items() if value is not None}


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _compact_json(members: Mapping[str, Any]) -> str:
    """JSON without spaces and with sorted names, as jwcrypto's own `json_encode` writes it."""
    return json.dumps(members, separators=(",", ":"), sort_keys=True)
