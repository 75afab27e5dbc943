"""IssuerService: the one entry to the issuer, for the protocol endpoints, the admin API and the app.

It composes the parts on one Context, as `Collection` composes its managers in Anki:
`service.offers`, `.tokens`, `.issuance`, `.sign_ins`, `.ledger`, `.desk`, `.admin`. Each
endpoint takes only the part it needs; the desk and the admin API call the parts by name.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from issuer import events
from issuer.config import Settings
from issuer.crypto.keys import KeyRing
from issuer.events import Event, EventBus
from issuer.protocol.codes import SecretHasher, load_or_create_key
from issuer.protocol.credential_types import CredentialTypes
from issuer.service.administration import Administration
from issuer.service.context import Context
from issuer.service.desk import Desk
from issuer.service.issuance import Issuance
from issuer.service.ledger import Ledger
from issuer.service.offers import Offers
from issuer.service.sign_ins import SignIns
from issuer.service.tokens import Tokens
from issuer.storage.interfaces import Store
from issuer.storage.store import JournalStore

PURGE_EVERY = 30.0


class IssuerService:
    def __init__(
        self,
        settings: Settings,
        issuer_url: str,
        *,
        store: Store | None = None,
        keys: KeyRing | None = None,
        bus: EventBus | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        data_dir = settings.data_dir
        keys_dir = data_dir / "keys"
        self.settings = settings
        self.issuer_url = issuer_url
        self.events = bus or EventBus()
        self.store = store or JournalStore(data_dir)
        self.store.health.subscribe(self._storage_health_changed)
        self.keys = keys or KeyRing(keys_dir)
        self.credential_types = CredentialTypes(data_dir / "credential_types")
        hasher = SecretHasher(load_or_create_key(keys_dir / "secret-hash.key"))
        self.context = Context(settings, issuer_url, self.store, hasher, clock, self.events)
        self.desk = Desk(self.context)
        self.admin = Administration(self.context, self.keys, self.credential_types)
        self.ledger = Ledger(self.context, self.keys, self.desk.holders)
        self.offers = Offers(self.context, self.credential_types, self.ledger, self.desk.holders)
        self.sign_ins = SignIns(self.context, self.offers, self.credential_types)
        self.tokens = Tokens(
            self.context, self.offers, self.sign_ins, load_or_create_key(keys_dir / "access-token.key")
        )
        self.issuance = Issuance(self.context, self.offers, self.ledger, self.keys, self.credential_types)
        self._purge_lock = threading.Lock()
        self._next_purge = 0.0
        self.issuance.recover_interrupted()

    def storage_problem(self) -> str | None:
        """Why changes cannot be saved now ("disk full"), or None when they can."""
        return self.store.health.problem

    def _storage_health_changed(self, problem: str | None) -> None:
        kind = events.STORAGE_FAILED if problem else events.STORAGE_RECOVERED
        self.events.publish(Event(kind, "", {"problem": problem}))

    @property
    def clock(self) -> Callable[[], float]:
        return self.context.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self.context.clock = clock

    def purge_if_due(self, every: float = PURGE_EVERY) -> int:
        """`purge_expired` at most once per `every` seconds, never twice at once."""
        now = self.clock()
        if now < self._next_purge or not self._purge_lock.acquire(blocking=False):
            return 0
        try:
            self._next_purge = now + every
            return self.purge_expired()
        finally:
            self._purge_lock.release()

    def purge_expired(self) -> int:
        """Archive offers nobody can use any more, drop finished sign-ins, and compact the state,
        so the claims of offers finished since the last purge leave the disk (every 30 seconds)."""
        moved = self.offers.expire()
        self.sign_ins.purge()
        self.store.compact()
        return len(moved)

    def close(self) -> None:
        self.store.close()
