"""Protocol errors: raised deep in the issuer, rendered as the spec's JSON in one place.

Each class carries the error code that OID4VCI 1.0 or the OAuth RFCs assign to it;
`description` is kept within the characters RFC 6749 §5.2 allows, whatever it quotes.
"""

from __future__ import annotations

import re

# RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E.
_OUTSIDE_DESCRIPTION_CHARS = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


class ProtocolError(Exception):
    """An error a client sees as `{"error": code, "error_description": ...}`."""

    error = "invalid_request"
    status = 400
    scheme = "Bearer"  # the authentication scheme of a 401's challenge

    def __init__(self, description: str = "", *, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.description = _OUTSIDE_DESCRIPTION_CHARS.sub("?", description.replace('"', "'").replace("\\", "/"))
        self.headers = headers or {}

    def body(self) -> dict[str, str]:
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return body


# OAuth 2.0 token endpoint (RFC 6749 §5.2, OID4VCI §6.3)
class InvalidRequest(ProtocolError):
    error = "invalid_request"


class InvalidGrant(ProtocolError):
    error = "invalid_grant"


class InvalidClient(ProtocolError):
    error = "invalid_client"


class UnsupportedGrantType(ProtocolError):
    error = "unsupported_grant_type"


class InvalidAuthorizationDetails(ProtocolError):
    error = "invalid_authorization_details"


# DPoP at the token endpoint (RFC 9449 §5, §8)
class InvalidDpopProof(ProtocolError):
    error = "invalid_dpop_proof"


class UseDpopNonce(ProtocolError):
    error = "use_dpop_nonce"


# Bearer token use (RFC 6750 §3)
class InvalidToken(ProtocolError):
    error = "invalid_token"
    status = 401


class InsufficientScope(ProtocolError):
    error = "insufficient_scope"
    status = 403


class DpopAuthorizationError(ProtocolError):
    """A DPoP-bound token presented wrongly at a protected resource (RFC 9449 §7.1): 401 with a
    `DPoP` challenge naming `invalid_token`, `invalid_dpop_proof` or `use_dpop_nonce`."""

    status = 401
    scheme = "DPoP"

    def __init__(self, error: str, description: str, *, nonce: str | None = None) -> None:
        super().__init__(description, headers={"DPoP-Nonce": nonce} if nonce else None)
        self.error = error


# Credential endpoint (OID4VCI §8.3.1.2)
class InvalidCredentialRequest(ProtocolError):
    error = "invalid_credential_request"


class UnknownCredentialConfiguration(ProtocolError):
    error = "unknown_credential_configuration"


class UnknownCredentialIdentifier(ProtocolError):
    error = "unknown_credential_identifier"


class InvalidProof(ProtocolError):
    error = "invalid_proof"


class InvalidNonce(ProtocolError):
    error = "invalid_nonce"


class InvalidEncryptionParameters(ProtocolError):
    error = "invalid_encryption_parameters"


class CredentialRequestDenied(ProtocolError):
    error = "credential_request_denied"


# Deferred credential endpoint (OID4VCI §9.3)
class InvalidTransactionId(ProtocolError):
    error = "invalid_transaction_id"


# Notification endpoint (OID4VCI §11.3)
class InvalidNotificationId(ProtocolError):
    error = "invalid_notification_id"


class InvalidNotificationRequest(ProtocolError):
    error = "invalid_notification_request"


# Generic HTTP-level errors, still rendered as JSON
class NotFound(ProtocolError):
    error = "not_found"
    status = 404


class MethodNotAllowed(ProtocolError):
    error = "method_not_allowed"
    status = 405


class PayloadTooLarge(ProtocolError):
    error = "invalid_request"
    status = 413


class ServiceError(Exception):
    """A service-level refusal (bad admin input, unknown offer) with a readable message."""

    def __init__(self, message: str, *, status: int = 400, code: str = "invalid_request") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
