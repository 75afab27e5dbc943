"""Key attestations (OID4VCI 1.0 Appendix D, HAIP 1.0 §4.5.1): a wallet provider's statement about the keys
a credential will be bound to, and how well they are kept.

A key attestation is a JWT, `typ` key-attestation+jwt, signed by the provider's certified key (its chain in
`x5c`, to a configured trust anchor), naming `attested_keys` and the attack potential its `key_storage` and
`user_authentication` resist (Appendix D.2). It arrives as the `attestation` proof type (Appendix F.3) or in
the `key_attestation` header of a `jwt` proof (Appendix F.1); either way its `nonce` is the issuer's
`c_nonce`, which the Credential endpoint checks and consumes with the request's.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from issuer.crypto.trust_anchors import ChainRefused, TrustAnchors, public_jwk_of
from issuer.errors import InvalidProof
from issuer.protocol import wire_json
from issuer.protocol.proofs import PRIVATE_MEMBERS, PUBLIC_MEMBERS, signature_valid

TYPE = "key-attestation+jwt"
MAX_LENGTH = 16384
MAX_KEYS = 100
LEEWAY = 60
LEVELS = ("key_storage", "user_authentication")


@dataclass(frozen=True)
class AttestedKeys:
    """The keys a provider attests, and how well they are kept."""

    keys: tuple[dict[str, Any], ...]  # public JWKs
    key_storage: tuple[str, ...]
    user_authentication: tuple[str, ...]
    provider: str | None  # the attestation's `iss`, when it names one
    nonce: str | None

    def record(self) -> dict[str, Any]:
        """What the ledger keeps of a credential's key attestation."""
        levels = {"key_storage": list(self.key_storage), "user_authentication": list(self.user_authentication)}
        return {**levels, **({"provider": self.provider} if self.provider else {})}


def verify_key_attestation(
    compact: str, *, anchors: TrustAnchors, allowed_algs: Collection[str], now: float, with_proof: bool
) -> AttestedKeys:
    """The attested keys, once the attestation verifies; `with_proof`: it came in a `jwt` proof's header,
    where `exp` is required (Appendix D.1). Every failure is `invalid_proof`."""
    if not isinstance(compact, str) or len(compact) > MAX_LENGTH:
        raise InvalidProof("the key attestation must be a JWT")
    try:
        header, claims = wire_json.jwt_parts(compact)
    except ValueError as error:
        raise InvalidProof("the key attestation is not a JWT") from error
    if header.get("typ") != TYPE:
        raise InvalidProof(f"the key attestation typ must be {TYPE}")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in allowed_algs:
        raise InvalidProof(f"the key attestation alg must be one of {', '.join(allowed_algs)}")
    try:
        provider_key = public_jwk_of(anchors.verify(header.get("x5c"), now))
    except ChainRefused as error:
        raise InvalidProof(f"the key attestation is not from a trusted wallet provider: {error}") from error
    if not signature_valid(compact, provider_key, alg):
        raise InvalidProof("the key attestation signature does not verify with its x5c certificate")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not _number(iat) or iat > now + LEEWAY:
        raise InvalidProof("the key attestation iat is missing or in the future")
    if exp is None and with_proof:
        raise InvalidProof("a key attestation in a jwt proof needs exp")
    if exp is not None and (not _number(exp) or exp <= now - LEEWAY):
        raise InvalidProof("the key attestation has expired")
    nonce, provider = claims.get("nonce"), claims.get("iss")
    if nonce is not None and not isinstance(nonce, str):
        raise InvalidProof("the key attestation nonce must be a string")
    return AttestedKeys(
        _attested_keys(claims.get("attested_keys")),
        _levels(claims, "key_storage"),
        _levels(claims, "user_authentication"),
        provider if isinstance(provider, str) else None,
        nonce,
    )


def check_required(attested: AttestedKeys, required: Mapping[str, Any]) -> None:
    """The attestation meets `key_attestations_required` (§12.2.4): for each level asked for, it claims
    one of the accepted values."""
    for name in LEVELS:
        accepted = required.get(name)
        if accepted and not set(getattr(attested, name)) & set(accepted):
            raise InvalidProof(f"the key attestation's {name} is not one this issuer accepts: {', '.join(accepted)}")


def _attested_keys(value: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list) or not 0 < len(value) <= MAX_KEYS:
        raise InvalidProof("attested_keys must be a non-empty array of keys")
    keys = []
    for key in value:
        if not isinstance(key, dict) or not isinstance(key.get("kty"), str) or key.keys() & set(PRIVATE_MEMBERS):
            raise InvalidProof("attested_keys must hold public JWKs")
        keys.append({name: key[name] for name in PUBLIC_MEMBERS if name in key})
    return tuple(keys)


def _levels(claims: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = claims.get(name, [])
    if not isinstance(value, list) or not all(isinstance(level, str) for level in value):
        raise InvalidProof(f"{name} must be an array of strings")
    return tuple(value)


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
