"""The mdoc format's CBOR, checked byte by byte against the spec examples and the ISO/IEC 18013-5 rules.

The examples are copies in tests/issuer/data/: the OID4VCI 1.0 mdoc Credential Response (Appendix A.2.4), whose
credential is cut short after its first bytes, and the signed MSO of draft-ietf-oauth-status-list-14 §6.3
(an mDL's IssuerAuth with a `status`), which verifies with the certificate it carries.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cwt import COSE, COSEKey

from issuer.crypto.certificates import IssuerCertificates
from issuer.crypto.keys import KeyRing
from issuer.errors import CredentialRequestDenied, InvalidProof
from issuer.formats import issue_credential
from issuer.formats.mso_mdoc import device_key, issue_mso_mdoc
from issuer.protocol.credential_types import CredentialType, load_credential_types
from wallet.keys import new_key, public_jwk
from wallet.pki import Authority, pem_of

DATA = Path(__file__).parent / "data"
ISSUER_URL = "https://desk.example"
NAMESPACE = DOCTYPE = "org.frontdesk.membership.1"
CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "member_id": "M-1815", "level": "gold"}
STATUS = {"status_list": {"idx": 412, "uri": "https://desk.example/status/1"}}
HOUR = 3600
TDATE_TEXT = re.compile(rb"\xc0\x74(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")  # tag 0, a 20-character text string
PERSON_TYPE = {
    "credential_configuration": {
        "format": "mso_mdoc",
        "doctype": "org.example.person.1",
        "credential_signing_alg_values_supported": [-7, -9],
        "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}},
        "credential_metadata": {
            "display": [{"name": "Person"}],
            "claims": [
                {"path": ["org.example.person.1", "family_name"], "mandatory": True},
                {"path": ["org.example.person.1", "birth_date"], "value_type": "full-date"},
                {"path": ["org.example.person.1", "portrait"], "value_type": "bstr"},
                {"path": ["org.example.person.1", "height"], "value_type": "uint"},
                {"path": ["org.example.person.extra", "age_over_18"], "value_type": "bool"},
            ],
        },
    }
}
JPEG = bytes.fromhex("ffd8ffe000104a46494600") + bytes(range(256)) + bytes.fromhex("ffd9")


@pytest.fixture
def keys(tmp_path: Path) -> KeyRing:
    return KeyRing(tmp_path / "keys")


@pytest.fixture
def certificates(tmp_path: Path, keys: KeyRing) -> IssuerCertificates:
    certificates = IssuerCertificates(tmp_path, keys)
    certificates.create_ca("DE", "Club", ISSUER_URL)
    return certificates


@pytest.fixture
def membership(tmp_path: Path) -> CredentialType:
    return load_credential_types(tmp_path / "types")["membership_mdoc"]


@pytest.fixture
def person(tmp_path: Path) -> CredentialType:
    folder = tmp_path / "types"
    load_credential_types(folder)
    (folder / "person.json").write_text(json.dumps(PERSON_TYPE))
    return load_credential_types(folder)["person"]


def issue(
    certificates: IssuerCertificates,
    keys: KeyRing,
    credential_type: CredentialType,
    claims: dict[str, Any],
    holder: dict[str, Any] | None = None,
    issued_at: int | None = None,
) -> str:
    now = int(datetime.now(UTC).timestamp())
    start = now - now % HOUR if issued_at is None else issued_at
    return issue_credential(
        "mso_mdoc",
        signer=keys.active,
        issuer=ISSUER_URL,
        vct="",
        types=[],
        claims=credential_type.validate_claims(claims),
        holder_jwk=holder or public_jwk(new_key()),
        issued_at=start,
        expires_at=start + 30 * 86400,
        credential_id="urn:uuid:1",
        status=STATUS,
        doctype=credential_type.doctype,
        elements=credential_type.claims,
        certificate_chain=certificates.document_signer_chain(),
    )


def issuer_signed_of(credential: str) -> dict[str, Any]:
    return dict(cbor2.loads(base64.urlsafe_b64decode(credential + "=" * (-len(credential) % 4))))


def mso_bytes_of(issuer_auth: list[Any]) -> bytes:
    payload = cbor2.loads(issuer_auth[2])
    assert isinstance(payload, cbor2.CBORTag) and payload.tag == 24  # MobileSecurityObjectBytes
    return bytes(payload.value)


def items_of(issuer_signed: dict[str, Any]) -> Iterator[tuple[str, cbor2.CBORTag, dict[str, Any]]]:
    for namespace, items in issuer_signed["nameSpaces"].items():
        for item in items:
            yield namespace, item, cbor2.loads(item.value)


def maps_in(value: Any) -> Iterator[dict[Any, Any]]:
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from maps_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from maps_in(inner)


def example_issuer_auth() -> list[Any]:
    return list(cbor2.loads(bytes.fromhex((DATA / "status_list_issuer_auth.hex").read_text().strip())))


def test_the_credential_begins_as_the_oid4vci_example(certificates: IssuerCertificates, keys: KeyRing, membership):
    """Appendix A.2.4: base64url without padding of IssuerSigned, issuerAuth first (canonical key order), an
    untagged COSE_Sign1 with the protected header {1: -7} and one unprotected member, label 33."""
    body = (DATA / "credential_response_mso_mdoc.txt").read_text().split("\n\n", 1)[1]
    example = json.loads(body)["credentials"][0]["credential"].split("...")[0]
    credential = issue(certificates, keys, membership, CLAIMS)
    assert credential.startswith(example)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", credential)
    assert list(issuer_signed_of(credential)) == ["issuerAuth", "nameSpaces"]


def test_the_signed_mso_has_the_shape_of_the_status_list_example(certificates, keys, membership) -> None:
    """The example's IssuerAuth verifies with its own certificate, and ours has its every structural trait."""
    example = example_issuer_auth()
    certificate = x509.load_der_x509_certificate(example[1][33])
    example_key = COSEKey.from_pem(certificate.public_bytes(serialization.Encoding.PEM), alg=-7)
    COSE.new().decode(cbor2.CBORTag(18, example), example_key)
    example_mso = cbor2.loads(mso_bytes_of(example))

    ours = issuer_signed_of(issue(certificates, keys, membership, CLAIMS))["issuerAuth"]
    leaf = x509.load_der_x509_certificate(ours[1][33])
    COSE.new().decode(cbor2.CBORTag(18, ours), COSEKey.from_pem(leaf.public_bytes(serialization.Encoding.PEM)))
    mso = cbor2.loads(mso_bytes_of(ours))
    assert ours[0] == example[0] == bytes.fromhex("a10126")  # protected {1: -7}, ES256
    assert set(ours[1]) == set(example[1]) == {33} and isinstance(ours[1][33], bytes)
    assert len(ours[3]) == len(example[3]) == 64  # r || s, not DER
    assert list(mso) == list(example_mso)  # the same members in the same (canonical) order
    assert list(mso["validityInfo"]) == list(example_mso["validityInfo"])
    assert set(mso["deviceKeyInfo"]["deviceKey"]) == set(example_mso["deviceKeyInfo"]["deviceKey"]) == {1, -1, -2, -3}
    assert mso["status"] == STATUS and set(example_mso["status"]["status_list"]) == {"idx", "uri"}
    assert (mso["version"], mso["digestAlgorithm"], mso["docType"]) == ("1.0", "SHA-256", DOCTYPE)


