"""Fill a data folder's history with past issuances before the server starts.

Each issuance leaves what `IssuerService._issue` and `_archive` write: one "credential"
record (the ledger entry, with the wallet's `credential_accepted` notification) and then
one archived "offer" record (the offer without its secrets or claims, with its timeline).
The records go through `History.append_many`, the store's own bulk path, so the segment
files are laid out exactly as a server that had issued them would have left them.
"""

from __future__ import annotations

import inspect
import random
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from issuer.store import History, Store

CONFIG_ID = "employee_badge"
FORMAT = "dc+sd-jwt"
VALIDITY_DAYS = 365
OFFER_TTL = 600
OPERATORS = (None, None, "desk-1", "desk-2")
SPREAD = 365 * 86400  # the past issuances are spread over the last year


def default_segment_size() -> int:
    """The segment size a server uses when none is configured: `Store`'s default."""
    return int(inspect.signature(Store.__init__).parameters["segment_size"].default)


def fill_history(data_dir: Path, issuances: int, segment_size: int | None = None) -> int:
    """Append `issuances` past issuances (two records each) to `<data_dir>/history`; returns records written."""
    size = segment_size or default_segment_size()
    history = History(data_dir / "history", size)
    try:
        if history.count("records"):
            raise ValueError(f"{data_dir / 'history'} is not empty")
        return history.append_many("records", past_issuances(issuances, size))
    finally:
        history.close()


def past_issuances(count: int, segment_size: int, *, now: int | None = None) -> Iterator[dict[str, Any]]:
    """Credential then offer record, per issuance, oldest first.

    The ledger ids that offers point to are computed from the positions the records will
    take in a fresh history (segment and document id); their random keys are drawn here,
    since `append_many` draws its own, so they have the right shape but do not resolve.
    """
    end = int(now or time.time()) - 3600
    rng = random.Random(1)
    kid = _b64_43()
    for n in range(count):
        issued_at = end - SPREAD + (SPREAD * n) // max(count, 1)
        created_at = issued_at - rng.randint(20, 300)
        fetched_at = created_at + rng.randint(5, 60)
        redeemed_at = min(fetched_at + rng.randint(1, 10), issued_at)
        position = 2 * n
        record_id = f"{position // segment_size + 1:06d}-{position % segment_size + 1}-{secrets.token_urlsafe(9)}"
        offer_id = secrets.token_urlsafe(12)
        operator = OPERATORS[n % len(OPERATORS)]
        yield {
            "kind": "credential",
            "credential_id": f"urn:uuid:{uuid.uuid4()}",
            "offer_id": offer_id,
            "config_id": CONFIG_ID,
            "format": FORMAT,
            "issued_at": issued_at,
            "expires_at": issued_at + VALIDITY_DAYS * 86400,
            "operator": operator,
            "kid": kid,
            "holder_jkt": _b64_43(),
            "notifications": [{"event": "credential_accepted", "at": issued_at + rng.randint(1, 5)}],
        }
        yield {
            "offer_id": offer_id,
            "config_ids": [CONFIG_ID],
            "state": "issued",
            "deferred": False,
            "by_reference": True,
            "operator": operator,
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


def _b64_43() -> str:
    """A value shaped like an RFC 7638 SHA-256 thumbprint (43 base64url characters)."""
    return secrets.token_urlsafe(32)
