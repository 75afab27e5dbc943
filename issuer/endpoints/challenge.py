"""Challenge endpoint (attestation-based client auth -07 §8): a fresh challenge for a wallet's next
attestation PoP. Uncacheable; it needs no authentication."""

from __future__ import annotations

from issuer.protocol.client_attestation import ClientAttestations


def challenge_response(attestations: ClientAttestations) -> dict[str, str]:
    return {"attestation_challenge": attestations.new_challenge()}
