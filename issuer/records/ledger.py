"""The issuance ledger: one record per credential issued, its place in a status list, its state.

Records live in the history segments (`issuer.store.History`, kind `credential`); their
status lives in the status lists, the one source of truth, so a record never disagrees with
what verifiers read. A record's state is `valid`, `revoked`, `suspended` or, once past its
`exp`, `expired`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from issuer.records.status_lists import INVALID, STATUS_NAMES, SUSPENDED, VALID, StatusReference
from issuer.records.text import has_every_word, search_words
from issuer.storage.interfaces import RecordFilter

CREDENTIAL = "credential"
STATES = ("valid", "revoked", "suspended", "expired")
# A state as the store filters on it: (status list status, expired).
STATE_FILTERS: dict[str, tuple[int, bool | None]] = {
    "valid": (VALID, False),
    "revoked": (INVALID, None),
    "suspended": (SUSPENDED, None),
    "expired": (VALID, True),
}
MAX_RESULTS = 1000

# What an operator may do, from which status, to which status.
ACTIONS: dict[str, tuple[frozenset[int], int]] = {
    "revoke": (frozenset({VALID, SUSPENDED}), INVALID),
    "suspend": (frozenset({VALID}), SUSPENDED),
    "unsuspend": (frozenset({SUSPENDED}), VALID),
}


@dataclass(frozen=True)
class LedgerQuery:
    """Filters for finding credentials; empty filters match everything."""

    text: str = ""  # the holder's name, a record, offer or credential id, or part of one
    holder_ids: Collection[str] | None = None  # holders found by name
    config_id: str | None = None
    state: str | None = None
    operator: str | None = None
    offer_id: str | None = None
    issued_from: int | None = None
    issued_until: int | None = None
    limit: int = 200


def place_of(record: Mapping[str, Any]) -> StatusReference:
    place = record["status_list"]
    return StatusReference(place["list"], place["idx"])


def recorded_status(record: Mapping[str, Any]) -> int:
    """The status a record's own history of changes gives it (an undelivered one was revoked)."""
    status = VALID
    for change in record.get("status_changes", []):
        status = ACTIONS.get(change.get("action", ""), (frozenset(), status))[1]
    return status


def recorded_places(records: Iterable[Mapping[str, Any]]) -> dict[StatusReference, int]:
    """Each place in a status list that ledger records hold, with the status they record for it."""
    return {place_of(record): recorded_status(record) for record in records if "status_list" in record}


def state_of(record: Mapping[str, Any], status: int | None, now: float) -> str:
    """What an operator sees: a revocation or suspension first, then expiry."""
    if status is not None and status != VALID:
        return STATUS_NAMES[status]
    return "expired" if record.get("expires_at", now + 1) <= now else "valid"


def matcher(query: LedgerQuery, state: Callable[[Mapping[str, Any]], str]) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate over history records for `query`; `state` gives a record's current state.
    The text finds the holder's name kept on the record (any case, any accents) or part of an id."""
    text = query.text.strip().lower()
    words = search_words(query.text)
    holder_ids = set(query.holder_ids) if query.holder_ids is not None else None

    def matches(record: Mapping[str, Any]) -> bool:
        if record.get("kind") != CREDENTIAL:
            return False
        if query.config_id and record.get("config_id") != query.config_id:
            return False
        if query.operator and record.get("operator") != query.operator:
            return False
        if query.offer_id and record.get("offer_id") != query.offer_id:
            return False
        issued_at = record.get("issued_at", 0)
        if query.issued_from is not None and issued_at < query.issued_from:
            return False
        if query.issued_until is not None and issued_at >= query.issued_until:
            return False
        if text or holder_ids is not None:
            by_holder = holder_ids is not None and record.get("holder_id") in holder_ids
            by_name = bool(words) and has_every_word(words, record.get("holder_name"))
            by_text = bool(text) and any(
                text in str(record.get(name, "")).lower() for name in ("offer_id", "credential_id", "key")
            )
            if not (by_holder or by_name or by_text):
                return False
        return query.state is None or state(record) == query.state

    return matches


def record_filter(query: LedgerQuery, now: float) -> RecordFilter:
    """`query` as the store's index answers it: the same records `matcher` accepts."""
    status, expired = STATE_FILTERS[query.state] if query.state is not None else (None, None)
    return RecordFilter(
        words=tuple(search_words(query.text)),
        text=query.text.strip().lower(),
        holder_ids=frozenset(query.holder_ids) if query.holder_ids is not None else None,
        config_id=query.config_id or None,
        operator=query.operator or None,
        offer_id=query.offer_id or None,
        issued_from=query.issued_from,
        issued_until=query.issued_until,
        status=status,
        expired=expired,
        now=now,
    )
