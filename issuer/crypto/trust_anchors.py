"""The wallet providers the issuer trusts: CA certificates that wallet and key attestations chain to.

An attestation carries its signing certificate, and any intermediate CA, in `x5c` (HAIP 1.0 §4.4.1 and
§4.5.1); the chain must verify up to one of the configured trust anchors, `wallet_trust_anchors` in the
settings: PEM files, named relative to the data folder. The signing certificate must not be self-signed; a
wallet that also sends the anchor itself at the end of `x5c` is not refused for it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError
from jwcrypto import jwk
from jwcrypto.common import JWException

from issuer.config import SettingsError

MAX_CHAIN = 5


class ChainRefused(Exception):
    """An `x5c` chain that does not lead to a trusted wallet provider, and why."""


class TrustAnchors:
    def __init__(self, anchors: Iterable[x509.Certificate] = ()) -> None:
        self._anchors = list(anchors)

    @classmethod
    def load(cls, data_dir: Path, names: Iterable[str]) -> TrustAnchors:
        """The CA certificates in the named PEM files; SettingsError naming a file that cannot be used."""
        anchors = []
        for name in names:
            path = data_dir / name
            try:
                found = x509.load_pem_x509_certificates(path.read_bytes())
            except (OSError, ValueError) as error:
                raise SettingsError(f"wallet_trust_anchors: {path} is not a readable PEM certificate file") from error
            anchors += found
        return cls(anchors)

    def __bool__(self) -> bool:
        return bool(self._anchors)

    def verify(self, x5c: Any, now: float) -> x509.Certificate:
        """The signing certificate of `x5c` (leaf first), once the chain verifies to a trust anchor at `now`."""
        if not self._anchors:
            raise ChainRefused("this issuer trusts no wallet provider (wallet_trust_anchors)")
        if not isinstance(x5c, list) or not 0 < len(x5c) <= MAX_CHAIN or not all(isinstance(c, str) for c in x5c):
            raise ChainRefused(f"x5c must be an array of 1 to {MAX_CHAIN} base64 certificates")
        try:
            chain = [x509.load_der_x509_certificate(base64.b64decode(entry, validate=True)) for entry in x5c]
        except (ValueError, binascii.Error) as error:
            raise ChainRefused("x5c holds something that is not a DER certificate") from error
        leaf, *intermediates = chain
        if is_self_signed(leaf):
            raise ChainRefused("the signing certificate in x5c is self-signed")
        verifier = (
            PolicyBuilder()
            .store(Store(self._anchors))
            .time(datetime.fromtimestamp(int(now), UTC))
            .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all())
            .build_client_verifier()
        )
        try:
            verifier.verify(leaf, [c for c in intermediates if c not in self._anchors])
        except VerificationError as error:
            raise ChainRefused(f"x5c does not chain to a trusted wallet provider: {error}") from error
        return leaf


def is_self_signed(certificate: x509.Certificate) -> bool:
    if certificate.issuer != certificate.subject:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def public_jwk_of(certificate: x509.Certificate) -> dict[str, Any]:
    """The certificate's public key as a JWK, for checking the JWS it signed."""
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise ChainRefused("the signing certificate holds a key type JOSE does not sign with")
    try:
        return dict(jwk.JWK.from_pyca(key).export_public(as_dict=True))
    except (JWException, ValueError, KeyError, TypeError) as error:  # KeyError: a curve JOSE has no name for
        raise ChainRefused("the signing certificate holds a key type JOSE does not sign with") from error
