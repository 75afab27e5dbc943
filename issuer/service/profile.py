"""What the HAIP 1.0 profile needs beyond the settings it turns on (`config.HAIP_REQUIREMENTS`): checked at
start, where the issuer refuses to run without it, and before the desk saves the profile.

- an https Credential Issuer Identifier (HAIP §4, OID4VCI §12.2.1);
- a certificate chain for the signing key, so that every credential, Status List Token and signed
  metadata carries `x5c` (HAIP §4.1, §6.1, §6.1.1);
- a `scope` on every credential configuration (HAIP §4.1);
- wallet providers to trust, as wallet attestations are required (HAIP §4.4.1).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from issuer.config import Settings, SettingsError
from issuer.crypto.keys import IssuerKey
from issuer.crypto.trust_anchors import TrustAnchors
from issuer.protocol.credential_types import CredentialTypes

CERTIFICATE_COMMANDS = (
    "'frontdesk-issuer certificates init --country XX' (the issuer's own CA), or 'frontdesk-issuer certificates "
    "csr' and 'certificates import' (your organisation's CA), or Settings → High assurance in the app"
)

NO_PROVIDER = (
    "wallet attestations are required, but no wallet provider is trusted: list your wallet providers' "
    "CA certificates (PEM files in the data folder) in wallet_trust_anchors"
)


def problems(
    settings: Settings, issuer_url: str, signer: IssuerKey, types: CredentialTypes, anchors: TrustAnchors
) -> list[str]:
    """Why these settings cannot run: the HAIP profile's missing parts, and wallet attestations required
    without a wallet provider to trust."""
    found = []
    if settings.require_wallet_attestation and not anchors:
        found.append(NO_PROVIDER)
    if not settings.haip:
        return found
    if urlsplit(issuer_url).scheme != "https":
        found.insert(0, f"the HAIP profile needs an https public URL, not {issuer_url} (set public_url)")
    if not signer.x5c:
        found.insert(0, f"the HAIP profile needs a certificate chain for the signing key: run {CERTIFICATE_COMMANDS}")
    unscoped = sorted(
        type_id for type_id, credential_type in types.items() if "scope" not in credential_type.configuration
    )
    if unscoped:
        found.append(f"the HAIP profile needs a scope on every credential type; add one to {', '.join(unscoped)}")
    return found


def check(
    settings: Settings, issuer_url: str, signer: IssuerKey, types: CredentialTypes, anchors: TrustAnchors
) -> None:
    """Refuse to run with the first problem found."""
    found = problems(settings, issuer_url, signer, types, anchors)
    if found:
        raise SettingsError(
            found[0] + (f" (and {len(found) - 1} more: {'; '.join(found[1:])})" if len(found) > 1 else "")
        )
