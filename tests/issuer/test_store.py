"""The store: journaled durable writes, bounded history segments, serialized access."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from tinydb import Query

from issuer.storage.history import History
from issuer.storage.journal import COMPACT_MINIMUM, CorruptJournal, JournaledTinyDB
from issuer.storage.journal_format import encode, scan
from issuer.storage.store import JournalStore


def journal_lines(path: Path) -> list[dict]:
    """The journal's entries, without its header and checksums."""
    return scan(path.read_bytes()).entries


def test_each_change_is_one_appended_line_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    table = JournaledTinyDB(path).table("offers")
    first = table.insert({"offer_id": "a", "n": 1})
    table.insert({"offer_id": "b", "n": 2})
    table.update({"n": 5}, Query().offer_id == "a")
    table.remove(doc_ids=[first])
    assert journal_lines(path) == [
        {"snapshot": {}},
        {"t": "offers", "i": 1, "d": {"offer_id": "a", "n": 1}},
        {"t": "offers", "i": 2, "d": {"offer_id": "b", "n": 2}},
        {"t": "offers", "i": 1, "d": {"offer_id": "a", "n": 5}},
        {"t": "offers", "i": 1},
    ]
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_reopening_replays_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    table = JournaledTinyDB(path).table("t")
    ids = [table.insert({"n": n}) for n in range(5)]
    table.update(lambda row: row.update(seen=True), doc_ids=[ids[2]])
    reopened = JournaledTinyDB(path).table("t")
    assert sorted(d["n"] for d in reopened.all()) == [0, 1, 2, 3, 4]
    assert reopened.get(doc_id=ids[2])["seen"] is True
    assert reopened.insert({"n": 5}) == 6  # ids continue after the replayed ones


def test_a_torn_last_line_is_dropped_and_compacted(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    JournaledTinyDB(path).table("t").insert({"n": 1})
    with path.open("ab") as journal:
        journal.write(encode({"t": "t", "i": 2, "d": {"n": 2}})[:20])  # a crash in the middle of an append
    reopened = JournaledTinyDB(path)
    assert [d["n"] for d in reopened.table("t").all()] == [1]
    assert journal_lines(path) == [{"snapshot": {"t": {"1": {"n": 1}}}}]


def test_damage_before_the_last_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    path.write_text('{"snapshot":{}}\nGARBAGE\n{"t":"t","i":1,"d":{}}\n')
    with pytest.raises(CorruptJournal, match="line 2"):
        JournaledTinyDB(path)


def test_the_journal_is_compacted_when_it_outgrows_the_data(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    table = JournaledTinyDB(path).table("t")
    doc_id = table.insert({"n": 0})
    for n in range(COMPACT_MINIMUM + 5):
        table.update({"n": n}, doc_ids=[doc_id])
    assert len(journal_lines(path)) < 10
    assert JournaledTinyDB(path).table("t").get(doc_id=doc_id)["n"] == COMPACT_MINIMUM + 4


def test_history_segments_stay_bounded_and_ids_find_their_record(tmp_path: Path) -> None:
    history = History(tmp_path / "history", segment_size=10)
    ids = [history.append("records", {"kind": "credential", "n": n}) for n in range(35)]
    assert history.segment_numbers() == [1, 2, 3, 4]
    assert [len(JournaledTinyDB(tmp_path / "history" / f"{n:06d}.json").table("records")) for n in (1, 2, 3, 4)] == [
        10,
        10,
        10,
        5,
    ]
    assert history.get("records", ids[17])["n"] == 17
    assert history.get("records", ids[17])["id"] == ids[17]
    forged = ids[17].rsplit("-", 1)[0] + "-wrongkey"
    assert history.get("records", forged) is None
    assert history.get("records", "000009-1-abcdefgh") is None
    assert history.get("records", "../../etc/passwd") is None
    assert history.find("records", kind="credential", n=3)["id"] == ids[3]
    assert history.count("records") == 35


def test_history_continues_in_the_last_segment_after_reopening(tmp_path: Path) -> None:
    History(tmp_path / "h", segment_size=10).append_many("records", ({"n": n} for n in range(15)))
    reopened = History(tmp_path / "h", segment_size=10)
    assert reopened.append("records", {"n": 15}).startswith("000002-")
    assert reopened.count("records") == 16


def test_history_update_changes_one_record(tmp_path: Path) -> None:
    history = History(tmp_path / "h", segment_size=10)
    first, second = history.append("records", {"n": 1}), history.append("records", {"n": 2})
    assert history.update("records", first, lambda row: row.update(seen=True))
    assert history.get("records", first)["seen"] is True
    assert "seen" not in history.get("records", second)
    assert not history.update("records", "000001-99-nosuchkey", lambda row: None)


def test_concurrent_writers_behind_the_lock_lose_nothing(tmp_path: Path) -> None:
    store = JournalStore(tmp_path)

    def writer(n: int) -> None:
        for i in range(25):
            with store.transaction():
                store.offers.insert(f"{n}-{i}", {"n": n})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    assert len(JournalStore(tmp_path).offers) == 200


def test_a_snapshot_joined_from_kept_documents_is_the_data_encoded_whole(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    db = JournaledTinyDB(path)
    offers, other = db.table("offers"), db.table("sign_ins")
    first = offers.insert({"offer_id": "a", "claims": {"name": 'Jürgen "J" Ö', "n": [1, 2.5, None, True]}})
    offers.insert_multiple([{"offer_id": "b"}, {"offer_id": "c", "nested": {"x": {}}}])
    other.insert({"auth_id": "s", "e": "\u2028"})
    offers.put(first, {"offer_id": "a", "state": "redeemed"})
    offers.remove(doc_ids=[first + 1])
    reopened_before = JournaledTinyDB(path)  # documents it loads are encoded at its first snapshot
    for journal in (db.journal, reopened_before.journal):
        data = journal.read()
        assert journal.snapshot() == encode({"snapshot": data})[9:-1]  # without checksum and newline
    db.journal.compact()
    assert journal_lines(path) == [{"snapshot": db.journal.read()}]
    assert JournaledTinyDB(path).table("offers").get(doc_id=first) == {"offer_id": "a", "state": "redeemed"}
