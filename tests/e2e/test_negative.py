"""Every bad request gets the spec's error, and the good request still works afterwards.

Row names (C1, E14, ...) are those of shared/spec/ISSUER-CHECKLIST.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from issuer.codes import b64url
from issuer.testwallet import HttpResponse, Session, TestWallet, make_proof, new_key, public_jwk
from tests.conftest import RunningIssuer
from tests.e2e.conftest import MakeOffer

PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


def expect(response: HttpResponse, status: int, error: str) -> dict[str, Any]:
    assert response.status == status, response.body
    assert response.headers["content-type"] == "application/json"
    assert response.headers.get("cache-control") == "no-store"
    body = response.json()
    assert body["error"] == error, body
    description = body.get("error_description", "")
    assert '"' not in description and "\\" not in description  # E26
    return body


def encode(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value).encode())


def code_of(session: Session) -> str:
    return session.grant["pre-authorized_code"]


def token_form(session: Session, **extra: str) -> dict[str, str]:
    return {"grant_type": PRE_AUTH, "pre-authorized_code": code_of(session), **extra}


@pytest.fixture
def fresh(wallet: TestWallet, make_offer: MakeOffer) -> Callable[..., Session]:
    """A resolved offer, not yet redeemed."""

    def resolve(**options: Any) -> Session:
        offer = make_offer(**options)
        session = wallet.resolve_offer(offer.offer_uri)
        session.metadata["tx_code"] = offer.tx_code
        return session

    return resolve


# ----- token endpoint (C rows) -----


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": PRE_AUTH}, "invalid_request"),  # C1
        ({"pre-authorized_code": "x"}, "invalid_request"),
        ({"grant_type": "password", "username": "u"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "code": "c", "tx_code": "1"}, "invalid_request"),  # C7
        ({"grant_type": PRE_AUTH, "pre-authorized_code": "unknown.code"}, "invalid_grant"),  # C4
        ({"grant_type": "refresh_token", "refresh_token": "nope.nope"}, "invalid_grant"),
        (
            {"grant_type": PRE_AUTH, "pre-authorized_code": "x", "authorization_details": "not json"},
            "invalid_authorization_details",
        ),
    ],
)
def test_token_request_errors(issuer: RunningIssuer, wallet: TestWallet, form: dict[str, str], error: str) -> None:
    expect(wallet.post_form(f"{issuer.url}/token", form), 400, error)


def test_token_request_must_be_a_form(issuer: RunningIssuer, wallet: TestWallet) -> None:
    expect(wallet.post_json(f"{issuer.url}/token", {"grant_type": PRE_AUTH}), 400, "invalid_request")


def test_tx_code_expected_but_missing_and_sent_but_not_expected(
    issuer: RunningIssuer, wallet: TestWallet, fresh: Callable[..., Session]
) -> None:
    """C2, then the good request still works."""
    with_code, without_code = fresh(tx_code=True), fresh()
    expect(wallet.post_form(f"{issuer.url}/token", token_form(with_code)), 400, "invalid_request")
    expect(wallet.post_form(f"{issuer.url}/token", token_form(without_code, tx_code="123456")), 400, "invalid_request")
    assert (
        wallet.post_form(f"{issuer.url}/token", token_form(with_code, tx_code=with_code.metadata["tx_code"])).status
        == 200
    )
    assert wallet.post_form(f"{issuer.url}/token", token_form(without_code)).status == 200


def test_wrong_tx_codes_count_and_burn_the_offer(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    """C3, C6: wrong code is invalid_grant; after 5 failures even the right code is refused."""
    offer = make_offer(tx_code=True)
    session = wallet.resolve_offer(offer.offer_uri)
    wrong = "0" * 6 if offer.tx_code != "0" * 6 else "1" * 6
    for attempt in range(1, 6):
        expect(wallet.post_form(f"{issuer.url}/token", token_form(session, tx_code=wrong)), 400, "invalid_grant")
        if attempt == 2:
            assert issuer.service.offer_status(offer.offer_id)["tx_attempts"] == 2
    expect(wallet.post_form(f"{issuer.url}/token", token_form(session, tx_code=offer.tx_code)), 400, "invalid_grant")
    assert issuer.service.offer_status(offer.offer_id)["state"] == "burned"


def test_code_is_single_use_and_expires(
    issuer: RunningIssuer, wallet: TestWallet, fresh: Callable[..., Session]
) -> None:
    """C4, A5: a used code and an expired code are invalid_grant."""
    used = fresh()
    assert wallet.post_form(f"{issuer.url}/token", token_form(used)).status == 200
    expect(wallet.post_form(f"{issuer.url}/token", token_form(used)), 400, "invalid_grant")
    expiring = fresh(expires_in=30)
    real_clock = issuer.service.clock
    issuer.service.clock = lambda: real_clock() + 31
    try:
        expect(wallet.post_form(f"{issuer.url}/token", token_form(expiring)), 400, "invalid_grant")
    finally:
        issuer.service.clock = real_clock


def test_token_success_shape(issuer: RunningIssuer, wallet: TestWallet, fresh: Callable[..., Session]) -> None:
    """C8, C9, C13: unknown parameters ignored; no-store; a short-lived Bearer token."""
    response = wallet.post_form(f"{issuer.url}/token", token_form(fresh(), foo="bar", client_id="wallet"))
    assert response.status == 200
    assert response.headers["cache-control"] == "no-store" and response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer" and 0 < body["expires_in"] <= 300 and body["access_token"]


def test_authorization_details_outside_the_offer(
    issuer: RunningIssuer, wallet: TestWallet, fresh: Callable[..., Session]
) -> None:
    details = json.dumps([{"type": "openid_credential", "credential_configuration_id": "membership_card"}])
    expect(
        wallet.post_form(f"{issuer.url}/token", token_form(fresh(), authorization_details=details)),
        400,
        "invalid_authorization_details",
    )


# ----- nonce endpoint (E2-E4) -----


def test_nonces_are_fresh_and_uncached(issuer: RunningIssuer, wallet: TestWallet) -> None:
    responses = [wallet.request("POST", f"{issuer.url}/nonce") for _ in range(50)]
    assert all(r.status == 200 and "no-store" in r.headers["cache-control"] for r in responses)
    nonces = {r.json()["c_nonce"] for r in responses}
    assert len(nonces) == 50 and all(len(n) >= 32 for n in nonces)


# ----- credential endpoint (E rows, F rows) -----


def credential(wallet: TestWallet, session: Session, body: dict[str, Any], token: str | None = "") -> HttpResponse:
    return wallet.post_json(f"{session.issuer}/credential", body, session.access_token if token == "" else token)


def good_request(wallet: TestWallet, session: Session, **proof_options: Any) -> dict[str, Any]:
    nonce = proof_options.pop("nonce", None) or wallet.nonce(session)
    return {
        "credential_configuration_id": "employee_badge",
        "proofs": {"jwt": [make_proof(new_key(), session.issuer, nonce, **proof_options)]},
    }


def assert_still_works(wallet: TestWallet, session: Session) -> None:
    response = credential(wallet, session, good_request(wallet, session))
    assert response.status == 200, response.body
    assert response.json()["credentials"][0]["credential"].count("~") >= 4


@pytest.mark.parametrize("token", [None, "garbage", "eyJvIjoieCJ9.AAAA"])
def test_missing_or_invalid_access_token(wallet: TestWallet, session: Session, token: str | None) -> None:
    """E7, G1, G6: 401 with a WWW-Authenticate challenge at every protected endpoint."""
    for path, body in (
        ("/credential", good_request(wallet, session)),
        ("/deferred_credential", {"transaction_id": "x"}),
        ("/notification", {"notification_id": "x", "event": "credential_accepted"}),
    ):
        response = wallet.post_json(f"{session.issuer}{path}", body, token)
        expect(response, 401, "invalid_token")
        assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert_still_works(wallet, session)


def test_expired_access_token(issuer: RunningIssuer, wallet: TestWallet, session: Session) -> None:
    real_clock = issuer.service.clock
    issuer.service.clock = lambda: real_clock() + 301
    try:
        expect(credential(wallet, session, {"credential_configuration_id": "employee_badge"}), 401, "invalid_token")
    finally:
        issuer.service.clock = real_clock


def test_wrong_content_type(wallet: TestWallet, session: Session) -> None:
    """E6."""
    response = wallet.request(
        "POST",
        f"{session.issuer}/credential",
        body=json.dumps(good_request(wallet, session)).encode(),
        headers={"Content-Type": "text/plain", "Authorization": f"Bearer {session.access_token}"},
    )
    expect(response, 400, "invalid_credential_request")
    assert_still_works(wallet, session)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda r: r.update(credential_identifier="x"), "invalid_credential_request"),  # E9 both
        (lambda r: r.pop("credential_configuration_id"), "invalid_credential_request"),  # E9 neither
        (lambda r: r.update(credential_configuration_id="no_such_type"), "unknown_credential_configuration"),  # E11
        (lambda r: r.pop("proofs"), "invalid_proof"),  # E12
        (lambda r: r.update(proofs={"jwt": []}), "invalid_proof"),
        (lambda r: r["proofs"].update(ldp_vp=[{}]), "invalid_proof"),
        (lambda r: r.update(proofs={"attestation": ["x"]}), "invalid_proof"),
        (lambda r: r.update(proofs={"jwt": ["not.a.jwt"]}), "invalid_proof"),
        (lambda r: r.update(proofs="jwt"), "invalid_proof"),
        (lambda r: r.update(credential_response_encryption={"enc": "A128GCM"}), "invalid_encryption_parameters"),
    ],
)
def test_malformed_credential_requests(wallet: TestWallet, session: Session, change, error: str) -> None:
    request = good_request(wallet, session)
    change(request)
    expect(credential(wallet, session, request), 400, error)
    assert_still_works(wallet, session)


@pytest.mark.parametrize(
    "proof_options",
    [
        {"header": {"typ": "JWT"}},  # E14
        {"header": {"kid": "did:example:123#1"}},  # E15: two key headers
        {"header": {"jwk": None, "kid": "did:example:123#1"}},  # kid resolution not supported
        {"claims": {"aud": "https://other.example"}},  # E16
        {"claims": {"iat": None}},
        {"claims": {"iat": int(time.time()) + 3600}},
        {"claims": {"iat": int(time.time()) - 86400}},
        {"claims": {"iss": "some-client"}},  # E18: anonymous access
    ],
)
def test_bad_proofs(wallet: TestWallet, session: Session, proof_options: dict[str, Any]) -> None:
    expect(credential(wallet, session, good_request(wallet, session, **proof_options)), 400, "invalid_proof")
    assert_still_works(wallet, session)


def test_unsigned_hmac_tampered_and_private_key_proofs(wallet: TestWallet, session: Session) -> None:
    """E14, E15: alg none, HS256, a changed payload, a jwk with its private part."""
    nonce = wallet.nonce(session)
    key = new_key()
    good = make_proof(key, session.issuer, nonce)
    header, payload, signature = good.split(".")
    private_jwk = key.export_private(as_dict=True)
    other_payload = {"aud": session.issuer, "iat": int(time.time()), "nonce": nonce, "x": 1}
    forged = [
        f"{encode({'typ': 'openid4vci-proof+jwt', 'alg': 'none', 'jwk': public_jwk(key)})}.{payload}.",
        f"{encode({'typ': 'openid4vci-proof+jwt', 'alg': 'HS256', 'jwk': public_jwk(key)})}.{payload}.{signature}",
        f"{header}.{encode(other_payload)}.{signature}",
        f"{encode({'typ': 'openid4vci-proof+jwt', 'alg': 'ES256', 'jwk': private_jwk})}.{payload}.{signature}",
        f"{encode({'typ': 'openid4vci-proof+jwt', 'alg': 'ES384', 'jwk': public_jwk(key)})}.{payload}.{signature}",
    ]
    for proof in forged:
        request = {"credential_configuration_id": "employee_badge", "proofs": {"jwt": [proof]}}
        expect(credential(wallet, session, request), 400, "invalid_proof")
    assert_still_works(wallet, session)


def test_nonce_rules(wallet: TestWallet, session: Session) -> None:
    """E17: missing nonce is invalid_proof; unknown or reused is invalid_nonce; a fresh one works."""
    request = good_request(wallet, session)
    request["proofs"]["jwt"] = [make_proof(new_key(), session.issuer, None)]
    expect(credential(wallet, session, request), 400, "invalid_proof")
    expect(credential(wallet, session, good_request(wallet, session, nonce="made-up")), 400, "invalid_nonce")
    nonce = wallet.nonce(session)
    assert credential(wallet, session, good_request(wallet, session, nonce=nonce)).status == 200


def test_reused_nonce_is_refused(wallet: TestWallet, make_offer: MakeOffer, issuer: RunningIssuer) -> None:
    sessions = []
    for _ in range(2):
        session = wallet.resolve_offer(make_offer().offer_uri)
        wallet.token(session)
        sessions.append(session)
    nonce = wallet.nonce(sessions[0])
    assert credential(wallet, sessions[0], good_request(wallet, sessions[0], nonce=nonce)).status == 200
    expect(credential(wallet, sessions[1], good_request(wallet, sessions[1], nonce=nonce)), 400, "invalid_nonce")


def test_expired_nonce(issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer) -> None:
    session = wallet.resolve_offer(make_offer().offer_uri)
    nonce = wallet.nonce(session)
    real_clock = issuer.service.clock
    issuer.service.clock = lambda: real_clock() + 301
    try:
        wallet.token(session)  # a token that is still valid at the later time
        request = good_request(wallet, session, nonce=nonce, claims={"iat": int(real_clock()) + 301})
        expect(credential(wallet, session, request), 400, "invalid_nonce")
    finally:
        issuer.service.clock = real_clock


def test_too_many_proofs(issuer: RunningIssuer, wallet: TestWallet, session: Session) -> None:
    """E20: at most batch_size proofs."""
    batch_size = (
        session.metadata.get("batch_credential_issuance", {}).get("batch_size")
        or wallet.fetch_metadata(session)["batch_credential_issuance"]["batch_size"]
    )
    nonce = wallet.nonce(session)
    request = {
        "credential_configuration_id": "employee_badge",
        "proofs": {"jwt": [make_proof(new_key(), session.issuer, nonce) for _ in range(batch_size + 1)]},
    }
    expect(credential(wallet, session, request), 400, "invalid_proof")
    assert_still_works(wallet, session)


def test_configuration_outside_the_token(wallet: TestWallet, session: Session) -> None:
    """C12: the token covers the offered types only."""
    request = good_request(wallet, session)
    request["credential_configuration_id"] = "membership_card"
    expect_status = credential(wallet, session, request)
    assert expect_status.status == 403 and expect_status.json()["error"] == "insufficient_scope"
    assert_still_works(wallet, session)


def test_unknown_parameters_are_ignored(wallet: TestWallet, session: Session) -> None:
    """E27, E21: 200 with credentials and a notification id, no transaction id."""
    request = {**good_request(wallet, session), "foo": 1}
    response = credential(wallet, session, request)
    assert response.status == 200
    body = response.json()
    assert isinstance(body["notification_id"], str) and "transaction_id" not in body and "interval" not in body


@pytest.mark.parametrize(
    "encryption",
    [
        {"jwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "alg": "ECDH-ES"}, "enc": "A128GCM"},
        {"jwk": "key", "enc": "A128GCM"},
        {"enc": "A128GCM"},
        "yes",
    ],
)
def test_bad_encryption_parameters(wallet: TestWallet, session: Session, encryption: Any) -> None:
    """F2."""
    request = {**good_request(wallet, session), "credential_response_encryption": encryption}
    expect(credential(wallet, session, request), 400, "invalid_encryption_parameters")
    assert_still_works(wallet, session)


@pytest.mark.parametrize("change", [{"alg": None}, {"alg": "RSA-OAEP"}, {"enc": "A192CBC"}, {"zip": "BZ2"}])
def test_unsupported_encryption_choices(wallet: TestWallet, session: Session, change: dict[str, Any]) -> None:
    key = new_key("ECDH-ES").export_public(as_dict=True)
    encryption: dict[str, Any] = {"jwk": key, "enc": "A128GCM"}
    for name, value in change.items():
        target = encryption if name in ("enc", "zip") else key
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    request = {**good_request(wallet, session), "credential_response_encryption": encryption}
    expect(credential(wallet, session, request), 400, "invalid_encryption_parameters")


def test_errors_are_never_encrypted(wallet: TestWallet, session: Session) -> None:
    """F4: a bad proof with an encryption request gets plain JSON."""
    request = good_request(wallet, session, claims={"aud": "https://elsewhere.example"})
    request["credential_response_encryption"] = {
        "jwk": new_key("ECDH-ES").export_public(as_dict=True),
        "enc": "A128GCM",
    }
    expect(credential(wallet, session, request), 400, "invalid_proof")


# ----- notification endpoint (G rows) -----


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"notification_id": "000001-1-abcdefgh", "event": "credential_accepted"}, 400, "invalid_notification_id"),
        ({"event": "credential_accepted"}, 400, "invalid_notification_request"),
        ({"notification_id": "x"}, 400, "invalid_notification_request"),
        ({"notification_id": "x", "event": "Credential_Accepted"}, 400, "invalid_notification_request"),
    ],
)
def test_notification_errors(wallet: TestWallet, session: Session, body: dict, status: int, error: str) -> None:
    expect(wallet.post_json(f"{session.issuer}/notification", body, session.access_token), status, error)


def test_notification_for_another_offer_is_unknown(wallet: TestWallet, make_offer: MakeOffer) -> None:
    """G9: a notification id from another wallet's offer is invalid for this token."""
    sessions = []
    for _ in range(2):
        session = wallet.resolve_offer(make_offer().offer_uri)
        wallet.token(session)
        sessions.append(session)
    received = wallet.request_credential(sessions[0], "employee_badge")
    assert not isinstance(received, str)
    body = {"notification_id": received.notification_id, "event": "credential_accepted"}
    expect(
        wallet.post_json(f"{sessions[1].issuer}/notification", body, sessions[1].access_token),
        400,
        "invalid_notification_id",
    )
    extra = {**body, "event_description": "stored", "foo": 1}
    assert wallet.post_json(f"{sessions[0].issuer}/notification", extra, sessions[0].access_token).status == 204


def test_unknown_credential_identifier(wallet: TestWallet, make_offer: MakeOffer) -> None:
    """E11: after authorization_details, an identifier the token did not return."""
    session = wallet.resolve_offer(make_offer().offer_uri)
    details = json.dumps([{"type": "openid_credential", "credential_configuration_id": "employee_badge"}])
    wallet.token(session, authorization_details=details)
    request = good_request(wallet, session)
    del request["credential_configuration_id"]
    request["credential_identifier"] = "employee_badge:999"
    expect(credential(wallet, session, request), 400, "unknown_credential_identifier")
    assert wallet.request_credential(session, "employee_badge")


def test_rejected_before_the_request_is_denied(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    """E28: the desk declined; the wallet's credential request is credential_request_denied."""
    offer = make_offer(deferred=True)
    issuer.service.reject(offer.offer_id, operator="desk-1", reason="identity not confirmed")
    session = wallet.resolve_offer(offer.offer_uri)
    wallet.token(session)
    expect(credential(wallet, session, good_request(wallet, session)), 400, "credential_request_denied")
