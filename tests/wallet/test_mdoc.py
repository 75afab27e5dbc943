"""The wallet's mdoc verifier (wallet/mdoc.py) accepts what the issuer makes and refuses every alteration that a
reader must notice (ISO/IEC 18013-5 §9.3.1): the issuer signature, the chain to the trust anchor, each digest,
the device key, the docType, the validity and the form of the MSO."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cwt import COSE, COSEKey

from issuer.crypto.certificates import IssuerCertificates
from issuer.crypto.keys import KeyRing
from issuer.formats.mso_mdoc import issue_mso_mdoc
from issuer.protocol.credential_types import ClaimSpec
from wallet.certificates import load_anchor
from wallet.keys import new_key, public_jwk
from wallet.mdoc import VerifiedMdoc, verify_mdoc
from wallet.pki import Authority
from wallet.verify import VerificationError

NAMESPACE = DOCTYPE = "org.frontdesk.membership.1"
ELEMENTS = [
    ClaimSpec("given_name", (NAMESPACE, "given_name"), True, "Given name", "tstr"),
    ClaimSpec("birth_date", (NAMESPACE, "birth_date"), False, "Birth date", "full-date"),
    ClaimSpec("portrait", (NAMESPACE, "portrait"), False, "Portrait", "bstr"),
]
CLAIMS = {"given_name": "Ada", "birth_date": "1815-12-10", "portrait": base64.b64encode(b"\xff\xd8 JPEG").decode()}
STATUS = {"status_list": {"idx": 9, "uri": "https://desk.example/status/1"}}
DAY = 86400


class Issued:
    """An mdoc from the issuer's format, with what it takes to verify it or to sign a changed one."""

    def __init__(self, tmp_path: Path) -> None:
        self.keys = KeyRing(tmp_path / "keys")
        self.certificates = IssuerCertificates(tmp_path, self.keys)
        self.certificates.create_ca("DE", "Club", "https://desk.example")
        self.anchor = load_anchor(self.certificates.trust_anchor_pem() or "")
        self.holder = public_jwk(new_key())
        now = int(time.time())
        self.issued_at = now - now % 3600
        self.credential = issue_mso_mdoc(
            signer=self.keys.active,
            certificate_chain=self.certificates.document_signer_chain(),
            doctype=DOCTYPE,
            elements=ELEMENTS,
            claims=CLAIMS,
            holder_jwk=self.holder,
            issued_at=self.issued_at,
            expires_at=self.issued_at + 30 * DAY,
            status=STATUS,
        )

    def verify(self, credential: str | None = None, **options: Any) -> VerifiedMdoc:
        anchor = options.pop("anchor", self.anchor)
        arguments = {"doctype": DOCTYPE, "holder_jwk": self.holder, **options}
        return verify_mdoc(credential or self.credential, anchor, **arguments)

    def altered(
        self,
        mso_change: Callable[[dict[Any, Any]], None] = lambda mso: None,
        items_change: Callable[[list[cbor2.CBORTag]], None] = lambda items: None,
        resign: bool = True,
    ) -> str:
        """The credential with its MSO or items changed, signed again by the issuer's key unless `resign` is off."""
        issuer_signed = decode(self.credential)
        issuer_auth = issuer_signed["issuerAuth"]
        mso = cbor2.loads(cbor2.loads(issuer_auth[2]).value)
        mso_change(mso)
        items_change(issuer_signed["nameSpaces"][NAMESPACE])
        payload = cbor2.dumps(cbor2.CBORTag(24, cbor2.dumps(mso, canonical=True)))
        if resign:
            key = COSEKey.from_jwk({**self.keys.active.private.export_private(as_dict=True), "alg": "ES256"})
            signed = COSE.new().encode_and_sign(
                payload, key, protected={1: -7}, unprotected=issuer_auth[1], out="cbor2/CBORTag"
            )
            issuer_signed["issuerAuth"] = list(signed.value)
        else:
            issuer_auth[2] = payload
        return encode(issuer_signed)


def decode(credential: str) -> dict[str, Any]:
    return dict(cbor2.loads(base64.urlsafe_b64decode(credential + "=" * (-len(credential) % 4))))


