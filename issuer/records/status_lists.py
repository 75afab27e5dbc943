"""Token Status Lists (draft-ietf-oauth-status-list): where each issued credential's status lives.

Every credential gets a place in a list: a random index, unique in that list and never given
out twice. Indices come from a secret permutation of the list, walked by a counter of which
each process reserves a block at a time from the store (`StatusStore.reserve_block`, atomic
across processes), so that issuing costs one short write per block rather than one per
credential, and a crash skips the rest of a block instead of handing an index out again. A
list holds `size` entries (2 bits each: valid, invalid, suspended); when one is full the next
starts, whichever process comes first making it.

Only statuses other than VALID are stored, one document per entry, so revoking costs one
journal line whatever the size of the lists. The statuses are cached in memory, and changes
made by other processes sharing the store reach the cache through `StatusStore.watch`; a
decision to change a status reads the stored one. The served Status List Token is signed when
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
    used: int  # the next position of this process's block
    reserved: int  # the end of this process's block: positions from `used` to here are its own
    statuses: bytearray
    full: bool = False
    order: array[int] | None = None
    token: str | None = None
    token_signed_at: int = 0
    token_signer: IssuerKey | None = None

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
        self._reload()
        store.watch(self._changed, self._reload)

    def allocate(self, count: int) -> list[StatusReference]:
        """Fresh places for `count` credentials, on disk before this returns."""
        with self._lock:
            places = []
            for _ in range(count):
                current = self._open_list()
                places.append(StatusReference(current.list_id, current.index_at(current.used)))
                current.used += 1
            return places

    def status(self, place: StatusReference) -> int:
        """The status as cached, for showing and serving."""
        self._reload_if_unknown(place.list_id)
        with self._lock:
            status_list = self._lists.get(place.list_id)
            if status_list is None or not 0 <= place.index < status_list.size:
                raise KeyError(place)
            return read_status(status_list.statuses, place.index)

    def current(self, place: StatusReference) -> int:
        """The stored status, held until the caller's transaction ends: what a change is decided on."""
        self.status(place)
        status = self._store.entry(place.list_id, place.index)
        self._changed(place.list_id, place.index, status)
        return status

    def set_status(self, place: StatusReference, status: int) -> None:
        """Record a new status: on disk before this returns, and in the next token served."""
        if status not in STATUS_NAMES:
            raise ValueError(f"unknown status {status}")
        self.status(place)
        self._store.set_entry(place.list_id, place.index, status)
        self._changed(place.list_id, place.index, status)

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
                    self._store.reserve_block(list_id, status_list.size)  # the rest of the list: closed
                    status_list.reserved = status_list.used = status_list.size
                    status_list.full = True
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

    def exists(self, list_id: int) -> bool:
        """Whether the list exists, another process's newest included."""
        self._reload_if_unknown(list_id)
        return list_id in self._lists

    def token(self, list_id: int, uri: str, signer: IssuerKey, ttl: int) -> str:
        """The list as a signed Status List Token (§5.1), re-signed when changed, half-way to stale, or when
        the signer changed (a new key, or a certificate for the key: HAIP §6.1 wants `x5c` on the token)."""
        self._reload_if_unknown(list_id)
        with self._lock:
            status_list = self._lists[list_id]
            now = int(self._clock())
            stale = now - status_list.token_signed_at >= ttl // 2
            if status_list.token is None or stale or status_list.token_signer is not signer:
                claims = self._claims(status_list, uri, now, ttl)
                status_list.token = signer.sign(claims, {"typ": TOKEN_TYPE})
                status_list.token_signed_at = now
                status_list.token_signer = signer
            return status_list.token

    def claims(self, list_id: int, uri: str, ttl: int) -> dict[str, Any]:
        """The token's claims, unsigned: the list for readers that ask for JSON."""
        self._reload_if_unknown(list_id)
        with self._lock:
            return self._claims(self._lists[list_id], uri, int(self._clock()), ttl)

    def _open_list(self) -> _List:
        """The list with a free position in this process's block, reserving the next block (or
        starting the next list) when there is none."""
        current = self._lists[max(self._lists)] if self._lists else None
        while current is None or current.used >= current.reserved:
            if current is not None and not current.full:
                current.used, current.reserved = self._store.reserve_block(current.list_id, RESERVE_BLOCK)
                current.full = current.used >= current.reserved
                continue
            list_id = (current.list_id + 1) if current else 1
            proposed = {"list_id": list_id, "size": self._size, "seed": secrets.token_hex(32), "reserved": 0}
            row = self._store.add_list(proposed)
            current = self._lists.get(list_id) or _new_list(row)
            self._lists[list_id] = current
        return current

    def _reload_if_unknown(self, list_id: int) -> None:
        """Lists are numbered in order, so only the one after the newest known can be new; the
        entries are read again only when another process did start it (asking costs one short read)."""
        if list_id not in self._lists and list_id == max(self._lists, default=0) + 1:
            if any(row["list_id"] not in self._lists for row in self._store.lists()):
                self._reload()

    def _reload(self) -> None:
        """Read the lists and their entries again (at start, and when changes may have been missed);
        the blocks this process holds stay its own. The store is read before the lock is taken."""
        rows, entries = self._store.lists(), self._store.entries()
        statuses = {row["list_id"]: bytearray((row["size"] * BITS + 7) // 8) for row in rows}
        for entry in entries:
            if entry["list_id"] in statuses:
                _write_status(statuses[entry["list_id"]], entry["index"], entry["status"])
        with self._lock:
            for row in rows:
                status_list = self._lists.setdefault(row["list_id"], _new_list(row))
                status_list.statuses[:] = statuses[row["list_id"]]
                status_list.token = None

    def _changed(self, list_id: int, index: int, status: int) -> None:
        self._reload_if_unknown(list_id)
        with self._lock:
            status_list = self._lists.get(list_id)
            if status_list is None:
                return
            if 0 <= index < status_list.size and read_status(status_list.statuses, index) != status:
                _write_status(status_list.statuses, index, status)
                status_list.token = None

    @staticmethod
    def _claims(status_list: _List, uri: str, now: int, ttl: int) -> dict[str, Any]:
        return {
            "sub": uri,
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
            "ttl": ttl,
            "status_list": {"bits": BITS, "lst": compress(bytes(status_list.statuses))},
        }


def _new_list(row: dict[str, Any]) -> _List:
    """A list as stored, with no block of positions held yet."""
    return _List(row["list_id"], row["size"], row["seed"], 0, 0, bytearray((row["size"] * BITS + 7) // 8))


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
