"""The Pre-Authorized Code flow over real HTTP, checked on the bytes a wallet receives.

Row names (A13, E21, ...) are those of shared/spec/ISSUER-CHECKLIST.md. The helpers at the top
are the wallet's side of one credential request; test_deferred and test_concurrency use them too.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import pytest
from jwcrypto import jwk
from jwcrypto.common import JWException, base64url_decode

from issuer.service import CreatedOffer
from issuer.testwallet import (
    HttpResponse,
    Session,
    TestWallet,
    credential_identifiers,
    decrypt,
    encryption_parameters,
    make_proof,
    new_key,
    public_jwk,
    verify_jwt_vc_json,
    verify_sd_jwt_vc,
)
from tests.conftest import RunningIssuer
from tests.e2e.conftest import CLAIMS, MakeOffer

CONFIG_IDS = ("employee_badge", "membership_card")
ROUNDING = 3600  # the issuer rounds iat down to the hour (§15.4.1)


def offered_claims(config_ids: tuple[str, ...] | list[str], config_id: str) -> dict[str, Any]:
    """The claims of `config_id` in an offer made by `make_offer(*config_ids)`: it merges the
    sample claims of every type, so a shared name (given_name) takes the last type's value."""
    merged: dict[str, Any] = {}
    for offered in config_ids:
        merged.update(CLAIMS[offered])
    return {name: merged[name] for name in CLAIMS[config_id]}


def redeem(wallet: TestWallet, offer: CreatedOffer, **token_params: str) -> Session:
    """Offer, metadata and token: a session ready for Credential Requests."""
    session = wallet.resolve_offer(offer.offer_uri)
    wallet.fetch_metadata(session)
    wallet.token(session, offer.tx_code, **token_params)
    return session


def request_body(wallet: TestWallet, session: Session, config_id: str, keys: list[jwk.JWK], **extra: Any) -> dict:
    """A Credential Request (§8.2): one `jwt` proof per key on one fresh c_nonce, and the identifier
    the token response calls for (credential_identifier after authorization_details, else the config id)."""
    nonce = wallet.nonce(session)
    body: dict[str, Any] = {"proofs": {"jwt": [make_proof(key, session.issuer, nonce) for key in keys]}, **extra}
    identifiers = credential_identifiers(session.token_response, config_id)
    body.update(
        {"credential_identifier": identifiers[0]} if identifiers else {"credential_configuration_id": config_id}
    )
    return body


def post(wallet: TestWallet, session: Session, endpoint: str, body: dict[str, Any]) -> HttpResponse:
    """POST to an endpoint advertised in the metadata (`credential`, `deferred_credential`, `notification`)."""
    return wallet.post_json(session.metadata[f"{endpoint}_endpoint"], body, session.access_token)


def encryption_key(kid: str | None = None) -> jwk.JWK:
    key = new_key("ECDH-ES")
    if kid:
        key.update(kid=kid)  # type: ignore[attr-defined]
    return key


def read_reply(
    response: HttpResponse, status: int, key: jwk.JWK | None = None, enc: str = "A128GCM", zip_: str | None = None
) -> dict[str, Any]:
    """A (Deferred) Credential Response body: JSON, or a JWE for the wallet's `key` (§8.3, §9.2, §10, F1)."""
    assert response.status == status, response.body
    assert "no-store" in response.headers.get("cache-control", "")
    if key is None:
        assert response.headers["content-type"] == "application/json"
        return dict(response.json())
    assert response.headers["content-type"] == "application/jwt"
    compact = response.body.decode()
    public = key.export_public(as_dict=True)
    header = jose_header(compact)
    assert (header["alg"], header["enc"]) == (public["alg"], enc)
    assert header.get("kid") == public.get("kid") and header.get("zip") == zip_
    return dict(json.loads(decrypt(compact, key)))


def read_error(response: HttpResponse, status: int, error: str) -> None:
    """Errors are plain JSON, never encrypted (§8.3.1.2, F4)."""
    assert response.status == status, response.body
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == error


