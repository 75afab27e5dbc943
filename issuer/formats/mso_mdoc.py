"""ISO mdoc (`mso_mdoc`, OID4VCI 1.0 Appendix A.2; ISO/IEC 18013-5 §8.3.2.1.2.2 and §9.1.2).

The credential is the base64url-encoded CBOR `IssuerSigned` (Appendix A.2.4):
- `nameSpaces`: for each namespace, one `IssuerSignedItemBytes` = #6.24(bstr .cbor IssuerSignedItem) per
  element, with a fresh 32-byte salt (`random`, at least 16 bytes in §9.1.2.5) and a random `digestID`, unique
  within the mdoc, so the ids tell nothing of how many elements there are or in which order they were added;
- `issuerAuth`: an untagged COSE_Sign1 (RFC 9052 §4.2) by the issuer's signing key, ES256 (-7) with the
  signature as r||s, the document-signer certificate in `x5chain` (label 33, RFC 9360) in the unprotected
  header (one bstr, or leaf first with the intermediates; the trust anchor never), over the payload
  `MobileSecurityObjectBytes` = #6.24(bstr .cbor MobileSecurityObject).

The MSO (§9.1.2.4) is encoded canonically (length-first map keys, RFC 7049 §3.9) and holds the digest of every
item, the holder's proof key as `deviceKeyInfo.deviceKey` (a COSE_Key, RFC 9052 §7), the `docType`, the
`validityInfo` as tdate (tag 0, whole seconds, UTC), and the credential's place in a Token Status List as
`status` (draft-ietf-oauth-status-list §6.3), so revocation works as for the other formats.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import cbor2
from cryptography import x509
from cwt import COSE, COSEKey
from cwt.exceptions import CWTError

from issuer.crypto.keys import IssuerKey
from issuer.errors import CredentialRequestDenied, InvalidProof

VERSION = "1.0"
DIGEST_ALGORITHM = "SHA-256"
SALT_BYTES = 32
DIGEST_ID_LIMIT = 2**31  # a uint that verifiers reading it into a signed 32-bit integer keep intact
ENCODED_CBOR = 24  # RFC 8949 §3.4.5.1
TDATE = 0  # RFC 8949 §3.4.1
FULL_DATE_TAG = 1004  # RFC 8943
COSE_ALG, COSE_X5CHAIN = 1, 33
COSE_ES256 = -7
COSE_KEY_MEMBERS = (1, -1, -2, -3)  # kty, crv, x, y: the public key and nothing else
FULL_DATE, BSTR = "full-date", "bstr"  # the CDDL names a credential type's `value_type` uses


class DataElement(Protocol):
    """What the format needs of a claim of the credential type: its `[namespace, element]` path and CBOR type."""

    @property
    def name(self) -> str: ...

    @property
    def path(self) -> tuple[str, ...]: ...

    @property
    def value_type(self) -> str | None: ...


def issue_mso_mdoc(
    *,
    signer: IssuerKey,
    certificate_chain: Sequence[bytes],
    doctype: str,
    elements: Sequence[DataElement],
    claims: Mapping[str, Any],
    holder_jwk: Mapping[str, Any],
    issued_at: int,
    expires_at: int,
    status: Mapping[str, Any] | None = None,
) -> str:
    """One mdoc bound to `holder_jwk`, signed by `signer`, whose chain (DER, leaf first) it carries."""
    if not certificate_chain:
        raise CredentialRequestDenied(
            "the issuer has no document-signer certificate, which an mdoc needs; ask the front desk"
        )
    signed = _signed_time(certificate_chain[0], issued_at)
    items = _signed_items(elements, claims)
    value_digests = {
        namespace: {digest_id: _digest(item) for digest_id, item in namespace_items.items()}
        for namespace, namespace_items in items.items()
    }
    mso: dict[str, Any] = {
        "version": VERSION,
        "digestAlgorithm": DIGEST_ALGORITHM,
        "valueDigests": value_digests,
        "deviceKeyInfo": {"deviceKey": device_key(holder_jwk)},
        "docType": doctype,
        "validityInfo": {"signed": tdate(signed), "validFrom": tdate(signed), "validUntil": tdate(expires_at)},
    }
    if status is not None:
        mso["status"] = dict(status)
    payload = cbor2.dumps(cbor2.CBORTag(ENCODED_CBOR, cbor2.dumps(mso, canonical=True)))
    issuer_signed = {
        "nameSpaces": {namespace: list(namespace_items.values()) for namespace, namespace_items in items.items()},
        "issuerAuth": _sign1(signer, payload, certificate_chain),
    }
    return base64.urlsafe_b64encode(cbor2.dumps(issuer_signed, canonical=True)).decode("ascii").rstrip("=")


def device_key(holder_jwk: Mapping[str, Any]) -> dict[int, Any]:
    """The holder's public JWK as the COSE_Key of `deviceKeyInfo` (RFC 9052 §7, RFC 9053 §7): EC2 or OKP."""
    if holder_jwk.get("kty") not in ("EC", "OKP"):
        raise InvalidProof("an mdoc binds an EC or OKP key: the proof key cannot be its device key")
    try:
        cose_key = COSEKey.from_jwk({name: holder_jwk[name] for name in ("kty", "crv", "x", "y") if name in holder_jwk})
    except (ValueError, CWTError) as error:
        raise InvalidProof(f"the proof key cannot be an mdoc device key: {error}") from error
    members = cose_key.to_dict()
    return {label: members[label] for label in COSE_KEY_MEMBERS if label in members}


