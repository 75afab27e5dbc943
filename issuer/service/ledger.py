"""The ledger and the status lists: what was issued, and what verifiers read of its status.

A credential's status is served from its status list; its ledger record says who issued it, to
whom, and every change of status with its operator and reason. The ledger is what the lists are
checked against at start and rebuilt from when they are missing or behind (a lost or older
`status.json`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from issuer import events
from issuer.crypto.keys import KeyRing
from issuer.errors import Conflict, InvalidInput, NotFound
from issuer.records.holders import HolderDirectory
from issuer.records.ledger import ACTIONS, STATES, LedgerQuery, place_of, record_filter, recorded_places, state_of
from issuer.records.status_lists import INVALID, StatusLists, StatusReference
from issuer.service.actors import Acting
from issuer.service.context import Context

MAX_RESULTS = 1000
MAX_REASON = 500
log = logging.getLogger(__name__)


class Ledger:
    def __init__(self, ctx: Context, keys: KeyRing, holders: HolderDirectory) -> None:
        self._ctx = ctx
        self._keys = keys
        self._holders = holders
        self.status_lists = StatusLists(ctx.store.status, ctx.settings.status_list_size, ctx.time)
        self._check_status_lists()

    # ----- what verifiers read -----

    def status_list_uri(self, list_id: int) -> str:
        return f"{self._ctx.issuer_url}/status/{list_id}"

    def status_list_token(self, list_id: int) -> str:
        """The signed Status List Token served at `status_list_uri(list_id)`; KeyError if there is none."""
        uri = self.status_list_uri(list_id)
        return self.status_lists.token(list_id, uri, self._keys.active, self._ctx.settings.status_list_ttl)

    def status_list_claims(self, list_id: int) -> dict[str, Any]:
        return self.status_lists.claims(list_id, self.status_list_uri(list_id), self._ctx.settings.status_list_ttl)

    # ----- the desk's ledger -----

    def find(self, query: LedgerQuery) -> list[dict[str, Any]]:
        """Records matching `query`, newest first, each with its current `state`, found through
        the store's index (`LedgerRecords.search`)."""
        if query.state is not None and query.state not in STATES:
            raise InvalidInput(f"state must be one of {', '.join(STATES)}")
        limit = max(1, min(query.limit, MAX_RESULTS))
        text = query.text.strip()
        exact = self._ctx.store.ledger.get(text) if text else None
        if exact is not None:
            return [self.view(exact)]
        if text and query.holder_ids is None:
            query = replace(query, holder_ids={h["holder_id"] for h in self._holders.search(text, MAX_RESULTS)})
        return [self.view(row) for row in self._ctx.store.ledger.search(record_filter(query, self._ctx.clock()), limit)]

    def record(self, record_id: str) -> dict[str, Any]:
        return self.view(self.credential(record_id))

    def change_status(self, record_id: str, action: str, operator: Acting = None, reason: str = "") -> dict[str, Any]:
        """Revoke, suspend or unsuspend one credential (admins only): the status list changes, the ledger
        and the audit log say who did it and why, and verifiers see it within the list's ttl."""
        if action not in ACTIONS:
            raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}")
        if len(reason) > MAX_REASON:
            raise InvalidInput(f"the reason is longer than {MAX_REASON} characters")
        name = self._ctx.require_admin(operator, f"a credential's {action}")
        with self._ctx.transaction():
            self.apply_action(record_id, action, name, reason.strip())
            view = self.view(self.credential(record_id))
        self._ctx.publish(events.CREDENTIAL_STATUS_CHANGED, view["offer_id"], record_id=record_id, state=view["state"])
        return view

    # ----- for the other parts -----

    def credential(self, record_id: str) -> dict[str, Any]:
        record = self._ctx.store.ledger.get(record_id) if isinstance(record_id, str) else None
        if record is None:
            raise NotFound(f"no issued credential {str(record_id)[:60]!r}")
        return record

    def check_revocable(self, record_id: str) -> None:
        record = self.credential(record_id)
        if self.status_lists.current(place_of(record)) not in ACTIONS["revoke"][0]:
            raise Conflict(f"credential {record_id} is already revoked")

    def allocate(self, count: int) -> list[StatusReference]:
        """Places in the status lists for new credentials; inside the caller's transaction."""
        return self.status_lists.allocate(count)

    def apply_action(self, record_id: str, action: str, operator: str | None, reason: str) -> None:
        """An operator's status change, checked; inside the caller's transaction."""
        record = self.credential(record_id)
        if "status_list" not in record:
            raise Conflict("this credential was issued without a status list entry")
        allowed_from, new_status = ACTIONS[action]
        current = self.status_lists.current(place_of(record))
        if current not in allowed_from:
            raise Conflict(f"cannot {action} a credential that is {state_of(record, current, self._ctx.clock())}")
        self._record_status_change(record, new_status, action, operator, reason)
        self._ctx.audit(operator, f"credential_{action}d", record_id, **({"reason": reason} if reason else {}))

    def mark_undelivered(self, record: Mapping[str, Any]) -> None:
        """A credential no wallet received (a crash or a failed answer): revoked, and marked so."""
        self._record_status_change(record, INVALID, "revoke", None, "never delivered", undelivered=True)
        self._ctx.audit(None, "credential_undelivered", record["id"], offer_id=record["offer_id"])

    def view(self, record: Mapping[str, Any]) -> dict[str, Any]:
        view = {key: value for key, value in record.items() if key != "key"}
        view["state"] = self._state_of(record)
        if "status_list" in record:
            view["status_list"] = {**record["status_list"], "uri": self.status_list_uri(record["status_list"]["list"])}
        return view

    def _check_status_lists(self) -> None:
        """The lists checked against the newest ledger records (where a lost or older status file
        shows), and rebuilt from the whole ledger when they disagree."""
        if self.status_lists.agrees_with(recorded_places(self._ctx.store.ledger.recent())):
            return
        with self._ctx.transaction():
            recorded = recorded_places(row for batch in self._ctx.store.ledger.batches() for row in batch)
            self.status_lists.rebuild(recorded)
        log.warning("the status lists were behind the ledger: rebuilt from its %d credentials", len(recorded))

    def _state_of(self, record: Mapping[str, Any]) -> str:
        status = self.status_lists.status(place_of(record)) if "status_list" in record else None
        return state_of(record, status, self._ctx.clock())

    def _record_status_change(
        self, record: Mapping[str, Any], status: int, action: str, operator: str | None, reason: str, **fields: Any
    ) -> None:
        if "status_list" in record:
            self.status_lists.set_status(place_of(record), status)
        change = {"at": self._ctx.now(), "action": action, "operator": operator, "reason": reason}
        self._ctx.store.ledger.update(
            record["id"], lambda row: row.update(status_changes=[*row.get("status_changes", []), change], **fields)
        )
