"""ISO mdocs (`mso_mdoc`, OID4VCI 1.0 Appendix A.2) checked as an mdoc reader checks them (ISO/IEC 18013-5
§9.3.1), independently of the issuer's code.

The credential is base64url CBOR `IssuerSigned`. Its `issuerAuth` is an untagged COSE_Sign1 (RFC 9052 §4.2)
whose `x5chain` (label 33, RFC 9360) must lead to the trust anchor the reader holds, without containing it
(HAIP 1.0 §5.3.1, §6.1.1); the document-signer certificate is made as Annex B asks (a country in its names, a
key for digital signatures only). Its signature verifies with that certificate's key over the MSO; every
element's IssuerSignedItemBytes hashes to its digest in the MSO; `deviceKey` is the holder's key; the `docType`
and the `validityInfo` are as expected, and the `status` names a place in a Token Status List.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from cwt import COSE, COSEKey
from cwt.exceptions import CWTError

from wallet.certificates import ChainError, verified_chain
from wallet.keys import public_jwk
from wallet.verify import VerificationError

ENCODED_CBOR, TDATE, FULL_DATE, SIGN1 = 24, 0, 1004, 18
COSE_ALG, COSE_X5CHAIN, COSE_ES256 = 1, 33, -7
MIN_SALT_BYTES = 16
COSE_CURVES = {1: "P-256", 2: "P-384", 3: "P-521", 6: "Ed25519", 7: "Ed448"}


@dataclass(frozen=True)
class VerifiedMdoc:
    """What a verified mdoc says: the element values by namespace (full-dates as `datetime.date`, bstr as
    bytes), its Token Status List reference, and its validity."""

    claims: dict[str, dict[str, Any]]
    status: dict[str, Any] | None
    signed: datetime
    valid_from: datetime
    valid_until: datetime
    chain: list[x509.Certificate]


def verify_mdoc(
    credential: str,
    trust_anchor: x509.Certificate,
    *,
    doctype: str,
    holder_jwk: Mapping[str, Any],
    now: float | None = None,
    leeway: int = 60,
) -> VerifiedMdoc:
    """The mdoc's elements, once every check of §9.3.1 holds; VerificationError names the first that fails."""
    issuer_signed = _decode(_unbase64url(credential), "the credential")
    if not isinstance(issuer_signed, dict) or set(issuer_signed) != {"nameSpaces", "issuerAuth"}:
        raise VerificationError("the credential is not an IssuerSigned map of nameSpaces and issuerAuth")
    issuer_auth = issuer_signed["issuerAuth"]
    if not isinstance(issuer_auth, list) or len(issuer_auth) != 4:
        raise VerificationError("issuerAuth is not an untagged COSE_Sign1 (an array of four)")
    chain = _document_signer(issuer_auth, trust_anchor)
    mso = _verified_mso(issuer_auth, chain[0])
    if mso.get("version") != "1.0" or mso.get("digestAlgorithm") != "SHA-256":
        raise VerificationError(f"the MSO is version {mso.get('version')!r} with {mso.get('digestAlgorithm')!r}")
    if mso.get("docType") != doctype:
        raise VerificationError(f"docType is {mso.get('docType')!r}, not {doctype!r}")
    signed, valid_from, valid_until = _validity(mso.get("validityInfo"), chain[0], now or time.time(), leeway)
    _check_device_key(mso.get("deviceKeyInfo"), holder_jwk)
    claims = _disclosed(issuer_signed["nameSpaces"], mso.get("valueDigests"))
    return VerifiedMdoc(claims, _status(mso), signed, valid_from, valid_until, chain)


def _unbase64url(text: str) -> bytes:
    if "=" in text or "+" in text or "/" in text:
        raise VerificationError("the credential is not base64url without padding (OID4VCI Appendix A.2.4)")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise VerificationError(f"the credential is not base64url: {error}") from error


def _decode(data: bytes, what: str) -> Any:
    try:
        return cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError) as error:
        raise VerificationError(f"{what} is not CBOR: {error}") from error


def _document_signer(issuer_auth: list[Any], anchor: x509.Certificate) -> list[x509.Certificate]:
    """The x5chain, once it leads to the trust anchor and its signer is the document signer of Annex B."""
    unprotected = issuer_auth[1]
    x5chain = unprotected.get(COSE_X5CHAIN) if isinstance(unprotected, dict) else None
    if isinstance(x5chain, bytes):
        x5chain = [x5chain]
    if not isinstance(x5chain, list) or not x5chain or not all(isinstance(der, bytes) for der in x5chain):
        raise VerificationError("issuerAuth carries no x5chain (label 33) in its unprotected header")
    try:
        chain = verified_chain([base64.b64encode(der).decode("ascii") for der in x5chain], anchor)
    except ChainError as error:
        raise VerificationError(str(error)) from error
    leaf = chain[0]
    for name, which in ((leaf.subject, "subject"), (leaf.issuer, "issuer")):
        if not name.get_attributes_for_oid(NameOID.COUNTRY_NAME):
            raise VerificationError(f"the document-signer certificate's {which} names no country (Annex B)")
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound as error:
        raise VerificationError("the document-signer certificate has no key usage (Annex B)") from error
    if not usage.digital_signature or usage.key_cert_sign:
        raise VerificationError("the document-signer certificate's key is not for digital signatures only")
    return chain


