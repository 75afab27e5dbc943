"""Encrypted Credential Requests (OID4VCI §8.2, §9.1, §10; checklist B17, F2, F3, F4): the issuer's keys in
`credential_request_encryption`, JWE requests at the credential and deferred endpoints, and the rule that
a request asking for an encrypted response is itself encrypted when the issuer takes encrypted requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from issuer.crypto.encryption_keys import GRACE
from issuer.runtime import IssuerRuntime
from issuer.service import IssuerService, OfferRequest
from tests.conftest import start_issuer
from tests.e2e.helpers import (
    BADGE_CLAIMS,
    clock_shifted,
    encryption_key,
    expect_error,
    issued,
    pending,
    read_reply,
    request_body,
)
from wallet.client import Session, TestWallet
from wallet.keys import encrypt_request, encryption_parameters, make_proof, new_key
from wallet.transport import HttpResponse


class Issuer:
    def __init__(self, runtime: IssuerRuntime) -> None:
        assert runtime.service is not None
        self.runtime, self.url = runtime, runtime.issuer_url
        self.service: IssuerService = runtime.service
        self.wallet = TestWallet()

    def session(self, **options: Any) -> Session:
        offer = self.service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS, **options))
        session = self.wallet.resolve_offer(offer.offer_uri)
        self.wallet.fetch_metadata(session)
        self.wallet.token(session)
        return session

    def issuer_key(self, session: Session) -> dict[str, Any]:
        return dict(session.metadata["credential_request_encryption"]["jwks"]["keys"][0])

    def send(self, session: Session, endpoint: str, body: Any, *, key: dict[str, Any] | None = None) -> HttpResponse:
        """POST `body` in the clear, or as a JWE to `key` (the issuer's published key by default)."""
        if key is None and not isinstance(body, str):
            return self.wallet.post_protected(session, session.endpoint(endpoint), body)
        content = body if isinstance(body, str) else encrypt_request(body, key or {}, "A128GCM")
        headers = {"Content-Type": "application/jwt", "Authorization": f"Bearer {session.access_token}"}
        return self.wallet.request("POST", session.endpoint(endpoint), body=content.encode(), headers=headers)


def running(tmp_path: Path, **settings: Any) -> Iterator[Issuer]:
    runtime = start_issuer(tmp_path / "data", **settings)
    issuer = Issuer(runtime)
    try:
        yield issuer
    finally:
        issuer.wallet.close()
        runtime.stop()


@pytest.fixture
def offered(tmp_path: Path) -> Iterator[Issuer]:
    yield from running(tmp_path, request_encryption=True)


@pytest.fixture
def required(tmp_path: Path) -> Iterator[Issuer]:
    yield from running(tmp_path, require_request_encryption=True)


def test_the_keys_are_published_with_their_kid(offered: Issuer) -> None:
    """B17: `jwks` with a kid on every key, `enc_values_supported`, `encryption_required`."""
    metadata = offered.wallet.request("GET", f"{offered.url}/.well-known/openid-credential-issuer").json()
    options = metadata["credential_request_encryption"]
    assert options["encryption_required"] is False and options["enc_values_supported"] == ["A128GCM", "A256GCM"]
    assert options["zip_values_supported"] == ["DEF"]
    [key] = options["jwks"]["keys"]
    assert key["kid"] and key["alg"] == "ECDH-ES" and key["use"] == "enc" and not {"d"} & set(key)
    assert (offered.runtime.settings.data_dir / "encryption-keys" / f"{key['kid']}.pem").stat().st_mode & 0o077 == 0


def test_an_encrypted_request_is_served_like_a_plain_one(offered: Issuer) -> None:
    session = offered.session()
    response_key = encryption_key("wallet-1")
    body = request_body(offered.wallet, session, "employee_badge", [new_key()])
    body["credential_response_encryption"] = encryption_parameters(response_key)
    issued(read_reply(offered.send(session, "credential", body, key=offered.issuer_key(session)), 200, response_key), 1)
    plain = offered.session()  # a plain request that asks for nothing encrypted is still fine
    issued(
        read_reply(
            offered.send(plain, "credential", request_body(offered.wallet, plain, "employee_badge", [new_key()])), 200
        ),
        1,
    )


def test_asking_for_an_encrypted_response_needs_an_encrypted_request(offered: Issuer) -> None:
    """§8.2: so that no one on the way can put in a response key of their own."""
    session = offered.session()
    body = request_body(offered.wallet, session, "employee_badge", [new_key()])
    body["credential_response_encryption"] = encryption_parameters(encryption_key())
    error = expect_error(offered.send(session, "credential", body), 400, "invalid_encryption_parameters")
    assert "must itself be encrypted" in error["error_description"]


def test_the_deferred_endpoint_takes_encrypted_requests(offered: Issuer) -> None:
    session = offered.session(deferred=True)
    keys = [new_key()]
    body = request_body(offered.wallet, session, "employee_badge", keys)
    transaction_id = pending(read_reply(offered.send(session, "credential", body), 202))
    poll = {"transaction_id": transaction_id, "credential_response_encryption": encryption_parameters(encryption_key())}
    expect_error(offered.send(session, "deferred_credential", poll), 400, "invalid_encryption_parameters")
    response_key = encryption_key()
    poll["credential_response_encryption"] = encryption_parameters(response_key)
    reply = read_reply(
        offered.send(session, "deferred_credential", poll, key=offered.issuer_key(session)), 202, response_key
    )
    assert reply["transaction_id"] == transaction_id


def test_required_encryption_refuses_plain_requests(required: Issuer) -> None:
    """F3: plain JSON while `encryption_required` is true is refused; the same request encrypted is served,
    by the wallet too, which encrypts because the metadata says it must."""
    session = required.session()
    assert session.metadata["credential_request_encryption"]["encryption_required"] is True
    body = request_body(required.wallet, session, "employee_badge", [new_key()])
    expect_error(required.send(session, "credential", body), 400, "invalid_encryption_parameters")
    assert not isinstance(required.wallet.request_credential(session, "employee_badge"), str)


def test_bad_jwes_are_invalid_encryption_parameters(required: Issuer) -> None:
    session = required.session()
    key = required.issuer_key(session)
    body = request_body(required.wallet, session, "employee_badge", [new_key()])
    stranger = {**new_key("ECDH-ES").export_public(as_dict=True), "kid": key["kid"]}
    cases = {
        "unknown kid": encrypt_request(body, {**key, "kid": "no-such-key"}, "A128GCM"),
        "another key under the issuer's kid": encrypt_request(body, stranger, "A128GCM"),
        "an enc the issuer does not list": encrypt_request(body, key, "A192GCM"),
        "not a JWE": "not.a.jwe",
    }
    for case, compact in cases.items():
        response = required.send(session, "credential", compact)
        assert (response.status, response.json()["error"]) == (400, "invalid_encryption_parameters"), case


def test_errors_to_encrypted_requests_are_plain_json(required: Issuer) -> None:
    """F4: a Credential Error Response is never encrypted."""
    session = required.session()
    nonce = required.wallet.nonce(session)
    body = {
        "credential_configuration_id": "employee_badge",
        "proofs": {"jwt": [make_proof(new_key(), "https://elsewhere", nonce)]},
    }
    body["credential_response_encryption"] = encryption_parameters(encryption_key())
    expect_error(required.send(session, "credential", body, key=required.issuer_key(session)), 400, "invalid_proof")


def test_compressed_requests(required: Issuer) -> None:
    session = required.session()
    body = request_body(required.wallet, session, "employee_badge", [new_key()])
    compact = encrypt_request(body, required.issuer_key(session), "A256GCM", "DEF")
    issued(read_reply(required.send(session, "credential", compact), 200), 1)


def test_a_retired_key_works_for_its_grace_period(required: Issuer) -> None:
    """The encryption key rotates with the signing key; a wallet that read the metadata before still gets
    through for a week, then reads it again."""
    session = required.session()
    old_key = required.issuer_key(session)
    required.service.admin.rotate_key(operator="desk")
    fresh = TestWallet()
    try:
        new_metadata = fresh.request("GET", f"{required.url}/.well-known/openid-credential-issuer").json()
    finally:
        fresh.close()
    assert new_metadata["credential_request_encryption"]["jwks"]["keys"][0]["kid"] != old_key["kid"]
    body = request_body(required.wallet, session, "employee_badge", [new_key()])
    issued(read_reply(required.send(session, "credential", body, key=old_key), 200), 1)
    later = required.session()
    with clock_shifted(required.service, GRACE + 60):
        late_body = request_body(required.wallet, later, "employee_badge", [new_key()])
        response = required.send(later, "credential", late_body, key=old_key)
    assert (response.status, response.json()["error"]) in (
        (400, "invalid_encryption_parameters"),
        (401, "invalid_token"),
    )
