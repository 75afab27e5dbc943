"""Housekeeping whose cost does not grow with what is live: issued offers stay live for repeat
requests while their token lasts, so the live table grows with every issuance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from issuer.service import IssuerService, OfferRequest
from issuer.storage.interfaces import DUE
from issuer.storage.store import JournalStore
from tests.issuer.conftest import Clock
from wallet.keys import new_key, public_jwk

CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1"}
ISSUED = 40


def issue(service: IssuerService) -> str:
    offer = service.offers.create(OfferRequest(["employee_badge"], CLAIMS))
    code = offer.credential_offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
    token = service.tokens.redeem_pre_authorized_code(code["pre-authorized_code"], None, None)
    grant = service.tokens.authorize(token.access_token)
    service.issuance.request(grant, "employee_badge", [public_jwk(new_key())])
    return offer.offer_id


def count_reads(service: IssuerService, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The live offer documents the store hands out from now on (one count per document)."""
    reads: list[int] = []
    table = service.store.offers
    every, one = table.all, table.get

    def all_documents() -> list[dict[str, Any]]:
        documents = every()
        reads.extend([1] * len(documents))
        return documents

    def get(key: str) -> dict[str, Any] | None:
        document = one(key)
        reads.extend([1] if document is not None else [])
        return document

    monkeypatch.setattr(table, "all", all_documents)
    monkeypatch.setattr(table, "get", get)
    return reads


def test_the_purge_reads_no_live_offer_that_is_not_due(
    service: IssuerService, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = [issue(service) for _ in range(ISSUED)]
    assert len(service.store.offers) == ISSUED  # kept live for repeat requests
    reads = count_reads(service, monkeypatch)
    clock.now += 10
    assert service.purge_expired() == 0
    assert len(reads) == 0, "the purge read offers that cannot end yet"
    clock.now += service.settings.access_token_ttl
    service.purge_expired()
    assert len(reads) >= ISSUED and len(service.store.offers) == 0
    assert {service.offers.status(offer_id)["state"] for offer_id in issued} == {"issued"}


def test_an_offer_is_due_when_it_can_end(service: IssuerService, clock: Clock) -> None:
    unredeemed = service.offers.create(OfferRequest(["employee_badge"], CLAIMS, expires_in=60))
    issued = issue(service)
    ttl = service.settings.access_token_ttl
    assert service.store.offers.due(clock.now + 59) == []
    assert service.store.offers.due(clock.now + 61) == [unredeemed.offer_id]
    assert sorted(service.store.offers.due(clock.now + ttl + 1)) == sorted([unredeemed.offer_id, issued])
    clock.now += 61
    assert service.purge_expired() == 1
    assert service.store.offers.due(clock.now + ttl) == [issued]


def test_the_due_index_follows_changes_and_survives_a_restart(tmp_path: Path) -> None:
    store = JournalStore(tmp_path)
    offers = store.offers
    offers.insert("a", {DUE: 100})
    offers.insert("b", {DUE: 200})
    offers.insert("old", {"state": "created"})  # written before due times existed: always looked at
    assert sorted(offers.due(150)) == ["a", "old"]
    assert offers.replace("a", {DUE: 300}, version=1)
    assert sorted(offers.due(250)) == ["b", "old"]
    assert sorted(offers.due(250)) == ["b", "old"]  # reading does not use them up
    assert offers.delete("b")
    assert sorted(offers.due(1000)) == ["a", "old"]
    store.close()
    reopened = JournalStore(tmp_path)
    assert sorted(reopened.offers.due(1000)) == ["a", "old"] and reopened.offers.due(250) == ["old"]
    reopened.close()


def test_the_archive_finds_an_offer_or_its_absence_without_reading_the_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = JournalStore(tmp_path, segment_size=3)
    archived = [store.archive.add({"offer_id": f"o{n}", "state": "issued"}) for n in range(7)]
    again = store.archive.add({"offer_id": "o2", "state": "cancelled"})  # the newest record of an offer wins
    found = store.archive.find("o2")
    assert found is not None and found["id"] == again and found["state"] == "cancelled"
    assert store.archive.find("missing") is None
    reads: list[int] = []
    segment_rows, scan = store.history.segment_rows, store.history.scan
    monkeypatch.setattr(store.history, "segment_rows", lambda *a: reads.append(1) or segment_rows(*a))
    monkeypatch.setattr(store.history, "scan", lambda *a: reads.append(1) or scan(*a))
    assert store.archive.find("still-missing") is None and store.archive.find("o5")["id"] == archived[5]  # type: ignore[index]
    later = store.archive.add({"offer_id": "o9", "state": "expired"})
    assert store.archive.find("o9")["id"] == later and reads == []  # type: ignore[index]
    assert store.archive.remove(later) and store.archive.find("o9") is None
    store.close()
    monkeypatch.undo()
    reopened = JournalStore(tmp_path, segment_size=3)
    assert reopened.archive.find("o2")["id"] == again and reopened.archive.find("o9") is None  # type: ignore[index]
    reopened.close()
