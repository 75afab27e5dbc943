"""The audit log: who did what at the desk, kept in the history and exportable as CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

AUDIT_TABLE = "audit"
CSV_COLUMNS = ("at", "operator", "action", "subject", "detail")


def audit_entry(at: int, operator: str | None, action: str, subject: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    return {"at": at, "operator": operator, "action": action, "subject": subject, "detail": dict(detail)}


def audit_csv(entries: Iterable[Mapping[str, Any]]) -> str:
    """CSV with one row per entry; `at` as ISO time in UTC, `detail` as compact JSON."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        when = datetime.fromtimestamp(entry["at"], UTC).isoformat(timespec="seconds")
        detail = json.dumps(entry.get("detail", {}), separators=(",", ":"), sort_keys=True)
        writer.writerow([when, entry.get("operator") or "", entry["action"], entry.get("subject", ""), detail])
    return out.getvalue()
