"""Metadata documents: Credential Issuer (OID4VCI §12.2), OAuth AS (RFC 8414, OID4VCI §12.3), JWT VC Issuer.

Well-known URLs are built by inserting the well-known segment between the host and the
issuer identifier's path (OID4VCI §12.2.2, RFC 8414 §3). A wallet that asks for `application/jwt`
gets the Credential Issuer metadata signed (§12.2.3), once the signing key has a certificate chain,
which the JWT carries in `x5c` (HAIP 1.0 §4.1). Each document advertises what the issuer enforces,
and nothing else.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from werkzeug.datastructures import MIMEAccept

from issuer.config import Settings
from issuer.crypto.keys import IssuerKey, KeyRing
from issuer.protocol import client_attestation
from issuer.protocol.authorization import AUTHORIZATION_CODE_GRANT
from issuer.protocol.client_attestation import ClientAttestations
from issuer.protocol.credential_types import CredentialTypes
from issuer.protocol.dpop import SIGNING_ALGS as DPOP_SIGNING_ALGS
from issuer.protocol.encryption import SUPPORTED_ALGS, SUPPORTED_ENCS, SUPPORTED_ZIPS, RequestEncryption
from issuer.service.types import PRE_AUTHORIZED_GRANT

CREDENTIAL_ISSUER = "/.well-known/openid-credential-issuer"
AUTHORIZATION_SERVER = "/.well-known/oauth-authorization-server"
JWT_VC_ISSUER = "/.well-known/jwt-vc-issuer"
SIGNED_METADATA_TYPE = "openidvci-issuer-metadata+jwt"
SIGNED_MEDIA_TYPE = "application/jwt"
SIGNED_METADATA_LIFETIME = 86400


def well_known_path(issuer_url: str, segment: str) -> str:
    """`/.well-known/<segment>` followed by the issuer identifier's path, if it has one."""
    return segment + urlsplit(issuer_url).path.rstrip("/")


def credential_issuer_metadata(
    url: str, settings: Settings, types: CredentialTypes, request_encryption: RequestEncryption
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "credential_issuer": url,
        "credential_endpoint": f"{url}/credential",
        "nonce_endpoint": f"{url}/nonce",
        "deferred_credential_endpoint": f"{url}/deferred_credential",
        "notification_endpoint": f"{url}/notification",
        "credential_response_encryption": {
            "alg_values_supported": list(SUPPORTED_ALGS),
            "enc_values_supported": list(SUPPORTED_ENCS),
            "zip_values_supported": list(SUPPORTED_ZIPS),
            "encryption_required": False,
        },
        "display": [{"name": settings.issuer_name, "locale": "en-US"}],
        "credential_configurations_supported": {
            type_id: credential_type.metadata(url) for type_id, credential_type in types.items()
        },
    }
    if settings.batch_size >= 2:  # §12.2.4: batch_size is at least 2 when present
        metadata["batch_credential_issuance"] = {"batch_size": settings.batch_size}
    if request_encryption.keys is not None:  # §12.2.4, checklist B17: every key with its kid
        metadata["credential_request_encryption"] = {
            "jwks": request_encryption.keys.jwks(),
            "enc_values_supported": list(SUPPORTED_ENCS),
            "zip_values_supported": list(SUPPORTED_ZIPS),
            "encryption_required": request_encryption.required,
        }
    return metadata


def prefers_signed(accept: MIMEAccept) -> bool:
    """Whether a wallet asks for signed metadata (§12.2.2): `application/jwt` named, and liked at least as
    well as JSON; a wallet that accepts anything (`*/*`, or no Accept) gets JSON, as before."""
    signed = max((quality for value, quality in accept if value.lower() == SIGNED_MEDIA_TYPE), default=0)
    return signed > 0 and signed >= accept.quality("application/json")


def signed_metadata(metadata: dict[str, Any], signer: IssuerKey, now: int) -> str:
    """The metadata as a JWS (§12.2.3): every parameter a top-level claim, `sub` the issuer, `iat`, `exp`."""
    claims = {**metadata, "sub": metadata["credential_issuer"], "iat": now, "exp": now + SIGNED_METADATA_LIFETIME}
    return signer.sign(claims, {"typ": SIGNED_METADATA_TYPE})


def authorization_server_metadata(
    url: str, settings: Settings, types: CredentialTypes, attestations: ClientAttestations
) -> dict[str, Any]:
    """What the AS enforces, and nothing else (checklist B24): PKCE S256 always, PAR and DPoP as set, and
    wallet attestations (attestation-based client auth -07 §12.1) when a wallet provider is trusted."""
    scopes = [t.configuration["scope"] for t in types.values() if "scope" in t.configuration]
    auth_methods = [] if attestations.required else ["none"]
    if attestations.offered:
        auth_methods.append(client_attestation.AUTH_METHOD)
    metadata: dict[str, Any] = {
        "issuer": url,
        "authorization_endpoint": f"{url}/authorize",
        "token_endpoint": f"{url}/token",
        "pushed_authorization_request_endpoint": f"{url}/par",
        "require_pushed_authorization_requests": settings.require_par,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [AUTHORIZATION_CODE_GRANT, PRE_AUTHORIZED_GRANT, "refresh_token"],
        "pre-authorized_grant_anonymous_access_supported": not attestations.required,
        "token_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "authorization_details_types_supported": ["openid_credential"],
        "scopes_supported": scopes,
        "dpop_signing_alg_values_supported": list(DPOP_SIGNING_ALGS),
        "authorization_response_iss_parameter_supported": True,
    }
    if attestations.offered:
        metadata.update(
            {
                "client_attestation_signing_alg_values_supported": list(client_attestation.SIGNING_ALGS),
                "client_attestation_pop_signing_alg_values_supported": list(client_attestation.SIGNING_ALGS),
                "challenge_endpoint": f"{url}/challenge",
            }
        )
    return metadata


def jwt_vc_issuer_metadata(url: str, keys: KeyRing) -> dict[str, Any]:
    """SD-JWT VC issuer-key resolution (SD-JWT VC §3): `iss` plus the keys inline."""
    return {"issuer": url, "jwks": keys.jwks()}
