"""Holders registered at the desk, with how their identity was checked, and nothing more.

A holder record keeps the minimum: a name to find the person again, an optional e-mail,
and the identity check (document type, the last characters of the document number, who
checked it and when). Records older than the retention period are purged.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from issuer.errors import InvalidInput
from issuer.storage.interfaces import LiveTable

DOCUMENT_TYPES = ("passport", "identity_card", "driving_licence", "residence_permit", "other")
DOCUMENT_SUFFIX_LENGTH = 4
MAX_FIELD_LENGTH = 200


@dataclass(frozen=True)
class HolderRequest:
    given_name: str
    family_name: str
    document_type: str
    document_number: str
    email: str = ""


def new_holder(request: HolderRequest, *, checked_by: str | None, now: int) -> dict[str, Any]:
    """A holder record from what the operator typed; only the end of the document number is kept."""
    fields = asdict(request)
    for name, value in fields.items():
        if not isinstance(value, str):
            raise InvalidInput(f"{name} must be text")
        if len(value) > MAX_FIELD_LENGTH:
            raise InvalidInput(f"{name} is longer than {MAX_FIELD_LENGTH} characters")
    given_name, family_name = request.given_name.strip(), request.family_name.strip()
    if not given_name or not family_name:
        raise InvalidInput("the holder's given name and family name are required")
    if request.document_type not in DOCUMENT_TYPES:
        raise InvalidInput(f"document type must be one of {', '.join(DOCUMENT_TYPES)}")
    number = "".join(request.document_number.split())
    if len(number) < DOCUMENT_SUFFIX_LENGTH:
        raise InvalidInput(f"the document number needs at least {DOCUMENT_SUFFIX_LENGTH} characters")
    email = request.email.strip()
    if email and ("@" not in email or " " in email):
        raise InvalidInput("the e-mail address is not valid")
    return {
        "holder_id": secrets.token_hex(8),
        "given_name": given_name,
        "family_name": family_name,
        "email": email,
        "identity_check": {
            "document_type": request.document_type,
            "document_suffix": number[-DOCUMENT_SUFFIX_LENGTH:],
            "checked_by": checked_by,
            "checked_at": now,
        },
        "registered_at": now,
    }


class HolderDirectory:
    """Holder records in the store's holders table."""

    def __init__(self, table: LiveTable) -> None:
        self._table = table

    def add(self, holder: Mapping[str, Any]) -> None:
        self._table.insert(holder["holder_id"], holder)

    def get(self, holder_id: str) -> dict[str, Any] | None:
        found = self._table.get(holder_id) if isinstance(holder_id, str) else None
        return _without_version(found) if found else None

    def search(self, text: str, limit: int = 50) -> list[dict[str, Any]]:
        """Holders whose name or e-mail contains every word of `text`, newest first."""
        words = text.casefold().split()

        def matches(row: Mapping[str, Any]) -> bool:
            haystack = f"{row['given_name']} {row['family_name']} {row['email']}".casefold()
            return all(word in haystack for word in words)

        rows = sorted(filter(matches, self._table.all()), key=lambda row: row["registered_at"], reverse=True)
        return [_without_version(row) for row in rows[:limit]]

    def purge_older_than(self, cutoff: int) -> int:
        old = [row["holder_id"] for row in self._table.all() if row["registered_at"] < cutoff]
        return sum(self._table.delete(holder_id) for holder_id in old)


def _without_version(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "version"}
