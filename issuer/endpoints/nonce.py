"""Nonce endpoint (OID4VCI §7): a fresh `c_nonce` for key proofs, no access token needed."""

from __future__ import annotations

from issuer.service import IssuerService


def nonce_response(service: IssuerService) -> dict[str, str]:
    return {"c_nonce": service.new_nonce()}
