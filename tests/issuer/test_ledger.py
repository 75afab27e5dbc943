"""The issuance ledger through IssuerService: finding credentials, and changing their status."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from issuer import events
from issuer.config import Settings
from issuer.errors import ServiceError
from issuer.records.holders import HolderRequest
from issuer.records.ledger import LedgerQuery
from issuer.records.status_lists import StatusReference
from issuer.service import PRE_AUTHORIZED_GRANT, IssuerService, OfferRequest
from tests.conftest import RunningIssuer
from tests.e2e.helpers import jwt_payload
from tests.issuer.conftest import Clock
from wallet.keys import new_key, public_jwk

BADGE = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1"}
CARD = {"given_name": "Ada", "family_name": "Lovelace", "member_id": "M-1"}
DAY = 86400


def issue(service: IssuerService, config_id: str = "employee_badge", **options: object) -> str:
    """Issue one credential through the service as the endpoints do; its ledger id."""
    claims = BADGE if config_id == "employee_badge" else CARD
    offer = service.offers.create(OfferRequest([config_id], claims, **options))  # type: ignore[arg-type]
    code = offer.credential_offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    grant = service.tokens.authorize(service.tokens.redeem_pre_authorized_code(code, None, None).access_token)
    result = service.issuance.request(grant, config_id, [public_jwk(new_key())])
    assert result.notification_id
    return result.notification_id


def found(service: IssuerService, **filters: object) -> list[str]:
    return [record["id"] for record in service.ledger.find(LedgerQuery(**filters))]  # type: ignore[arg-type]


def test_find_by_holder_type_operator_date_and_state(service: IssuerService, clock: Clock) -> None:
    ada = service.desk.register_holder(HolderRequest("Ada", "Lovelace", "passport", "X1234567"), "alice")
    grace = service.desk.register_holder(HolderRequest("Grace", "Hopper", "passport", "Y7654321"), "alice")
    first = issue(service, holder_id=ada["holder_id"], operator="alice")
    clock.now += DAY
    second = issue(service, "membership_card", holder_id=grace["holder_id"], operator="bob")
    third = issue(service, holder_id=grace["holder_id"], operator="alice")

    assert found(service) == [third, second, first]  # newest first
    assert found(service, text="lovelace") == [first]
    assert found(service, text="Grace") == [third, second]
    assert found(service, config_id="membership_card") == [second]
    assert found(service, operator="alice") == [third, first]
    assert found(service, issued_until=int(clock.now) - DAY // 2) == [first]
    assert found(service, issued_from=int(clock.now) - 60, config_id="employee_badge") == [third]
    assert found(service, text=second) == [second]  # a ledger id finds its record
    service.ledger.change_status(second, "suspend", "bob", "card reported stolen")
    assert found(service, state="suspended") == [second]
    assert found(service, state="valid") == [third, first]
    clock.now += 400 * DAY  # past every credential's exp
    assert found(service, state="expired") == [third, first]
    assert found(service, limit=1) == [third]
    with pytest.raises(ServiceError, match="state must be"):
        found(service, state="lost")


def test_a_record_says_where_its_status_lives_and_what_happened(service: IssuerService) -> None:
    record_id = issue(service, operator="alice")
    record = service.ledger.record(record_id)
    assert record["state"] == "valid" and record["operator"] == "alice"
    assert record["status_list"]["uri"] == f"https://desk.example/status/{record['status_list']['list']}"
    seen: list[events.Event] = []
    service.events.subscribe(seen.append)
    record = service.ledger.change_status(record_id, "revoke", "bob", "left the company")
    assert record["state"] == "revoked"
    assert [(c["action"], c["operator"], c["reason"]) for c in record["status_changes"]] == [
        ("revoke", "bob", "left the company")
    ]
    place = StatusReference(record["status_list"]["list"], record["status_list"]["idx"])
    assert service.ledger.status_lists.status(place) == 1
    assert [(e.kind, e.detail["state"]) for e in seen] == [(events.CREDENTIAL_STATUS_CHANGED, "revoked")]
    audit = service.desk.audit_log(limit=1)[0]
    assert (audit["action"], audit["operator"], audit["subject"]) == ("credential_revoked", "bob", record_id)
    assert audit["detail"]["reason"] == "left the company"


@pytest.mark.parametrize(
    ("steps", "refused", "message"),
    [
        (["revoke"], "revoke", "revoked"),
        (["revoke"], "unsuspend", "revoked"),
        (["revoke"], "suspend", "revoked"),
        ([], "unsuspend", "valid"),
        (["suspend"], "suspend", "suspended"),
    ],
)
def test_impossible_changes_are_refused_and_change_nothing(
    service: IssuerService, steps: list[str], refused: str, message: str
) -> None:
    record_id = issue(service)
    for step in steps:
        service.ledger.change_status(record_id, step)
    before = service.ledger.record(record_id)
    with pytest.raises(ServiceError, match=message) as refusal:
        service.ledger.change_status(record_id, refused, "alice")
    assert refusal.value.status == 409
    assert service.ledger.record(record_id) == before


@pytest.mark.parametrize("record_id", ["nope", "000001-1-AAAAAAAAAAAA", "", "../../etc"])
def test_unknown_credentials_are_404(service: IssuerService, record_id: str) -> None:
    issue(service)
    with pytest.raises(ServiceError) as refusal:
        service.ledger.change_status(record_id, "revoke")
    assert refusal.value.status == 404


def test_a_re_issue_revokes_the_replaced_credential_at_once(service: IssuerService) -> None:
    """A lost phone: the new offer and the revocation of the old credential are one step."""
    lost = issue(service)
    other = issue(service)
    offer = service.offers.create(OfferRequest(["employee_badge"], BADGE, operator="alice", replaces=(lost,)))
    assert service.ledger.record(lost)["state"] == "revoked"
    assert service.ledger.record(other)["state"] == "valid"
    entry = service.desk.audit_log(limit=1)[0]
    assert (
        entry["action"] == "credential_revoked" and entry["detail"]["reason"] == f"replaced by offer {offer.offer_id}"
    )
    offers_before = len(service.offers.live())
    with pytest.raises(ServiceError, match="already revoked"):
        service.offers.create(OfferRequest(["employee_badge"], BADGE, replaces=(lost,)))
    assert len(service.offers.live()) == offers_before  # a refused re-issue creates nothing


def test_admin_api_finds_and_changes_credentials(issuer: RunningIssuer) -> None:
    record_id = issue(issuer.service, operator="alice")
    headers = {"Authorization": f"Bearer {issuer.admin_token}"}
    api = f"{issuer.admin_url}/api/credentials"
    listed = requests.get(api, params={"operator": "alice", "state": "valid"}, headers=headers, timeout=5)
    assert listed.status_code == 200 and [c["id"] for c in listed.json()["credentials"]] == [record_id]
    changed = requests.post(
        f"{api}/{record_id}/suspend", json={"operator": "bob", "reason": "audit"}, headers=headers, timeout=5
    )
    assert changed.status_code == 200 and changed.json()["state"] == "suspended"
    assert (
        requests.get(f"{api}/{record_id}", headers=headers, timeout=5).json()["status_changes"][0]["operator"] == "bob"
    )
    for method, url, params, status, text in [
        ("GET", api, {"from": "yesterday"}, 400, "from must be a whole number"),
        ("GET", api, {"state": "lost"}, 400, "state must be one of"),
        ("POST", f"{api}/{record_id}/suspend", None, 409, "cannot suspend a credential that is suspended"),
        ("POST", f"{api}/000001-99-nosuchrecord/revoke", None, 404, "no issued credential"),
        ("POST", f"{api}/{record_id}/destroy", None, 404, None),
    ]:
        response = requests.request(method, url, params=params, headers=headers, timeout=5)
        assert response.status_code == status and response.headers["content-type"] == "application/json"
        assert text is None or text in response.json()["error_description"]
    assert requests.get(api, timeout=5).status_code == 401


def test_ten_thousand_issued_credentials_have_unique_status_indices(service: IssuerService) -> None:
    """Read from the credentials themselves: 10,000 issuances (1,000 batches of 10) give 10,000
    distinct places, not handed out in order, each matching its ledger record."""
    keys = [public_jwk(new_key()) for _ in range(10)]
    places, records = [], []
    for _ in range(1_000):
        offer = service.offers.create(OfferRequest(["employee_badge"], BADGE))
        code = offer.credential_offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
        grant = service.tokens.authorize(service.tokens.redeem_pre_authorized_code(code, None, None).access_token)
        result = service.issuance.request(grant, "employee_badge", keys)
        assert result.credentials is not None and result.notification_id is not None
        for credential in result.credentials:
            reference = jwt_payload(credential)["status"]["status_list"]
            places.append((reference["uri"], reference["idx"]))
        records.append(service.ledger.record(result.notification_id)["status_list"])
    assert len(places) == 10_000 and len(set(places)) == 10_000
    indices = [index for _, index in places]
    assert sum(1 for a, b in zip(indices, indices[1:], strict=False) if b == a + 1) < 20
    first_of_batches = [places[i * 10] for i in range(1_000)]
    assert [(r["uri"], r["idx"]) for r in records] == first_of_batches


def test_an_issuance_cut_off_before_its_answer_is_undone_at_the_next_start(tmp_path: Path, clock: Clock) -> None:
    """The process dies after the ledger write and before the live offer is updated, so no
    wallet got an answer: on restart the record is revoked as undelivered, the offer is live
    again, and the wallet's retry gets one fresh credential."""
    # One request per credential: the issuance archives the offer at once, and the process dies there.
    settings = Settings.load(tmp_path / "data", port=0, admin_port=0, max_credential_requests=1)
    settings.data_dir.mkdir()
    service = IssuerService(settings, "https://desk.example", clock=clock)
    offer = service.offers.create(OfferRequest(["employee_badge"], BADGE))
    code = offer.credential_offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    access_token = service.tokens.redeem_pre_authorized_code(code, None, None).access_token

    def killed(*_: object, **__: object) -> None:
        raise SystemExit("killed")  # the state file is never updated

    service.store.offers.delete = killed  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        service.issuance.request(service.tokens.authorize(access_token), "employee_badge", [public_jwk(new_key())])
    service.close()

    service = IssuerService(settings, "https://desk.example", clock=clock)
    try:
        (orphan,) = service.ledger.find(LedgerQuery(offer_id=offer.offer_id))
        assert orphan["undelivered"] and orphan["state"] == "revoked"
        assert service.offers.status(offer.offer_id)["state"] == "redeemed"  # live again, not archived
        retry = service.issuance.request(
            service.tokens.authorize(access_token), "employee_badge", [public_jwk(new_key())]
        )
        assert retry.credentials and retry.notification_id
        records = service.ledger.find(LedgerQuery(offer_id=offer.offer_id))
        assert [r.get("undelivered", False) for r in records] == [False, True]
        assert service.offers.status(offer.offer_id)["state"] == "issued"
        assert any(e["action"] == "credential_undelivered" for e in service.desk.audit_log(limit=10))
    finally:
        service.close()
