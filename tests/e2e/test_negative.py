"""Every bad request gets the spec's status and error code, and the good request still works afterwards.

One test per row of shared/spec/ISSUER-CHECKLIST.md sections C, E, F and G that applies to the
Pre-Authorized Code Flow (the test name starts with the row). Every error also passes the
checks of C10 and E26 in `expect_error`: JSON, `Cache-Control: no-store`, only OAuth error
members, and an error_description within %x20-21 / %x23-5B / %x5D-7E. Rows checked elsewhere:
C11 and E10 in test_preauthorized (authorization_details), F1 and G7 there too, G2-G5 in
test_deferred, C4 under load in test_concurrency. C2 also covers A6, C4 also A5.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

import pytest
from jwcrypto import jwk
from jwcrypto.common import base64url_encode, json_encode

from issuer.service import CreatedOffer
from tests.conftest import RunningIssuer
from tests.e2e.helpers import (
    PRE_AUTH,
    MakeOffer,
    altered,
    clock_shifted,
    encryption_key,
    expect_error,
    expect_error_in,
    issued,
    pending,
    poll,
    post,
    read_reply,
    redeem,
    request_credentials,
    start_deferred,
    token_form,
)
from wallet.client import Session, TestWallet
from wallet.keys import encryption_parameters, make_proof, new_key, public_jwk, sign_jws
from wallet.transport import HttpResponse

# Text a client may send that an error_description must not echo as is (E26, RFC 6749 §5.2).
HOSTILE = {"quote": 'a"b', "backslash": "a\\b", "non_ascii": "caf\u00e9", "newline": "a\nb", "delete": "a\x7fb"}
MakeProof = Callable[[jwk.JWK, str, str], str]


def assert_redeems(wallet: TestWallet, token_endpoint: str, offer: CreatedOffer) -> None:
    """The good token request for `offer` (with its tx_code, if any) still gets an access token."""
    form = token_form(offer, **({"tx_code": offer.tx_code} if offer.tx_code else {}))
    response = wallet.post_form(token_endpoint, form)
    assert response.status == 200 and response.json()["access_token"], response.body


def wrong_tx_code(offer: CreatedOffer) -> str:
    code = str(offer.tx_code)
    return "1" * len(code) if code != "1" * len(code) else "2" * len(code)


def good_request(wallet: TestWallet, session: Session, **proof_options: Any) -> dict[str, Any]:
    """A Credential Request for the session's badge with one ES256 proof on a fresh nonce;
    `proof_options` go to `make_proof` (`nonce=` replaces the fresh nonce)."""
    nonce = proof_options.pop("nonce") if "nonce" in proof_options else wallet.nonce(session)
    proof = make_proof(new_key(), session.issuer, nonce, **proof_options)
    return {"credential_configuration_id": "employee_badge", "proofs": {"jwt": [proof]}}


def credential(wallet: TestWallet, session: Session, body: Any, token: str | None = "") -> HttpResponse:
    return post(wallet, session, "credential", body, token)


def assert_still_works(wallet: TestWallet, session: Session) -> None:
    """The good Credential Request still gets its credential (call once, last: an offer issues once)."""
    issued(read_reply(credential(wallet, session, good_request(wallet, session)), 200), 1)


def notification(notification_id: str, event: str = "credential_accepted") -> dict[str, str]:
    return {"notification_id": notification_id, "event": event}


# C. Token endpoint (§6, RFC 6749 §5)


@pytest.mark.parametrize("code", [None, ""], ids=["absent", "empty"])
def test_c1_pre_authorized_code_is_required(
    wallet: TestWallet, token_endpoint: str, make_offer: MakeOffer, code: str | None
) -> None:
    offer = make_offer()
    form = {"grant_type": PRE_AUTH, **({} if code is None else {"pre-authorized_code": code})}
    expect_error(wallet.post_form(token_endpoint, form), 400, "invalid_request")
    assert_redeems(wallet, token_endpoint, offer)


@pytest.mark.parametrize(
    ("offered", "sent"), [(True, None), (False, "493536")], ids=["expected_but_missing", "sent_but_not_expected"]
)
def test_c2_tx_code_presence_must_match_the_offer(
    wallet: TestWallet, token_endpoint: str, make_offer: MakeOffer, offered: bool, sent: str | None
) -> None:
    offer = make_offer(tx_code=offered)
    form = token_form(offer, **({"tx_code": sent} if sent else {}))
    expect_error(wallet.post_form(token_endpoint, form), 400, "invalid_request")
    assert_redeems(wallet, token_endpoint, offer)


def test_c3_wrong_tx_code(wallet: TestWallet, token_endpoint: str, make_offer: MakeOffer) -> None:
    offer = make_offer(tx_code=True)
    form = token_form(offer, tx_code=wrong_tx_code(offer))
    expect_error(wallet.post_form(token_endpoint, form), 400, "invalid_grant")
    assert_redeems(wallet, token_endpoint, offer)


@pytest.mark.parametrize("variant", ["unknown", "altered", "used", "expired"])
def test_c4_unknown_used_or_expired_code(
    issuer: RunningIssuer, wallet: TestWallet, token_endpoint: str, make_offer: MakeOffer, variant: str
) -> None:
    offer = make_offer(expires_in=30)
    form = token_form(offer)
    if variant == "unknown":
        form["pre-authorized_code"] = "SplxlOBeZQQYbYS6WxSbIA"
    elif variant == "altered":
        form["pre-authorized_code"] = altered(form["pre-authorized_code"])
    elif variant == "used":
        assert_redeems(wallet, token_endpoint, offer)
    with clock_shifted(issuer.service, 31 if variant == "expired" else 0):
        expect_error(wallet.post_form(token_endpoint, form), 400, "invalid_grant")
    assert_redeems(wallet, token_endpoint, make_offer())


def test_c6_five_wrong_tx_codes_burn_the_offer(
    issuer: RunningIssuer, wallet: TestWallet, token_endpoint: str, make_offer: MakeOffer
) -> None:
    """Errata §13.6.3: after the limit even the right code is invalid_grant."""
    offer = make_offer(tx_code=True)
    for _ in range(5):
        form = token_form(offer, tx_code=wrong_tx_code(offer))
        expect_error(wallet.post_form(token_endpoint, form), 400, "invalid_grant")
    expect_error(wallet.post_form(token_endpoint, token_form(offer, tx_code=str(offer.tx_code))), 400, "invalid_grant")
    assert issuer.service.offers.status(offer.offer_id)["state"] == "burned"
    assert_redeems(wallet, token_endpoint, make_offer(tx_code=True))


@pytest.mark.parametrize(
    "form",
    [
        {"grant_type": "authorization_code", "code": "SplxlOBeZQQYbYS6WxSbIA", "tx_code": "1234"},
        {"grant_type": "refresh_token", "refresh_token": "tGzv3JOkF0XG5Qx2TlKWIA", "tx_code": "1234"},
    ],
    ids=["authorization_code", "refresh_token"],
)
def test_c7_tx_code_only_with_the_pre_authorized_grant(
    wallet: TestWallet, token_endpoint: str, make_offer: MakeOffer, form: dict[str, str]
) -> None:
    expect_error(wallet.post_form(token_endpoint, form), 400, "invalid_request")
    assert_redeems(wallet, token_endpoint, make_offer())


def test_c8_unknown_token_parameters_are_ignored(
    wallet: TestWallet, token_endpoint: str, make_offer: MakeOffer
) -> None:
    response = wallet.post_form(token_endpoint, token_form(make_offer(), foo="bar", resource_hint="x"))
    assert response.status == 200 and response.json()["access_token"]


@pytest.fixture
def token_response(wallet: TestWallet, token_endpoint: str, make_offer: MakeOffer) -> HttpResponse:
    return wallet.post_form(token_endpoint, token_form(make_offer()))


def test_c9_token_response(token_response: HttpResponse) -> None:
    """RFC 6749 §5.1: 200 JSON, access_token and token_type, no-store and no-cache."""
    assert token_response.status == 200
    assert token_response.headers["content-type"] == "application/json"
    assert "no-store" in token_response.headers["cache-control"] and token_response.headers["pragma"] == "no-cache"
    body = token_response.json()
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert body["token_type"].lower() == "bearer"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "password", "username": "ada", "password": "x"}, "unsupported_grant_type"),
        *[({"grant_type": f"urn:example:{text}"}, "unsupported_grant_type") for text in HOSTILE.values()],
    ],
    ids=["no_grant_type", "unsupported_grant_type", *[f"echoed_{name}" for name in HOSTILE]],
)
def test_c10_token_errors_are_oauth_errors(
    wallet: TestWallet, token_endpoint: str, make_offer: MakeOffer, form: dict[str, str], error: str
) -> None:
    """RFC 6749 §5.2: 400 JSON with `error`, an error_description in the allowed characters even
    when it quotes what the client sent, and the §6.3 example's no-store (all in expect_error)."""
    expect_error(wallet.post_form(token_endpoint, form), 400, error)
    assert_redeems(wallet, token_endpoint, make_offer())