def test_every_map_of_the_mso_is_canonical(certificates: IssuerCertificates, keys: KeyRing, person) -> None:
    """RFC 7049 §3.9, as ISO/IEC 18013-5 asks of the MSO: map keys sorted by the length, then the bytes, of
    their encoding; re-encoding canonically gives the signed bytes back, as it does for the spec's example."""
    claims = {"family_name": "Lovelace", "birth_date": "1815-12-10", "portrait": base64.b64encode(JPEG).decode()}
    issuer_auth = issuer_signed_of(issue(certificates, keys, person, {**claims, "age_over_18": True}))["issuerAuth"]
    for raw in (mso_bytes_of(issuer_auth), mso_bytes_of(example_issuer_auth())):
        mso = cbor2.loads(raw)
        assert cbor2.dumps(mso, canonical=True) == raw
        for mapping in maps_in(mso):
            encoded = [cbor2.dumps(key) for key in mapping]
            assert encoded == sorted(encoded, key=lambda key: (len(key), key))


def test_elements_are_tagged_items_with_the_declared_cbor_types(certificates, keys, person) -> None:
    """§8.3.2.1.2.2: #6.24(bstr .cbor IssuerSignedItem) each, and the element values as the type declares:
    tstr, full-date (tag 1004), bstr, uint and bool; the digest of each is SHA-256 over the tagged bytes."""
    claims = {
        "family_name": " Lovelace ",
        "birth_date": "1815-12-10",
        "portrait": base64.b64encode(JPEG).decode(),
        "height": "165",
        "age_over_18": "true",
    }
    issuer_signed = issuer_signed_of(issue(certificates, keys, person, claims))
    assert sorted(issuer_signed["nameSpaces"]) == ["org.example.person.1", "org.example.person.extra"]
    digests = cbor2.loads(mso_bytes_of(issuer_signed["issuerAuth"]))["valueDigests"]
    values = {}
    for namespace, item, decoded in items_of(issuer_signed):
        assert isinstance(item, cbor2.CBORTag) and item.tag == 24 and isinstance(item.value, bytes)
        assert list(decoded) == ["random", "digestID", "elementValue", "elementIdentifier"]  # canonical order
        assert digests[namespace][decoded["digestID"]] == hashlib.sha256(cbor2.dumps(item)).digest()
        values[decoded["elementIdentifier"]] = (decoded["elementValue"], item.value)
    assert values["family_name"][0] == "Lovelace"
    birth_date, raw_item = values["birth_date"]
    assert birth_date == datetime(1815, 12, 10).date() and bytes.fromhex("d903ec6a") + b"1815-12-10" in raw_item
    assert values["portrait"][0] == JPEG
    assert values["height"][0] == 165 and type(values["height"][0]) is int
    assert values["age_over_18"][0] is True


