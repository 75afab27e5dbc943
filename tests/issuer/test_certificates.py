"""The issuer's X.509 certificates: its own issuing CA, or the chain an organisation's CA issued."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from jwcrypto.common import base64url_decode

from issuer.config import Settings
from issuer.crypto.certificates import (
    CA_KEY_FILE,
    SIGNER_VALIDITY_DAYS,
    CertificateError,
    IssuerCertificates,
)
from issuer.crypto.keys import ENCRYPTED_PEM, KeyPassphraseError, KeyRing
from issuer.errors import InvalidInput
from issuer.service import PRE_AUTHORIZED_GRANT, IssuerService, OfferRequest
from tests.e2e.helpers import BADGE_CLAIMS
from tests.issuer.conftest import Clock
from wallet.certificates import ChainError, load_anchor, verified_chain
from wallet.keys import new_key, public_jwk
from wallet.pki import Authority, pem_of

ISSUER_URL = "https://desk.example"
PASSPHRASE = b"a passphrase long enough"


def header_of(compact: str) -> dict[str, object]:
    return dict(json.loads(base64url_decode(compact.split(".")[0])))


def at(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock.now, UTC)


def country_of(name: x509.Name) -> str:
    return str(name.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value)


def test_own_ca_certifies_the_signing_key_as_verifiers_expect(tmp_path: Path, clock: Clock) -> None:
    keys = KeyRing(tmp_path / "keys")
    certificates = IssuerCertificates(tmp_path, keys, clock)
    certificates.create_ca("de", "Town Hall", ISSUER_URL)
    anchor = certificates.trust_anchor
    assert anchor is not None and anchor.subject == anchor.issuer
    assert country_of(anchor.subject) == "DE"
    assert anchor.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    [signer] = certificates.chain()
    assert signer.issuer == anchor.subject and signer.subject != signer.issuer  # not self-signed (HAIP §6.1.1)
    signer.verify_directly_issued_by(anchor)
    assert (country_of(signer.issuer), country_of(signer.subject)) == ("DE", "DE")  # ISO 18013-5 Annex B
    assert signer.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Town Hall"
    usage = signer.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature
    assert not (usage.value.key_cert_sign or usage.value.crl_sign or usage.value.content_commitment)
    names = signer.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["desk.example"]
    assert signer.public_key().public_numbers() == keys.active.public_key.public_numbers()
    lifetime = signer.not_valid_after_utc - signer.not_valid_before_utc
    assert lifetime <= timedelta(days=SIGNER_VALIDITY_DAYS, hours=1)
    assert signer.not_valid_after_utc <= anchor.not_valid_after_utc
    assert certificates.document_signer_chain() == [signer.public_bytes(serialization.Encoding.DER)]


def test_signatures_carry_the_chain_without_the_trust_anchor(tmp_path: Path, clock: Clock) -> None:
    keys = KeyRing(tmp_path / "keys")
    assert "x5c" not in header_of(keys.active.sign({"a": 1}, {"typ": "JWT"}))
    certificates = IssuerCertificates(tmp_path, keys, clock)
    certificates.create_ca("NL", "Club", ISSUER_URL)
    header = header_of(keys.active.sign({"a": 1}, {"typ": "JWT"}))
    assert header["kid"] == keys.active.kid  # kid stays for JWKS resolution
    anchor = load_anchor(certificates.trust_anchor_pem() or "")
    chain = verified_chain(header["x5c"], anchor, at(clock))
    assert anchor not in chain
    reopened = KeyRing(tmp_path / "keys")
    IssuerCertificates(tmp_path, reopened, clock)
    assert header_of(reopened.active.sign({}, {}))["x5c"] == header["x5c"]


def test_a_second_ca_needs_replace(tmp_path: Path, clock: Clock) -> None:
    certificates = IssuerCertificates(tmp_path, KeyRing(tmp_path / "keys"), clock)
    certificates.create_ca("DE", "Desk", ISSUER_URL)
    first = certificates.trust_anchor_pem()
    with pytest.raises(CertificateError, match="already holds a trust anchor"):
        certificates.create_ca("DE", "Desk", ISSUER_URL)
    certificates.create_ca("DE", "Desk", ISSUER_URL, replace=True)
    assert certificates.trust_anchor_pem() != first
    for country in ("D", "DEU", "1A", ""):
        with pytest.raises(CertificateError, match="two-letter"):
            certificates.create_ca(country, "Desk", ISSUER_URL, replace=True)


def test_the_ca_key_is_kept_apart_and_encrypted_like_the_signing_keys(tmp_path: Path, clock: Clock) -> None:
    keys = KeyRing(tmp_path / "keys", PASSPHRASE)
    IssuerCertificates(tmp_path, keys, clock).create_ca("DE", "Desk", ISSUER_URL)
    ca_key = tmp_path / "certificates" / CA_KEY_FILE
    assert ca_key.read_bytes().startswith(ENCRYPTED_PEM)
    assert (ca_key.stat().st_mode & 0o777, ca_key.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    assert not list((tmp_path / "keys").glob("ca*"))
    rotated = keys.rotate()
    with pytest.raises(KeyPassphraseError, match="wrong passphrase"):
        IssuerCertificates(tmp_path, KeyRing(tmp_path / "keys", b"another long passphrase"), clock)
    IssuerCertificates(tmp_path, KeyRing(tmp_path / "keys", PASSPHRASE), clock).certify(rotated, ISSUER_URL)


def test_rotation_certifies_the_new_key_in_the_same_step(service: IssuerService) -> None:
    service.admin.create_issuing_ca("FR", operator="Ada")
    old = service.keys.active
    rotated = service.admin.rotate_key(operator="Ada")
    new = service.keys.active
    assert rotated["kid"] == new.kid != old.kid
    assert new.x5c and new.x5c != old.x5c
    [signer] = service.certificates.chain()
    assert signer.public_key().public_numbers() == new.public_key.public_numbers()
    assert service.certificates.chain(old.kid)  # the old key keeps its chain for what it signed
    assert [e["action"] for e in service.desk.audit_log(limit=2)] == ["key_rotated", "issuing_ca_created"]


def test_service_shows_the_trust_anchor_and_warns_before_expiry(service: IssuerService, clock: Clock) -> None:
    assert service.admin.certificate_status() == {
        "trust_anchor": None,
        "own_ca": False,
        "certificates": [],
        "warnings": [],
    }
    status = service.admin.create_issuing_ca("DE")
    assert status["trust_anchor"].startswith("-----BEGIN CERTIFICATE-----")
    assert status["own_ca"] and [c["role"] for c in status["certificates"]] == ["trust anchor", "document signer"]
    assert service.admin.certificate_warnings() == []
    signer_end = status["certificates"][1]["not_after"]
    clock.now = signer_end - 29 * 86400
    [warning] = service.admin.certificate_warnings()
    assert "document signer certificate expires on" in warning and "in 29 days" in warning
    assert "rotate the signing key" in warning
    clock.now = signer_end + 1
    assert "expired on" in service.admin.certificate_warnings()[0]
    with pytest.raises(InvalidInput, match="two-letter"):
        service.admin.create_issuing_ca("Germany", replace=True)


def test_credentials_never_outlive_the_signing_certificate(service: IssuerService, clock: Clock) -> None:
    service.admin.create_issuing_ca("DE")
    not_after = service.keys.active.not_after
    assert not_after is not None
    clock.now = not_after - 10 * 86400  # the badge is valid for a year; the certificate ends in ten days
    offer = service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS))
    code = offer.credential_offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    token = service.tokens.redeem_pre_authorized_code(code, None, None)
    grant = service.tokens.authorize(token.access_token)
    [credential] = service.issuance.request(grant, "employee_badge", [public_jwk(new_key())]).credentials or []
    payload = json.loads(base64url_decode(credential.split("~")[0].split(".")[1]))
    assert payload["exp"] <= not_after and payload["exp"] % 3600 == 0


def organisation_ca(keys: KeyRing) -> tuple[Authority, bytes]:
    root = Authority.root("Organisation Root", "BE")
    issuing = root.intermediate("Organisation Issuing CA")
    chain = issuing.certify(keys.active.public_key, "Desk", dns_name="desk.example")
    return root, pem_of([*chain, root.certificate])


def test_organisation_chain_is_checked_and_imported(tmp_path: Path) -> None:
    keys = KeyRing(tmp_path / "keys")
    certificates = IssuerCertificates(tmp_path, keys)
    request = x509.load_pem_x509_csr(certificates.signing_request("Desk", ISSUER_URL, "be"))
    assert request.is_signature_valid
    assert request.public_key().public_numbers() == keys.active.public_key.public_numbers()
    assert country_of(request.subject) == "BE"
    root, chain = organisation_ca(keys)
    assert certificates.import_chain(chain).kid == keys.active.kid
    assert certificates.trust_anchor == root.certificate and not certificates.own_ca
    assert len(keys.active.x5c) == 2  # the signing certificate and the intermediate, never the root
    verified_chain(list(keys.active.x5c), root.certificate)
    with pytest.raises(CertificateError, match="no issuing CA of its own"):
        certificates.certify(keys.active, ISSUER_URL)


def test_a_chain_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    keys = KeyRing(tmp_path / "keys")
    certificates = IssuerCertificates(tmp_path, keys)
    root = Authority.root("Organisation Root", "BE")
    stranger = ec.generate_private_key(ec.SECP256R1()).public_key()
    other_root = Authority.root("Someone Else", "BE")
    cases = {
        "is not for any of this issuer's signing keys": pem_of([*root.certify(stranger, "x"), root.certificate]),
        "end with the CA's root": pem_of(root.certify(keys.active.public_key, "x")),
        "does not verify": pem_of([*root.certify(keys.active.public_key, "x"), other_root.certificate]),
        "not a PEM file": b"hello",
    }
    for message, pem in cases.items():
        with pytest.raises(CertificateError, match=message):
            certificates.import_chain(pem)
    assert certificates.trust_anchor is None and not keys.active.x5c
    certificates.create_ca("DE", "Desk", ISSUER_URL)
    with pytest.raises(CertificateError, match="is its own CA"):
        certificates.import_chain(pem_of([*root.certify(keys.active.public_key, "x"), root.certificate]))


def test_a_chain_that_leads_elsewhere_fails_the_wallets_check(tmp_path: Path, clock: Clock) -> None:
    keys = KeyRing(tmp_path / "keys")
    IssuerCertificates(tmp_path, keys, clock).create_ca("DE", "Desk", ISSUER_URL)
    with pytest.raises(ChainError, match="does not chain"):
        verified_chain(list(keys.active.x5c), Authority.root("Another CA").certificate, at(clock))


def test_settings_load_keeps_working_with_certificates(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path / "data", port=0, admin_port=0)
    settings.data_dir.mkdir()
    service = IssuerService(settings, ISSUER_URL)
    service.admin.create_issuing_ca("DE")
    service.close()
    reopened = IssuerService(settings, ISSUER_URL)
    assert reopened.keys.active.x5c and reopened.certificates.own_ca
    reopened.close()
