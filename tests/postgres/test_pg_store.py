"""The PostgreSQL store as several processes see it: each `open_store()` is one more process."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from issuer.events import Event, EventBus
from issuer.records.status_lists import INVALID, RESERVE_BLOCK, StatusLists, StatusReference
from issuer.storage.interfaces import KeyExists, SharedSettingsMismatch
from issuer.storage.postgres import StoreError, schema
from tests.conftest import KEY_PASSPHRASE, PostgresDatabase
from tests.postgres.conftest import OpenStore

pytestmark = pytest.mark.postgres


def wait_for(condition: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.02)
    return False


def test_a_compare_and_set_succeeds_for_one_writer_in_any_process(open_store: OpenStore) -> None:
    one, other = open_store(), open_store()
    one.offers.insert("o1", {"state": "created"})
    with pytest.raises(KeyExists):
        other.offers.insert("o1", {"state": "created"})
    stored = other.offers.get("o1")
    assert stored == {"state": "created", "offer_id": "o1", "version": 1}
    assert one.offers.replace("o1", {"state": "redeemed"}, version=1)
    assert not other.offers.replace("o1", {"state": "redeemed again"}, version=1)
    assert other.offers.get("o1") == {"state": "redeemed", "offer_id": "o1", "version": 2}
    assert other.offers.find("state", "redeemed") is not None and other.offers.find("state", "gone") is None
    assert not one.offers.delete("o1", version=1) and other.offers.delete("o1", version=2)
    assert one.offers.get("o1") is None and len(one.offers) == 0


def test_a_record_read_in_a_transaction_is_held_until_it_ends(open_store: OpenStore) -> None:
    """What the journals' lock gives: a second process reading the record to change it waits."""
    one, other = open_store(), open_store()
    one.offers.insert("o1", {"n": 0})
    read_by_other = threading.Event()

    def other_increments() -> None:
        with other.transaction():
            stored = other.offers.get("o1")
            read_by_other.set()
            assert stored is not None
            assert other.offers.replace("o1", {"n": stored["n"] + 1}, version=stored["version"])

    with one.transaction():
        stored = one.offers.get("o1")
        assert stored is not None
        worker = threading.Thread(target=other_increments)
        worker.start()
        assert not read_by_other.wait(0.5)  # held
        assert one.offers.replace("o1", {"n": stored["n"] + 1}, version=stored["version"])
    worker.join(5)
    assert read_by_other.is_set() and (one.offers.get("o1") or {})["n"] == 2


def test_a_transaction_commits_on_a_refusal_and_rolls_back_on_a_database_error(open_store: OpenStore) -> None:
    store = open_store()
    with pytest.raises(ValueError), store.transaction():
        store.offers.insert("kept", {"attempts": 1})
        raise ValueError("a refusal that recorded something")
    assert store.offers.get("kept") is not None
    with pytest.raises(psycopg.Error), store.transaction():
        store.offers.insert("dropped", {})
        store.database.rows("SELECT 1 / 0")
    assert store.offers.get("dropped") is None


def test_status_list_blocks_are_never_handed_out_twice(open_store: OpenStore) -> None:
    stores = [open_store(), open_store()]
    stores[0].status.add_list({"list_id": 1, "size": 1000, "seed": "s", "reserved": 0})
    with ThreadPoolExecutor(8) as pool:
        blocks = list(pool.map(lambda n: stores[n % 2].status.reserve_block(1, 64), range(20)))
    positions = [p for start, end in blocks for p in range(start, end)]
    assert len(positions) == len(set(positions)) == 1000
    assert sorted(positions) == list(range(1000)) and stores[1].status.reserve_block(1, 64) == (1000, 1000)


