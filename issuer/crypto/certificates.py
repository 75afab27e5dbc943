"""X.509 certificates for the issuer's signing keys (HAIP 1.0 §6.1.1 and §4.1; SD-JWT VC §3.5).

Two ways to a chain:
- the issuer's own issuing CA: `create_ca` makes a CA key and its self-signed certificate, the trust anchor
  verifiers import, and a document-signer certificate for the active signing key, signed by that CA; every
  key made later (a rotation) is certified by it in the same step (`certify`);
- the organisation's CA: `signing_request` writes a certificate signing request for the active key, and
  `import_chain` checks the chain the CA sent back (it ends with the CA's root) and stores it.

Everything lives in the store's key files of the part `certificates` (`<data>/certificates/`, or sealed
rows of a shared PostgreSQL store, where every process presents the same chain), apart from the signing
keys:
- `trust-anchor.pem`: the CA certificate verifiers trust, never sent in `x5c` (HAIP §6.1.1);
- `ca-key.pem`: the own CA's private key, owner-only, encrypted with the signing keys' passphrase when
  they are encrypted (in a shared store, sealed under it as every key file there);
- `chains/<kid>.pem`: a signing key's chain, leaf first, without the trust anchor.

The certificates are made as ISO 18013-5 Annex B verifiers expect, so that an mdoc can be signed with the
same keys: issuer and subject name a country and an organisation; the CA certifies certificates only; a
document signer's key is for digital signatures only, its certificate lasts at most 457 days and never
beyond its CA's.
"""

from __future__ import annotations

import base64
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError
from jwcrypto import jwk

from issuer.config import SettingsError
from issuer.crypto.keys import IssuerKey, KeyRing
from issuer.crypto.trust_anchors import is_self_signed
from issuer.storage.interfaces import KeyFiles
from issuer.storage.local import FolderKeyFiles

CERTIFICATES_DIR = "certificates"
TRUST_ANCHOR_FILE = "trust-anchor.pem"
CA_KEY_FILE = "ca-key.pem"
CA_KEY_PATTERN = "*-key.pem"
CHAINS_DIR = "chains"
CA_VALIDITY_DAYS = 10 * 365
SIGNER_VALIDITY_DAYS = 457  # ISO 18013-5 Annex B: a document signer certificate lasts at most 457 days
WARN_DAYS = 30
BACKDATE = timedelta(hours=1)  # valid from an hour ago, for verifiers whose clocks run behind
NAME_LENGTH = 64  # ub-organization-name and ub-common-name (RFC 5280 Appendix A.1)
DAY = 86400


class CertificateError(SettingsError):
    """A certificate that cannot be made, read or used, said in one line."""


@dataclass(frozen=True)
class CertificateInfo:
    """What the desk shows of one certificate."""

    role: str  # "trust anchor" or "document signer"
    subject: str
    not_after: int
    fingerprint: str  # SHA-256 of the DER encoding, hex

    def to_json(self) -> dict[str, str | int]:
        return {"role": self.role, "subject": self.subject, "not_after": self.not_after, "sha256": self.fingerprint}


