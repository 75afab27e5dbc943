"""The Pre-Authorized Code flow over real HTTP, checked on the bytes a wallet receives."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from jwcrypto.common import base64url_decode

from issuer.testwallet import (
    Session,
    TestWallet,
    decrypt,
    make_proof,
    new_key,
    public_jwk,
    verify_jwt_vc_json,
    verify_sd_jwt_vc,
)
from tests.conftest import RunningIssuer
from tests.e2e.conftest import BADGE_CLAIMS, BADGE_VCT, CARD_CLAIMS, MakeOffer


def payload(compact: str) -> dict:
    return json.loads(base64url_decode(compact.split("~")[0].split(".")[1]))


@pytest.mark.parametrize("by_reference", [False, True])
@pytest.mark.parametrize("tx_code", [False, True])
def test_employee_badge_sd_jwt_vc(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict, by_reference: bool, tx_code: bool
) -> None:
    offer = make_offer("employee_badge", tx_code=tx_code, by_reference=by_reference)
    assert (offer.tx_code is not None) == tx_code
    [received] = wallet.receive(offer.offer_uri, offer.tx_code)
    [credential] = received.credentials
    claims = verify_sd_jwt_vc(
        credential, jwks, issuer=issuer.url, vct=BADGE_VCT, holder_jwk=public_jwk(received.holder_keys[0])
    )
    assert claims == BADGE_CLAIMS
    assert issuer.service.offer_status(offer.offer_id)["state"] == "issued"


def test_membership_card_jwt_vc(issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict) -> None:
    offer = make_offer("membership_card")
    [received] = wallet.receive(offer.offer_uri)
    subject = verify_jwt_vc_json(
        received.credentials[0], jwks, issuer=issuer.url, holder_jwk=public_jwk(received.holder_keys[0])
    )
    assert {k: v for k, v in subject.items() if k != "id"} == CARD_CLAIMS
    vc = payload(received.credentials[0])["vc"]
    assert vc["type"] == ["VerifiableCredential", "MembershipCard"]
    assert subject["id"].startswith("did:jwk:")


def test_one_offer_two_credential_types(issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer) -> None:
    offer = make_offer("employee_badge", "membership_card", tx_code=True)
    received = wallet.receive(offer.offer_uri, offer.tx_code)
    assert [r.configuration_id for r in received] == ["employee_badge", "membership_card"]
    status = issuer.service.offer_status(offer.offer_id)
    assert status["state"] == "issued"
    assert [e["config_id"] for e in status["issued"]] == ["employee_badge", "membership_card"]


def test_batch_binds_each_credential_to_its_own_key(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict
) -> None:
    [received] = wallet.receive(make_offer().offer_uri, batch=3)
    assert len(received.credentials) == 3
    bound = [payload(c)["cnf"]["jwk"] for c in received.credentials]
    assert bound == [public_jwk(key) for key in received.holder_keys]
    assert len({json.dumps(b, sort_keys=True) for b in bound}) == 3
    for credential, key in zip(received.credentials, received.holder_keys, strict=True):
        assert verify_sd_jwt_vc(credential, jwks, issuer=issuer.url, vct=BADGE_VCT, holder_jwk=public_jwk(key)) == (
            BADGE_CLAIMS
        )
    disclosures = [set(c.split("~")[1:-1]) for c in received.credentials]
    assert not disclosures[0] & disclosures[1]  # fresh salts: nothing links two credentials of a batch


def test_encrypted_response(issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer) -> None:
    session = wallet.resolve_offer(make_offer().offer_uri)
    wallet.fetch_metadata(session)
    wallet.token(session)
    key = new_key("ECDH-ES")
    key_public = key.export_public(as_dict=True)
    request = {
        "credential_configuration_id": "employee_badge",
        "proofs": {"jwt": [_proof(wallet, session)]},
        "credential_response_encryption": {"jwk": {**key_public, "kid": "enc-1"}, "enc": "A256GCM"},
    }
    response = wallet.post_json(f"{issuer.url}/credential", request, session.access_token)
    assert response.status == 200
    assert response.headers["content-type"] == "application/jwt"
    compact = response.body.decode()
    header = json.loads(base64url_decode(compact.split(".")[0]))
    assert (header["alg"], header["enc"], header["kid"]) == ("ECDH-ES", "A256GCM", "enc-1")
    assert "zip" not in header
    body = json.loads(decrypt(compact, key))
    assert body["credentials"][0]["credential"].endswith("~") and body["notification_id"]


def _proof(wallet: TestWallet, session: Session) -> str:
    return make_proof(new_key(), session.issuer, wallet.nonce(session))


def test_notification_twice_answers_204(wallet: TestWallet, make_offer: MakeOffer, issuer: RunningIssuer) -> None:
    offer = make_offer()
    session = wallet.resolve_offer(offer.offer_uri)
    wallet.fetch_metadata(session)
    wallet.token(session)
    received = wallet.request_credential(session, "employee_badge")
    assert not isinstance(received, str) and received.notification_id
    before = issuer.service.offer_status(offer.offer_id)["timeline"]
    assert all(step["event"] != "notification_received" for step in before)
    for _ in range(2):
        wallet.notify(session, received.notification_id, "credential_accepted")
    timeline = issuer.service.offer_status(offer.offer_id)["timeline"]
    notified = [s for s in timeline if s["event"] == "notification_received"]
    assert [s["detail"]["event"] for s in notified] == ["credential_accepted"]


def test_offer_carries_no_personal_data(make_offer: MakeOffer, wallet: TestWallet) -> None:
    """A13: only the issuer, the configuration ids and the grant."""
    for by_reference in (False, True):
        offer = make_offer(by_reference=by_reference)
        session = wallet.resolve_offer(offer.offer_uri)
        assert set(session.offer) == {"credential_issuer", "credential_configuration_ids", "grants"}
        text = json.dumps(session.offer)
        assert not any(str(value) in text for value in BADGE_CLAIMS.values())


def test_offer_link_and_reference(issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer) -> None:
    """A1, A9, A11, A12: one of the two parameters; a unique, uncached JSON offer per reference."""
    first, second = make_offer(by_reference=True), make_offer(by_reference=True)
    uris = []
    for offer in (first, second):
        assert offer.offer_uri.startswith("openid-credential-offer://?")
        query = parse_qs(urlsplit(offer.offer_uri).query)
        assert list(query) == ["credential_offer_uri"]
        uris.append(query["credential_offer_uri"][0])
        response = wallet.request("GET", uris[-1], headers={"Accept": "application/jwt"})
        assert response.status == 200
        assert response.headers["content-type"] == "application/json"
        assert "no-store" in response.headers["cache-control"]
    assert uris[0] != uris[1]
    by_value = parse_qs(urlsplit(make_offer().offer_uri).query)
    assert list(by_value) == ["credential_offer"] and json.loads(by_value["credential_offer"][0])["grants"]


def test_authorization_details_yield_credential_identifiers(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    """C11, C12, E10: a subset by authorization_details; then credential_identifier is required."""
    session = wallet.resolve_offer(make_offer("employee_badge", "membership_card").offer_uri)
    wallet.fetch_metadata(session)
    details = json.dumps([{"type": "openid_credential", "credential_configuration_id": "membership_card"}])
    token = wallet.token(session, authorization_details=details)
    [entry] = token["authorization_details"]
    assert entry["credential_configuration_id"] == "membership_card" and entry["credential_identifiers"]
    received = wallet.request_credential(session, "membership_card")
    assert not isinstance(received, str) and len(received.credentials) == 1
    by_config = wallet.post_json(
        f"{issuer.url}/credential",
        {"credential_configuration_id": "membership_card", "proofs": {"jwt": [_proof(wallet, session)]}},
        session.access_token,
    )
    assert by_config.status == 400 and by_config.json()["error"] == "invalid_credential_request"


def test_later_issuance_leaves_earlier_credentials_alone(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict
) -> None:
    """E29: a second credential for the same person does not touch the first."""
    [first] = wallet.receive(make_offer().offer_uri)
    [second] = wallet.receive(make_offer().offer_uri)
    for received in (first, second):
        verify_sd_jwt_vc(
            received.credentials[0],
            jwks,
            issuer=issuer.url,
            vct=BADGE_VCT,
            holder_jwk=public_jwk(received.holder_keys[0]),
        )
    assert issuer.service.store.history.count("records") == 4  # two credentials, two archived offers


def test_issued_at_is_rounded(wallet: TestWallet, make_offer: MakeOffer) -> None:
    """E31: iat is rounded down to the hour."""
    [received] = wallet.receive(make_offer().offer_uri)
    assert payload(received.credentials[0])["iat"] % 3600 == 0


def test_offer_state_moves_with_the_wallet(issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer) -> None:
    offer = make_offer(by_reference=True)
    states = [issuer.service.offer_status(offer.offer_id)["state"]]
    session = wallet.resolve_offer(offer.offer_uri)
    states.append(issuer.service.offer_status(offer.offer_id)["state"])
    wallet.fetch_metadata(session)
    wallet.token(session)
    states.append(issuer.service.offer_status(offer.offer_id)["state"])
    wallet.request_credential(session, "employee_badge")
    states.append(issuer.service.offer_status(offer.offer_id)["state"])
    assert states == ["created", "fetched", "redeemed", "issued"]
