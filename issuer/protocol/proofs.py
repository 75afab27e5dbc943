"""Key proofs of the `jwt` type (OID4VCI 1.0 Appendix F.1, checks of F.4).

A proof shows the wallet holds the private key the credential will be bound to. Every
failure is `invalid_proof`; the nonce is returned, not checked, because all proofs of a
batch share one `c_nonce`, which the Credential endpoint consumes once. A proof with a key
attestation in its `key_attestation` header must be signed by one of the attested keys, which
it may then leave out of its header.
"""

from __future__ import annotations

import base64
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwcrypto import jwk, jws
from jwcrypto.common import JWException, base64url_decode

from issuer.crypto import es256
from issuer.errors import InvalidProof
from issuer.protocol import wire_json

PROOF_TYPE = "openid4vci-proof+jwt"
MAX_PROOF_LENGTH = 8192
MAX_ATTESTED_PROOF_LENGTH = 32768  # a key attestation in the header brings its certificate chain
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
PUBLIC_MEMBERS = ("kty", "crv", "x", "y", "n", "e")
# Certificate keys a credential can be bound to: those JOSE registers signatures for (RFC 7518 §3,
# RFC 8037, RFC 8812); EC only on the curves named there.
SUPPORTED_CERTIFICATE_KEYS = (
    ec.EllipticCurvePublicKey,
    rsa.RSAPublicKey,
    ed25519.Ed25519PublicKey,
    ed448.Ed448PublicKey,
)
SUPPORTED_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1", "secp256k1"})


@dataclass(frozen=True)
class VerifiedProof:
    jwk: dict[str, Any]
    nonce: str | None


def verify_jwt_proof(
    proof: str,
    *,
    audience: str,
    allowed_algs: Collection[str],
    client_id: str | None,
    now: float,
    max_age: int = 300,
    leeway: int = 60,
    attested_keys: Sequence[dict[str, Any]] | None = None,
) -> VerifiedProof:
    """The proven key and the proof's nonce; with `attested_keys` (from the proof's key attestation,
    checked by the caller), the proof must be signed by one of them."""
    if len(proof) > (MAX_PROOF_LENGTH if attested_keys is None else MAX_ATTESTED_PROOF_LENGTH):
        raise InvalidProof("the proof is too long")
    header, claims = _decode(proof)
    if header.get("typ") != PROOF_TYPE:
        raise InvalidProof(f"the proof typ must be {PROOF_TYPE}")
    if "crit" in header:  # RFC 7515 §4.1.11: no extension is understood here
        raise InvalidProof("the proof header names critical extensions this issuer does not support")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg == "none" or alg.startswith("HS") or alg not in allowed_algs:
        raise InvalidProof(f"the proof alg must be one of {', '.join(allowed_algs)}")
    holder_jwk = _verified_holder_key(proof, header, alg, attested_keys)
    _check_claims(claims, audience=audience, client_id=client_id, now=now, max_age=max_age, leeway=leeway)
    nonce = claims.get("nonce")
    if nonce is not None and not isinstance(nonce, str):
        raise InvalidProof("the proof nonce must be a string")
    return VerifiedProof(holder_jwk, nonce)


def _decode(proof: str) -> tuple[dict[str, Any], dict[str, Any]]:
    parts = proof.split(".")
    if len(parts) != 3 or not all(parts):
        raise InvalidProof("the proof is not a compact JWS")
    try:
        header = wire_json.loads(base64url_decode(parts[0]))
        claims = wire_json.loads(base64url_decode(parts[1]))
    except (ValueError, TypeError) as error:
        raise InvalidProof("the proof header or payload is not base64url JSON") from error
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidProof("the proof header and payload must be JSON objects")
    return header, claims


def key_attestation_in(proof: str) -> str | None:
    """The key attestation in a proof's `key_attestation` header, unverified, if there is one."""
    try:
        header = wire_json.loads(base64url_decode(proof.split(".")[0]))
    except (ValueError, TypeError):
        return None
    attestation = header.get("key_attestation") if isinstance(header, dict) else None
    return attestation if isinstance(attestation, str) else None


