"""Token Status Lists (draft-ietf-oauth-status-list): where each issued credential's status lives.

Every credential gets a place in a list: a random index, unique in that list and never given
out twice. Indices come from a secret permutation of the list, walked by a counter that is
reserved on disk a block at a time, so that issuing costs one short append per block rather
than one per credential, and a crash skips the rest of a block instead of handing an index
out again. A list holds `size` entries (2 bits each: valid, invalid, suspended); when one is
full the next starts.

Only statuses other than VALID are stored, one document per entry, so revoking costs one
journal line whatever the size of the lists. The served Status List Token is signed when
first asked for, cached, and signed again when a status in it changes or it grows stale.

The ledger is the source of truth for which places are taken and what their statuses are: at
start the lists are checked against it (`agrees_with`) and, when they are missing or behind,
brought up to it (`rebuild`), so that no place is handed out twice and no revocation is lost. A
revoked place stays revoked whatever a rebuild finds: a status change is written here first.
"""

from __future__ import annotations

import base64
import random
import secrets
import threading
import zlib
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from issuer.crypto.keys import IssuerKey
from issuer.storage.interfaces import StatusStore

BITS = 2
VALID, INVALID, SUSPENDED = 0, 1, 2
STATUS_NAMES = {VALID: "valid", INVALID: "revoked", SUSPENDED: "suspended"}
RESERVE_BLOCK = 64
TOKEN_TYPE = "statuslist+jwt"
TOKEN_LIFETIME = 86400  # exp of a served token; verifiers re-fetch after `ttl` anyway


@dataclass(frozen=True)
class StatusReference:
    """A credential's place: list number and index (its `status.status_list`)."""

    list_id: int
    index: int


@dataclass
class _List:
    list_id: int
    size: int
    seed: str
    used: int  # indices handed out in this process's view
    reserved: int  # indices reserved on disk: none below this is ever handed out again
    statuses: bytearray
    order: array[int] | None = None
    token: str | None = None
    token_signed_at: int = 0

    def index_at(self, position: int) -> int:
        return self._order()[position]

    def reserved_indices(self) -> set[int]:
        return set(self._order()[: self.reserved])

    def _order(self) -> array[int]:
        if self.order is None:  # the permutation costs ~0.1 s for 100,000 entries: made when first needed
            shuffled = list(range(self.size))
            random.Random(self.seed).shuffle(shuffled)
            self.order = array("I", shuffled)
        return self.order


