"""SD-JWT VC (`dc+sd-jwt`, OID4VCI Appendix A.3; SD-JWT = RFC 9901 §4; SD-JWT VC §2-3).

Every claim of the credential type is an object-property disclosure `[salt, name, value]`
with a fresh 128-bit salt (RFC 9901 §9.3). Registered claims (`iss`, `iat`, `exp`, `vct`,
`cnf`, `status`) stay in the clear (§9.7, SD-JWT VC §2.2.2). Decoy digests hide how many
claims there are (RFC 9901 §4.2.5).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any

from issuer.crypto.es256 import b64url
from issuer.crypto.keys import IssuerKey

TYP = "dc+sd-jwt"
SALT_BYTES = 16


def issue_sd_jwt_vc(
    *,
    signer: IssuerKey,
    issuer: str,
    vct: str,
    claims: Mapping[str, Any],
    holder_jwk: Mapping[str, Any],
    issued_at: int,
    expires_at: int,
    status: Mapping[str, Any] | None = None,
    decoys: int = 2,
) -> str:
    """The issuer-signed JWT followed by its disclosures: `<jwt>~<d1>~...~<dn>~` (no KB-JWT)."""
    disclosures = [_disclosure(name, value) for name, value in claims.items()]
    digests = [_digest(disclosure) for disclosure in disclosures]
    digests += [_digest(b64url(secrets.token_bytes(SALT_BYTES))) for _ in range(decoys)]
    payload: dict[str, Any] = {
        "iss": issuer,
        "iat": issued_at,
        "exp": expires_at,
        "vct": vct,
        "cnf": {"jwk": dict(holder_jwk)},
        "_sd": sorted(digests),
        "_sd_alg": "sha-256",
    }
    if status is not None:
        payload["status"] = dict(status)
    jwt = signer.sign(payload, {"typ": TYP})
    return "~".join([jwt, *disclosures]) + "~"


def _disclosure(name: str, value: Any) -> str:
    salt = b64url(secrets.token_bytes(SALT_BYTES))
    return b64url(json.dumps([salt, name, value], ensure_ascii=False).encode())


def _digest(disclosure: str) -> str:
    return b64url(hashlib.sha256(disclosure.encode("ascii")).digest())
