"""IssuerService: the one entry to the issuer, for the protocol endpoints, the admin API and the app.

It composes the parts on one Context, as `Collection` composes its managers in Anki:
`service.offers`, `.tokens`, `.issuance`, `.sign_ins`, `.ledger`, `.desk`, `.operators`, `.logins`, `.admin`. Each
endpoint takes only the part it needs; the desk and the admin API call the parts by name.
`service.keys` and `service.certificates` are the signing keys and their X.509 chains, for the
formats that sign with them; `service.trust_anchors` the wallet providers it trusts, for wallet and
key attestations; `service.request_encryption` the keys wallets may encrypt requests to.

Settings that cannot work (the HAIP profile without its certificate, an http URL, or a credential
type without a scope) refuse the start with a SettingsError naming what to do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from issuer import events
from issuer.config import Settings
from issuer.crypto.certificates import CERTIFICATES_DIR, IssuerCertificates
from issuer.crypto.encryption_keys import ENCRYPTION_KEYS_DIR, EncryptionKeys
from issuer.crypto.keys import KeyRing
from issuer.crypto.trust_anchors import TrustAnchors
from issuer.events import Event, EventBus
from issuer.protocol.client_attestation import ClientAttestations
from issuer.protocol.codes import SecretHasher, load_or_create_key, replay_safe_key
from issuer.protocol.credential_types import CredentialTypes
from issuer.protocol.encryption import RequestEncryption
from issuer.service import profile
from issuer.service.administration import Administration
from issuer.service.context import Context
from issuer.service.desk import Desk
from issuer.service.issuance import Issuance
from issuer.service.ledger import Ledger
from issuer.service.logins import Logins
from issuer.service.offers import Offers
from issuer.service.operators import Operators
from issuer.service.sign_ins import SignIns
from issuer.service.tokens import Tokens
from issuer.storage.interfaces import Store
from issuer.storage.store import JournalStore

PURGE_EVERY = 30.0
SECRET_HASH_KEY, ACCESS_TOKEN_KEY = "secret-hash.key", "access-token.key"
ATTESTATION_CHALLENGE_KEY = "attestation-challenge.key"


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
        self.settings = settings
        self.issuer_url = issuer_url
        self.events = bus or EventBus()
        self.store = store or JournalStore(data_dir)
        try:
            self.keys = keys or KeyRing(self.store.key_files)
            self.credential_types = CredentialTypes(data_dir / "credential_types")
            self.certificates = IssuerCertificates(
                self.store.key_files.part(CERTIFICATES_DIR), self.keys, lambda: self.context.time()
            )
            self.trust_anchors = TrustAnchors.load(data_dir, settings.wallet_trust_anchors)
            profile.check(settings, issuer_url, self.keys.active, self.credential_types, self.trust_anchors)
        except BaseException:
            if store is None:  # opened here: closed here
                self.store.close()
            raise
        self.store.relay_events(self.events)
        self.store.health.subscribe(self._storage_health_changed)
        hasher = SecretHasher(load_or_create_key(self.store.key_files, SECRET_HASH_KEY))
        self.context = Context(settings, issuer_url, self.store, hasher, clock, self.events)
        encryption_keys = None
        if settings.offers_request_encryption:
            encryption_keys = EncryptionKeys(
                self.store.key_files.part(ENCRYPTION_KEYS_DIR), self.keys, self.context.time
            )
            encryption_keys.ensure()
        self.request_encryption = RequestEncryption(encryption_keys, settings.require_request_encryption)
        replays = self.store.replays
        attestations = ClientAttestations(
            self.trust_anchors,
            issuer_url,
            required=settings.require_wallet_attestation,
            seen=replays,
            challenge_key=replay_safe_key(self.store.key_files, ATTESTATION_CHALLENGE_KEY, replays),
            clock=self.context.time,
        )
        self.operators = Operators(self.store, self.context.time)
        self.desk = Desk(self.context)
        self.logins = Logins(self.context, self.operators)
        self.admin = Administration(self.context, self.keys, self.credential_types, self.certificates, encryption_keys)
        self.ledger = Ledger(self.context, self.keys, self.desk.holders)
        self.offers = Offers(self.context, self.credential_types, self.ledger, self.desk.holders, self.certificates)
        self.sign_ins = SignIns(self.context, self.offers, self.credential_types)
        self.tokens = Tokens(
            self.context,
            self.offers,
            self.sign_ins,
            load_or_create_key(self.store.key_files, ACCESS_TOKEN_KEY),
            attestations,
        )
        self.issuance = Issuance(
            self.context, self.offers, self.ledger, self.keys, self.credential_types, self.certificates
        )
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
        self.logins.purge()
        self.store.compact()
        return len(moved)

    def close(self) -> None:
        self.store.close()