class StatusLists:
    """The issuer's status lists, safe to use from any thread. Changes (`allocate`, `set_status`)
    are made inside the caller's store transaction, so they are taken in one order: store, then lists."""

    def __init__(self, store: StatusStore, size: int, clock: Callable[[], float]) -> None:
        if not 16 <= size <= 10_000_000:
            raise ValueError("a status list holds between 16 and 10,000,000 entries")
        self._store = store
        self._size = size
        self._clock = clock
        self._lock = threading.Lock()
        self._lists: dict[int, _List] = {}
        for row in store.lists():
            statuses = bytearray((row["size"] * BITS + 7) // 8)
            self._lists[row["list_id"]] = _List(
                row["list_id"], row["size"], row["seed"], row["reserved"], row["reserved"], statuses
            )
        for row in store.entries():
            _write_status(self._lists[row["list_id"]].statuses, row["index"], row["status"])

    def allocate(self, count: int) -> list[StatusReference]:
        """Fresh places for `count` credentials, on disk before this returns."""
        with self._lock:
            places = []
            for _ in range(count):
                current = self._open_list()
                if current.used >= current.reserved:
                    current.reserved = min(current.size, current.used + RESERVE_BLOCK)
                    self._store.reserve(current.list_id, current.reserved)
                places.append(StatusReference(current.list_id, current.index_at(current.used)))
                current.used += 1
            return places

    def status(self, place: StatusReference) -> int:
        with self._lock:
            status_list = self._lists.get(place.list_id)
            if status_list is None or not 0 <= place.index < status_list.size:
                raise KeyError(place)
            return read_status(status_list.statuses, place.index)

    def set_status(self, place: StatusReference, status: int) -> None:
        """Record a new status: on disk before this returns, and in the next token served."""
        if status not in STATUS_NAMES:
            raise ValueError(f"unknown status {status}")
        with self._lock:
            status_list = self._lists[place.list_id]
            self._store.set_entry(place.list_id, place.index, status)
            _write_status(status_list.statuses, place.index, status)
            status_list.token = None

    def agrees_with(self, recorded: Mapping[StatusReference, int]) -> bool:
        """Whether every place the ledger records is reserved here and holds the status recorded for it."""
        with self._lock:
            reserved: dict[int, set[int]] = {}
            for place, status in recorded.items():
                status_list = self._lists.get(place.list_id)
                if status_list is None or not 0 <= place.index < status_list.size:
                    return False
                if place.list_id not in reserved:
                    reserved[place.list_id] = status_list.reserved_indices()
                if place.index not in reserved[place.list_id]:
                    return False
                if read_status(status_list.statuses, place.index) != status:
                    return False
            return True

    def rebuild(self, recorded: Mapping[StatusReference, int]) -> None:
        """Bring the lists up to the ledger's places (all of them): every list they are in exists and
        is closed, so nothing in it is handed out again and new credentials open a new list, and every
        place holds its recorded status, except that a revoked one stays revoked. Inside the caller's
        transaction."""
        with self._lock:
            for list_id in sorted({place.list_id for place in recorded}):
                status_list = self._lists.get(list_id)
                if status_list is None:  # lost with its seed: remade, closed, for its statuses to be served
                    size = max(self._size, 1 + max(p.index for p in recorded if p.list_id == list_id))
                    row: dict[str, Any] = {"list_id": list_id, "size": size, "seed": secrets.token_hex(32)}
                    self._store.add_list({**row, "reserved": size})
                    statuses = bytearray((size * BITS + 7) // 8)
                    self._lists[list_id] = _List(list_id, size, row["seed"], size, size, statuses)
                elif status_list.reserved < status_list.size:
                    self._store.reserve(list_id, status_list.size)
                    status_list.reserved = status_list.used = status_list.size
            for place, status in recorded.items():
                status_list = self._lists[place.list_id]
                if not 0 <= place.index < status_list.size:
                    continue
                current = read_status(status_list.statuses, place.index)
                if current != status and current != INVALID:
                    self._store.set_entry(place.list_id, place.index, status)
                    _write_status(status_list.statuses, place.index, status)
                    status_list.token = None

    def list_ids(self) -> list[int]:
        with self._lock:
            return sorted(self._lists)

    def token(self, list_id: int, uri: str, signer: IssuerKey, ttl: int) -> str:
        """The list as a signed Status List Token (§5.1), re-signed when changed or half-way to stale."""
        with self._lock:
            status_list = self._lists[list_id]
            now = int(self._clock())
            if status_list.token is None or now - status_list.token_signed_at >= ttl // 2:
                claims = self._claims(status_list, uri, now, ttl)
                status_list.token = signer.sign(claims, {"typ": TOKEN_TYPE})
                status_list.token_signed_at = now
            return status_list.token

    def claims(self, list_id: int, uri: str, ttl: int) -> dict[str, Any]:
        """The token's claims, unsigned: the list for readers that ask for JSON."""
        with self._lock:
            return self._claims(self._lists[list_id], uri, int(self._clock()), ttl)

    def _open_list(self) -> _List:
        current = self._lists[max(self._lists)] if self._lists else None
        if current is None or current.used >= current.size:
            list_id = (current.list_id + 1) if current else 1
            row: dict[str, Any] = {"list_id": list_id, "size": self._size, "seed": secrets.token_hex(32), "reserved": 0}
            self._store.add_list(row)
            statuses = bytearray((self._size * BITS + 7) // 8)
            current = _List(list_id, self._size, row["seed"], 0, 0, statuses)
            self._lists[list_id] = current
        return current

    @staticmethod
    def _claims(status_list: _List, uri: str, now: int, ttl: int) -> dict[str, Any]:
        return {
            "sub": uri,
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
            "ttl": ttl,
            "status_list": {"bits": BITS, "lst": compress(bytes(status_list.statuses))},
        }


def compress(statuses: bytes) -> str:
    """`lst`: DEFLATE with the ZLIB format at the highest level, base64url without padding (§4.1)."""
    return base64.urlsafe_b64encode(zlib.compress(statuses, 9)).rstrip(b"=").decode("ascii")


def decompress(lst: str) -> bytes:
    return zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))


def read_status(statuses: bytes | bytearray, index: int) -> int:
    """The status at `index`, blocks packed from the least significant bit (§4.1 step 3)."""
    per_byte = 8 // BITS
    shift = (index % per_byte) * BITS
    return (statuses[index // per_byte] >> shift) & ((1 << BITS) - 1)


def _write_status(statuses: bytearray, index: int, status: int) -> None:
    per_byte = 8 // BITS
    shift = (index % per_byte) * BITS
    mask = ((1 << BITS) - 1) << shift
    statuses[index // per_byte] = (statuses[index // per_byte] & ~mask) | (status << shift)
