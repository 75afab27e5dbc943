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
from issuer.records.text import fold, has_every_word, search_words
from issuer.storage.interfaces import LiveTable

DOCUMENT_TYPES = ("passport", "identity_card", "driving_licence", "residence_permit", "other")
DOCUMENT_LABELS = {
    "passport": "passport",
    "identity_card": "identity card",
    "driving_licence": "driving licence",
    "residence_permit": "residence permit",
    "other": "other document",
}
DOCUMENT_SUFFIX_LENGTH = 4
MAX_FIELD_LENGTH = 200  # as for a claim value (issuer.protocol.credential_types): a name fits both forms
FIELD_LABELS = {
    "given_name": "Given name",
    "family_name": "Family name",
    "document_type": "Document type",
    "document_number": "Document number",
    "email": "E-mail",
}


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
            raise InvalidInput(f"{FIELD_LABELS[name]} must be text")
        if len(value) > MAX_FIELD_LENGTH:
            raise InvalidInput(f"{FIELD_LABELS[name]} is longer than {MAX_FIELD_LENGTH} characters")
    given_name, family_name = request.given_name.strip(), request.family_name.strip()
    if not given_name:
        raise InvalidInput("Given name is required: the holder's given name as on the document")
    if not family_name:
        raise InvalidInput("Family name is required: the holder's family name as on the document")
    if request.document_type not in DOCUMENT_TYPES:
        raise InvalidInput(f"Choose the document type that was checked: {', '.join(DOCUMENT_LABELS.values())}")
    number = "".join(request.document_number.split())
    if len(number) < DOCUMENT_SUFFIX_LENGTH:
        raise InvalidInput(f"The document number needs at least {DOCUMENT_SUFFIX_LENGTH} characters")
    email = request.email.strip()
    if email and ("@" not in email or " " in email):
        raise InvalidInput("The e-mail address is not valid")
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
        """Holders whose name or e-mail contains every word of `text`, whatever the case and
        accents, newest first."""
        words = search_words(text)

        def matches(row: Mapping[str, Any]) -> bool:
            return has_every_word(words, row["given_name"], row["family_name"], row["email"])

        rows = sorted(filter(matches, self._table.all()), key=lambda row: row["registered_at"], reverse=True)
        return [_without_version(row) for row in rows[:limit]]

    def same_person(self, holder: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Holders already registered with the same name and document (type and last characters)."""
        name = fold(f"{holder['given_name']} {holder['family_name']}")
        check = holder["identity_check"]
        return [
            _without_version(row)
            for row in self._table.all()
            if row["holder_id"] != holder["holder_id"]
            and fold(f"{row['given_name']} {row['family_name']}") == name
            and row["identity_check"]["document_type"] == check["document_type"]
            and row["identity_check"]["document_suffix"] == check["document_suffix"]
        ]

    def purge_older_than(self, cutoff: int) -> int:
        old = [row["holder_id"] for row in self._table.all() if row["registered_at"] < cutoff]
        return sum(self._table.delete(holder_id) for holder_id in old)


def _without_version(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "version"}