class IssuerCertificates:
    """The trust anchor and the signing keys' chains of one issuer; attaching a chain to a key in the
    key ring makes every signature of that key carry it in `x5c`. `files`: the key files of the part
    `certificates` (a data folder's path means its `certificates` folder). When another process
    sharing the store changes them, they are read again with the keys."""

    def __init__(self, files: KeyFiles | Path, keys: KeyRing, clock: Callable[[], float] = time.time) -> None:
        if isinstance(files, Path):
            files = FolderKeyFiles(files / CERTIFICATES_DIR, make=False)
        self._files = files
        self.folder = files.folder if isinstance(files, FolderKeyFiles) else None
        self.where = str(self.folder) if self.folder is not None else "the shared store"
        self._keys = keys
        self._clock = clock
        self._anchor: x509.Certificate | None = None
        self._chains: dict[str, list[x509.Certificate]] = {}
        self._load()
        keys.on_reload(self._load)

    # ----- what verifiers and other formats need -----

    @property
    def trust_anchor(self) -> x509.Certificate | None:
        return self._anchor

    def trust_anchor_pem(self) -> str | None:
        return self._anchor.public_bytes(serialization.Encoding.PEM).decode("ascii") if self._anchor else None

    def chain(self, kid: str | None = None) -> list[x509.Certificate]:
        """The chain of a signing key (the active one by default), leaf first, without the trust anchor."""
        return list(self._chains.get(kid or self._keys.active.kid, []))

    def document_signer_chain(self, kid: str | None = None) -> list[bytes]:
        """`chain` as DER, for formats that carry certificates themselves (an mdoc's `x5chain`)."""
        return [certificate.public_bytes(serialization.Encoding.DER) for certificate in self.chain(kid)]

    @property
    def own_ca(self) -> bool:
        """Whether this issuer is its own CA, and so certifies its new keys itself."""
        return self._files.read(CA_KEY_FILE) is not None

    # ----- making and importing chains -----

    def create_ca(self, country: str, organisation: str, issuer_url: str, *, replace: bool = False) -> None:
        """The issuer's own issuing CA, and a document-signer certificate from it for the active key."""
        country = country.strip().upper()
        if len(country) != 2 or not country.isascii() or not country.isalpha():
            raise CertificateError(f"the country must be a two-letter ISO 3166 code such as DE, not {country!r}")
        if self._anchor is not None and not replace:
            raise CertificateError(f"{self.where} already holds a trust anchor; to make a new CA, replace it")
        now = self._now()
        private = jwk.JWK.generate(kty="EC", crv="P-256")
        key = _signing_key(private)
        name = _name(country, organisation, f"{organisation} issuing CA")
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + timedelta(days=CA_VALIDITY_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.IssuerAlternativeName([x509.UniformResourceIdentifier(issuer_url)]), critical=False)
            .sign(key, hashes.SHA256())
        )
        self._files.write(CA_KEY_FILE, self._keys.private_pem(private, self._files))
        self._write_anchor(certificate)
        self.certify(self._keys.active, issuer_url)

    def certify(self, key: IssuerKey, issuer_url: str) -> None:
        """A document-signer certificate for `key` from the own CA (HAIP §6.1.1: not self-signed)."""
        ca_pem = self._files.read(CA_KEY_FILE)
        if ca_pem is None or self._anchor is None:
            raise CertificateError("this issuer has no issuing CA of its own to certify its keys")
        ca_key = _signing_key(self._keys.load_private(ca_pem, self._files, f"{self.where}/{CA_KEY_FILE}"))
        anchor = self._anchor
        now = self._now()
        not_after = min(now + timedelta(days=SIGNER_VALIDITY_DAYS), anchor.not_valid_after_utc)
        organisation = _attribute(anchor.subject, NameOID.ORGANIZATION_NAME, "organisation")
        country = _attribute(anchor.subject, NameOID.COUNTRY_NAME, "country")
        subject = _name(country, organisation, organisation)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(anchor.subject)
            .public_key(key.public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(not_after)
            .add_extension(_key_usage(digital_signature=True), critical=True)
            .add_extension(x509.SubjectAlternativeName(_alternative_names(issuer_url)), critical=False)
            .add_extension(x509.IssuerAlternativeName([x509.UniformResourceIdentifier(issuer_url)]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        self._write_chain(key.kid, [certificate])

    def signing_request(self, organisation: str, issuer_url: str, country: str | None = None) -> bytes:
        """A PKCS#10 request (PEM) for the active signing key, for the organisation's CA to sign."""
        attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, country.strip().upper())] if country else []
        attributes += [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:NAME_LENGTH]),
            x509.NameAttribute(NameOID.COMMON_NAME, organisation[:NAME_LENGTH]),
        ]
        try:
            request = (
                x509.CertificateSigningRequestBuilder()
                .subject_name(x509.Name(attributes))
                .add_extension(x509.SubjectAlternativeName(_alternative_names(issuer_url)), critical=False)
                .add_extension(_key_usage(digital_signature=True), critical=True)
                .sign(self._keys.active.signing_key, hashes.SHA256())
            )
        except ValueError as error:
            raise CertificateError(f"cannot make the request: {error}") from error
        return request.public_bytes(serialization.Encoding.PEM)

    def import_chain(self, pem: bytes) -> IssuerKey:
        """Store the chain the organisation's CA issued for one of the signing keys: leaf first, up to the
        CA's self-signed root, which becomes the trust anchor. The key it certifies is returned."""
        if self.own_ca:
            raise CertificateError(
                f"this issuer is its own CA ({self.where}/{CA_KEY_FILE}); move the certificates folder aside "
                "to use your organisation's CA instead"
            )
        try:
            certificates = x509.load_pem_x509_certificates(pem)
        except ValueError as error:
            raise CertificateError(f"not a PEM file of certificates: {error}") from error
        if len(certificates) < 2 or not is_self_signed(certificates[-1]):
            raise CertificateError(
                "the file must hold the issuer's certificate first and end with the CA's root certificate"
            )
        leaf, *intermediates, anchor = certificates
        key = next((k for k in self._keys.all() if _same_key(k.public_key, leaf.public_key())), None)
        if key is None:
            raise CertificateError("the first certificate is not for any of this issuer's signing keys")
        try:
            usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            usage = None
        if usage is not None and not usage.digital_signature:
            raise CertificateError("the issuer's certificate does not allow digital signatures")
        verifier = (
            PolicyBuilder()
            .store(Store([anchor]))
            .time(self._now())
            .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all())
            .build_client_verifier()
        )
        try:
            verifier.verify(leaf, intermediates)
        except VerificationError as error:
            raise CertificateError(f"the chain does not verify: {error}") from error
        self._write_anchor(anchor)
        self._write_chain(key.kid, [leaf, *intermediates])
        return key

    # ----- what the desk is told -----

    def infos(self) -> list[CertificateInfo]:
        """The trust anchor and the active key's document-signer certificate, if there are any."""
        found = [("trust anchor", self._anchor)] if self._anchor else []
        found += [("document signer", certificate) for certificate in self.chain()[:1]]
        return [
            CertificateInfo(
                role,
                certificate.subject.rfc4514_string(),
                int(certificate.not_valid_after_utc.timestamp()),
                certificate.fingerprint(hashes.SHA256()).hex(),
            )
            for role, certificate in found
        ]

    def expiring(self, within_days: int = WARN_DAYS) -> list[str]:
        """A sentence for each certificate that ends within `within_days`, with what renews it."""
        now = self._clock()
        renewals = {
            "trust anchor": "make a new CA (Settings, or 'frontdesk-issuer certificates init --replace') "
            "and give verifiers its trust anchor"
            if self.own_ca
            else "ask your organisation's CA for a new chain",
            "document signer": "rotate the signing key to certify a new one"
            if self.own_ca
            else "import a renewed chain ('frontdesk-issuer certificates import')",
        }
        notes = []
        for info in self.infos():
            left = info.not_after - now
            if left >= within_days * DAY:
                continue
            day = datetime.fromtimestamp(info.not_after, UTC).strftime("%Y-%m-%d")
            when = f"expired on {day}" if left <= 0 else f"expires on {day}, in {math.ceil(left / DAY)} days"
            notes.append(f"The {info.role} certificate {when}: {renewals[info.role]}.")
        return notes

    # ----- files -----

    def _load(self) -> None:
        """Read the trust anchor and the chains of the keys in the ring (again, after another process
        sharing the store changed them)."""
        anchor = self._files.read(TRUST_ANCHOR_FILE)
        if anchor is not None:
            self._anchor = _read_certificates(anchor, f"{self.where}/{TRUST_ANCHOR_FILE}")[0]
        for key in self._keys.all():
            name = f"{CHAINS_DIR}/{key.kid}.pem"
            pem = self._files.read(name)
            if pem is not None:
                self._attach(key.kid, _read_certificates(pem, f"{self.where}/{name}"))

    def _write_anchor(self, certificate: x509.Certificate) -> None:
        self._files.write(TRUST_ANCHOR_FILE, certificate.public_bytes(serialization.Encoding.PEM))
        self._anchor = certificate

    def _write_chain(self, kid: str, chain: list[x509.Certificate]) -> None:
        pem = b"".join(certificate.public_bytes(serialization.Encoding.PEM) for certificate in chain)
        self._files.write(f"{CHAINS_DIR}/{kid}.pem", pem)
        self._attach(kid, chain)

    def _attach(self, kid: str, chain: list[x509.Certificate]) -> None:
        self._chains[kid] = chain
        x5c = tuple(base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii") for c in chain)
        self._keys.set_chain(kid, x5c, int(chain[0].not_valid_after_utc.timestamp()))

    def _now(self) -> datetime:
        return datetime.fromtimestamp(int(self._clock()), UTC)


def _read_certificates(pem: bytes, where: str) -> list[x509.Certificate]:
    try:
        certificates = x509.load_pem_x509_certificates(pem)
    except ValueError as error:
        raise CertificateError(f"{where} cannot be read: {error}") from error
    return certificates


def _signing_key(private: jwk.JWK) -> ec.EllipticCurvePrivateKey:
    key = private.get_op_key("sign")
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertificateError("the CA key is not an EC key")
    return key


def _name(country: str, organisation: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:NAME_LENGTH]),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:NAME_LENGTH]),
        ]
    )


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier, what: str) -> str:
    values = name.get_attributes_for_oid(oid)
    if not values:
        raise CertificateError(f"the CA certificate names no {what}")
    return str(values[0].value)


def _key_usage(
    *, digital_signature: bool = False, key_cert_sign: bool = False, crl_sign: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _alternative_names(issuer_url: str) -> list[x509.GeneralName]:
    """The public host (a DNS name or an IP address) and the Credential Issuer Identifier."""
    host = urlsplit(issuer_url).hostname or ""
    try:
        by_host: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        by_host = x509.DNSName(host)
    return [by_host, x509.UniformResourceIdentifier(issuer_url)]


def _same_key(key: ec.EllipticCurvePublicKey, other: object) -> bool:
    return isinstance(other, ec.EllipticCurvePublicKey) and key.public_numbers() == other.public_numbers()