def test_c10_token_request_must_be_a_form(wallet: TestWallet, token_endpoint: str, make_offer: MakeOffer) -> None:
    """RFC 6749 §4.1.3: the token request is application/x-www-form-urlencoded."""
    offer = make_offer()
    expect_error(wallet.post_json(token_endpoint, token_form(offer)), 400, "invalid_request")
    assert_redeems(wallet, token_endpoint, offer)


def test_c12_credential_outside_the_offer(wallet: TestWallet, session: Session) -> None:
    """§6.1 (REC): the token covers the offered configurations only."""
    request = {**good_request(wallet, session), "credential_configuration_id": "membership_card"}
    response = credential(wallet, session, request)
    expect_error_in(response, [(403, "insufficient_scope"), (400, "unknown_credential_configuration")])
    assert_still_works(wallet, session)


def test_c12_authorization_details_outside_the_offer(
    wallet: TestWallet, token_endpoint: str, make_offer: MakeOffer
) -> None:
    """§6.1.1, RFC 9396 §5: authorization_details may narrow the offer, never widen it."""
    offer = make_offer("employee_badge")
    details = json.dumps([{"type": "openid_credential", "credential_configuration_id": "membership_card"}])
    form = token_form(offer, authorization_details=details)
    expect_error(wallet.post_form(token_endpoint, form), 400, "invalid_authorization_details")
    assert_redeems(wallet, token_endpoint, offer)


