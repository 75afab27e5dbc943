"""X.509 chains in JOSE headers (`x5c`, RFC 7515 §4.1.6), checked as a HAIP 1.0 verifier checks them.

The chain is leaf first and must verify up to a trust anchor the verifier already holds; the anchor itself
is not in the chain and the signing certificate is not self-signed (HAIP §4.1, §6.1, §6.1.1).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError
from jwcrypto import jwk


class ChainError(Exception):
    """An `x5c` chain a HAIP verifier refuses."""


def load_anchor(pem: str | bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)


def verified_chain(x5c: Any, anchor: x509.Certificate, when: datetime | None = None) -> list[x509.Certificate]:
    """The certificates of `x5c`, once they chain to `anchor`; ChainError when they do not."""
    if not isinstance(x5c, list) or not x5c or not all(isinstance(entry, str) for entry in x5c):
        raise ChainError("x5c is not a non-empty array of base64 certificates")
    try:
        chain = [x509.load_der_x509_certificate(base64.b64decode(entry, validate=True)) for entry in x5c]
    except (ValueError, binascii.Error) as error:
        raise ChainError(f"x5c holds something that is not a DER certificate: {error}") from error
    if any(certificate == anchor for certificate in chain):
        raise ChainError("x5c includes the trust anchor")
    if self_signed(chain[0]):
        raise ChainError("the signing certificate is self-signed")
    verifier = (
        PolicyBuilder()
        .store(Store([anchor]))
        .time(when or datetime.now(UTC))
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all())
        .build_client_verifier()
    )
    try:
        verifier.verify(chain[0], chain[1:])
    except VerificationError as error:
        raise ChainError(f"x5c does not chain to the trust anchor: {error}") from error
    return chain


def leaf_jwk(chain: Sequence[x509.Certificate]) -> jwk.JWK:
    """The signing certificate's public key as a JWK."""
    key = chain[0].public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise ChainError("the signing certificate holds a key type JOSE does not sign with")
    return jwk.JWK.from_pyca(key)


def self_signed(certificate: x509.Certificate) -> bool:
    if certificate.issuer != certificate.subject:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
