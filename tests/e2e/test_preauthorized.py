"""The Pre-Authorized Code Flow over real HTTP, checked on the bytes a wallet receives.

Row names (A13, E21, F1, G7, ...) are those of shared/spec/ISSUER-CHECKLIST.md. The metadata
rows (B) are in test_metadata.py, the error rows (C, E, F, G) in test_negative.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest
from jwcrypto.common import JWException, base64url_decode, base64url_encode

from tests.conftest import RunningIssuer
from tests.e2e.helpers import (
    BADGE_VCT,
    CLAIMS,
    CONFIG_IDS,
    MakeOffer,
    disclosures,
    encryption_key,
    expect_error,
    issued,
    jose_header,
    jwt_payload,
    ledger,
    offered_claims,
    post,
    read_reply,
    redeem,
    request_body,
    request_credentials,
    verify,
)
from wallet.client import Session, TestWallet, well_known
from wallet.keys import encryption_parameters, new_key, public_jwk
from wallet.verify import VerificationError, decrypt, verify_jwt_vc_json, verify_sd_jwt_vc

ROUNDING = 3600  # the issuer rounds iat down to the hour (§15.4.1)


@pytest.mark.parametrize("by_reference", [False, True], ids=["by_value", "by_reference"])
@pytest.mark.parametrize("tx_code", [False, True], ids=["no_tx_code", "tx_code"])
@pytest.mark.parametrize("config_id", CONFIG_IDS)
def test_issues_each_format(
    issuer: RunningIssuer,
    wallet: TestWallet,
    make_offer: MakeOffer,
    jwks: dict[str, Any],
    config_id: str,
    tx_code: bool,
    by_reference: bool,
) -> None:
    """Every way of offering gives a credential that verifies on its own; the ledger records it."""
    offer = make_offer(config_id, tx_code=tx_code, by_reference=by_reference)
    assert (offer.tx_code is not None) == tx_code
    session = redeem(wallet, offer)
    [credential], [key], _ = request_credentials(wallet, session, config_id)
    assert verify(credential, key, config_id, session.metadata, jwks) == CLAIMS[config_id]
    status = issuer.service.offers.status(offer.offer_id)
    assert status["state"] == "issued" and status["issued"][0]["config_id"] == config_id
    [record] = ledger(issuer, offer.offer_id)
    assert (
        record["holder_jkt"] == key.thumbprint()
        and record["format"] == session.metadata["credential_configurations_supported"][config_id]["format"]
    )


def test_one_offer_with_both_configurations(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict[str, Any]
) -> None:
    offer = make_offer(*CONFIG_IDS, tx_code=True)
    session = redeem(wallet, offer)
    assert session.offer["credential_configuration_ids"] == list(CONFIG_IDS)
    states = []
    for config_id in CONFIG_IDS:
        [credential], [key], _ = request_credentials(wallet, session, config_id)
        assert verify(credential, key, config_id, session.metadata, jwks) == offered_claims(CONFIG_IDS, config_id)
        states.append(issuer.service.offers.status(offer.offer_id)["state"])
    assert states == ["redeemed", "issued"]  # the offer is complete once both are issued
    assert [entry["config_id"] for entry in issuer.service.offers.status(offer.offer_id)["issued"]] == list(CONFIG_IDS)


@pytest.mark.parametrize("config_id", CONFIG_IDS)
def test_batch_binds_each_credential_to_its_own_key(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict[str, Any], config_id: str
) -> None:
    """E22, §3.3.2: three proofs, three credentials with one dataset and different crypto data."""
    offer = make_offer(config_id)
    session = redeem(wallet, offer)
    credentials, keys, _ = request_credentials(wallet, session, config_id, count=3)
    assert [jwt_payload(c)["cnf"]["jwk"] for c in credentials] == [public_jwk(key) for key in keys]
    assert len({key.thumbprint() for key in keys}) == 3
    for credential, key in zip(credentials, keys, strict=True):
        assert verify(credential, key, config_id, session.metadata, jwks) == CLAIMS[config_id]
    signatures = {credential.split("~")[0].split(".")[2] for credential in credentials}
    assert len(signatures) == 3
    salts = [json.loads(base64url_decode(d))[0] for c in credentials for d in disclosures(c)]
    assert len(salts) == len(set(salts))  # no salt (so no disclosure digest) links two credentials
    assert [r["holder_jkt"] for r in ledger(issuer, offer.offer_id)] == [key.thumbprint() for key in keys]
    assert issuer.service.offers.status(offer.offer_id)["issued"][0]["count"] == 3


def test_batch_binds_a_key_at_most_once(wallet: TestWallet, session: Session) -> None:
    """E22, §8.3: each key binds at most one credential, so two proofs of one key are refused
    (or give one credential); the same request with two keys then works."""
    key = new_key()
    response = post(wallet, session, "credential", request_body(wallet, session, "employee_badge", [key, key]))
    if response.status == 200:
        issued(read_reply(response, 200), 1)
    else:
        expect_error(response, 400, "invalid_proof")
        request_credentials(wallet, session, "employee_badge", count=2)


@pytest.mark.parametrize(("batch", "encrypt"), [(1, False), (3, True)], ids=["plain", "batch_encrypted"])
@pytest.mark.parametrize("config_ids", [("employee_badge",), CONFIG_IDS], ids=["one", "both"])
def test_wallet_receive_runs_every_step(
    wallet: TestWallet,
    make_offer: MakeOffer,
    jwks: dict[str, Any],
    config_ids: tuple[str, ...],
    batch: int,
    encrypt: bool,
) -> None:
    """The wallet's own flow, as the self-test and the benchmark run it: every step timed, every
    credential verified, every notification accepted."""
    offer = make_offer(*config_ids, tx_code=True, by_reference=True)
    received = wallet.receive(offer.offer_uri, offer.tx_code, batch=batch, encrypt=encrypt)
    steps = {"offer", "metadata", "as_metadata", "token", "nonce", "credential", "notification", "total"}
    assert set(wallet.timings) == steps and all(seconds > 0 for seconds in wallet.timings.values())
    issuer_url = offer.credential_offer["credential_issuer"]
    metadata = wallet.request("GET", well_known(issuer_url, "openid-credential-issuer")).json()
    for config_id, result in zip(config_ids, received, strict=True):
        assert result.configuration_id == config_id and len(result.credentials) == batch
        for credential, key in zip(result.credentials, result.holder_keys, strict=True):
            claims = verify(credential, key, config_id, metadata, jwks)
            assert claims == offered_claims(config_ids, config_id)


@pytest.mark.parametrize("kid", [None, "wallet-enc-1"], ids=["no_kid", "kid"])
@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
def test_f1_encrypted_response(
    wallet: TestWallet, make_offer: MakeOffer, jwks: dict[str, Any], enc: str, kid: str | None
) -> None:
    """F1, §10: a JWE for the wallet's key, alg from the key, enc as asked, kid copied, no zip."""
    session = redeem(wallet, make_offer())
    key, holder = encryption_key(kid), new_key()
    request = request_body(
        wallet, session, "employee_badge", [holder], credential_response_encryption=encryption_parameters(key, enc)
    )
    response = post(wallet, session, "credential", request)
    [credential] = issued(read_reply(response, 200, key, enc), 1)
    assert verify(credential, holder, "employee_badge", session.metadata, jwks) == CLAIMS["employee_badge"]
    with pytest.raises(JWException):
        decrypt(response.body.decode(), encryption_key(kid))