def test_c13_bearer_access_tokens_are_short_lived(token_response: HttpResponse) -> None:
    """§13.10: a Bearer token lives at most five minutes."""
    body = token_response.json()
    assert body["token_type"].lower() == "bearer"
    assert isinstance(body["expires_in"], int) and 0 < body["expires_in"] <= 300


# E. Nonce endpoint (§7)


@pytest.fixture
def nonce_responses(wallet: TestWallet, session: Session) -> list[HttpResponse]:
    """Fifty nonce requests as §7.1 shows them: POST, no body, no access token."""
    return [wallet.request("POST", session.endpoint("nonce")) for _ in range(50)]


def test_e2_nonce_without_access_token(nonce_responses: list[HttpResponse]) -> None:
    for response in nonce_responses:
        assert 200 <= response.status < 300 and response.headers["content-type"] == "application/json"
        assert isinstance(response.json()["c_nonce"], str) and response.json()["c_nonce"]


def test_e3_nonce_is_not_cached(nonce_responses: list[HttpResponse]) -> None:
    assert all("no-store" in response.headers["cache-control"] for response in nonce_responses)


def test_e4_nonces_are_unpredictable(nonce_responses: list[HttpResponse]) -> None:
    """All distinct, and past what they share (a format prefix), at least 22 base64url
    characters (128 bits) that vary."""
    nonces = [response.json()["c_nonce"] for response in nonce_responses]
    assert len(set(nonces)) == len(nonces)
    shared = len(os.path.commonprefix(nonces))
    assert all(len(nonce) - shared >= 22 for nonce in nonces)


# E. Credential endpoint (§8, Appendix F)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_e6_unencrypted_request_must_be_json(wallet: TestWallet, session: Session, content_type: str | None) -> None:
    headers = {"Authorization": f"Bearer {session.access_token}"}
    if content_type:
        headers["Content-Type"] = content_type
    body = json.dumps(good_request(wallet, session)).encode()
    response = wallet.request("POST", session.endpoint("credential"), body=body, headers=headers)
    expect_error(response, 400, "invalid_credential_request")
    assert_still_works(wallet, session)


def test_e7_missing_access_token(wallet: TestWallet, session: Session) -> None:
    """RFC 6750 §3: 401 with a Bearer challenge (§3.1: without an error code, as none was presented)."""
    response = credential(wallet, session, good_request(wallet, session), token=None)
    assert response.status == 401 and response.headers["www-authenticate"].startswith("Bearer")
    assert_still_works(wallet, session)


