"""Status lists on disk: encoding (the draft's own test vectors), allocation, persistence."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from issuer.records.status_lists import (
    INVALID,
    SUSPENDED,
    VALID,
    StatusLists,
    StatusReference,
    compress,
    decompress,
    read_status,
)
from issuer.storage.store import JournalStore


@contextmanager
def open_lists(folder: Path, size: int = 100_000) -> Iterator[StatusLists]:
    store = JournalStore(folder)
    try:
        yield StatusLists(store.status, size, lambda: 1_800_000_000.0)
    finally:
        store.close()


def test_encoding_matches_the_specification_example() -> None:
    """TSL §4.1, the bits=2 example: twelve statuses, bytes C9 44 F9, lst eNo76fITAAPfAgc."""
    statuses = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
    packed = bytes([0xC9, 0x44, 0xF9])
    assert [read_status(packed, index) for index in range(12)] == statuses
    assert compress(packed) == "eNo76fITAAPfAgc"
    assert decompress("eNo76fITAAPfAgc") == packed


def test_ten_thousand_indices_are_unique_random_and_survive_a_restart(tmp_path: Path) -> None:
    """Indices are never given out twice, also across a restart in the middle of a block, and
    do not follow each other."""
    with open_lists(tmp_path) as lists:
        places = [place for _ in range(2_500) for place in lists.allocate(2)]
    with open_lists(tmp_path) as lists:
        places += lists.allocate(5_000)
    assert len(places) == 10_000 and len(set(places)) == 10_000
    assert {place.list_id for place in places} == {1}
    indices = [place.index for place in places]
    assert sum(1 for a, b in zip(indices, indices[1:], strict=False) if b == a + 1) < 10
    assert min(indices) >= 0 and max(indices) < 100_000


def test_a_full_list_starts_the_next_and_every_entry_is_used_once(tmp_path: Path) -> None:
    with open_lists(tmp_path, size=16) as lists:
        places = lists.allocate(40)
        assert [sum(1 for p in places if p.list_id == n) for n in (1, 2, 3)] == [16, 16, 8]
        assert sorted(p.index for p in places if p.list_id == 1) == list(range(16))
        assert lists.list_ids() == [1, 2, 3]


def test_statuses_are_kept_on_disk(tmp_path: Path) -> None:
    with open_lists(tmp_path) as lists:
        revoked, suspended, restored = lists.allocate(3)
        lists.set_status(revoked, INVALID)
        lists.set_status(suspended, SUSPENDED)
        lists.set_status(restored, SUSPENDED)
        lists.set_status(restored, VALID)
    with open_lists(tmp_path) as lists:
        assert [lists.status(p) for p in (revoked, suspended, restored)] == [INVALID, SUSPENDED, VALID]
        with pytest.raises(KeyError):
            lists.status(StatusReference(9, 0))
        with pytest.raises(ValueError):
            lists.set_status(revoked, 7)
