"""Credential endpoint (OID4VCI §8): validate the request and its key proofs, then issue or defer.

Errors follow §8.3.1.2. A batch carries one `jwt` proof per credential, all with the same
`c_nonce`, which is consumed once for the whole request (§8.2, Appendix F.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from issuer.errors import (
    InvalidCredentialRequest,
    InvalidEncryptionParameters,
    InvalidNonce,
    InvalidProof,
    UnknownCredentialConfiguration,
    UnknownCredentialIdentifier,
)
from issuer.protocol.encryption import ResponseEncryption, encrypt_response, parse_response_encryption
from issuer.protocol.proofs import verify_jwt_proof
from issuer.service.context import Context
from issuer.service.issuance import Issuance
from issuer.service.tokens import Tokens
from issuer.service.types import AccessGrant, IssuanceResult


@dataclass(frozen=True)
class CredentialReply:
    """A Credential Response: its HTTP status and body, and the body as a JWE when the wallet asked (§10)."""

    status: int
    body: dict[str, Any]
    jwe: str | None = None


def credential_response(
    ctx: Context, issuance: Issuance, tokens: Tokens, grant: AccessGrant, request: Mapping[str, Any]
) -> CredentialReply:
    config_id = _configuration_id(issuance, grant, request)
    encryption = parse_encryption_field(request)  # refused here, before anything is signed or recorded
    holder_jwks = _holder_keys(ctx, issuance, tokens, grant, config_id, request)
    result = issuance.request(grant, config_id, holder_jwks)
    return credential_reply(issuance, result, encryption)


def credential_reply(
    issuance: Issuance, result: IssuanceResult, encryption: ResponseEncryption | None
) -> CredentialReply:
    """The answer to a served request, encrypted as asked. Credentials whose answer cannot be
    encrypted never reach the wallet: they are marked undelivered, and the wallet gets the error."""
    status, body = issuance_body(result)
    if encryption is None:
        return CredentialReply(status, body)
    try:
        return CredentialReply(status, body, encrypt_response(body, encryption))
    except InvalidEncryptionParameters:
        issuance.undelivered(result)
        raise


def issuance_body(result: IssuanceResult) -> tuple[int, dict[str, Any]]:
    """200 with credentials and a notification id, or 202 with a transaction id (§8.3)."""
    if result.credentials is None:
        return 202, {"transaction_id": result.transaction_id, "interval": result.interval}
    body: dict[str, Any] = {"credentials": [{"credential": credential} for credential in result.credentials]}
    if result.notification_id:
        body["notification_id"] = result.notification_id
    return 200, body


def _configuration_id(issuance: Issuance, grant: AccessGrant, request: Mapping[str, Any]) -> str:
    identifier = request.get("credential_identifier")
    config_id = request.get("credential_configuration_id")
    if (identifier is None) == (config_id is None):
        raise InvalidCredentialRequest("send exactly one of credential_identifier and credential_configuration_id")
    if grant.uses_identifiers:
        if identifier is None:
            raise InvalidCredentialRequest(
                "the token response carried authorization_details: use credential_identifier"
            )
        if not isinstance(identifier, str) or identifier not in grant.identifiers:
            raise UnknownCredentialIdentifier("credential_identifier is not one of this access token's identifiers")
        return grant.identifiers[identifier]
    if identifier is not None:
        raise InvalidCredentialRequest("credential_identifier is only valid after authorization_details")
    if not isinstance(config_id, str) or config_id not in issuance.types:
        raise UnknownCredentialConfiguration("credential_configuration_id is not supported by this issuer")
    return config_id


def parse_encryption_field(request: Mapping[str, Any]) -> ResponseEncryption | None:
    """The request's `credential_response_encryption`, checked (§8.2), or None."""
    value = request.get("credential_response_encryption")
    return None if value is None else parse_response_encryption(value)


def _holder_keys(
    ctx: Context, issuance: Issuance, tokens: Tokens, grant: AccessGrant, config_id: str, request: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The holder's public keys, one per credential, from verified `jwt` proofs (Appendix F.4)."""
    credential_type = issuance.types[config_id]
    batch_size = ctx.settings.batch_size
    if not credential_type.requires_key_binding:
        return [{}]
    proofs = request.get("proofs")
    if proofs is None:
        raise InvalidProof("proofs is missing")
    if not isinstance(proofs, dict) or len(proofs) != 1:
        raise InvalidProof("proofs must be an object with exactly one proof type")
    proof_type, values = next(iter(proofs.items()))
    if proof_type != "jwt":
        raise InvalidProof(f"proof type {str(proof_type)[:40]} is not supported for {config_id}")
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise InvalidProof("proofs.jwt must be a non-empty array of JWTs")
    if len(values) > batch_size:
        raise InvalidProof(f"at most {batch_size} proofs are accepted in one request")
    verified = [
        verify_jwt_proof(
            value,
            audience=ctx.issuer_url,
            allowed_algs=credential_type.proof_algs,
            client_id=grant.client_id,
            now=ctx.clock(),
        )
        for value in values
    ]
    nonces = {proof.nonce for proof in verified}
    if None in nonces:
        raise InvalidProof("the proof has no nonce; get one from the nonce endpoint")
    if len(nonces) != 1:
        raise InvalidProof("all proofs of a request must carry the same nonce")
    if not tokens.consume_nonce(nonces.pop() or ""):
        raise InvalidNonce("the nonce is unknown, expired or already used")
    thumbprints = {_key_identity(proof.jwk) for proof in verified}
    if len(thumbprints) != len(verified):
        raise InvalidProof("each proof must use a different key")
    return [proof.jwk for proof in verified]


def _key_identity(public_jwk: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted((k, str(v)) for k, v in public_jwk.items() if k in ("kty", "crv", "x", "y", "n", "e")))
