"""Credential endpoint (OID4VCI §8): validate the request and its key proofs, then issue or defer.

Errors follow §8.3.1.2. A batch carries one `jwt` proof per credential, or one key attestation naming
every key, all with the same `c_nonce`, which is consumed once for the whole request (§8.2, Appendix F).
When the issuer offers request encryption (§10), a request may come as a JWE (`application/jwt`), and one
that asks for an encrypted response must (§8.2: so that no one can substitute the response key).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from issuer.crypto.trust_anchors import TrustAnchors
from issuer.errors import (
    InvalidCredentialRequest,
    InvalidEncryptionParameters,
    InvalidNonce,
    UnknownCredentialConfiguration,
    UnknownCredentialIdentifier,
)
from issuer.protocol.credential_proofs import ProofPolicy, ProvenKeys, proven_keys
from issuer.protocol.encryption import (
    RequestEncryption,
    ResponseEncryption,
    decrypt_request,
    encrypt_response,
    parse_response_encryption,
)
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
    ctx: Context,
    issuance: Issuance,
    tokens: Tokens,
    grant: AccessGrant,
    request: Mapping[str, Any],
    anchors: TrustAnchors,
) -> CredentialReply:
    config_id = _configuration_id(issuance, grant, request)
    encryption = parse_encryption_field(request)  # refused here, before anything is signed or recorded
    proven = _proven_keys(ctx, issuance, tokens, grant, config_id, request, anchors)
    attestation = proven.attestation.record() if proven.attestation else None
    result = issuance.request(grant, config_id, proven.keys, key_attestation=attestation)
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


def encrypted_request(encryption: RequestEncryption, data: bytes) -> dict[str, Any]:
    """The JSON object of a (Deferred) Credential Request sent as a JWE (§10)."""
    if encryption.keys is None:
        raise InvalidCredentialRequest("this issuer does not take encrypted requests: send application/json")
    try:
        compact = data.decode("ascii")
    except UnicodeDecodeError as error:
        raise InvalidEncryptionParameters("an encrypted request must be a compact JWE") from error
    return decrypt_request(compact, encryption.keys)


def check_plain_request(encryption: RequestEncryption, request: Mapping[str, Any]) -> None:
    """A request sent in the clear, where the issuer's encryption offer allows it (§8.2, §9.1, §10)."""
    if encryption.required:
        raise InvalidEncryptionParameters("this issuer requires encrypted requests (credential_request_encryption)")
    if encryption.keys is not None and "credential_response_encryption" in request:
        raise InvalidEncryptionParameters(
            "a request that asks for an encrypted response must itself be encrypted (credential_request_encryption)"
        )


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


def _proven_keys(
    ctx: Context,
    issuance: Issuance,
    tokens: Tokens,
    grant: AccessGrant,
    config_id: str,
    request: Mapping[str, Any],
    anchors: TrustAnchors,
) -> ProvenKeys:
    """The holder's public keys, one per credential, from verified proofs (Appendix F.4); the proofs'
    `c_nonce` is consumed here, once."""
    credential_type = issuance.types[config_id]
    if not credential_type.requires_key_binding:
        return ProvenKeys([{}], "")
    policy = ProofPolicy(
        audience=ctx.issuer_url,
        client_id=grant.client_id,
        now=ctx.clock(),
        batch_size=ctx.settings.batch_size,
        anchors=anchors,
        singular_proof=not ctx.settings.haip,
    )
    proven = proven_keys(request, credential_type, policy)
    if not tokens.consume_nonce(proven.nonce):
        raise InvalidNonce("the nonce is unknown, expired or already used")
    return proven