def test_status_lists_of_two_processes_give_unique_places_and_see_each_others_changes(open_store: OpenStore) -> None:
    one, other = open_store(), open_store()
    first, second = StatusLists(one.status, 200, time.time), StatusLists(other.status, 200, time.time)
    places: list[StatusReference] = []
    for _ in range(5):
        places += first.allocate(RESERVE_BLOCK // 2) + second.allocate(RESERVE_BLOCK // 2)
    assert len(set(places)) == len(places) == 5 * RESERVE_BLOCK
    assert {p.list_id for p in places} == {1, 2}  # the second list was started by whichever came first
    revoked = places[0]
    with one.transaction():
        assert first.current(revoked) == 0
        first.set_status(revoked, INVALID)
    assert wait_for(lambda: second.status(revoked) == INVALID)
    assert second.current(revoked) == INVALID


def test_a_value_is_seen_first_once_across_processes(open_store: OpenStore) -> None:
    one, other = open_store(), open_store()
    now = time.time()
    with ThreadPoolExecutor(8) as pool:
        firsts = list(pool.map(lambda n: (one, other)[n % 2].replays.first_time("nonce", now + 60, now), range(16)))
    assert firsts.count(True) == 1
    assert other.replays.first_time("nonce", now + 120, now + 61)  # expired: refused on its own elsewhere


def test_key_files_are_sealed_and_need_the_passphrase(open_store: OpenStore, postgres: PostgresDatabase) -> None:
    store = open_store()
    assert store.key_files.create("secret-hash.key", b"the secret") == b"the secret"
    assert open_store().key_files.create("secret-hash.key", b"another") == b"the secret"  # the first one wins
    raw = bytes(store.database.rows("SELECT content FROM key_files WHERE name = 'secret-hash.key'")[0][0])
    assert b"the secret" not in raw
    with pytest.raises(StoreError, match="wrong passphrase"):
        open_store(key_passphrase=b"not the passphrase of these keys")
    with pytest.raises(StoreError, match="keeps its keys encrypted"):
        open_store(key_passphrase=None)
    with psycopg.connect(postgres.url, password=postgres.password, autocommit=True) as connection:
        connection.execute("UPDATE key_files SET name = 'access-token.key' WHERE name = 'secret-hash.key'")
    with pytest.raises(StoreError, match="damaged"):
        store.key_files.read("access-token.key")  # a sealed file cannot pass for another


def test_a_newer_schema_stops_the_start_in_one_line(open_store: OpenStore, postgres: PostgresDatabase) -> None:
    open_store().close()
    with psycopg.connect(postgres.url, password=postgres.password, autocommit=True) as connection:
        connection.execute("UPDATE schema_version SET version = %s", (schema.LATEST + 1,))
    with pytest.raises(StoreError) as refused:
        open_store()
    assert "newer than this issuer knows" in str(refused.value) and "\n" not in str(refused.value)
    assert postgres.password not in str(refused.value)


def test_events_cross_processes_once_and_are_not_doubled(open_store: OpenStore) -> None:
    one, other = open_store(), open_store()
    buses = [EventBus(), EventBus()]
    seen: list[list[Event]] = [[], []]
    for store, bus, events in zip((one, other), buses, seen, strict=True):
        store.relay_events(bus)
        bus.subscribe(events.append)
    buses[0].publish(Event("offer_created", "o1", {"operator": "ada"}))
    assert wait_for(lambda: len(seen[1]) == 1)
    time.sleep(0.3)
    assert [(e.kind, e.offer_id, e.detail, e.remote) for e in seen[1]] == [
        ("offer_created", "o1", {"operator": "ada"}, True)
    ]
    assert [e.remote for e in seen[0]] == [False]  # its own event, once


def test_shared_settings_must_agree(open_store: OpenStore) -> None:
    open_store().agree_on({"public_url": "https://issuer.example", "clients": {}})
    open_store().agree_on({"public_url": "https://issuer.example"})
    with pytest.raises(SharedSettingsMismatch, match="public_url"):
        open_store().agree_on({"public_url": "https://other.example"})


def test_the_password_is_never_in_the_url(postgres: PostgresDatabase) -> None:
    from issuer.storage.postgres import PostgresStore

    with pytest.raises(ValueError, match="must not hold the password"):
        PostgresStore(
            postgres.url.replace("frontdesk@", f"frontdesk:{postgres.password}@"), key_passphrase=KEY_PASSPHRASE
        )
    with pytest.raises(StoreError) as refused:
        PostgresStore(postgres.url, password="never-shown-anywhere", key_passphrase=KEY_PASSPHRASE)
    assert "cannot connect" in str(refused.value) and "never-shown-anywhere" not in str(refused.value)


def test_due_live_records_are_read_through_an_index(open_store: OpenStore) -> None:
    store = open_store()
    store.offers.insert("a", {"due_at": 100})
    store.offers.insert("b", {"due_at": 200.5})
    store.offers.insert("old", {"state": "created"})  # written before due times existed: always looked at
    assert sorted(store.offers.due(150)) == ["a", "old"]
    assert store.offers.replace("a", {"due_at": 300}, version=1)
    assert sorted(store.offers.due(250)) == ["b", "old"]
    assert store.offers.delete("b")
    assert sorted(open_store().offers.due(1000)) == ["a", "old"]