def issued(body: dict[str, Any], count: int) -> list[str]:
    """E21, E22: `count` credentials now, nothing of a deferred response."""
    assert "transaction_id" not in body and "interval" not in body
    assert isinstance(body.get("notification_id", ""), str)
    assert len(body["credentials"]) == count
    assert all(set(entry) == {"credential"} and isinstance(entry["credential"], str) for entry in body["credentials"])
    return [entry["credential"] for entry in body["credentials"]]


def jose_header(compact: str) -> dict[str, Any]:
    return dict(json.loads(base64url_decode(compact.split(".")[0])))


def jwt_payload(credential: str) -> dict[str, Any]:
    """The issuer-signed JWT's payload (an SD-JWT's first part)."""
    return dict(json.loads(base64url_decode(credential.split("~")[0].split(".")[1])))


def verify(credential: str, key: jwk.JWK, config_id: str, metadata: dict[str, Any], jwks: dict) -> dict[str, Any]:
    """The claims of a credential, once it verifies as a verifier would check it (E24, E25, B13).

    Independent of the issuer's code: the signature against `jwks` (fetched over HTTP), the
    holder binding to `key`, and the type against the published configuration.
    """
    configuration = metadata["credential_configurations_supported"][config_id]
    issuer_url = metadata["credential_issuer"]
    assert jose_header(credential)["alg"] in configuration["credential_signing_alg_values_supported"]
    if configuration["format"] == "dc+sd-jwt":
        claims = verify_sd_jwt_vc(
            credential, jwks, issuer=issuer_url, vct=configuration["vct"], holder_jwk=public_jwk(key)
        )
        assert not {"iss", "exp", "iat", "nbf", "vct", "cnf", "status"} & set(claims)  # never selectively disclosed
        return claims
    subject = verify_jwt_vc_json(credential, jwks, issuer=issuer_url, holder_jwk=public_jwk(key))
    assert jwt_payload(credential)["vc"]["type"] == configuration["credential_definition"]["type"]
    return {name: value for name, value in subject.items() if name != "id"}


def ledger(issuer: RunningIssuer, offer_id: str) -> list[dict[str, Any]]:
    """The issuance records of an offer in the history, oldest first (read under the store's lock,
    as the server's threads may be writing)."""
    with issuer.service.store.lock:
        records = issuer.service.store.history.scan(
            "records", lambda row: row.get("kind") == "credential" and row.get("offer_id") == offer_id
        )
        return list(reversed(list(records)))


def request_credentials(
    wallet: TestWallet, session: Session, config_id: str, count: int = 1
) -> tuple[list[str], list[jwk.JWK], dict[str, Any]]:
    """`count` credentials bound to fresh keys, checked on the wire: the credentials, keys and body."""
    keys = [new_key() for _ in range(count)]
    body = read_reply(post(wallet, session, "credential", request_body(wallet, session, config_id, keys)), 200)
    return issued(body, count), keys, body


