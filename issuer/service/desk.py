"""The people at the desk: registered holders and the audit log (the accounts are in `operators`)."""

from __future__ import annotations

from typing import Any

from issuer.errors import InvalidInput, NotFound
from issuer.records.audit import audit_csv
from issuer.records.holders import DOCUMENT_LABELS, HolderDirectory, HolderRequest, new_holder
from issuer.service.context import Context

DAY = 86400
AUDIT_LIMIT = 200


class Desk:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self.holders = HolderDirectory(ctx.store.holders)

    # ----- holders -----

    def register_holder(self, request: HolderRequest, operator: str | None) -> dict[str, Any]:
        """Register a holder; the answer's `warnings` say when the same person (same name and
        document) was registered before, so the desk can use that record instead."""
        holder = new_holder(request, checked_by=operator, now=self._ctx.now())
        with self._ctx.transaction():
            earlier = self.holders.same_person(holder)
            self.holders.add(holder)
            check = holder["identity_check"]
            self._ctx.audit(operator, "holder_registered", holder["holder_id"], document_type=check["document_type"])
        warnings = [duplicate_warning(holder, len(earlier))] if earlier else []
        return {**holder, "warnings": warnings}

    def holder(self, holder_id: str) -> dict[str, Any]:
        found = self.holders.get(holder_id)
        if found is None:
            raise NotFound(f"no holder {holder_id!r}")
        return found

    def search_holders(self, text: str = "", limit: int = 50) -> list[dict[str, Any]]:
        return self.holders.search(text, limit)

    def purge_holders(self, retention_days: int, operator: str | None) -> int:
        """Delete holders registered more than `retention_days` ago (their credentials stay valid)."""
        if retention_days < 1:
            raise InvalidInput("the retention period is at least one day")
        with self._ctx.transaction():
            purged = self.holders.purge_older_than(self._ctx.now() - retention_days * DAY)
            if purged or operator:  # the daily automatic purge is recorded only when it removed someone
                self._ctx.audit(operator, "holders_purged", "", retention_days=retention_days, count=purged)
        return purged

    # ----- the audit log -----

    def audit_log(self, limit: int = AUDIT_LIMIT, operator: str | None = None) -> list[dict[str, Any]]:
        """Audit entries, newest first."""
        entries = self._ctx.store.audit.entries(operator)
        return [entry for _, entry in zip(range(limit), entries, strict=False)]

    def audit_csv(self, operator: str | None = None) -> str:
        return audit_csv(self._ctx.store.audit.entries(operator))


def duplicate_warning(holder: dict[str, Any], earlier: int) -> str:
    check = holder["identity_check"]
    document = f"{DOCUMENT_LABELS[check['document_type']]} ending in {check['document_suffix']}"
    times = "once" if earlier == 1 else f"{earlier} times"
    return (
        f"{holder['given_name']} {holder['family_name']} with a {document} was already registered {times}: "
        "check that this is not the same person twice"
    )