def test_compression_only_as_advertised(wallet: TestWallet, make_offer: MakeOffer) -> None:
    """§12.2.4: without `zip_values_supported` compression is not supported, so a request for it
    has unsupported encryption parameters (§8.3.1.2, F2); with it, the JWE carries `zip` (§10)."""
    session = redeem(wallet, make_offer())
    key = encryption_key()
    encryption = {**encryption_parameters(key), "zip": "DEF"}
    request = request_body(wallet, session, "employee_badge", [new_key()], credential_response_encryption=encryption)
    response = post(wallet, session, "credential", request)
    if "DEF" in session.metadata["credential_response_encryption"].get("zip_values_supported", []):
        issued(read_reply(response, 200, key, zip_="DEF"), 1)
    else:
        expect_error(response, 400, "invalid_encryption_parameters")


def test_g7_notification_is_idempotent(issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer) -> None:
    """G7, §11: 204 twice for the same notification; the desk's timeline shows it once."""
    offer = make_offer()
    session = redeem(wallet, offer)
    _, _, body = request_credentials(wallet, session, "employee_badge")
    assert isinstance(body["notification_id"], str) and body["notification_id"]
    notification = {"notification_id": body["notification_id"], "event": "credential_accepted"}
    for _ in range(2):
        response = post(wallet, session, "notification", notification)
        assert (response.status, response.body) == (204, b"")
    timeline = issuer.service.offers.status(offer.offer_id)["timeline"]
    notified = [step["detail"] for step in timeline if step["event"] == "notification_received"]
    assert notified == [{"event": "credential_accepted", "config_id": "employee_badge"}]
    assert [n["event"] for n in ledger(issuer, offer.offer_id)[0]["notifications"]] == ["credential_accepted"]