def _verified_holder_key(
    proof: str, header: dict[str, Any], alg: str, attested: Sequence[dict[str, Any]] | None
) -> dict[str, Any]:
    """The holder's public JWK, once the proof's signature verifies with it."""
    if attested is not None and not any(name in header for name in ("jwk", "kid", "x5c")):
        signer = next((key for key in attested if signature_valid(proof, key, alg)), None)
        if signer is None:
            raise InvalidProof("the proof is not signed by a key its key attestation attests")
        return signer
    key = _holder_key(header)
    public = {name: key[name] for name in PUBLIC_MEMBERS if name in key}
    if not signature_valid(proof, public, alg):
        raise InvalidProof("the proof signature does not verify")
    if attested is not None and public not in attested:
        raise InvalidProof("the proof is not signed by a key its key attestation attests")
    return public


def signature_valid(compact: str, public_jwk: dict[str, Any], alg: str) -> bool:
    """Whether a compact JWS verifies with `public_jwk` under `alg` (already checked against a list)."""
    signing_input, _, signature = compact.rpartition(".")
    try:
        if alg == "ES256" and public_jwk.get("crv") == "P-256":  # the hot path, see issuer.es256
            public_key = es256.public_key_from_jwk(public_jwk)
            return es256.verify(public_key, signing_input.encode("ascii"), base64url_decode(signature))
        token = jws.JWS()
        token.deserialize(compact)
        token.verify(jwk.JWK(**public_jwk), alg=alg)
        return True
    except (JWException, ValueError, TypeError, UnicodeEncodeError):
        return False


def _holder_key(header: dict[str, Any]) -> dict[str, Any]:
    """The public JWK named by exactly one of `jwk`, `kid`, `x5c` (Appendix F.1)."""
    present = [name for name in ("jwk", "kid", "x5c") if name in header]
    if len(present) != 1:
        raise InvalidProof("the proof header must carry exactly one of jwk, kid and x5c")
    if present[0] == "kid":
        raise InvalidProof("kid key references are not supported: send the key as jwk")
    if present[0] == "jwk":
        value = header["jwk"]
        if not isinstance(value, dict) or any(member in value for member in PRIVATE_MEMBERS):
            raise InvalidProof("the proof jwk must be a public key")
        if not isinstance(value.get("kty"), str):
            raise InvalidProof("the proof jwk has no kty")
        return value
    chain = header["x5c"]
    if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
        raise InvalidProof("the proof x5c must be a non-empty array of certificates")
    try:
        public_key = x509.load_der_x509_certificate(base64.b64decode(chain[0])).public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:  # not DER, or a key type cryptography lacks
        raise InvalidProof("the proof x5c is not a usable certificate") from error
    unsupported_curve = (
        isinstance(public_key, ec.EllipticCurvePublicKey) and public_key.curve.name not in SUPPORTED_CURVES
    )
    if not isinstance(public_key, SUPPORTED_CERTIFICATE_KEYS) or unsupported_curve:
        raise InvalidProof("the proof x5c certificate holds a key type this issuer does not support")
    try:
        return dict(jwk.JWK.from_pyca(public_key).export_public(as_dict=True))
    except (JWException, ValueError, TypeError, KeyError) as error:  # KeyError: a curve JOSE has no name for
        raise InvalidProof("the proof x5c certificate holds a key type this issuer does not support") from error


def _check_claims(
    claims: dict[str, Any], *, audience: str, client_id: str | None, now: float, max_age: int, leeway: int
) -> None:
    aud = claims.get("aud")
    if aud != audience and not (isinstance(aud, list) and audience in aud):
        raise InvalidProof("the proof aud must be the Credential Issuer Identifier")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise InvalidProof("the proof iat is missing")
    if iat > now + leeway:
        raise InvalidProof("the proof iat is in the future")
    if iat < now - max_age - leeway:
        raise InvalidProof("the proof is too old")
    if "iss" in claims and (client_id is None or claims["iss"] != client_id):
        raise InvalidProof("the proof iss must be the client_id, and absent for anonymous access")