@pytest.mark.parametrize("by_reference", [False, True], ids=["by_value", "by_reference"])
@pytest.mark.parametrize("tx_code", [False, True], ids=["no_tx_code", "tx_code"])
@pytest.mark.parametrize("config_id", CONFIG_IDS)
def test_issues_each_format(
    issuer: RunningIssuer,
    wallet: TestWallet,
    make_offer: MakeOffer,
    jwks: dict,
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
    status = issuer.service.offer_status(offer.offer_id)
    assert status["state"] == "issued" and status["issued"][0]["config_id"] == config_id
    [record] = ledger(issuer, offer.offer_id)
    assert (
        record["holder_jkt"] == key.thumbprint()
        and record["format"] == session.metadata["credential_configurations_supported"][config_id]["format"]
    )


def test_one_offer_with_both_configurations(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict
) -> None:
    offer = make_offer(*CONFIG_IDS, tx_code=True)
    session = redeem(wallet, offer)
    assert session.offer["credential_configuration_ids"] == list(CONFIG_IDS)
    states = []
    for config_id in CONFIG_IDS:
        [credential], [key], _ = request_credentials(wallet, session, config_id)
        assert verify(credential, key, config_id, session.metadata, jwks) == offered_claims(CONFIG_IDS, config_id)
        states.append(issuer.service.offer_status(offer.offer_id)["state"])
    assert states == ["redeemed", "issued"]  # the offer is complete once both are issued
    assert [entry["config_id"] for entry in issuer.service.offer_status(offer.offer_id)["issued"]] == list(CONFIG_IDS)


@pytest.mark.parametrize("config_id", CONFIG_IDS)
def test_batch_binds_each_credential_to_its_own_key(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict, config_id: str
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
    salts = [json.loads(base64url_decode(d))[0] for c in credentials for d in c.split("~")[1:-1]]
    assert len(salts) == len(set(salts))  # no salt (so no disclosure digest) links two credentials
    assert [r["holder_jkt"] for r in ledger(issuer, offer.offer_id)] == [key.thumbprint() for key in keys]
    assert issuer.service.offer_status(offer.offer_id)["issued"][0]["count"] == 3


@pytest.mark.parametrize("kid", [None, "wallet-enc-1"], ids=["no_kid", "kid"])
@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
def test_encrypted_response(wallet: TestWallet, make_offer: MakeOffer, jwks: dict, enc: str, kid: str | None) -> None:
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
        read_error(response, 400, "invalid_encryption_parameters")


def test_notification_is_idempotent(issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer) -> None:
    """G7, §11: 204 twice for the same notification; the desk's timeline shows it once."""
    offer = make_offer()
    session = redeem(wallet, offer)
    _, _, body = request_credentials(wallet, session, "employee_badge")
    assert isinstance(body["notification_id"], str) and body["notification_id"]
    notification = {"notification_id": body["notification_id"], "event": "credential_accepted"}
    for _ in range(2):
        response = post(wallet, session, "notification", notification)
        assert (response.status, response.body) == (204, b"")
    timeline = issuer.service.offer_status(offer.offer_id)["timeline"]
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
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict, with_details: bool
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
    read_error(post(wallet, session, "credential", {**misnamed, **wrong}), 400, "invalid_credential_request")
    [credential], [key], _ = request_credentials(wallet, session, "membership_card")
    claims = verify(credential, key, "membership_card", session.metadata, jwks)
    assert claims == offered_claims(CONFIG_IDS, "membership_card")
    # The token for the subset is complete with one credential; the whole offer still has one to go.
    assert issuer.service.offer_status(offer.offer_id)["state"] == ("issued" if with_details else "redeemed")


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
    assert issuer.service.offer_status(first_offer_id)["state"] == "issued"
    jwks_now = wallet.request("GET", f"{issuer.url}/jwks").json()
    for _, session, credential, _ in received:
        assert verify(credential, key, "employee_badge", session.metadata, jwks_now) == CLAIMS["employee_badge"]
    first, second = (set(credential.split("~")[1:-1]) for _, _, credential, _ in received)
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
        return str(issuer.service.offer_status(offer.offer_id)["state"])

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
    events = [step["event"] for step in issuer.service.offer_status(offer.offer_id)["timeline"]]
    fetched_events = ["offer_fetched"] if by_reference else []
    assert events == ["offer_created", *fetched_events, "token_issued", "credential_issued", "notification_received"]


def test_credential_verifies_after_a_key_rotation(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    """The JWKS a verifier fetches later still holds the key of an earlier credential."""
    session = redeem(wallet, make_offer())
    [credential], [key], _ = request_credentials(wallet, session, "employee_badge")
    issuer.service.rotate_key()
    later_jwks = wallet.request("GET", f"{issuer.url}/jwks").json()
    assert verify(credential, key, "employee_badge", session.metadata, later_jwks) == CLAIMS["employee_badge"]
    assert jose_header(credential)["kid"] != issuer.service.keys.active.kid