@pytest.mark.parametrize("by_reference", [False, True], ids=["by_value", "by_reference"])
def test_offer_carries_no_claim_values(wallet: TestWallet, make_offer: MakeOffer, by_reference: bool) -> None:
    """A13, §13.5: only the issuer, the configuration ids and the grant, in the link and behind it."""
    offer = make_offer(*CONFIG_IDS, tx_code=True, by_reference=by_reference)
    session = wallet.resolve_offer(offer.offer_uri)
    assert set(session.offer) == {"credential_issuer", "credential_configuration_ids", "grants"}
    [grant] = session.offer["grants"].values()
    assert set(grant) == {"pre-authorized_code", "tx_code"}
    values = [str(value) for claims in CLAIMS.values() for value in claims.values()]
    for text in (unquote(offer.offer_uri), json.dumps(session.offer)):
        assert not [value for value in values if value in text]


@pytest.mark.parametrize("with_details", [True, False], ids=["authorization_details", "no_authorization_details"])
def test_credential_identifier_exactly_after_authorization_details(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict[str, Any], with_details: bool
) -> None:
    """C11, C12, E10: authorization_details for a subset of the offer returns credential_identifiers,
    which the Credential Request must then use; without it, the configuration id is required."""
    offer = make_offer(*CONFIG_IDS)
    details = [{"type": "openid_credential", "credential_configuration_id": "membership_card"}]
    session = redeem(wallet, offer, **({"authorization_details": json.dumps(details)} if with_details else {}))
    if with_details:
        [entry] = session.token_response["authorization_details"]
        assert {k: entry[k] for k in ("type", "credential_configuration_id")} == details[0]
        assert entry["credential_identifiers"] and all(isinstance(i, str) for i in entry["credential_identifiers"])
        wrong = {"credential_configuration_id": "membership_card"}
    else:
        assert "authorization_details" not in session.token_response
        wrong = {"credential_identifier": "membership_card"}
    misnamed = request_body(wallet, session, "membership_card", [new_key()])
    misnamed.pop("credential_identifier", None)
    misnamed.pop("credential_configuration_id", None)
    expect_error(post(wallet, session, "credential", {**misnamed, **wrong}), 400, "invalid_credential_request")
    [credential], [key], _ = request_credentials(wallet, session, "membership_card")
    claims = verify(credential, key, "membership_card", session.metadata, jwks)
    assert claims == offered_claims(CONFIG_IDS, "membership_card")
    # The token for the subset is complete with one credential; the whole offer still has one to go.
    assert issuer.service.offers.status(offer.offer_id)["state"] == ("issued" if with_details else "redeemed")