@pytest.mark.parametrize("variant", ["garbage", "tampered", "expired"])
def test_e7_invalid_or_expired_access_token(
    issuer: RunningIssuer, wallet: TestWallet, session: Session, variant: str
) -> None:
    token = session.access_token
    presented = {"garbage": "garbage", "tampered": altered(token)}.get(variant, token)
    request = good_request(wallet, session)
    with clock_shifted(issuer.service, session.token_response["expires_in"] + 1 if variant == "expired" else 0):
        response = credential(wallet, session, request, presented)
    expect_error(response, 401, "invalid_token")
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert_still_works(wallet, session)


def test_e7_authorization_scheme_is_case_insensitive(wallet: TestWallet, session: Session) -> None:
    """RFC 9110 §11.1 (and the `BEARER` of the §8.2 example)."""
    headers = {"Authorization": f"BEARER {session.access_token}", "Content-Type": "application/json"}
    body = json.dumps(good_request(wallet, session)).encode()
    issued(read_reply(wallet.request("POST", session.endpoint("credential"), body=body, headers=headers), 200), 1)


@pytest.mark.parametrize(
    "change",
    [
        lambda request: request.update(credential_identifier="employee_badge"),
        lambda request: request.pop("credential_configuration_id"),
    ],
    ids=["both", "neither"],
)
def test_e9_exactly_one_credential_identification(
    wallet: TestWallet, session: Session, change: Callable[[dict[str, Any]], Any]
) -> None:
    request = good_request(wallet, session)
    change(request)
    expect_error(credential(wallet, session, request), 400, "invalid_credential_request")
    assert_still_works(wallet, session)


def test_e11_unknown_credential_configuration(wallet: TestWallet, session: Session) -> None:
    request = {**good_request(wallet, session), "credential_configuration_id": "no_such_configuration"}
    expect_error(credential(wallet, session, request), 400, "unknown_credential_configuration")
    assert_still_works(wallet, session)


def test_e11_unknown_credential_identifier(wallet: TestWallet, make_offer: MakeOffer) -> None:
    """After authorization_details, an identifier the token response did not return."""
    details = json.dumps([{"type": "openid_credential", "credential_configuration_id": "employee_badge"}])
    session = redeem(wallet, make_offer(), authorization_details=details)
    request = good_request(wallet, session)
    del request["credential_configuration_id"]
    request["credential_identifier"] = "employee_badge-999"
    expect_error(credential(wallet, session, request), 400, "unknown_credential_identifier")
    request_credentials(wallet, session, "employee_badge")


@pytest.mark.parametrize(
    "proofs",
    [None, {"jwt": []}, {"jwt": ["PROOF"], "di_vp": [{}]}, {"attestation": ["PROOF"]}, "PROOF", {"jwt": "PROOF"}],
    ids=["missing", "empty_array", "two_proof_types", "unsupported_type", "not_an_object", "not_an_array"],
)
def test_e12_proofs_shape(wallet: TestWallet, session: Session, proofs: Any) -> None:
    request = good_request(wallet, session)
    [proof] = request.pop("proofs")["jwt"]
    if proofs is not None:
        request["proofs"] = json.loads(json.dumps(proofs).replace('"PROOF"', json.dumps(proof)))
    expect_error(credential(wallet, session, request), 400, "invalid_proof")
    assert_still_works(wallet, session)


def unsigned(key: jwk.JWK, audience: str, nonce: str) -> str:
    header = {"typ": "openid4vci-proof+jwt", "alg": "none", "jwk": public_jwk(key)}
    payload = {"aud": audience, "iat": int(time.time()), "nonce": nonce}
    return f"{base64url_encode(json_encode(header))}.{base64url_encode(json_encode(payload))}."


def mac_signed(key: jwk.JWK, audience: str, nonce: str) -> str:
    """HS256 keyed with the public JWK: the classic algorithm confusion."""
    secret = jwk.JWK(kty="oct", k=base64url_encode(json_encode(public_jwk(key))))
    header = {"typ": "openid4vci-proof+jwt", "alg": "HS256", "jwk": public_jwk(key)}
    return sign_jws(secret, header, {"aud": audience, "iat": int(time.time()), "nonce": nonce})


def unlisted_alg(_: jwk.JWK, audience: str, nonce: str) -> str:
    """A correct ES384 proof with a P-384 key: ES384 is not in proof_signing_alg_values_supported."""
    return make_proof(jwk.JWK.generate(kty="EC", crv="P-384"), audience, nonce, alg="ES384")


