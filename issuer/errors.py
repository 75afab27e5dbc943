"""Errors: raised deep in the issuer, rendered in one place.

Two families. A `ProtocolError` is what a wallet sees: the error code OID4VCI 1.0 or the OAuth
RFCs assign, an HTTP status and `error_description` kept within the characters RFC 6749 §5.2
allows, whatever it quotes. A `ServiceError` is an operator's refusal (the desk, the admin API,
the command line): a readable message, with its status on the class.
"""

from __future__ import annotations

import math
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


class CodedProtocolError(ProtocolError):
    """A protocol error whose code is chosen where it is raised (one class for a family of codes)."""

    def __init__(self, error: str, description: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(description, headers=headers)
        self.error = error


# OAuth 2.0 token endpoint (RFC 6749 §5.2, OID4VCI §6.3)
class InvalidRequest(ProtocolError):
    error = "invalid_request"


class InvalidGrant(ProtocolError):
    error = "invalid_grant"


class UnsupportedGrantType(ProtocolError):
    error = "unsupported_grant_type"


class InvalidAuthorizationDetails(ProtocolError):
    error = "invalid_authorization_details"


# Client authentication with a wallet attestation (attestation-based client auth -07 §6.2, OID4VCI App. E)
class InvalidClient(ProtocolError):
    """The wallet's attestation is missing where it is required, or does not verify: 401, as for any
    failed client authentication (RFC 6749 §5.2), with a challenge naming the mechanism the issuer
    takes, as every 401 carries one (RFC 9110 §15.5.2)."""

    error = "invalid_client"
    status = 401
    scheme = "OAuth-Client-Attestation"


class AttestationChallengeError(CodedProtocolError):
    """`use_attestation_challenge`: the PoP's challenge is not one this server gave, or has expired; a
    fresh one comes in the `OAuth-Client-Attestation-Challenge` header (-07 §6.2, §8.1)."""

    def __init__(self, description: str, challenge: str) -> None:
        super().__init__(
            "use_attestation_challenge", description, headers={"OAuth-Client-Attestation-Challenge": challenge}
        )


class AuthorizationError(CodedProtocolError):
    """An authorization request refused (RFC 6749 §4.1.2.1, RFC 9126 §2.3); `redirect` says whether
    the error may go back to the client's redirect URI or must be shown in the browser."""

    def __init__(self, error: str, description: str, *, redirect: bool = True) -> None:
        super().__init__(error, description)
        self.redirect = redirect


# DPoP (RFC 9449)
class DpopError(CodedProtocolError):
    """A refused proof at the token endpoint (§5): `invalid_dpop_proof`, or `use_dpop_nonce` with a
    fresh nonce in the `DPoP-Nonce` header to retry with (§8)."""

    def __init__(self, error: str, description: str, nonce: str | None = None) -> None:
        super().__init__(error, description, headers={"DPoP-Nonce": nonce} if nonce else None)
        self.nonce = nonce


class DpopAuthorizationError(CodedProtocolError):
    """A DPoP-bound token presented wrongly at a protected resource (RFC 9449 §7.1): 401 with a
    `DPoP` challenge naming `invalid_token`, `invalid_dpop_proof` or `use_dpop_nonce`."""

    status = 401
    scheme = "DPoP"

    def __init__(self, error: str, description: str, *, nonce: str | None = None) -> None:
        super().__init__(error, description, headers={"DPoP-Nonce": nonce} if nonce else None)


# Bearer token use (RFC 6750 §3)
class InvalidToken(ProtocolError):
    error = "invalid_token"
    status = 401


class InsufficientScope(ProtocolError):
    error = "insufficient_scope"
    status = 403


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


class ServiceError(Exception):
    """A refusal of an operator's request, with a message for the person who made it."""

    status = 400
    code = "invalid_request"

    def __init__(self, message: str, *, retry_after: float = 0.0) -> None:
        """`retry_after`: seconds before the same request may succeed (a Retry-After header on the wire)."""
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class InvalidInput(ServiceError):
    """What was asked for cannot be done as given (a missing claim, a bad value)."""


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    """The thing exists but is in a state that forbids the change (already revoked, already decided)."""

    status = 409
    code = "conflict"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Unauthenticated(ServiceError):
    """A login that failed: the name or the password is wrong."""

    status = 401
    code = "invalid_credentials"


class Throttled(ServiceError):
    """A login tried again too soon after repeated failures: refused before the password is checked."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, wait: float, message: str | None = None) -> None:
        seconds = max(1, math.ceil(wait))
        super().__init__(message or f"too many failed logins for this name: try again in {seconds} s", retry_after=wait)
