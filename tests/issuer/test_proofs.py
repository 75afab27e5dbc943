"""Key proofs (OID4VCI Appendix F.1, F.4) with real keys: what passes and each way to fail."""

from __future__ import annotations

import base64
import datetime
import time
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
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