def with_header(**header: Any) -> MakeProof:
    return lambda key, audience, nonce: make_proof(key, audience, nonce, header=header)


def with_claims(**claims: Any) -> MakeProof:
    return lambda key, audience, nonce: make_proof(key, audience, nonce, claims=claims)


def tampered(key: jwk.JWK, audience: str, nonce: str) -> str:
    header, _, signature = make_proof(key, audience, nonce).split(".")
    payload = base64url_encode(json_encode({"aud": audience, "iat": int(time.time()), "nonce": nonce, "x": 1}))
    return f"{header}.{payload}.{signature}"


def signed_by_another_key(key: jwk.JWK, audience: str, nonce: str) -> str:
    return make_proof(new_key(), audience, nonce, header={"jwk": public_jwk(key)})


def private_jwk(key: jwk.JWK, audience: str, nonce: str) -> str:
    return make_proof(key, audience, nonce, header={"jwk": key.export_private(as_dict=True)})


def unknown_critical_header(key: jwk.JWK, audience: str, nonce: str) -> str:
    """RFC 7515 §4.1.11: a JWS with a `crit` extension the recipient does not understand is invalid."""
    extension = "urn:example:must-understand"
    return make_proof(key, audience, nonce, header={"crit": [extension], extension: True})


def bad_proof_test(wallet: TestWallet, session: Session, build: MakeProof) -> None:
    request = {
        "credential_configuration_id": "employee_badge",
        "proofs": {"jwt": [build(new_key(), session.issuer, wallet.nonce(session))]},
    }
    expect_error(credential(wallet, session, request), 400, "invalid_proof")
    assert_still_works(wallet, session)


@pytest.mark.parametrize(
    "build",
    [with_header(typ="JWT"), with_header(typ=None), unsigned, mac_signed, unlisted_alg],
    ids=["typ_JWT", "typ_missing", "alg_none", "alg_HS256", "alg_ES384_unlisted"],
)
def test_e14_proof_type_and_algorithm(wallet: TestWallet, session: Session, build: MakeProof) -> None:
    """Appendix F.1, F.4; the good request after each is the ES256 proof."""
    bad_proof_test(wallet, session, build)


@pytest.mark.parametrize(
    "build",
    [
        with_header(kid="did:example:ebfeb1f712ebc6f1c276e12ec21#keys-1"),
        with_header(x5c=["MIIBszCCAVmgAwIBAgIUGmZ2"]),
        tampered,
        signed_by_another_key,
        private_jwk,
        unknown_critical_header,
    ],
    ids=["jwk_and_kid", "jwk_and_x5c", "tampered_payload", "signed_by_another_key", "private_jwk", "unknown_crit"],
)
def test_e15_proof_key_and_signature(wallet: TestWallet, session: Session, build: MakeProof) -> None:
    """Appendix F.1, F.4: exactly one key header, a signature that verifies with it, no private key."""
    bad_proof_test(wallet, session, build)


@pytest.mark.parametrize(
    "build",
    [
        with_claims(aud="https://other-issuer.example.com"),
        with_claims(aud=None),
        with_claims(iat=None),
        with_claims(iat=str(int(time.time()))),
        lambda key, audience, nonce: make_proof(key, audience, nonce, claims={"iat": int(time.time()) + 3600}),
        lambda key, audience, nonce: make_proof(key, audience, nonce, claims={"iat": int(time.time()) - 86400}),
    ],
    ids=["wrong_aud", "no_aud", "no_iat", "iat_not_a_number", "iat_an_hour_ahead", "iat_a_day_old"],
)
def test_e16_proof_audience_and_time(wallet: TestWallet, session: Session, build: MakeProof) -> None:
    bad_proof_test(wallet, session, build)


@pytest.mark.parametrize(
    ("nonce", "error"), [(None, "invalid_proof"), ("made-up-nonce", "invalid_nonce")], ids=["missing", "unknown"]
)
def test_e17_proof_nonce(wallet: TestWallet, session: Session, nonce: str | None, error: str) -> None:
    """§8.3.1.2: no nonce is invalid_proof, a nonce the issuer did not give is invalid_nonce;
    then a fresh nonce works."""
    expect_error(credential(wallet, session, good_request(wallet, session, nonce=nonce)), 400, error)
    assert_still_works(wallet, session)