def encode(issuer_signed: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(cbor2.dumps(issuer_signed, canonical=True)).decode().rstrip("=")


def item(digest_id: int, identifier: str, value: Any, salt: bytes = bytes(32)) -> cbor2.CBORTag:
    members = {"digestID": digest_id, "random": salt, "elementIdentifier": identifier, "elementValue": value}
    return cbor2.CBORTag(24, cbor2.dumps(members, canonical=True))


@pytest.fixture
def issued(tmp_path: Path) -> Issued:
    return Issued(tmp_path)


def test_an_issued_mdoc_verifies(issued: Issued) -> None:
    verified = issued.verify()
    assert verified.claims == {
        NAMESPACE: {"given_name": "Ada", "birth_date": date(1815, 12, 10), "portrait": b"\xff\xd8 JPEG"}
    }
    assert verified.status == STATUS["status_list"]
    assert verified.signed == verified.valid_from == datetime.fromtimestamp(issued.issued_at, UTC)
    assert len(verified.chain) == 1 and verified.chain[0].issuer == issued.anchor.subject


def test_a_re_signed_mdoc_verifies(issued: Issued) -> None:
    """The tests below change one thing each; a change that changes nothing still verifies."""
    issued.verify(issued.altered())


def change_element(items: list[cbor2.CBORTag]) -> None:
    decoded = cbor2.loads(items[0].value)
    items[0] = item(decoded["digestID"], decoded["elementIdentifier"], "Eve", decoded["random"])


def duplicate_digest_id(items: list[cbor2.CBORTag]) -> None:
    items.append(items[0])


def short_salt(items: list[cbor2.CBORTag]) -> None:
    decoded = cbor2.loads(items[0].value)
    items[0] = item(decoded["digestID"], decoded["elementIdentifier"], decoded["elementValue"], bytes(15))


def set_in(path: tuple[str, ...], value: Any) -> Callable[[dict[Any, Any]], None]:
    def change(mso: dict[Any, Any]) -> None:
        for name in path[:-1]:
            mso = mso[name]
        mso[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda i: i.altered(items_change=change_element), "digest of 'given_name'"),
        (lambda i: i.altered(items_change=duplicate_digest_id), "used twice"),
        (lambda i: i.altered(items_change=short_salt), "shorter than 16 bytes"),
        (lambda i: i.altered(set_in(("docType",), "org.example.other"), resign=False), "does not verify"),
        (lambda i: i.altered(set_in(("docType",), "org.example.other")), "docType"),
        (lambda i: i.altered(set_in(("digestAlgorithm",), "SHA-512")), "SHA-512"),
        (lambda i: i.altered(set_in(("deviceKeyInfo", "deviceKey", -2), bytes(32))), "not the holder's key"),
        (lambda i: i.altered(set_in(("validityInfo", "signed"), datetime(2001, 1, 1, tzinfo=UTC))), "outside"),
        (
            lambda i: i.altered(set_in(("validityInfo", "validUntil"), cbor2.CBORTag(0, "2099-01-01T00:00:00.5Z"))),
            "whole seconds",
        ),
        (lambda i: i.altered(set_in(("status",), {"status_list": {"idx": "9"}})), "idx: uint"),
    ],
)
def test_what_a_reader_refuses(issued: Issued, make: Callable[[Issued], str], message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        issued.verify(make(issued))


def test_a_chain_to_another_anchor_or_with_the_anchor_is_refused(issued: Issued) -> None:
    with pytest.raises(VerificationError, match="trust anchor"):
        issued.verify(anchor=Authority.root("Someone Else").certificate)
    issuer_signed = decode(issued.credential)
    anchor_der = issued.anchor.public_bytes(serialization.Encoding.DER)
    issuer_signed["issuerAuth"][1][33] = [issuer_signed["issuerAuth"][1][33], anchor_der]
    with pytest.raises(VerificationError, match="includes the trust anchor"):
        issued.verify(encode(issuer_signed))


def test_holder_doctype_and_time_are_checked(issued: Issued) -> None:
    with pytest.raises(VerificationError, match="not the holder's key"):
        issued.verify(holder_jwk=public_jwk(new_key()))
    with pytest.raises(VerificationError, match="docType"):
        issued.verify(doctype="org.iso.18013.5.1.mDL")
    with pytest.raises(VerificationError, match="expired"):
        issued.verify(now=time.time() + 31 * DAY)
    with pytest.raises(VerificationError, match="not valid yet"):
        issued.verify(now=issued.issued_at - 3600)


def test_not_an_mdoc(issued: Issued) -> None:
    with pytest.raises(VerificationError, match="base64url"):
        issued.verify(issued.credential + "=")
    with pytest.raises(VerificationError, match="IssuerSigned"):
        issued.verify(encode({"issuerAuth": decode(issued.credential)["issuerAuth"]}))
    tagged = decode(issued.credential)
    tagged["issuerAuth"] = cbor2.CBORTag(18, tagged["issuerAuth"])
    with pytest.raises(VerificationError, match="untagged COSE_Sign1"):
        issued.verify(encode(tagged))