def _verified_mso(issuer_auth: list[Any], leaf: x509.Certificate) -> dict[Any, Any]:
    """The MSO, once the COSE_Sign1 verifies with the document signer's key under ES256."""
    protected = issuer_auth[0]
    if not isinstance(protected, bytes) or _decode(protected, "the protected header") != {COSE_ALG: COSE_ES256}:
        raise VerificationError("the protected header is not {1: -7} (ES256)")
    key = COSEKey.from_pem(leaf.public_bytes(serialization.Encoding.PEM), alg=COSE_ES256)
    try:
        payload = COSE.new().decode(cbor2.CBORTag(SIGN1, issuer_auth), key)
    except (ValueError, CWTError) as error:
        raise VerificationError(f"the issuer signature does not verify: {error}") from error
    wrapped = _decode(payload, "the payload")
    if not isinstance(wrapped, cbor2.CBORTag) or wrapped.tag != ENCODED_CBOR or not isinstance(wrapped.value, bytes):
        raise VerificationError("the payload is not MobileSecurityObjectBytes (tag 24)")
    mso = _decode(wrapped.value, "the MSO")
    if not isinstance(mso, dict):
        raise VerificationError("the MSO is not a map")
    return mso


def _validity(info: Any, leaf: x509.Certificate, now: float, leeway: int) -> tuple[datetime, datetime, datetime]:
    """signed ≤ validFrom ≤ now < validUntil, all tdate in whole seconds, signed within the certificate."""
    if not isinstance(info, dict):
        raise VerificationError("the MSO has no validityInfo")
    signed, valid_from, valid_until = (_tdate(info.get(name)) for name in ("signed", "validFrom", "validUntil"))
    if not leaf.not_valid_before_utc <= signed <= leaf.not_valid_after_utc:
        raise VerificationError("the MSO was signed outside the document-signer certificate's validity")
    moment = datetime.fromtimestamp(now, UTC)
    if not signed <= valid_from < valid_until:
        raise VerificationError("validityInfo is out of order (signed, validFrom, validUntil)")
    if valid_from.timestamp() > now + leeway:
        raise VerificationError("the mdoc is not valid yet")
    if valid_until <= moment:
        raise VerificationError("the mdoc has expired")
    return signed, valid_from, valid_until


def _tdate(value: Any) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.microsecond:
        raise VerificationError("validityInfo holds something other than tdate in whole seconds")
    return value


def _check_device_key(info: Any, holder_jwk: Mapping[str, Any]) -> None:
    key = info.get("deviceKey") if isinstance(info, dict) else None
    if not isinstance(key, dict) or not {1, -1, -2} <= set(key) or -4 in key:
        raise VerificationError("deviceKeyInfo.deviceKey is not a public COSE_Key")
    as_jwk = {"kty": {1: "OKP", 2: "EC"}.get(key[1]), "crv": COSE_CURVES.get(key[-1]), "x": _b64url(key[-2])}
    if -3 in key:
        as_jwk["y"] = _b64url(key[-3])
    if as_jwk != public_jwk(holder_jwk):
        raise VerificationError("deviceKey is not the holder's key")


def _disclosed(namespaces: Any, value_digests: Any) -> dict[str, dict[str, Any]]:
    """Every IssuerSignedItem, once its digest is the one the MSO holds under its namespace and digestID."""
    if not isinstance(namespaces, dict) or not namespaces or not isinstance(value_digests, dict):
        raise VerificationError("the mdoc has no nameSpaces or the MSO no valueDigests")
    claims: dict[str, dict[str, Any]] = {}
    for namespace, items in namespaces.items():
        digests = value_digests.get(namespace)
        if not isinstance(items, list) or not isinstance(digests, dict):
            raise VerificationError(f"namespace {namespace!r} has no items or no digests")
        seen: set[int] = set()
        for item_bytes in items:
            if not isinstance(item_bytes, cbor2.CBORTag) or item_bytes.tag != ENCODED_CBOR:
                raise VerificationError("an element is not IssuerSignedItemBytes (tag 24)")
            item = _decode(item_bytes.value, "an IssuerSignedItem")
            if not isinstance(item, dict) or set(item) != {"digestID", "random", "elementIdentifier", "elementValue"}:
                raise VerificationError("an IssuerSignedItem does not have the four members of §8.3.2.1.2.2")
            digest_id = item["digestID"]
            if not isinstance(digest_id, int) or digest_id < 0 or digest_id in seen:
                raise VerificationError(f"digestID {digest_id!r} is not a uint or is used twice")
            seen.add(digest_id)
            if not isinstance(item["random"], bytes) or len(item["random"]) < MIN_SALT_BYTES:
                raise VerificationError("an element's salt (random) is shorter than 16 bytes")
            if hashlib.sha256(cbor2.dumps(item_bytes)).digest() != digests.get(digest_id):
                raise VerificationError(f"the digest of {item['elementIdentifier']!r} does not match the MSO")
            claims.setdefault(namespace, {})[item["elementIdentifier"]] = item["elementValue"]
    return claims


def _status(mso: Mapping[Any, Any]) -> dict[str, Any] | None:
    """The Token Status List reference (draft-ietf-oauth-status-list §6.3), if the mdoc has one."""
    status = mso.get("status")
    if status is None:
        return None
    reference = status.get("status_list") if isinstance(status, dict) else None
    if (
        not isinstance(reference, dict)
        or not isinstance(reference.get("idx"), int)
        or not isinstance(reference.get("uri"), str)
    ):
        raise VerificationError("status.status_list is not {idx: uint, uri: tstr}")
    return dict(reference)


def _b64url(data: Any) -> str:
    if not isinstance(data, bytes):
        raise VerificationError("a COSE_Key coordinate is not a bstr")
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")
