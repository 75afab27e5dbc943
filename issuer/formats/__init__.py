"""Credential formats: one module each; `issue_credential` picks by format identifier.

A new format is one module and one line in `ISSUERS`. Every format takes the shared arguments (the
signing key, the claims, the holder's key, the times, the status) and the few of its own: `vct` for
SD-JWT VC, `types` and `credential_id` for a W3C VC, and for an mdoc its `doctype`, its data elements
and the document-signer chain it carries itself (`x5chain`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from issuer.crypto.keys import IssuerKey
from issuer.formats.jwt_vc_json import issue_jwt_vc_json
from issuer.formats.mso_mdoc import DataElement, issue_mso_mdoc
from issuer.formats.sd_jwt_vc import issue_sd_jwt_vc

SHARED = ("signer", "claims", "holder_jwk", "issued_at", "expires_at", "status")


def _sd_jwt_vc(arguments: Mapping[str, Any]) -> str:
    return issue_sd_jwt_vc(issuer=arguments["issuer"], vct=arguments["vct"], **_shared(arguments))


def _jwt_vc_json(arguments: Mapping[str, Any]) -> str:
    return issue_jwt_vc_json(
        issuer=arguments["issuer"],
        types=arguments["types"],
        credential_id=arguments["credential_id"],
        **_shared(arguments),
    )


def _mso_mdoc(arguments: Mapping[str, Any]) -> str:
    return issue_mso_mdoc(
        doctype=arguments["doctype"],
        elements=arguments["elements"],
        certificate_chain=arguments["certificate_chain"],
        **_shared(arguments),
    )


ISSUERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "dc+sd-jwt": _sd_jwt_vc,
    "jwt_vc_json": _jwt_vc_json,
    "mso_mdoc": _mso_mdoc,
}


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
    doctype: str = "",
    elements: Sequence[DataElement] = (),
    certificate_chain: Sequence[bytes] = (),
) -> str:
    """One signed credential in `credential_format`, bound to `holder_jwk`."""
    return ISSUERS[credential_format](
        {
            "signer": signer,
            "issuer": issuer,
            "vct": vct,
            "types": types,
            "claims": claims,
            "holder_jwk": holder_jwk,
            "issued_at": issued_at,
            "expires_at": expires_at,
            "credential_id": credential_id,
            "status": status,
            "doctype": doctype,
            "elements": elements,
            "certificate_chain": certificate_chain,
        }
    )


def _shared(arguments: Mapping[str, Any]) -> dict[str, Any]:
    return {name: arguments[name] for name in SHARED}
