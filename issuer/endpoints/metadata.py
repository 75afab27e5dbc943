"""Metadata documents: Credential Issuer (OID4VCI §12.2), OAuth AS (RFC 8414, OID4VCI §12.3), JWT VC Issuer.

Well-known URLs are built by inserting the well-known segment between the host and the
issuer identifier's path (OID4VCI §12.2.2, RFC 8414 §3).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from issuer.config import Settings
from issuer.crypto.keys import KeyRing
from issuer.protocol.authorization import AUTHORIZATION_CODE_GRANT
from issuer.protocol.credential_types import CredentialTypes
from issuer.protocol.dpop import SIGNING_ALGS as DPOP_SIGNING_ALGS
from issuer.protocol.encryption import SUPPORTED_ALGS, SUPPORTED_ENCS, SUPPORTED_ZIPS
from issuer.service.types import PRE_AUTHORIZED_GRANT

CREDENTIAL_ISSUER = "/.well-known/openid-credential-issuer"
AUTHORIZATION_SERVER = "/.well-known/oauth-authorization-server"
JWT_VC_ISSUER = "/.well-known/jwt-vc-issuer"


def well_known_path(issuer_url: str, segment: str) -> str:
    """`/.well-known/<segment>` followed by the issuer identifier's path, if it has one."""
    return segment + urlsplit(issuer_url).path.rstrip("/")


def credential_issuer_metadata(url: str, settings: Settings, types: CredentialTypes) -> dict[str, Any]:
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
    return metadata


def authorization_server_metadata(url: str, settings: Settings, types: CredentialTypes) -> dict[str, Any]:
    """What the AS enforces, and nothing else (checklist B24): PKCE S256 always, PAR and DPoP as set."""
    scopes = [t.configuration["scope"] for t in types.values() if "scope" in t.configuration]
    return {
        "issuer": url,
        "authorization_endpoint": f"{url}/authorize",
        "token_endpoint": f"{url}/token",
        "pushed_authorization_request_endpoint": f"{url}/par",
        "require_pushed_authorization_requests": settings.require_par,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [AUTHORIZATION_CODE_GRANT, PRE_AUTHORIZED_GRANT, "refresh_token"],
        "pre-authorized_grant_anonymous_access_supported": True,
        "token_endpoint_auth_methods_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_details_types_supported": ["openid_credential"],
        "scopes_supported": scopes,
        "dpop_signing_alg_values_supported": list(DPOP_SIGNING_ALGS),
        "authorization_response_iss_parameter_supported": True,
    }


def jwt_vc_issuer_metadata(url: str, keys: KeyRing) -> dict[str, Any]:
    """SD-JWT VC issuer-key resolution (SD-JWT VC §3): `iss` plus the keys inline."""
    return {"issuer": url, "jwks": keys.jwks()}