def test_e17_expired_nonce(issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer) -> None:
    session = wallet.resolve_offer(make_offer().offer_uri)
    stale = wallet.nonce(session)
    shift = issuer.service.settings.nonce_ttl + 1
    with clock_shifted(issuer.service, shift):
        wallet.token(session)  # an access token that is valid at the later time
        later = {"iat": int(time.time()) + shift}
        request = good_request(wallet, session, nonce=stale, claims=later)
        expect_error(credential(wallet, session, request), 400, "invalid_nonce")
        fresh = good_request(wallet, session, claims=later)
        issued(read_reply(credential(wallet, session, fresh), 200), 1)


def test_e17_used_nonce_is_refused(wallet: TestWallet, make_offer: MakeOffer) -> None:
    """§13.8: the issuer decides how long a nonce lasts; this one takes each once (a wallet
    retries with a fresh one, as §8.3.1.2 tells it)."""
    first, second = (redeem(wallet, make_offer()) for _ in range(2))
    nonce = wallet.nonce(first)
    issued(read_reply(credential(wallet, first, good_request(wallet, first, nonce=nonce)), 200), 1)
    expect_error(credential(wallet, second, good_request(wallet, second, nonce=nonce)), 400, "invalid_nonce")
    assert_still_works(wallet, second)


def test_e18_no_iss_with_anonymous_access(wallet: TestWallet, session: Session) -> None:
    """Appendix F.1: `iss` is omitted when the token came from anonymous pre-authorized access."""
    bad_proof_test(wallet, session, with_claims(iss="s6BhdRkqt3"))


def test_e18_iss_is_the_client_id_when_one_was_sent(wallet: TestWallet, make_offer: MakeOffer) -> None:
    """Appendix F.1, §12.3: a token request with a client_id is not anonymous, and the proof's
    `iss` is then that client_id, which the issuer accepts; another value is invalid_proof."""
    session = redeem(wallet, make_offer(), client_id="s6BhdRkqt3")
    expect_error(
        credential(wallet, session, good_request(wallet, session, claims={"iss": "other"})), 400, "invalid_proof"
    )
    issued(read_reply(credential(wallet, session, good_request(wallet, session, claims={"iss": "s6BhdRkqt3"})), 200), 1)


def test_e20_at_most_batch_size_proofs(wallet: TestWallet, session: Session) -> None:
    """§12.2.4: batch_size is the maximum number of proofs; the spec names no error code."""
    batch_size = session.metadata["batch_credential_issuance"]["batch_size"]
    nonce = wallet.nonce(session)
    proofs = [make_proof(new_key(), session.issuer, nonce) for _ in range(batch_size + 1)]
    response = credential(wallet, session, {"credential_configuration_id": "employee_badge", "proofs": {"jwt": proofs}})
    expect_error_in(response, [(400, "invalid_proof"), (400, "invalid_credential_request")])
    assert_still_works(wallet, session)


def test_e21_immediate_response(wallet: TestWallet, session: Session) -> None:
    """§8.3: 200 JSON, credentials of objects with `credential`, a string notification_id, and
    neither transaction_id nor interval (all in `issued`)."""
    body = read_reply(credential(wallet, session, good_request(wallet, session)), 200)
    issued(body, 1)
    assert isinstance(body["notification_id"], str) and body["notification_id"]


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_e26_error_description_characters(wallet: TestWallet, session: Session, text: str) -> None:
    """§8.3.1.2: error_description stays within %x20-21 / %x23-5B / %x5D-7E even when it names
    what the wallet sent (here, an unknown proof type)."""
    request = good_request(wallet, session)
    request["proofs"] = {f"x-{text}": request["proofs"]["jwt"]}
    expect_error(credential(wallet, session, request), 400, "invalid_proof")
    assert_still_works(wallet, session)


def test_e27_unknown_parameters_are_ignored(wallet: TestWallet, session: Session) -> None:
    request = {**good_request(wallet, session), "foo": 1, "credential_format_hint": {"x": [1]}}
    issued(read_reply(credential(wallet, session, request), 200), 1)


# F. Encryption (§8.2, §10)


def encryption_with(**changes: Any) -> dict[str, Any]:
    """credential_response_encryption for a fresh ECDH-ES key, with members of it or its jwk
    changed (None removes one)."""
    parameters = encryption_parameters(encryption_key())
    for name, value in changes.items():
        target = parameters if name in ("enc", "zip", "jwk") else parameters["jwk"]
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    return parameters


