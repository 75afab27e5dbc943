"""W3C Verifiable Credential as a JWT (`jwt_vc_json`, OID4VCI Appendix A.1; VC Data Model 1.1 §6.3.1).

The holder is bound twice, for verifiers of either habit: `sub` and `credentialSubject.id`
name the proof key as a `did:jwk`, and `cnf.jwk` carries it (RFC 7800).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from issuer.crypto.es256 import b64url
from issuer.crypto.keys import IssuerKey

VC_CONTEXT = "https://www.w3.org/2018/credentials/v1"
PUBLIC_MEMBERS = ("crv", "e", "kty", "n", "x", "y")


def issue_jwt_vc_json(
    *,
    signer: IssuerKey,
    issuer: str,
    types: list[str],
    claims: Mapping[str, Any],
    holder_jwk: Mapping[str, Any],
    issued_at: int,
    expires_at: int,
    credential_id: str,
    status: Mapping[str, Any] | None = None,
) -> str:
    holder_did = did_jwk(holder_jwk)
    payload: dict[str, Any] = {
        "iss": issuer,
        "sub": holder_did,
        "nbf": issued_at,
        "iat": issued_at,
        "exp": expires_at,
        "jti": credential_id,
        "cnf": {"jwk": dict(holder_jwk)},
        "vc": {
            "@context": [VC_CONTEXT],
            "type": list(types),
            "credentialSubject": {"id": holder_did, **claims},
        },
    }
    if status is not None:
        payload["status"] = dict(status)
    return signer.sign(payload, {"typ": "JWT"})


def did_jwk(public_jwk: Mapping[str, Any]) -> str:
    """`did:jwk` of a public key: base64url of its JSON, public members only, sorted."""
    members = {name: public_jwk[name] for name in PUBLIC_MEMBERS if name in public_jwk}
    return "did:jwk:" + b64url(json.dumps(members, separators=(",", ":"), sort_keys=True).encode())
