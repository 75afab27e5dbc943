"""IssuerService without HTTP: lifecycle, events, secrets at rest, housekeeping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from issuer import events
from issuer.config import Settings
from issuer.crypto.keys import KeyRing
from issuer.errors import InvalidGrant, InvalidToken, ServiceError
from issuer.protocol.codes import NonceMint, SealedTokens
from issuer.service import IssuerService, OfferRequest
from tests.issuer.conftest import Clock
from wallet.keys import new_key, public_jwk

CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1"}


def redeem(service: IssuerService, offer, tx_code: str | None = None):
    code = offer.credential_offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"][
        "pre-authorized_code"
    ]
    return service.tokens.redeem_pre_authorized_code(code, tx_code, None)


def test_events_follow_the_offer_lifecycle(service: IssuerService) -> None:
    seen: list[str] = []
    service.events.subscribe(lambda event: seen.append(event.kind))
    offer = service.offers.create(OfferRequest(["employee_badge"], CLAIMS))
    token = redeem(service, offer)
    grant = service.tokens.authorize(token.access_token)
    result = service.issuance.request(grant, "employee_badge", [public_jwk(new_key())])
    service.issuance.notify(grant, result.notification_id or "", "credential_accepted", None)
    assert seen == [events.OFFER_CREATED, events.TOKEN_ISSUED, events.CREDENTIAL_ISSUED, events.NOTIFICATION_RECEIVED]
    status = service.offers.status(offer.offer_id)
    assert status["state"] == "issued"
    assert status["timeline"][-1]["detail"]["event"] == "credential_accepted"


def test_a_failing_listener_does_not_break_issuance(service: IssuerService) -> None:
    service.events.subscribe(lambda event: 1 / 0)
    offer = service.offers.create(OfferRequest(["employee_badge"], CLAIMS))
    assert redeem(service, offer).access_token


def test_no_secret_or_claim_value_is_stored_in_clear(service: IssuerService, tmp_path: Path, clock: Clock) -> None:
    claims = {**CLAIMS, "employee_id": "E-unique-7f3e"}
    offer = service.offers.create(OfferRequest(["employee_badge"], claims, tx_code=True, by_reference=True))
    code = offer.credential_offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"][
        "pre-authorized_code"
    ]
    state = (tmp_path / "data" / "state.json").read_text()
    assert code not in state and offer.tx_code not in state
    assert offer.offer_uri.rsplit("%2F", 1)[1].split(".", 1)[1] not in state  # the reference secret
    token = redeem(service, offer, offer.tx_code)
    grant = service.tokens.authorize(token.access_token)
    service.issuance.request(grant, "employee_badge", [public_jwk(new_key())])
    clock.now += service.settings.access_token_ttl + 1  # no repeat request can come any more
    service.purge_expired()
    everything = "".join(p.read_text() for p in (tmp_path / "data").rglob("*.json"))
    assert "E-unique-7f3e" not in everything  # claims leave the disk with the finished offer
    # but for the holder's name, which the ledger keeps to find the credential by (and shows)
    assert everything.count("Lovelace") == everything.count('"holder_name":"Ada Lovelace"')
    assert token.access_token not in everything


def test_expired_offers_are_moved_out_of_the_state_file(service: IssuerService, clock: Clock) -> None:
    expired = service.offers.create(OfferRequest(["employee_badge"], CLAIMS, expires_in=60))
    live = service.offers.create(OfferRequest(["employee_badge"], CLAIMS, expires_in=600))
    clock.now += 120
    assert service.purge_expired() == 1
    assert [o["offer_id"] for o in service.offers.live()] == [live.offer_id]
    assert service.offers.status(expired.offer_id)["state"] == "expired"
    with pytest.raises(InvalidGrant):
        redeem(service, expired)


def test_redeemed_offers_whose_token_expired_are_archived(service: IssuerService, clock: Clock) -> None:
    offer = service.offers.create(OfferRequest(["employee_badge"], CLAIMS))
    token = redeem(service, offer)
    clock.now += service.settings.access_token_ttl + 1
    assert service.purge_expired() == 1
    with pytest.raises(InvalidToken):
        service.tokens.authorize(token.access_token)


def test_deferred_offers_get_a_rotating_refresh_token(service: IssuerService, clock: Clock) -> None:
    offer = service.offers.create(OfferRequest(["employee_badge"], CLAIMS, deferred=True))
    first = redeem(service, offer)
    assert first.refresh_token
    clock.now += service.settings.access_token_ttl + 1
    with pytest.raises(InvalidToken):
        service.tokens.authorize(first.access_token)
    second = service.tokens.refresh(first.refresh_token)
    assert service.tokens.authorize(second.access_token).offer_id == offer.offer_id
    with pytest.raises(InvalidGrant):
        service.tokens.refresh(first.refresh_token)  # rotated: the old one is spent


def test_a_refreshed_token_keeps_the_identifiers_and_client_of_the_first(service: IssuerService) -> None:
    offer = service.offers.create(OfferRequest(["employee_badge"], CLAIMS, deferred=True))
    code = offer.credential_offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"][
        "pre-authorized_code"
    ]
    first = service.tokens.redeem_pre_authorized_code(code, None, ["employee_badge"], client_id="wallet-7")
    assert first.refresh_token
    refreshed = service.tokens.authorize(service.tokens.refresh(first.refresh_token).access_token)
    assert refreshed == service.tokens.authorize(first.access_token)
    assert (dict(refreshed.identifiers), refreshed.client_id) == ({"employee_badge:1": "employee_badge"}, "wallet-7")


def test_immediate_offers_get_no_refresh_token(service: IssuerService) -> None:
    assert redeem(service, service.offers.create(OfferRequest(["employee_badge"], CLAIMS))).refresh_token is None


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (OfferRequest([], CLAIMS), "at least one"),
        (OfferRequest(["nope"], CLAIMS), "unknown credential type"),
        (OfferRequest(["employee_badge"], {**CLAIMS, "extra": 1}), "not defined"),
        (OfferRequest(["employee_badge"], CLAIMS, expires_in=5), "expire"),
    ],
)
def test_bad_offer_requests(service: IssuerService, request_: OfferRequest, message: str) -> None:
    with pytest.raises(ServiceError, match=message):
        service.offers.create(request_)
    assert service.offers.live() == []


def test_approve_is_only_for_deferred_offers(service: IssuerService) -> None:
    immediate = service.offers.create(OfferRequest(["employee_badge"], CLAIMS))
    with pytest.raises(ServiceError, match="nothing to approve"):
        service.offers.approve(immediate.offer_id)
    with pytest.raises(ServiceError, match="no live offer"):
        service.offers.reject("unknown")


def test_keys_survive_restart_and_are_owner_only(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys")
    kid = ring.active.kid
    assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o700
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in (tmp_path / "keys").iterdir())
    again = KeyRing(tmp_path / "keys")
    assert again.active.kid == kid
    rotated = again.rotate()
    assert {k["kid"] for k in KeyRing(tmp_path / "keys").jwks()["keys"]} == {kid, rotated.kid}
    assert all("d" not in k for k in again.jwks()["keys"])


def test_sealed_tokens_reject_tampering_and_expiry(clock: Clock) -> None:
    tokens = SealedTokens(b"k" * 32, clock)
    token = tokens.seal({"o": "offer"}, ttl=60)
    assert tokens.open(token)["o"] == "offer"
    body, tag = token.split(".")
    forged_body = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    assert tokens.open(f"{forged_body}.{tag}") is None
    assert SealedTokens(b"x" * 32, clock).open(token) is None
    clock.now += 61
    assert tokens.open(token) is None


def test_nonces_are_single_use_expiring_and_die_with_the_process(clock: Clock) -> None:
    mint = NonceMint(ttl=60, clock=clock)
    nonces = [mint.issue() for _ in range(50)]
    assert len(set(nonces)) == 50
    assert mint.consume(nonces[0]) and not mint.consume(nonces[0])
    assert not NonceMint(ttl=60, clock=clock).consume(nonces[1])  # another process, another key
    clock.now += 61
    assert not mint.consume(nonces[2])


def test_settings_file_and_overrides(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text(json.dumps({"port": 9000, "public_url": "https://desk.example"}))
    settings = Settings.load(tmp_path, port=None, admin_port=0)
    assert settings.port == 9000 and settings.admin_port == 0 and settings.public_url == "https://desk.example"
    (tmp_path / "settings.json").write_text(json.dumps({"public_url": "https://desk.example/"}))
    with pytest.raises(ValueError, match="must not end with"):
        Settings.load(tmp_path)


def test_recent_offers_include_finished_ones(service: IssuerService, clock: Clock) -> None:
    finished = service.offers.create(OfferRequest(["employee_badge"], CLAIMS))
    grant = service.tokens.authorize(redeem(service, finished).access_token)
    result = service.issuance.request(grant, "employee_badge", [public_jwk(new_key())])
    service.issuance.notify(grant, result.notification_id or "", "credential_deleted", None)
    clock.now += service.settings.access_token_ttl + 1  # its token has ended: the offer is archived
    service.purge_expired()
    live = service.offers.create(OfferRequest(["employee_badge"], CLAIMS))
    rows = service.offers.recent()
    assert [r["offer_id"] for r in rows] == [live.offer_id, finished.offer_id]
    assert rows[1]["state"] == "issued" and rows[1]["timeline"][-1]["detail"]["event"] == "credential_deleted"
    assert len(service.offers.recent(limit=1)) == 1


def test_abandoned_deferred_issuances_leave_the_state_file(service: IssuerService, clock: Clock) -> None:
    offer = service.offers.create(OfferRequest(["employee_badge"], CLAIMS, deferred=True))
    grant = service.tokens.authorize(redeem(service, offer).access_token)
    assert service.issuance.request(grant, "employee_badge", [public_jwk(new_key())]).transaction_id
    clock.now += 29 * 86400
    assert service.purge_expired() == 0
    clock.now += 2 * 86400
    assert service.purge_expired() == 1
    assert service.offers.live() == [] and service.offers.status(offer.offer_id)["state"] == "expired"