@pytest.mark.parametrize(
    "encryption",
    [
        encryption_with(alg=None),
        encryption_with(alg="RSA-OAEP-256"),
        encryption_with(enc="A192GCM"),
        encryption_with(enc=None),
        encryption_with(zip="BZ2"),
        encryption_with(jwk=None),
        encryption_with(jwk="eyJrdHkiOiJFQyJ9"),
        encryption_with(x="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        {**encryption_with(), "jwk": encryption_key().export_private(as_dict=True)},
        "ECDH-ES",
        encryption_with(use="sig"),
        encryption_with(key_ops=["verify"]),
        encryption_with(key_ops="deriveKey"),
    ],
    ids=[
        "jwk_without_alg",
        "unsupported_alg",
        "unsupported_enc",
        "no_enc",
        "unsupported_zip",
        "no_jwk",
        "jwk_not_an_object",
        "point_not_on_curve",
        "private_jwk",
        "not_an_object",
        "use_sig",
        "key_ops_verify",
        "key_ops_not_a_list",
    ],
)
def test_f2_bad_encryption_parameters(wallet: TestWallet, session: Session, encryption: Any) -> None:
    """Refused before anything is signed or recorded: the offer still issues its credential."""
    request = {**good_request(wallet, session), "credential_response_encryption": encryption}
    expect_error(credential(wallet, session, request), 400, "invalid_encryption_parameters")
    assert_still_works(wallet, session)


@pytest.mark.parametrize(
    "members",
    [{"use": "enc"}, {"key_ops": ["deriveKey"]}, {"key_ops": ["encrypt"]}, {"use": "enc", "key_ops": ["deriveBits"]}],
)
def test_f2_a_key_meant_for_encryption_is_used(wallet: TestWallet, session: Session, members: dict[str, Any]) -> None:
    """`use` enc, or `key_ops` naming encryption or key derivation (RFC 7517 §4.2, §4.3): the response
    is encrypted to it."""
    key = encryption_key()
    encryption = encryption_parameters(key)
    encryption["jwk"].update(members)
    request = {**good_request(wallet, session), "credential_response_encryption": encryption}
    issued(read_reply(credential(wallet, session, request), 200, key), 1)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"credential_configuration_id": "no_such_configuration"}, "unknown_credential_configuration"),
        ({"proofs": {"jwt": ["not.a.proof"]}}, "invalid_proof"),
    ],
    ids=["unknown_configuration", "bad_proof"],
)
def test_f4_errors_are_never_encrypted(
    wallet: TestWallet, session: Session, change: dict[str, Any], error: str
) -> None:
    """§8.3.1.2: an error is plain JSON even when the request asked for encryption (expect_error
    checks application/json)."""
    key = encryption_key()
    request = {**good_request(wallet, session), "credential_response_encryption": encryption_parameters(key), **change}
    expect_error(credential(wallet, session, request), 400, error)
    request = {**good_request(wallet, session), "credential_response_encryption": encryption_parameters(key)}
    issued(read_reply(credential(wallet, session, request), 200, key), 1)


# G. Deferred (§9) and Notification (§11)


@pytest.mark.parametrize("variant", ["no_token", "garbage_token", "another_offers_token"])
def test_g1_deferred_needs_the_access_token_of_the_transaction(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, variant: str
) -> None:
    """§9: an access token valid for the credentials previously requested; otherwise an
    authorization error (§8.3.1.1, RFC 6750 §3.1: 401, or 403 insufficient_scope)."""
    offer, session, transaction_id = start_deferred(wallet, make_offer, [new_key()])
    issuer.service.offers.approve(offer.offer_id)
    if variant == "another_offers_token":
        token: str | None = redeem(wallet, make_offer()).access_token
    else:
        token = None if variant == "no_token" else "garbage"
    response = post(wallet, session, "deferred_credential", {"transaction_id": transaction_id}, token)
    expect_error_in(response, [(401, "invalid_token"), (403, "insufficient_scope")])
    issued(read_reply(poll(wallet, session, transaction_id), 200), 1)


