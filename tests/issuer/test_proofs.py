"""Key proofs (OID4VCI Appendix F.1, F.4) with real keys: what passes and each way to fail."""

from __future__ import annotations

import base64
import datetime
import time
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, mldsa, mlkem, rsa, x448, x25519
from cryptography.x509.oid import NameOID
from jwcrypto import jwk, jws
from jwcrypto.common import json_encode

from issuer.errors import InvalidProof
from issuer.protocol.proofs import MAX_PROOF_LENGTH, verify_jwt_proof
from wallet.keys import make_proof, new_key, public_jwk

AUDIENCE = "https://desk.example"


def verify(proof: str, **options: Any):
    return verify_jwt_proof(
        proof, audience=AUDIENCE, allowed_algs=("ES256",), client_id=options.pop("client_id", None), now=time.time()
    )


def test_a_valid_proof_yields_the_public_key_and_nonce() -> None:
    key = new_key()
    verified = verify(make_proof(key, AUDIENCE, "n-1"))
    assert verified.jwk == public_jwk(key) and verified.nonce == "n-1"
    assert "d" not in verified.jwk


def test_audience_may_be_a_list_and_iss_may_equal_the_client() -> None:
    proof = make_proof(new_key(), AUDIENCE, None, claims={"aud": ["x", AUDIENCE], "iss": "wallet-1"})
    assert verify(proof, client_id="wallet-1").nonce is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"header": {"typ": "JWT"}}, "typ"),
        ({"header": {"kid": "did:example:1#k"}}, "exactly one"),
        ({"header": {"jwk": None, "kid": "did:example:1#k"}}, "kid key references"),
        ({"claims": {"aud": "https://other.example"}}, "aud"),
        ({"claims": {"iat": None}}, "iat is missing"),
        ({"claims": {"iat": "yesterday"}}, "iat is missing"),
        ({"claims": {"iat": int(time.time()) + 3600}}, "future"),
        ({"claims": {"iat": int(time.time()) - 86400}}, "too old"),
        ({"claims": {"iss": "someone"}}, "iss"),
        ({"claims": {"nonce": 42}}, "nonce"),
    ],
)
def test_each_violation_is_invalid_proof(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidProof, match=message):
        verify(make_proof(new_key(), AUDIENCE, "n", **options))


def sign_with_header(key: jwk.JWK, header: dict[str, Any], alg: str = "ES256") -> str:
    token = jws.JWS(json_encode({"aud": AUDIENCE, "iat": int(time.time())}).encode())
    token.add_signature(key, alg=alg, protected=json_encode(header))
    return token.serialize(compact=True)


def test_alg_none_hmac_and_unlisted_algorithms_are_refused() -> None:
    key = new_key()
    unsigned = make_proof(key, AUDIENCE, "n").rsplit(".", 1)[0] + "."
    hmac_key = jwk.JWK.generate(kty="oct", size=256)
    hmac_proof = sign_with_header(
        hmac_key, {"typ": "openid4vci-proof+jwt", "alg": "HS256", "jwk": public_jwk(key)}, "HS256"
    )
    p384 = jwk.JWK.generate(kty="EC", crv="P-384")
    es384 = sign_with_header(
        p384, {"typ": "openid4vci-proof+jwt", "alg": "ES384", "jwk": p384.export_public(as_dict=True)}, "ES384"
    )
    for proof in (unsigned, hmac_proof, es384):
        with pytest.raises(InvalidProof):
            verify(proof)


def test_private_key_in_header_tampering_and_garbage() -> None:
    key = new_key()
    with pytest.raises(InvalidProof, match="public key"):
        verify(
            sign_with_header(
                key, {"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": key.export_private(as_dict=True)}
            )
        )
    header, payload, signature = make_proof(key, AUDIENCE, "n").split(".")
    other_payload = make_proof(key, AUDIENCE, "other").split(".")[1]
    with pytest.raises(InvalidProof, match="signature"):
        verify(f"{header}.{other_payload}.{signature}")
    with pytest.raises(InvalidProof, match="signature"):
        verify(make_proof(key, AUDIENCE, "n", header={"jwk": public_jwk(new_key())}))
    for garbage in ("", "a.b", "a.b.c", "!!!.???.###", "e30.e30.", "W10.e30.sig"):
        with pytest.raises(InvalidProof):
            verify(garbage)
    with pytest.raises(InvalidProof, match="too long"):
        verify("a" * (MAX_PROOF_LENGTH + 1))


def self_signed_certificate(private_key: ec.EllipticCurvePrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wallet key")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(private_key, hashes.SHA256())
    )
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def test_x5c_uses_the_leaf_certificate_key() -> None:
    private_key = ec.generate_private_key(ec.SECP256R1())
    key = jwk.JWK.from_pyca(private_key)
    proof = sign_with_header(
        key, {"typ": "openid4vci-proof+jwt", "alg": "ES256", "x5c": [self_signed_certificate(private_key)]}
    )
    assert verify(proof).jwk["x"] == key.export_public(as_dict=True)["x"]
    with pytest.raises(InvalidProof, match="x5c"):
        verify(sign_with_header(key, {"typ": "openid4vci-proof+jwt", "alg": "ES256", "x5c": ["bm90IGEgY2VydA=="]}))


