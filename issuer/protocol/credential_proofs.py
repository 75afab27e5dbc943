"""The `proofs` of a Credential Request (OID4VCI 1.0 §8.2, Appendix F): the keys the credentials will be
bound to, one credential per key.

A request carries proofs of one type, a type its credential configuration supports:
- `jwt`: one proof per key (F.1); a proof may carry a key attestation in its `key_attestation` header,
  and then every key that attestation names gets a credential (F.1: "SHOULD issue a Credential for each");
- `attestation`: exactly one key attestation (F.3), naming every key, with no proof of possession.
Every proof and key attestation names the same `c_nonce`, returned here and consumed once by the
Credential endpoint (§8.2, F.4). A configuration whose proof type has `key_attestations_required` takes
only attested keys, at the levels it accepts (§12.2.4, Appendix D).

Wallets built on draft 15 send a singular `"proof": {"proof_type": "jwt", "jwt": ...}`; unless the issuer
keeps to the HAIP profile, it is read as a `proofs` of one `jwt`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from issuer.crypto.trust_anchors import TrustAnchors
from issuer.errors import InvalidProof
from issuer.protocol.credential_types import CredentialType
from issuer.protocol.key_attestation import AttestedKeys, check_required, verify_key_attestation
from issuer.protocol.proofs import key_attestation_in, verify_jwt_proof

PROOF_TYPES = ("jwt", "attestation")


@dataclass(frozen=True)
class ProvenKeys:
    keys: list[dict[str, Any]]  # public JWKs, one credential each
    nonce: str
    attestation: AttestedKeys | None = None  # the request's (first) key attestation


@dataclass(frozen=True)
class ProofPolicy:
    """What the issuer accepts besides the credential type's own rules."""

    audience: str  # the Credential Issuer Identifier
    client_id: str | None  # the access token's client, whom a proof's `iss` must name
    now: float
    batch_size: int
    anchors: TrustAnchors  # the wallet providers whose key attestations count
    singular_proof: bool  # draft 15's `proof` object is read as a one-element `proofs`


def proven_keys(request: Mapping[str, Any], credential_type: CredentialType, policy: ProofPolicy) -> ProvenKeys:
    proof_type, values = _proofs(request, policy.singular_proof)
    supported = credential_type.configuration.get("proof_types_supported", {})
    if proof_type not in PROOF_TYPES or proof_type not in supported:
        raise InvalidProof(f"proof type {str(proof_type)[:40]} is not supported for {credential_type.id}")
    options = supported[proof_type]
    algs = tuple(options.get("proof_signing_alg_values_supported", ()))
    required = options.get("key_attestations_required")
    if proof_type == "attestation":
        if not isinstance(values, list) or len(values) != 1 or not isinstance(values[0], str):
            raise InvalidProof("proofs.attestation must be an array of exactly one key attestation")
        attestation = verify_key_attestation(
            values[0], anchors=policy.anchors, allowed_algs=algs, now=policy.now, with_proof=False
        )
        if attestation.nonce is None:
            raise InvalidProof("the key attestation has no nonce; get one from the nonce endpoint")
        return _checked(ProvenKeys(list(attestation.keys), attestation.nonce, attestation), required, policy)
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise InvalidProof("proofs.jwt must be a non-empty array of JWTs")
    if len(values) > policy.batch_size:
        raise InvalidProof(f"at most {policy.batch_size} proofs are accepted in one request")
    keys: list[dict[str, Any]] = []
    signers: list[dict[str, Any]] = []
    nonces: set[str | None] = set()
    first: AttestedKeys | None = None
    for value in values:
        attested = _header_attestation(value, algs, policy)
        proof = verify_jwt_proof(
            value,
            audience=policy.audience,
            allowed_algs=algs,
            client_id=policy.client_id,
            now=policy.now,
            attested_keys=attested.keys if attested else None,
        )
        if attested is not None and attested.nonce != proof.nonce:
            raise InvalidProof("the key attestation's nonce is not this request's c_nonce")
        if required is not None:
            if attested is None:
                raise InvalidProof(f"{credential_type.id} needs a key attestation with each proof")
            check_required(attested, required)
        first = first or attested
        nonces.add(proof.nonce)
        signers.append(proof.jwk)
        keys += [key for key in (attested.keys if attested else [proof.jwk]) if key not in keys]
    if None in nonces:
        raise InvalidProof("the proof has no nonce; get one from the nonce endpoint")
    if len(nonces) != 1:
        raise InvalidProof("all proofs of a request must carry the same nonce")
    if len({_key_identity(signer) for signer in signers}) != len(signers):
        raise InvalidProof("each proof must use a different key")
    return _checked(ProvenKeys(keys, nonces.pop() or "", first), required, policy)


def _proofs(request: Mapping[str, Any], singular_proof: bool) -> tuple[Any, Any]:
    """The proof type and its values, from `proofs` (or from draft 15's `proof`, when accepted)."""
    proofs = request.get("proofs")
    proof = request.get("proof")
    if proofs is None and singular_proof and proof is not None:
        if not isinstance(proof, dict) or proof.get("proof_type") != "jwt" or not isinstance(proof.get("jwt"), str):
            raise InvalidProof("proof must be an object with proof_type jwt and a jwt")
        return "jwt", [proof["jwt"]]
    if proofs is None:
        raise InvalidProof("proofs is missing")
    if not isinstance(proofs, dict) or len(proofs) != 1:
        raise InvalidProof("proofs must be an object with exactly one proof type")
    return next(iter(proofs.items()))


def _header_attestation(proof: str, algs: tuple[str, ...], policy: ProofPolicy) -> AttestedKeys | None:
    attestation = key_attestation_in(proof)
    if attestation is None:
        return None
    return verify_key_attestation(
        attestation, anchors=policy.anchors, allowed_algs=algs, now=policy.now, with_proof=True
    )


def _checked(proven: ProvenKeys, required: Mapping[str, Any] | None, policy: ProofPolicy) -> ProvenKeys:
    if len(proven.keys) > policy.batch_size:
        raise InvalidProof(f"at most {policy.batch_size} keys are accepted in one request")
    if required is not None:
        if proven.attestation is None:
            raise InvalidProof("this credential needs a key attestation")
        check_required(proven.attestation, required)
    return proven


def _key_identity(public_jwk: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted((k, str(v)) for k, v in public_jwk.items() if k in ("kty", "crv", "x", "y", "n", "e")))
