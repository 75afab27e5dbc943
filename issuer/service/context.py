"""What every part of the service shares: settings, the store, the secret hasher, the clock, events."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from issuer.config import Settings
from issuer.events import Event, EventBus
from issuer.protocol.codes import SecretHasher
from issuer.records.audit import audit_entry
from issuer.records.operators import OperatorDirectory
from issuer.service.actors import Acting, require_admin
from issuer.storage.interfaces import Store


@dataclass
class Context:
    """Mutable only in `clock`, which tests move forward while the issuer runs."""

    settings: Settings
    issuer_url: str
    store: Store
    hasher: SecretHasher
    clock: Callable[[], float]
    events: EventBus

    def time(self) -> float:
        """The clock as it is now (components keep this method, never the clock itself)."""
        return self.clock()

    def now(self) -> int:
        return int(self.clock())

    def transaction(self) -> AbstractContextManager[None]:
        """Reads and changes that must see no other writer in between."""
        return self.store.transaction()

    def audit(self, operator: str | None, action: str, subject: str, **detail: Any) -> None:
        """Record an operator's action, durably."""
        self.store.audit.append(audit_entry(self.now(), operator, action, subject, detail))

    def require_admin(self, who: Acting, action: str) -> str | None:
        """The name to record for an admin-only action; Forbidden for an operator (issuer.service.actors)."""
        return require_admin(OperatorDirectory(self.store.operators), who, action)

    def publish(self, kind: str, offer_id: str, **detail: Any) -> None:
        self.events.publish(Event(kind, offer_id, detail))