def _signing_keys() -> dict[str, tuple[Any, str]]:
    """Every key type `cryptography` can sign a certificate with, and the JOSE alg of its proofs."""
    keys: dict[str, tuple[Any, str]] = {
        "RSA 2048": (rsa.generate_private_key(65537, 2048), "PS256"),
        "Ed25519": (ed25519.Ed25519PrivateKey.generate(), "EdDSA"),
        "Ed448": (ed448.Ed448PrivateKey.generate(), "EdDSA"),
        "DSA 2048": (dsa.generate_private_key(2048), "ES256"),
        "ML-DSA-44": (mldsa.MLDSA44PrivateKey.generate(), "ML-DSA-44"),
        "ML-DSA-65": (mldsa.MLDSA65PrivateKey.generate(), "ML-DSA-65"),
        "ML-DSA-87": (mldsa.MLDSA87PrivateKey.generate(), "ML-DSA-87"),
    }
    jose_algs = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512", "secp256k1": "ES256K"}
    for curve in (
        ec.SECP192R1(), ec.SECP224R1(), ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1(), ec.SECP256K1(),
        ec.BrainpoolP256R1(), ec.BrainpoolP384R1(), ec.BrainpoolP512R1(),
    ):  # fmt: skip
        keys[f"EC {curve.name}"] = (ec.generate_private_key(curve), jose_algs.get(curve.name, "ES256"))
    return keys


def _key_agreement_keys() -> dict[str, Any]:
    """Key types that cannot sign, but that a certificate signed by another key can hold."""
    return {
        "X25519": x25519.X25519PrivateKey.generate(),
        "X448": x448.X448PrivateKey.generate(),
        "ML-KEM-768": mlkem.MLKEM768PrivateKey.generate(),
        "ML-KEM-1024": mlkem.MLKEM1024PrivateKey.generate(),
    }


# What the issuer binds credentials to: the keys JOSE registers a signature algorithm for (RFC 7518, RFC 8037,
# RFC 8812). Every other certificate key is `invalid_proof`, never a server error.
SUPPORTED_X5C = {"RSA 2048", "Ed25519", "Ed448", "EC secp256r1", "EC secp384r1", "EC secp521r1", "EC secp256k1"}
ALL_JOSE_ALGS = ("ES256", "ES384", "ES512", "ES256K", "PS256", "RS256", "EdDSA", "ML-DSA-44", "ML-DSA-65", "ML-DSA-87")


def certificate_of(public_key: Any, signer: Any) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wallet key")])
    now = datetime.datetime.now(datetime.UTC)
    # Ed25519, Ed448 and ML-DSA sign without a separate hash.
    algorithm = (
        hashes.SHA256()
        if isinstance(signer, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | dsa.DSAPrivateKey)
        else None
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(signer, algorithm)
    )
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def test_x5c_certificates_of_every_key_type() -> None:
    """A self-signed certificate of each signing key type, and certificates holding key-agreement keys
    signed by a P-256 key. A supported key verifies a proof it signed; any other is invalid_proof (the
    proof then signed by the P-256 key: the certificate's key is refused before any signature is checked)."""
    outcomes: dict[str, str] = {}
    other = ec.generate_private_key(ec.SECP256R1())
    cases = [(label, key, key, alg) for label, (key, alg) in _signing_keys().items()]
    cases += [(label, key, other, "ES256") for label, key in _key_agreement_keys().items()]
    for label, key, certificate_signer, alg in cases:
        header = {
            "typ": "openid4vci-proof+jwt",
            "alg": alg,
            "x5c": [certificate_of(key.public_key(), certificate_signer)],
        }
        proof_key = jwk.JWK.from_pyca(key) if label in SUPPORTED_X5C else jwk.JWK.from_pyca(other)
        if label not in SUPPORTED_X5C:
            header["alg"] = "ES256"
        try:
            verified = verify_jwt_proof(
                sign_with_header(proof_key, header, header["alg"]),
                audience=AUDIENCE,
                allowed_algs=ALL_JOSE_ALGS,
                client_id=None,
                now=time.time(),
            )
        except InvalidProof as error:
            outcomes[label] = f"invalid_proof: {error.description}"
        else:
            expected = jwk.JWK.from_pyca(key.public_key()).export_public(as_dict=True)
            assert verified.jwk == {k: v for k, v in expected.items() if k != "kid"}, label
            outcomes[label] = "verified"
    assert {label for label, outcome in outcomes.items() if outcome == "verified"} == SUPPORTED_X5C, outcomes
    refused = {label: outcome for label, outcome in outcomes.items() if label not in SUPPORTED_X5C}
    # ML-DSA-65 and -87 certificates make a proof longer than any accepted: refused for that first.
    reasons = ("holds a key type this issuer does not support", "the proof is too long")
    assert all(outcome.endswith(reasons) for outcome in refused.values()), "\n".join(map(str, refused.items()))


@pytest.mark.parametrize(
    ("known", "unknown"),
    [
        ("06082A8648CE3D030107", "06082A8648CE3D03017F"),  # the P-256 curve OID made one nobody knows
        ("06072A8648CE3D0201", "06072A8648CE3D027F"),  # the EC public key OID, likewise
    ],
)
def test_x5c_with_an_unknown_key_or_curve_oid_is_invalid_proof(known: str, unknown: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    der = base64.b64decode(certificate_of(key.public_key(), key))
    assert der.count(bytes.fromhex(known)) == 1
    certificate = base64.b64encode(der.replace(bytes.fromhex(known), bytes.fromhex(unknown))).decode()
    proof = sign_with_header(
        jwk.JWK.from_pyca(key), {"typ": "openid4vci-proof+jwt", "alg": "ES256", "x5c": [certificate]}
    )
    with pytest.raises(InvalidProof, match="x5c is not a usable certificate"):
        verify(proof)