def tdate(seconds: int) -> cbor2.CBORTag:
    """A tdate (RFC 8949 §3.4.1, tag 0) in UTC without fractional seconds, as §9.1.2.4 requires."""
    return cbor2.CBORTag(TDATE, datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def element_value(value_type: str | None, value: Any) -> Any:
    """A claim value, in the JSON form the credential type checked it into (a full-date "YYYY-MM-DD", a bstr
    in base64), as the CBOR its element declares."""
    if value_type == FULL_DATE:
        return cbor2.CBORTag(FULL_DATE_TAG, value)
    if value_type == BSTR:
        return base64.b64decode(value, validate=True)
    return value


def _signed_time(leaf_der: bytes, issued_at: int) -> int:
    """`signed` and `validFrom`: the rounded issuance time, but never before the document-signer certificate's
    start, since a verifier checks the signing time against it (§9.3.1). The certificate started before now:
    the own CA backdates it by an hour, and an imported chain is checked against the clock."""
    not_before = int(x509.load_der_x509_certificate(leaf_der).not_valid_before_utc.timestamp())
    return max(issued_at, not_before)


def _signed_items(elements: Sequence[DataElement], claims: Mapping[str, Any]) -> dict[str, dict[int, cbor2.CBORTag]]:
    """Per namespace, by digest id, the IssuerSignedItemBytes of every claim given a value."""
    digest_ids: set[int] = set()
    items: dict[str, dict[int, cbor2.CBORTag]] = {}
    for element in elements:
        if element.name not in claims:
            continue
        digest_id = secrets.randbelow(DIGEST_ID_LIMIT)
        while digest_id in digest_ids:
            digest_id = secrets.randbelow(DIGEST_ID_LIMIT)
        digest_ids.add(digest_id)
        namespace, identifier = element.path
        item = {
            "digestID": digest_id,
            "random": secrets.token_bytes(SALT_BYTES),
            "elementIdentifier": identifier,
            "elementValue": element_value(element.value_type, claims[element.name]),
        }
        items.setdefault(namespace, {})[digest_id] = cbor2.CBORTag(ENCODED_CBOR, cbor2.dumps(item, canonical=True))
    return items


def _digest(item: cbor2.CBORTag) -> bytes:
    """SHA-256 over the IssuerSignedItemBytes, tag 24 included (§9.1.2.5)."""
    return hashlib.sha256(cbor2.dumps(item)).digest()


def _sign1(signer: IssuerKey, payload: bytes, chain: Sequence[bytes]) -> list[Any]:
    """The untagged COSE_Sign1 `issuerAuth`: alg protected, x5chain unprotected (§9.1.2.4, RFC 9360 §2)."""
    key = COSEKey.from_jwk({**signer.private.export_private(as_dict=True), "alg": "ES256"})
    x5chain: bytes | list[bytes] = chain[0] if len(chain) == 1 else list(chain)
    sign1 = COSE.new().encode_and_sign(
        payload, key, protected={COSE_ALG: COSE_ES256}, unprotected={COSE_X5CHAIN: x5chain}, out="cbor2/CBORTag"
    )
    return list(cast(cbor2.CBORTag, sign1).value)  # without the tag 18, which IssuerAuth leaves off
