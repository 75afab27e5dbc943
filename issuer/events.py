"""What happened in the issuer, for listeners (the desktop app's bridge, logs, tests).

Events are published on the thread that caused them (a Waitress worker, the GUI thread);
a listener that needs another thread must hand the event over itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# Offer lifecycle, in the order a wallet usually causes them.
OFFER_CREATED = "offer_created"
OFFER_FETCHED = "offer_fetched"
TOKEN_ISSUED = "token_issued"
TOKEN_FAILED = "token_failed"
CREDENTIAL_ISSUED = "credential_issued"
CREDENTIAL_DEFERRED = "credential_deferred"
CREDENTIAL_FAILED = "credential_failed"
ISSUANCE_APPROVED = "issuance_approved"
ISSUANCE_REJECTED = "issuance_rejected"
NOTIFICATION_RECEIVED = "notification_received"
OFFER_EXPIRED = "offer_expired"
OFFER_BURNED = "offer_burned"
OFFER_CANCELLED = "offer_cancelled"
CREDENTIAL_STATUS_CHANGED = "credential_status_changed"
# Authorization Code flow: a wallet's browser waits for the desk.
AUTHORIZATION_REQUESTED = "authorization_requested"
AUTHORIZATION_DECIDED = "authorization_decided"
# The store: changes cannot be saved (detail "problem": "disk full", ...), and can be again.
STORAGE_FAILED = "storage_failed"
STORAGE_RECOVERED = "storage_recovered"


@dataclass(frozen=True)
class Event:
    kind: str
    offer_id: str
    detail: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.time)
    remote: bool = False  # published by another process sharing the store, relayed here


Listener = Callable[[Event], None]


class EventBus:
    """Fan-out of events to listeners; a failing listener never breaks the issuer."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(self, event: Event) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed on %s", event.kind)