@pytest.mark.parametrize(
    ("transaction_id", "errors"),
    [
        ("8xLOxBtZp8", ["invalid_transaction_id"]),
        (None, ["invalid_credential_request"]),
        (12345, ["invalid_credential_request", "invalid_transaction_id"]),
    ],
    ids=["unknown", "missing", "not_a_string"],
)
def test_g3_invalid_transaction_id(
    wallet: TestWallet, make_offer: MakeOffer, transaction_id: Any, errors: list[str]
) -> None:
    """§9.3: an id the issuer did not give out is invalid_transaction_id; a request without one
    is malformed (invalid_credential_request), as the §8.3.1.2 codes replace the generic
    invalid_request. A number is malformed or simply not an issued id: either code fits."""
    _, session, real = start_deferred(wallet, make_offer, [new_key()])
    body = {} if transaction_id is None else {"transaction_id": transaction_id}
    expect_error_in(post(wallet, session, "deferred_credential", body), [(400, error) for error in errors])
    assert pending(read_reply(poll(wallet, session, real), 202)) == real


@pytest.fixture
def notified(wallet: TestWallet, session: Session) -> tuple[Session, str]:
    """A session whose credential was issued, and its notification id."""
    _, _, body = request_credentials(wallet, session, "employee_badge")
    return session, str(body["notification_id"])


@pytest.mark.parametrize("token", [None, "garbage"], ids=["no_token", "garbage_token"])
def test_g6_notification_needs_an_access_token(
    wallet: TestWallet, notified: tuple[Session, str], token: str | None
) -> None:
    session, notification_id = notified
    response = post(wallet, session, "notification", notification(notification_id), token)
    assert response.status == 401 and response.headers["www-authenticate"].startswith("Bearer")
    if token:
        expect_error(response, 401, "invalid_token")
    assert post(wallet, session, "notification", notification(notification_id)).status == 204


@pytest.mark.parametrize(
    "body",
    [
        {"event": "Credential_Accepted"},
        {"event": "credential_stored"},
        {"event": None},
        {"notification_id": None},
        {"notification_id": 42},
        "[]",
        b"{",
        "text/plain",
    ],
    ids=[
        "event_case",
        "unknown_event",
        "no_event",
        "no_notification_id",
        "notification_id_not_a_string",
        "not_an_object",
        "not_json",
        "not_application_json",
    ],
)
def test_g8_invalid_notification_request(wallet: TestWallet, notified: tuple[Session, str], body: Any) -> None:
    """§11.1, §11.3: a missing or malformed parameter, a bad event (case-sensitive), or a body
    that is not a JSON object is invalid_notification_request."""
    session, notification_id = notified
    headers = {"Authorization": f"Bearer {session.access_token}", "Content-Type": "application/json"}
    if isinstance(body, dict):
        raw = json.dumps({k: v for k, v in {**notification(notification_id), **body}.items() if v is not None})
    elif body == "text/plain":
        raw, headers["Content-Type"] = json.dumps(notification(notification_id)), "text/plain"
    else:
        raw = body.decode() if isinstance(body, bytes) else body
    response = wallet.request("POST", session.endpoint("notification"), body=raw.encode(), headers=headers)
    expect_error(response, 400, "invalid_notification_request")
    assert post(wallet, session, "notification", notification(notification_id)).status == 204


def test_g8_unknown_notification_parameters_are_ignored(wallet: TestWallet, notified: tuple[Session, str]) -> None:
    session, notification_id = notified
    body = {**notification(notification_id, "credential_failure"), "event_description": "Out of storage.", "x": 1}
    assert post(wallet, session, "notification", body).status == 204


@pytest.mark.parametrize("origin", ["made_up", "another_offer"])
def test_g9_invalid_notification_id(
    wallet: TestWallet, make_offer: MakeOffer, notified: tuple[Session, str], origin: str
) -> None:
    """§11.3: an id this access token did not receive is invalid_notification_id."""
    session, notification_id = notified
    other = notified_elsewhere(wallet, make_offer) if origin == "another_offer" else "3fwe98js"
    expect_error(post(wallet, session, "notification", notification(other)), 400, "invalid_notification_id")
    assert post(wallet, session, "notification", notification(notification_id)).status == 204


def notified_elsewhere(wallet: TestWallet, make_offer: MakeOffer) -> str:
    _, _, body = request_credentials(wallet, redeem(wallet, make_offer()), "employee_badge")
    return str(body["notification_id"])


# Refusals by the desk (§8.3.1.2)


def test_e28_declined_offer_is_credential_request_denied(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    offer = make_offer(deferred=True)
    issuer.service.offers.reject(offer.offer_id, operator="desk-1", reason="identity not confirmed")
    session = redeem(wallet, offer)
    expect_error(credential(wallet, session, good_request(wallet, session)), 400, "credential_request_denied")
