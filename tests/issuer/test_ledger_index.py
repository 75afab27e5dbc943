"""The store's ledger index answers every desk search as reading the whole ledger would, on the
journals and on PostgreSQL: after revocations and suspensions, as credentials expire, and after
a restart."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from issuer.config import Settings
from issuer.records.holders import HolderRequest
from issuer.records.ledger import LedgerQuery, matcher
from issuer.service import PRE_AUTHORIZED_GRANT, IssuerService, OfferRequest
from issuer.storage.store import JournalStore
from tests.conftest import KEY_PASSPHRASE, PostgresDatabase
from tests.issuer.conftest import Clock
from wallet.keys import new_key, public_jwk

DAY = 86400
NAMES = (("Ada", "Lovelace"), ("Grace", "Hopper"), ("Jürgen", "Lüdenscheidt"), ("Alan", "Turing"))
OperatorOpen = Callable[[], IssuerService]


@pytest.fixture(params=["journals", pytest.param("postgres", marks=pytest.mark.postgres)])
def open_service(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[OperatorOpen]:
    """`open_service()`: the issuer on the same stored data each time (a restart)."""
    opened: list[IssuerService] = []
    database: PostgresDatabase | None = request.getfixturevalue("postgres") if request.param == "postgres" else None
    settings = Settings.load(tmp_path / "data", port=0, admin_port=0)
    settings.data_dir.mkdir(exist_ok=True)

    def open_one() -> IssuerService:
        for service in opened:
            service.close()
        store = None
        if database is not None:
            from issuer.storage.postgres import PostgresStore

            store = PostgresStore(database.url, password=database.password, key_passphrase=KEY_PASSPHRASE)
        service = IssuerService(settings, "https://desk.example", store=store, clock=clock)
        opened.append(service)
        return service

    yield open_one
    opened[-1].close()


def issue(service: IssuerService, config_id: str, name: tuple[str, str], **options: object) -> str:
    given, family = name
    claims = {"given_name": given, "family_name": family}
    claims |= {"employee_id": "E-1"} if config_id == "employee_badge" else {"member_id": "M-1"}
    offer = service.offers.create(OfferRequest([config_id], claims, **options))  # type: ignore[arg-type]
    code = offer.credential_offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    grant = service.tokens.authorize(service.tokens.redeem_pre_authorized_code(code, None, None).access_token)
    result = service.issuance.request(grant, config_id, [public_jwk(new_key())])
    assert result.notification_id
    return result.notification_id


def scanned(service: IssuerService, query: LedgerQuery) -> list[str]:
    """What reading every record gives: the answer the index must give."""
    ledger = service.ledger
    text = query.text.strip()
    if text and query.holder_ids is None:
        query = replace(query, holder_ids={h["holder_id"] for h in service.desk.holders.search(text, 1000)})
    matches = matcher(query, ledger._state_of)
    rows = [row for batch in service.store.ledger.batches() for row in batch if matches(row)]
    return [row["id"] for row in rows][: query.limit]


def queries(service: IssuerService, clock: Clock, ids: list[str]) -> list[LedgerQuery]:
    start = int(clock.now) - 10 * DAY
    return [
        LedgerQuery(),
        LedgerQuery(limit=3),
        LedgerQuery(text="lovelace"),
        LedgerQuery(text="LUDEN"),
        LedgerQuery(text="ada love"),
        LedgerQuery(text="nobody-by-this-name"),
        LedgerQuery(text=ids[3][-5:].lower()),  # part of a record key
        LedgerQuery(text=ids[4][:8]),
        LedgerQuery(config_id="membership_card"),
        LedgerQuery(operator="bob"),
        LedgerQuery(config_id="employee_badge", operator="alice"),
        LedgerQuery(config_id="employee_badge", operator="nobody"),
        LedgerQuery(issued_from=start + 3 * DAY, issued_until=start + 6 * DAY),
        LedgerQuery(issued_until=start),
        *(LedgerQuery(state=state) for state in ("valid", "revoked", "suspended", "expired")),
        LedgerQuery(state="valid", operator="alice", text="grace"),
        LedgerQuery(state="revoked", config_id="employee_badge"),
    ]


def assert_index_agrees(service: IssuerService, clock: Clock, ids: list[str]) -> None:
    for query in queries(service, clock, ids):
        assert [row["id"] for row in service.ledger.find(query)] == scanned(service, query), query


def test_the_index_finds_what_a_whole_scan_finds(open_service: OperatorOpen, clock: Clock) -> None:
    service = open_service()
    holder = service.desk.register_holder(HolderRequest("Grace", "Hopper", "passport", "Y7654321"), "alice")
    ids = []
    for n in range(24):
        clock.now += DAY // 2
        config_id = "membership_card" if n % 3 == 0 else "employee_badge"
        options: dict[str, object] = {"operator": ("alice", "bob", None)[n % 3]}
        if n % 4 == 1:
            options["holder_id"] = holder["holder_id"]
        ids.append(issue(service, config_id, NAMES[n % len(NAMES)], **options))
    assert_index_agrees(service, clock, ids)  # the index is built by the first search

    service.ledger.change_status(ids[2], "revoke", "alice", "lost")  # then kept right by each change
    service.ledger.change_status(ids[5], "suspend", "bob", "")
    service.ledger.change_status(ids[7], "suspend", "bob", "")
    service.ledger.change_status(ids[7], "unsuspend", "bob", "")
    ids.append(issue(service, "employee_badge", NAMES[0], operator="alice"))
    assert_index_agrees(service, clock, ids)
    assert [r["id"] for r in service.ledger.find(LedgerQuery(state="revoked"))] == [ids[2]]
    assert [r["id"] for r in service.ledger.find(LedgerQuery(state="suspended"))] == [ids[5]]

    clock.now += 365 * DAY - 5 * DAY  # the oldest expire
    assert service.ledger.find(LedgerQuery(state="expired"))
    assert_index_agrees(service, clock, ids)

    restarted = open_service()
    assert_index_agrees(restarted, clock, ids)
    restarted.ledger.change_status(ids[9], "revoke", "alice", "")
    assert ids[9] in [r["id"] for r in restarted.ledger.find(LedgerQuery(state="revoked"))]
    assert_index_agrees(restarted, clock, ids)


def test_across_segments_new_ones_included_no_search_reads_the_ledger_whole(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.load(tmp_path / "data", port=0, admin_port=0)
    settings.data_dir.mkdir()
    service = IssuerService(
        settings, "https://desk.example", store=JournalStore(settings.data_dir, segment_size=4), clock=clock
    )
    try:
        ids = [issue(service, "employee_badge", NAMES[n % len(NAMES)], operator="alice") for n in range(6)]
        assert_index_agrees(service, clock, ids)  # built over two segments
        ids += [issue(service, "membership_card", NAMES[n % len(NAMES)], operator="bob") for n in range(7)]
        service.ledger.change_status(ids[1], "revoke", "alice", "")  # in a segment indexed at the build
        service.ledger.change_status(ids[-1], "suspend", "bob", "")  # in a segment begun after it
        assert len(service.store.history.segment_numbers()) >= 4
        assert_index_agrees(service, clock, ids)

        def whole_ledger() -> Iterator[list[dict[str, object]]]:
            raise AssertionError("a search read the whole ledger")

        monkeypatch.setattr(service.store.ledger, "batches", whole_ledger)
        assert service.ledger.find(LedgerQuery(text="nobody-by-this-name")) == []
        assert len(service.ledger.find(LedgerQuery(operator="bob", state="valid"))) == 6
    finally:
        service.close()
