"""Deferred Credential endpoint (OID4VCI §9): poll a transaction until the desk decides.

A malformed request is invalid_credential_request, as at the Credential endpoint (§9.3).
The response may be encrypted with parameters sent in this request, not the original one (§9.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from issuer.endpoints.credential import CredentialReply, credential_reply, parse_encryption_field
from issuer.errors import InvalidCredentialRequest, InvalidTransactionId
from issuer.service.issuance import Issuance
from issuer.service.types import AccessGrant


def deferred_credential_response(issuance: Issuance, grant: AccessGrant, request: Mapping[str, Any]) -> CredentialReply:
    transaction_id = request.get("transaction_id")
    if not isinstance(transaction_id, str) or not transaction_id or len(transaction_id) > 200:
        raise InvalidCredentialRequest("transaction_id is missing")
    if not transaction_id.isascii():  # this issuer's ids are base64url; a lone surrogate cannot even be hashed
        raise InvalidTransactionId("the transaction id is unknown or was already used")
    encryption = parse_encryption_field(request)  # refused here, before anything is signed or recorded
    result = issuance.deferred(grant, transaction_id)
    return credential_reply(issuance, result, encryption)
