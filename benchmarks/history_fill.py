"""Fill a data folder's history with past issuances before the server starts.

Each issuance leaves what the service writes for it: an "offer_created" entry in the audit
table (`IssuerService.create_offer`), then one "credential" record (the ledger entry, with
the wallet's `credential_accepted` notification, `_issue`) and one archived "offer" record
(the offer without its secrets or claims, with its timeline, `_archive`) in the records
table. They go through `History.append_many`, the store's own bulk path, in chunks of
issuances (records, then audit entries), so the segment files hold the same tables and
counts as a server that had issued them would have left.
"""

from __future__ import annotations

import inspect
import random
import secrets
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from issuer.records.audit import AUDIT_TABLE, audit_entry
from issuer.storage.history import History
from issuer.storage.store import JournalStore

RECORDS = "records"
CONFIG_ID = "employee_badge"
FORMAT = "dc+sd-jwt"
VALIDITY_DAYS = 365
OFFER_TTL = 600
OPERATORS = (None, None, "desk-1", "desk-2")
SPREAD = 365 * 86400  # the past issuances are spread over the last year
CHUNK = 500  # issuances per pair of bulk writes


def default_segment_size() -> int:
    """The segment size a server uses when none is configured: `JournalStore`'s default."""
    return int(inspect.signature(JournalStore.__init__).parameters["segment_size"].default)


def fill_history(data_dir: Path, issuances: int, segment_size: int | None = None) -> int:
    """Write `issuances` past issuances (three documents each) into `<data_dir>/history`; returns documents."""
    size = segment_size or default_segment_size()
    history = History(data_dir / "history", size)
    try:
        if history.segment_numbers() != [1] or history.count(RECORDS) or history.count(AUDIT_TABLE):
            raise ValueError(f"{data_dir / 'history'} is not empty")
        past = PastIssuances(issuances, size)
        written = 0
        for first in range(0, issuances, CHUNK):
            records, audit = past.chunk(first, min(first + CHUNK, issuances))
            written += history.append_many(RECORDS, records)
            written += history.append_many(AUDIT_TABLE, audit)
        return written
    finally:
        history.close()


class PastIssuances:
    """The documents of past issuances, oldest first, with the ledger ids they will get.

    An archived offer names its credential's record id. The id's segment and document id are
    those the record will take in a fresh history (tracked here as `append_many` fills
    segments: in order, up to `segment_size` documents of all tables); its random key is
    drawn here, since `append_many` draws its own, so the ids have the right shape but do
    not resolve.
    """

    def __init__(self, count: int, segment_size: int, *, now: int | None = None) -> None:
        self._count = count
        self._segment_size = segment_size
        self._end = int(now or time.time()) - 3600
        self._rng = random.Random(1)
        self._kid = _thumbprint_like()
        self._segment, self._in_segment = 1, 0
        self._next_ids: Counter[str] = Counter()

    def chunk(self, first: int, stop: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Issuances `first`..`stop - 1`: their records (credential, offer, ...) and their audit entries."""
        records, audit = [], []
        for n in range(first, stop):
            credential, offer, entry = self._issuance(n)
            records += [credential, offer]
            audit.append(entry)
        for _ in audit:
            self._place(AUDIT_TABLE)
        return records, audit

    def _issuance(self, n: int) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        rng = self._rng
        issued_at = self._end - SPREAD + (SPREAD * n) // max(self._count, 1)
        created_at = issued_at - rng.randint(20, 300)
        fetched_at = created_at + rng.randint(5, 60)
        redeemed_at = min(fetched_at + rng.randint(1, 10), issued_at)
        rounded = issued_at - issued_at % 3600
        offer_id = secrets.token_hex(8)
        operator = OPERATORS[n % len(OPERATORS)]
        record_id = f"{self._place(RECORDS)}-{secrets.token_urlsafe(9)}"
        self._place(RECORDS)
        credential = {
            "kind": "credential",
            "credential_id": f"urn:uuid:{uuid.uuid4()}",
            "offer_id": offer_id,
            "config_id": CONFIG_ID,
            "format": FORMAT,
            "issued_at": issued_at,
            "expires_at": rounded + VALIDITY_DAYS * 86400,
            "operator": operator,
            "holder_id": None,
            "kid": self._kid,
            "holder_jkt": _thumbprint_like(),
            "notifications": [{"event": "credential_accepted", "at": issued_at + rng.randint(1, 5)}],
        }
        offer = {
            "offer_id": offer_id,
            "config_ids": [CONFIG_ID],
            "state": "issued",
            "deferred": False,
            "by_reference": True,
            "operator": operator,
            "holder_id": None,
            "created_at": created_at,
            "expires_at": created_at + OFFER_TTL,
            "tx_attempts": 0,
            "issued": [{"config_id": CONFIG_ID, "record_ids": [record_id], "at": issued_at}],
            "timeline": [
                {"at": created_at, "event": "offer_created"},
                {"at": fetched_at, "event": "offer_fetched"},
                {"at": redeemed_at, "event": "token_issued"},
                {"at": issued_at, "event": "credential_issued", "detail": {"config_id": CONFIG_ID, "count": 1}},
            ],
            "granted": [CONFIG_ID],
            "redeemed_at": redeemed_at,
            "kind": "offer",
            "archived_at": issued_at,
        }
        entry = audit_entry(
            created_at, operator, "offer_created", offer_id, {"config_ids": [CONFIG_ID], "holder_id": None}
        )
        return credential, offer, entry

    def _place(self, table: str) -> str:
        """`<segment>-<document id>` of the next document of `table`."""
        if self._in_segment >= self._segment_size:
            self._segment, self._in_segment = self._segment + 1, 0
            self._next_ids.clear()
        self._in_segment += 1
        self._next_ids[table] += 1
        return f"{self._segment:06d}-{self._next_ids[table]}"


def _thumbprint_like() -> str:
    """A value shaped like an RFC 7638 SHA-256 thumbprint (43 base64url characters)."""
    return secrets.token_urlsafe(32)
