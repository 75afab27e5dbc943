"""DPoP proofs with every algorithm the metadata advertises (RFC 9449 §4.3): each verifies and
yields the RFC 7638 thumbprint of its key; a proof is accepted once."""

from __future__ import annotations

import pytest
from jwcrypto import jwk

from issuer.protocol.dpop import SIGNING_ALGS, DpopError, DpopVerifier
from wallet.keys import make_dpop_proof

URL = "https://desk.example/token"
KEYS = {
    "ES256": lambda: jwk.JWK.generate(kty="EC", crv="P-256"),
    "ES384": lambda: jwk.JWK.generate(kty="EC", crv="P-384"),
    "ES512": lambda: jwk.JWK.generate(kty="EC", crv="P-521"),
    "EdDSA": lambda: jwk.JWK.generate(kty="OKP", crv="Ed25519"),
    "PS256": lambda: jwk.JWK.generate(kty="RSA", size=2048),
    "RS256": lambda: jwk.JWK.generate(kty="RSA", size=2048),
}


def test_every_advertised_algorithm_has_a_test() -> None:
    assert set(KEYS) == set(SIGNING_ALGS)


@pytest.mark.parametrize("alg", SIGNING_ALGS)
def test_a_proof_verifies_once_with_its_key_thumbprint(alg: str) -> None:
    key = KEYS[alg]()
    public = key.export_public(as_dict=True)
    proof = make_dpop_proof(key, "POST", URL, header={"alg": alg, "jwk": public})
    verifier = DpopVerifier(require_nonce=False)
    assert verifier.verify(proof, "POST", URL).jkt == key.thumbprint()
    with pytest.raises(DpopError, match="already used"):
        verifier.verify(proof, "POST", URL)


def test_htu_is_compared_without_query_default_port_and_case() -> None:
    key = KEYS["ES256"]()
    proof = make_dpop_proof(
        key, "POST", "HTTPS://Desk.Example:443/token", claims={"htu": "HTTPS://Desk.Example:443/token"}
    )
    assert DpopVerifier(require_nonce=False).verify(proof, "POST", URL + "?x=1").jkt == key.thumbprint()
