"""Small certificate authorities, for the parties a wallet deals with in tests: its provider, which certifies
the keys that sign its attestations, and an organisation's CA that certifies an issuer.

A chain made here is what HAIP 1.0 expects to travel in `x5c`: the signing certificate first, then any
intermediate CA, never the self-signed root, which the other side holds as its trust anchor.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from jwcrypto import jwk


@dataclass
class Authority:
    """A CA: its key and certificate, and the chain above it (empty for a root)."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    above: list[x509.Certificate] = field(default_factory=list)

    @classmethod
    def root(cls, name: str, country: str = "DE", *, days: int = 365) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = _name(name, country)
        builder = _builder(subject, subject, key.public_key(), days).add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        )
        certificate = _as_ca(builder, key.public_key()).sign(key, hashes.SHA256())
        return cls(key, certificate)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def intermediate(self, name: str, *, days: int = 365) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = _builder(_name(name, _country(self)), self.certificate.subject, key.public_key(), days)
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        builder = _as_ca(builder, key.public_key()).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
        )
        return Authority(key, builder.sign(self.key, hashes.SHA256()), [self.certificate, *self.above])

    def certify(
        self, public_key: ec.EllipticCurvePublicKey, name: str, *, days: int = 30, dns_name: str | None = None
    ) -> list[x509.Certificate]:
        """An end-entity certificate for signatures, and the chain up to (not including) the root."""
        builder = _builder(_name(name, _country(self)), self.certificate.subject, public_key, days)
        usage = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
        builder = builder.add_extension(usage, critical=True).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
        )
        if dns_name:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
        leaf = builder.sign(self.key, hashes.SHA256())
        return [leaf, *([self.certificate] if self.above else []), *self.above[:-1]]


@dataclass
class CertifiedKey:
    """A signing key with its `x5c` chain."""

    key: jwk.JWK
    chain: list[x509.Certificate]

    @classmethod
    def issued_by(cls, authority: Authority, name: str, *, days: int = 30) -> CertifiedKey:
        private = ec.generate_private_key(ec.SECP256R1())
        return cls(jwk.JWK.from_pyca(private), authority.certify(private.public_key(), name, days=days))

    @property
    def x5c(self) -> list[str]:
        return x5c_of(self.chain)


def x5c_of(chain: list[x509.Certificate]) -> list[str]:
    return [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii") for c in chain]


def pem_of(chain: list[x509.Certificate]) -> bytes:
    return b"".join(certificate.public_bytes(serialization.Encoding.PEM) for certificate in chain)


def _name(name: str, country: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, name[:64]),
        ]
    )


def _country(authority: Authority) -> str:
    return str(authority.certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, days: int
) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=days))
    )


def _as_ca(builder: x509.CertificateBuilder, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    return builder.add_extension(usage, critical=True).add_extension(
        x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False
    )