def test_digest_ids_are_unique_and_unpredictable_and_salts_fresh(certificates, keys, membership) -> None:
    """Random digest ids (never 0, 1, 2, ... in claim order) and a 32-byte salt per element, new every time."""
    ids, salts = [], []
    for _ in range(2):
        items = [decoded for _, _, decoded in items_of(issuer_signed_of(issue(certificates, keys, membership, CLAIMS)))]
        ids.append([item["digestID"] for item in items])
        salts += [item["random"] for item in items]
        assert len(set(ids[-1])) == len(items) == 4
        assert all(isinstance(digest_id, int) and 0 <= digest_id < 2**31 for digest_id in ids[-1])
    assert not set(ids[0]) & set(ids[1]) and sorted(ids[0]) != list(range(4))
    assert all(len(salt) >= 16 for salt in salts) and len(set(salts)) == len(salts) == 8


def test_optional_claims_left_empty_are_not_issued(certificates, keys, membership) -> None:
    without_level = {name: value for name, value in CLAIMS.items() if name != "level"}
    issuer_signed = issuer_signed_of(issue(certificates, keys, membership, without_level))
    assert sorted(decoded["elementIdentifier"] for _, _, decoded in items_of(issuer_signed)) == sorted(without_level)
    assert len(cbor2.loads(mso_bytes_of(issuer_signed["issuerAuth"]))["valueDigests"][NAMESPACE]) == 3


def test_validity_is_whole_second_tdate_signed_inside_the_certificate(certificates, keys, membership) -> None:
    """§9.1.2.4: tdate (tag 0) without fractions; `signed` is the rounded issuance time, never before the
    document-signer certificate starts, and validFrom is the same moment."""
    [leaf] = certificates.chain()
    start = int(leaf.not_valid_before_utc.timestamp())
    for issued_at, signed in ((start + 2 * HOUR, start + 2 * HOUR), (start - 5 * HOUR, start)):
        raw = mso_bytes_of(
            issuer_signed_of(issue(certificates, keys, membership, CLAIMS, issued_at=issued_at))["issuerAuth"]
        )
        texts = TDATE_TEXT.findall(raw)
        expected = datetime.fromtimestamp(signed, UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
        until = datetime.fromtimestamp(issued_at + 30 * 86400, UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
        assert texts == [expected, expected, until]  # signed, validFrom, validUntil in canonical order
        validity = cbor2.loads(raw)["validityInfo"]
        assert leaf.not_valid_before_utc <= validity["signed"] <= leaf.not_valid_after_utc


def test_device_key_is_the_proof_key_as_a_cose_key(certificates, keys, membership) -> None:
    holder = public_jwk(new_key())
    mso = cbor2.loads(
        mso_bytes_of(issuer_signed_of(issue(certificates, keys, membership, CLAIMS, holder))["issuerAuth"])
    )
    coordinates = {name: base64.urlsafe_b64decode(holder[name] + "==") for name in ("x", "y")}
    assert mso["deviceKeyInfo"] == {"deviceKey": {1: 2, -1: 1, -2: coordinates["x"], -3: coordinates["y"]}}
    okp = {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(bytes(32)).decode().rstrip("=")}
    assert device_key(okp) == {1: 1, -1: 6, -2: bytes(32)}
    with pytest.raises(InvalidProof, match="EC or OKP"):
        device_key({"kty": "RSA", "n": "AQAB", "e": "AQAB"})


def test_x5chain_is_the_leaf_alone_or_an_array_with_the_intermediates(tmp_path: Path, membership) -> None:
    """RFC 9360 §2: one certificate as a bstr, several as an array, leaf first; never the trust anchor."""
    keys = KeyRing(tmp_path / "org-keys")
    certificates = IssuerCertificates(tmp_path / "org", keys)
    root = Authority.root("Org Root")
    issuing = root.intermediate("Org Issuing CA")
    chain = issuing.certify(keys.active.public_key, "Club")
    certificates.import_chain(pem_of([*chain, root.certificate]))
    x5chain = issuer_signed_of(issue(certificates, keys, membership, CLAIMS))["issuerAuth"][1][33]
    assert isinstance(x5chain, list) and len(x5chain) == 2
    assert [x509.load_der_x509_certificate(der) for der in x5chain] == chain
    assert root.certificate.public_bytes(serialization.Encoding.DER) not in x5chain


def test_no_certificate_no_mdoc(keys: KeyRing) -> None:
    with pytest.raises(CredentialRequestDenied, match="document-signer certificate"):
        issue_mso_mdoc(
            signer=keys.active,
            certificate_chain=[],
            doctype=DOCTYPE,
            elements=[],
            claims={},
            holder_jwk=public_jwk(new_key()),
            issued_at=0,
            expires_at=1,
        )
