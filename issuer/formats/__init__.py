"""Credential formats: one module each; `issue_credential` picks by format identifier.

A new format (ISO mdoc next) is one module and one line in `ISSUERS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from issuer.crypto.keys import IssuerKey
from issuer.formats.jwt_vc_json import issue_jwt_vc_json
from issuer.formats.sd_jwt_vc import issue_sd_jwt_vc


def _sd_jwt_vc(*, vct: str, types: list[str], credential_id: str, **common: Any) -> str:
    return issue_sd_jwt_vc(vct=vct, **common)


def _jwt_vc_json(*, vct: str, types: list[str], credential_id: str, **common: Any) -> str:
    return issue_jwt_vc_json(types=types, credential_id=credential_id, **common)


ISSUERS: dict[str, Callable[..., str]] = {"dc+sd-jwt": _sd_jwt_vc, "jwt_vc_json": _jwt_vc_json}


def issue_credential(
    credential_format: str,
    *,
    signer: IssuerKey,
    issuer: str,
    vct: str,
    types: list[str],
    claims: Mapping[str, Any],
    holder_jwk: Mapping[str, Any],
    issued_at: int,
    expires_at: int,
    credential_id: str,
    status: Mapping[str, Any] | None,
) -> str:
    """One signed credential in `credential_format`, bound to `holder_jwk`."""
    return ISSUERS[credential_format](
        signer=signer,
        issuer=issuer,
        vct=vct,
        types=types,
        claims=claims,
        holder_jwk=holder_jwk,
        issued_at=issued_at,
        expires_at=expires_at,
        credential_id=credential_id,
        status=status,
    )
