"""Nonce endpoint (OID4VCI §7): a fresh `c_nonce` for key proofs, no access token needed."""

from __future__ import annotations

from issuer.service.tokens import Tokens


def nonce_response(tokens: Tokens) -> dict[str, str]:
    return {"c_nonce": tokens.new_nonce()}