def test_later_issuance_leaves_earlier_credentials_alone(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    """E29, §14.3: a second credential for the same person and wallet key does not touch the first."""
    key = new_key()
    received = []
    for _ in range(2):
        offer = make_offer()
        session = redeem(wallet, offer)
        request = request_body(wallet, session, "employee_badge", [key])
        [credential] = issued(read_reply(post(wallet, session, "credential", request), 200), 1)
        received.append((offer.offer_id, session, credential, ledger(issuer, offer.offer_id)))
    first_offer_id, _, _, first_records = received[0]
    assert ledger(issuer, first_offer_id) == first_records
    assert issuer.service.offers.status(first_offer_id)["state"] == "issued"
    jwks_now = wallet.request("GET", f"{issuer.url}/jwks").json()
    for _, session, credential, _ in received:
        assert verify(credential, key, "employee_badge", session.metadata, jwks_now) == CLAIMS["employee_badge"]
    first, second = (set(disclosures(credential)) for _, _, credential, _ in received)
    assert not first & second  # fresh salts: the same claims give different disclosures (§15.4.1)


@pytest.mark.parametrize("config_id", CONFIG_IDS)
def test_time_claims_are_rounded(wallet: TestWallet, make_offer: MakeOffer, config_id: str) -> None:
    """E31, §15.4.1: issuance and expiration dates SHOULD be rounded (or randomised). The issuer
    rounds `iat` to the hour; an exact `exp` (or `nbf`) would give the issuance second away anyway."""
    session = redeem(wallet, make_offer(config_id))
    [credential], _, _ = request_credentials(wallet, session, config_id)
    payload = jwt_payload(credential)
    times = {name: payload[name] for name in ("iat", "nbf", "exp") if name in payload}
    assert "iat" in times
    assert {name: value % ROUNDING for name, value in times.items()} == dict.fromkeys(times, 0)


@pytest.mark.parametrize("by_reference", [False, True], ids=["by_value", "by_reference"])
def test_offer_state_follows_the_wallet(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, by_reference: bool
) -> None:
    """created -> fetched (only an offer by reference is fetched) -> redeemed -> issued."""
    offer = make_offer(by_reference=by_reference)

    def state() -> str:
        return str(issuer.service.offers.status(offer.offer_id)["state"])

    states = [state()]
    session = wallet.resolve_offer(offer.offer_uri)
    states.append(state())
    wallet.fetch_metadata(session)
    wallet.token(session)
    states.append(state())
    _, _, body = request_credentials(wallet, session, "employee_badge")
    states.append(state())
    notification = {"notification_id": body["notification_id"], "event": "credential_accepted"}
    assert post(wallet, session, "notification", notification).status == 204
    fetched = ["fetched"] if by_reference else ["created"]
    assert states == ["created", *fetched, "redeemed", "issued"]
    events = [step["event"] for step in issuer.service.offers.status(offer.offer_id)["timeline"]]
    fetched_events = ["offer_fetched"] if by_reference else []
    assert events == ["offer_created", *fetched_events, "token_issued", "credential_issued", "notification_received"]


def test_credential_verifies_after_a_key_rotation(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    """The JWKS a verifier fetches later still holds the key of an earlier credential."""
    session = redeem(wallet, make_offer())
    [credential], [key], _ = request_credentials(wallet, session, "employee_badge")
    issuer.service.admin.rotate_key()
    later_jwks = wallet.request("GET", f"{issuer.url}/jwks").json()
    assert verify(credential, key, "employee_badge", session.metadata, later_jwks) == CLAIMS["employee_badge"]
    assert jose_header(credential)["kid"] != issuer.service.keys.active.kid


def salted(*members: object) -> str:
    """A well-formed disclosure the issuer did not make."""
    return str(base64url_encode(json.dumps([base64url_encode(b"0123456789abcdef"), *members])))


SD_JWT_ALTERATIONS: dict[str, Callable[[str], str]] = {
    "extra_disclosure": lambda c: f"{c}{salted('admin', True)}~",
    "repeated_disclosure": lambda c: f"{c}{disclosures(c)[0]}~",
    "altered_disclosure": lambda c: c.replace(disclosures(c)[0], salted("given_name", "Eve")),
    "altered_payload": lambda c: c.replace(c.split(".")[1], base64url_encode(json.dumps({**jwt_payload(c), "x": 1}))),
    "key_binding_jwt": lambda c: c + c.split("~")[0],
}


@pytest.mark.parametrize("alteration", SD_JWT_ALTERATIONS.values(), ids=SD_JWT_ALTERATIONS.keys())
def test_sd_jwt_verifier_refuses_altered_credentials(
    wallet: TestWallet, session: Session, jwks: dict[str, Any], alteration: Callable[[str], str]
) -> None:
    """The wallet's verifier is the independent check of every test here: it refuses what a
    verifier must refuse (RFC 9901 §7.1), so a pass means something."""
    [credential], [key], _ = request_credentials(wallet, session, "employee_badge")
    expected: dict[str, Any] = {"issuer": session.issuer, "vct": BADGE_VCT, "holder_jwk": public_jwk(key)}
    assert verify_sd_jwt_vc(credential, jwks, **expected) == CLAIMS["employee_badge"]
    with pytest.raises(VerificationError):
        verify_sd_jwt_vc(alteration(credential), jwks, **expected)


@pytest.mark.parametrize("wrong", ["issuer", "holder_jwk", "jwks"])
@pytest.mark.parametrize("config_id", CONFIG_IDS)
def test_verifiers_check_issuer_holder_and_signing_key(
    wallet: TestWallet, make_offer: MakeOffer, jwks: dict[str, Any], config_id: str, wrong: str
) -> None:
    """Another issuer, another holder, or a key with the right kid but not the signer's: refused."""
    session = redeem(wallet, make_offer(config_id))
    [credential], [key], _ = request_credentials(wallet, session, config_id)
    verifier: Callable[..., dict[str, Any]] = verify_jwt_vc_json
    arguments: dict[str, Any] = {"jwks": jwks, "issuer": session.issuer, "holder_jwk": public_jwk(key)}
    if config_id == "employee_badge":
        verifier, arguments["vct"] = verify_sd_jwt_vc, BADGE_VCT
    verifier(credential, **arguments)
    impostor = new_key()
    arguments[wrong] = {
        "issuer": "https://other-issuer.example.com",
        "holder_jwk": public_jwk(impostor),
        "jwks": {"keys": [{**public_jwk(impostor), "kid": jose_header(credential)["kid"], "alg": "ES256"}]},
    }[wrong]
    with pytest.raises(VerificationError):
        verifier(credential, **arguments)
