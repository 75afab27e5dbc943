"""IssuerService: the one API of the issuer, for the protocol endpoints, the admin API and the app.

It owns the offers' lifecycle (created, fetched, redeemed, deferred, issued, archived), the
issuance ledger and the events. Endpoints validate the wire format and call it with plain
values; the desktop app and the command line call it for operator actions.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jwcrypto import jwk
from tinydb import Query

from issuer import events, reachability
from issuer.code_flow import AuthorizationCodeFlow
from issuer.config import Settings, SettingsError, save_settings
from issuer.crypto import es256
from issuer.crypto.keys import KeyRing
from issuer.errors import (
    CredentialRequestDenied,
    InsufficientScope,
    InvalidAuthorizationDetails,
    InvalidGrant,
    InvalidNotificationId,
    InvalidRequest,
    InvalidToken,
    InvalidTransactionId,
    ServiceError,
)
from issuer.events import Event, EventBus
from issuer.formats import issue_credential
from issuer.protocol.codes import NonceMint, SealedTokens, SecretHasher, load_or_create_key, new_secret, new_tx_code
from issuer.protocol.credential_types import CredentialType, load_credential_types
from issuer.protocol.dpop import DpopVerifier
from issuer.reachability import Reachability
from issuer.records.audit import AUDIT_TABLE, audit_csv, audit_entry
from issuer.records.holders import HolderDirectory, HolderRequest, new_holder
from issuer.records.ledger import ACTIONS, CREDENTIAL, STATES, LedgerQuery, matcher, place_of, state_of
from issuer.records.operators import Operator, OperatorDirectory
from issuer.records.status_lists import INVALID, StatusLists
from issuer.storage.backup import BackupError, create_backup, stage_restore
from issuer.storage.store import Store

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_GRANTS = ("pre-authorized_code", "authorization_code")
OFFER_SCHEME = "openid-credential-offer://"
TX_CODE_DESCRIPTION = "Enter the code the front desk gave you"
ROUNDING = 3600  # iat is rounded down to the hour (OID4VCI §15.4.1)
ABANDONED_AFTER = 30 * 86400  # live offers older than this leave the state file, whatever their state

# Offer states. Live offers are in the state file; the rest are archived in the history.
CREATED, FETCHED, REDEEMED, PENDING, APPROVED, REJECTED = (
    "created",
    "fetched",
    "redeemed",
    "pending_approval",
    "approved",
    "rejected",
)
ISSUED, EXPIRED, BURNED, DENIED = "issued", "expired", "burned", "denied"
NOTIFICATION_EVENTS = ("credential_accepted", "credential_failure", "credential_deleted")


@dataclass(frozen=True)
class OfferRequest:
    """What an operator asks for: which credentials, with which claims, and how to deliver them."""

    credential_configuration_ids: list[str]
    claims: Mapping[str, Any]
    tx_code: bool = False
    deferred: bool = False
    by_reference: bool = False
    expires_in: int | None = None
    operator: str | None = None
    holder_id: str | None = None
    replaces: tuple[str, ...] = ()  # ledger ids of credentials this offer replaces: revoked when it is made
    grant: str = "pre-authorized_code"  # or "authorization_code": the wallet signs in and the desk confirms


@dataclass(frozen=True)
class CreatedOffer:
    offer_id: str
    offer_uri: str
    tx_code: str | None
    credential_offer: dict[str, Any]
    expires_at: int


@dataclass(frozen=True)
class AccessGrant:
    """What a valid access token allows: credentials of one offer."""

    offer_id: str
    configuration_ids: tuple[str, ...]
    identifiers: Mapping[str, str] = field(default_factory=dict)  # credential_identifier -> config id
    client_id: str | None = None  # sent at the token endpoint; None for anonymous access
    jkt: str | None = None  # the DPoP key the token is bound to (RFC 9449 §6), if any

    @property
    def uses_identifiers(self) -> bool:
        return bool(self.identifiers)


@dataclass(frozen=True)
class TokenResult:
    access_token: str
    expires_in: int
    authorization_details: list[dict[str, Any]] | None = None
    refresh_token: str | None = None
    token_type: str = "Bearer"  # DPoP when bound to a key


@dataclass(frozen=True)
class IssuanceResult:
    """Credentials now (with a notification id), or a transaction to poll later."""

    credentials: list[str] | None = None
    notification_id: str | None = None
    transaction_id: str | None = None
    interval: int = 0


class IssuerService(AuthorizationCodeFlow):
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
        self.settings = settings
        self.issuer_url = issuer_url
        self.events = bus or EventBus()
        self.clock = clock
        data_dir = settings.data_dir
        self.store = store or Store(data_dir)
        self.keys = keys or KeyRing(data_dir / "keys")
        self.credential_types: dict[str, CredentialType] = load_credential_types(data_dir / "credential_types")
        self._hasher = SecretHasher(load_or_create_key(data_dir / "keys" / "secret-hash.key"))
        now = lambda: self.clock()  # noqa: E731 - follows a clock replaced after start (tests)
        self._tokens = SealedTokens(load_or_create_key(data_dir / "keys" / "access-token.key"), now)
        self._nonces = NonceMint(settings.nonce_ttl, now)
        self.dpop = DpopVerifier(require_nonce=settings.require_dpop_nonce, clock=now)
        self._purge_lock = threading.Lock()
        self._next_purge = 0.0
        self._operators = OperatorDirectory(self.store.operators)
        self._holders = HolderDirectory(self.store.holders)
        self.status_lists = StatusLists(data_dir / "status.json", settings.status_list_size, now)
        self._recover_interrupted_issuances()

    # ----- operator actions -----

    @property
    def credential_types_folder(self) -> Path:
        return self.settings.data_dir / "credential_types"

    def reload_credential_types(self, operator: str | None = None) -> None:
        """Read the definitions again; a broken file leaves the current ones in place."""
        types = load_credential_types(self.credential_types_folder)
        self.credential_types = types
        with self.store.lock:
            self._audit(operator, "credential_types_reloaded", "", types=sorted(types))

    def key_info(self) -> list[dict[str, Any]]:
        active = self.keys.active.kid
        return [
            {"kid": key.kid, "fingerprint": key.fingerprint, "created_at": key.created_at, "active": key.kid == active}
            for key in self.keys.all()
        ]

    def rotate_key(self, operator: str | None = None) -> dict[str, Any]:
        """A new signing key; the old ones stay in the JWKS so their credentials still verify."""
        with self.store.lock:
            key = self.keys.rotate()
            self._audit(operator, "key_rotated", key.kid)
        return next(info for info in self.key_info() if info["kid"] == key.kid)

    def check_public_url(self, url: str | None = None) -> Reachability:
        """What a wallet sees at the public URL (does network I/O: call it off the GUI thread)."""
        return reachability.check(url or self.issuer_url)

    def save_settings(self, changes: dict[str, Any], operator: str | None = None) -> Settings:
        """Store settings for the next start (ports, public URL, retention)."""
        try:
            saved = save_settings(self.settings.data_dir, changes)
        except SettingsError as error:
            raise ServiceError(str(error)) from error
        with self.store.lock:
            self._audit(operator, "settings_changed", "", **{k: str(v) for k, v in changes.items()})
        return saved

    def has_operators(self) -> bool:
        with self.store.lock:
            return self._operators.exists()

    def create_operator(self, name: str, password: str, created_by: str | None = None) -> Operator:
        """A new operator account; the first one may be created by nobody (first start)."""
        with self.store.lock:
            if self._operators.exists() and created_by is None:
                raise ServiceError("only a logged-in operator can add operators", status=403, code="forbidden")
            operator = self._operators.create(name, password)
            self._audit(created_by or operator.name, "operator_created", operator.name)
        return operator

    def login(self, name: str, password: str) -> Operator:
        """Check an operator's password (slow by design); failures are audited too."""
        with self.store.lock:
            try:
                operator = self._operators.authenticate(name, password)
            except ServiceError:
                self._audit(None, "login_failed", name.strip()[:64])
                raise
            self._audit(operator.name, "login", operator.name)
        return operator

    def register_holder(self, request: HolderRequest, operator: str | None) -> dict[str, Any]:
        holder = new_holder(request, checked_by=operator, now=int(self.clock()))
        with self.store.lock:
            self._holders.add(holder)
            check = holder["identity_check"]
            self._audit(operator, "holder_registered", holder["holder_id"], document_type=check["document_type"])
        return holder

    def holder(self, holder_id: str) -> dict[str, Any]:
        with self.store.lock:
            found = self._holders.get(holder_id)
        if found is None:
            raise ServiceError(f"no holder {holder_id!r}", status=404, code="not_found")
        return found

    def search_holders(self, text: str = "", limit: int = 50) -> list[dict[str, Any]]:
        with self.store.lock:
            return self._holders.search(text, limit)

    def purge_holders(self, retention_days: int, operator: str | None) -> int:
        """Delete holders registered more than `retention_days` ago (their credentials stay valid)."""
        if retention_days < 1:
            raise ServiceError("the retention period is at least one day")
        with self.store.lock:
            purged = self._holders.purge_older_than(int(self.clock()) - retention_days * 86400)
            if purged or operator:  # the daily automatic purge is recorded only when it removed someone
                self._audit(operator, "holders_purged", "", retention_days=retention_days, count=purged)
        return purged

    def audit_log(self, limit: int = 200, operator: str | None = None) -> list[dict[str, Any]]:
        """Audit entries, newest first."""
        with self.store.lock:
            entries = self.store.history.scan(AUDIT_TABLE, None if operator is None else _by_operator(operator))
            return [entry for _, entry in zip(range(limit), entries, strict=False)]

    def audit_csv(self, operator: str | None = None) -> str:
        with self.store.lock:
            entries = list(self.store.history.scan(AUDIT_TABLE, None if operator is None else _by_operator(operator)))
        return audit_csv(entries)

    def create_offer(self, request: OfferRequest) -> CreatedOffer:
        config_ids = list(dict.fromkeys(request.credential_configuration_ids))
        if not config_ids:
            raise ServiceError("choose at least one credential type")
        unknown = [c for c in config_ids if c not in self.credential_types]
        if unknown:
            raise ServiceError(
                f"unknown credential type: {', '.join(unknown)}", code="unknown_credential_configuration"
            )
        claims = self._accepted_claims(config_ids, request.claims)
        if request.grant not in OFFER_GRANTS:
            raise ServiceError(f"grant must be one of {', '.join(OFFER_GRANTS)}")
        by_code = request.grant == "authorization_code"
        if by_code and (request.tx_code or request.deferred):
            raise ServiceError("an authorization code offer is confirmed at the desk: no transaction code or approval")
        if request.holder_id is not None:
            self.holder(request.holder_id)  # refuses an unknown holder
        for record_id in request.replaces:
            self._revocable(record_id)
        now = int(self.clock())
        ttl = request.expires_in or self.settings.offer_ttl
        if not 30 <= ttl <= 7 * 86400:
            raise ServiceError("an offer must expire between 30 seconds and 7 days from now")
        offer_id = secrets.token_hex(8)  # hex: never mistaken for a command-line option
        reference_secret = new_secret(24)
        tx_code = new_tx_code(self.settings.tx_code_length) if request.tx_code else None
        derive = self._issuer_state if by_code else self._pre_authorized_code
        grant_secret_hash = self._hasher.digest(derive(offer_id, reference_secret))
        document = {
            "offer_id": offer_id,
            "config_ids": config_ids,
            "claims": claims,
            "state": CREATED,
            "deferred": request.deferred,
            "by_reference": request.by_reference,
            "operator": request.operator,
            "holder_id": request.holder_id,
            "created_at": now,
            "expires_at": now + ttl,
            "reference_hash": self._hasher.digest(reference_secret),
            "grant": request.grant,
            "code_hash": None if by_code else grant_secret_hash,
            "issuer_state_hash": grant_secret_hash if by_code else None,
            "tx_code_hash": self._hasher.digest(tx_code) if tx_code else None,
            "tx_attempts": 0,
            "issued": [],
            "timeline": [_step(now, events.OFFER_CREATED)],
        }
        with self.store.lock:
            self.store.offers.insert(document)
            self._audit(request.operator, "offer_created", offer_id, config_ids=config_ids, holder_id=request.holder_id)
            for record_id in request.replaces:
                self._change_status(record_id, "revoke", request.operator, f"replaced by offer {offer_id}")
        credential_offer = self._offer_object(document, reference_secret)
        if request.by_reference:
            query = "credential_offer_uri=" + quote(f"{self.issuer_url}/offers/{offer_id}.{reference_secret}", safe="")
        else:
            query = "credential_offer=" + quote(_compact_json(credential_offer), safe="")
        self._publish(events.OFFER_CREATED, offer_id, config_ids=config_ids, operator=request.operator)
        self.purge_if_due()
        return CreatedOffer(offer_id, f"{OFFER_SCHEME}?{query}", tx_code, credential_offer, now + ttl)

    def approve(self, offer_id: str, operator: str | None = None) -> dict[str, Any]:
        return self._decide(offer_id, APPROVED, events.ISSUANCE_APPROVED, operator, "")

    def reject(self, offer_id: str, operator: str | None = None, reason: str = "") -> dict[str, Any]:
        return self._decide(offer_id, REJECTED, events.ISSUANCE_REJECTED, operator, reason)

    def offer_status(self, offer_id: str) -> dict[str, Any]:
        with self.store.lock:
            live = self._live_offer(offer_id)
            document = live or self.store.history.find("records", kind="offer", offer_id=offer_id)
            if document is None:
                raise ServiceError(f"no offer {offer_id!r}", status=404, code="not_found")
            view = _public_view(document)
            view["timeline"] += self._notification_steps(document)
            return view

    def list_offers(self, states: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Live offers (not yet issued, expired or archived), newest first."""
        wanted = set(states) if states else None
        with self.store.lock:
            rows = [d for d in self.store.offers.all() if wanted is None or d["state"] in wanted]
        return [_public_view(d) for d in sorted(rows, key=lambda d: d["created_at"], reverse=True)]

    def recent_offers(self, limit: int = 200) -> list[dict[str, Any]]:
        """Live offers, then finished ones from the history, newest first (for the desk's table)."""
        with self.store.lock:
            live = sorted(self.store.offers.all(), key=lambda d: d["created_at"], reverse=True)
            rows = [_public_view(d) for d in live]
            for archived in self.store.history.scan("records", lambda row: row.get("kind") == "offer"):
                if len(rows) >= limit:
                    break
                view = _public_view(archived)
                view["timeline"] += self._notification_steps(archived)
                rows.append(view)
        return rows[:limit]

    # ----- wallet-facing steps -----

    def offer_by_reference(self, reference: str) -> dict[str, Any]:
        """The Credential Offer behind a `credential_offer_uri` (OID4VCI §4.1.3)."""
        offer_id, _, reference_secret = reference.partition(".")
        with self.store.lock:
            document = self._live_offer(offer_id)
            if document is None or not self._hasher.matches(reference_secret, document["reference_hash"]):
                raise ServiceError("no such credential offer", status=404, code="not_found")
            if document["state"] not in (CREATED, FETCHED) or document["expires_at"] < self.clock():
                raise ServiceError("this credential offer is no longer valid", status=404, code="not_found")
            if document["state"] == CREATED:  # a timeline detail: no answer depends on it being on disk
                self._update_live(offer_id, state=FETCHED, step=events.OFFER_FETCHED, durable=False)
        if document["state"] == CREATED:
            self._publish(events.OFFER_FETCHED, offer_id)
        return self._offer_object(document, reference_secret)

    def redeem_pre_authorized_code(
        self,
        code: str,
        tx_code: str | None,
        requested_config_ids: list[str] | None,
        client_id: str | None = None,
        jkt: str | None = None,
    ) -> TokenResult:
        """Exchange a pre-authorized code for an access token (OID4VCI §6.1, §6.3), once."""
        offer_id = code.partition(".")[0]
        now = self.clock()
        with self.store.lock:
            document = self._live_offer(offer_id)
            if document is None or not self._hasher.matches(code, document["code_hash"]):
                raise InvalidGrant("the pre-authorized code is unknown or was already used")
            if document["state"] not in (CREATED, FETCHED):
                raise InvalidGrant("the pre-authorized code is unknown or was already used")
            if document["expires_at"] < now:
                raise InvalidGrant("the pre-authorized code has expired")
            if document["tx_code_hash"] is None and tx_code is not None:
                raise InvalidRequest("this offer has no transaction code, but tx_code was sent")
            if document["tx_code_hash"] is not None and tx_code is None:
                raise InvalidRequest("tx_code is required for this offer")
            if tx_code is not None and not self._hasher.matches(tx_code, document["tx_code_hash"]):
                self._wrong_tx_code(document)
            config_ids = self._granted_config_ids(document, requested_config_ids)
            refresh_token = f"{offer_id}.{new_secret(32)}" if document["deferred"] else None
            self._update_live(
                offer_id,
                state=REDEEMED,
                step=events.TOKEN_ISSUED,
                granted=config_ids,
                refresh_hash=self._hasher.digest(refresh_token) if refresh_token else None,
                client_id=client_id,
                identifiers=requested_config_ids is not None,
                jkt=jkt,
            )
        self._publish(events.TOKEN_ISSUED, offer_id)
        return self._token_result(offer_id, config_ids, requested_config_ids is not None, refresh_token, client_id, jkt)

    def redeem_authorization(
        self, code: str, *, client_id: str, redirect_uri: str, code_verifier: str, jkt: str | None = None
    ) -> TokenResult:
        """Exchange an authorization code (OID4VCI §6.1, RFC 7636 §4.5) for an access token, once."""
        offer_id, request = self.redeem_authorization_code(
            code, client_id=client_id, redirect_uri=redirect_uri, code_verifier=code_verifier, dpop_jkt=jkt
        )
        with self.store.lock:
            document = self._live_offer(offer_id)
            if document is None or document["state"] not in (CREATED, FETCHED) or document["expires_at"] < self.clock():
                raise InvalidGrant("the offer behind this authorization code is no longer valid")
            config_ids = list(request.config_ids) or list(document["config_ids"])
            self._update_live(
                offer_id,
                state=REDEEMED,
                step=events.TOKEN_ISSUED,
                granted=config_ids,
                client_id=client_id,
                identifiers=request.with_details,
                jkt=jkt,
            )
        self._publish(events.TOKEN_ISSUED, offer_id)
        return self._token_result(offer_id, config_ids, request.with_details, None, client_id, jkt)

    def refresh_access_token(self, refresh_token: str, jkt: str | None = None) -> TokenResult:
        """A new access token for a deferred issuance that outlives the first one (RFC 6749 §6);
        a refresh token given to a DPoP client works only with the same key (RFC 9449 §5)."""
        offer_id = refresh_token.partition(".")[0]
        with self.store.lock:
            document = self._live_offer(offer_id)
            if document is None or not self._hasher.matches(refresh_token, document.get("refresh_hash")):
                raise InvalidGrant("the refresh token is unknown or was already used")
            if document.get("jkt") and document["jkt"] != jkt:
                raise InvalidGrant("the refresh token is bound to another DPoP key")
            rotated = f"{offer_id}.{new_secret(32)}"
            self._update_live(offer_id, refresh_hash=self._hasher.digest(rotated))
        granted = document.get("granted", document["config_ids"])
        return self._token_result(
            offer_id,
            granted,
            bool(document.get("identifiers")),
            rotated,
            document.get("client_id"),
            document.get("jkt"),
        )

    def new_nonce(self) -> str:
        return self._nonces.issue()

    def consume_nonce(self, nonce: str) -> bool:
        return self._nonces.consume(nonce)

    def authorize(self, access_token: str) -> AccessGrant:
        """The grant behind a Bearer access token, or InvalidToken (RFC 6750 §3.1)."""
        claims = self._tokens.open(access_token)
        if claims is None:
            raise InvalidToken("the access token is invalid or has expired")
        return AccessGrant(claims["o"], tuple(claims["c"]), claims.get("i") or {}, claims.get("k"), claims.get("j"))

    def request_credential(
        self, grant: AccessGrant, config_id: str, holder_jwks: list[dict[str, Any]]
    ) -> IssuanceResult:
        """Issue one credential per holder key now, or open a deferred transaction (§8, §9)."""
        if config_id not in grant.configuration_ids:
            raise InsufficientScope(f"the access token does not cover {config_id}")
        with self.store.lock:
            document = self._offer_for_grant(grant)
            if document.get("decision") == REJECTED:
                raise CredentialRequestDenied("the front desk declined this issuance")
            if config_id in {entry["config_id"] for entry in document["issued"]}:
                raise CredentialRequestDenied(f"{config_id} was already issued for this offer")
            if document["deferred"] and document.get("decision") != APPROVED:
                return self._open_transaction(document, config_id, holder_jwks)
            return self._issue(document, config_id, holder_jwks)

    def deferred_credential(self, grant: AccessGrant, transaction_id: str) -> IssuanceResult:
        """Poll a deferred transaction (OID4VCI §9): 202 until approved, then the credentials once."""
        with self.store.lock:
            document = self._live_offer(grant.offer_id)
            transaction = (document or {}).get("transaction")
            if document is None or transaction is None or not self._hasher.matches(transaction_id, transaction["hash"]):
                if self.store.offers.contains(Query().transaction.hash == self._hasher.digest(transaction_id)):
                    raise InvalidToken("the access token was not issued for this transaction")
                raise InvalidTransactionId("the transaction id is unknown or was already used")
            if document.get("decision") == REJECTED:
                self._archive(document, DENIED)
                raise CredentialRequestDenied("the front desk declined this issuance")
            if document.get("decision") != APPROVED:
                return IssuanceResult(transaction_id=transaction_id, interval=self.settings.deferred_interval)
            return self._issue(document, transaction["config_id"], transaction["holder_jwks"])

    def notify(self, grant: AccessGrant, notification_id: str, event: str, description: str | None) -> None:
        """Record a wallet's notification (OID4VCI §11); repeating one changes nothing."""
        with self.store.lock:
            record = self.store.history.get("records", notification_id)
            if record is None or record.get("kind") != "credential" or record.get("offer_id") != grant.offer_id:
                raise InvalidNotificationId("the notification id is unknown")
            notification = {"event": event, "at": int(self.clock())}
            if description:
                notification["description"] = description[:300]
            if any(n["event"] == event for n in record.get("notifications", [])):
                return

            def add(row: dict[str, Any]) -> None:
                row["notifications"] = [*row.get("notifications", []), notification]

            self.store.history.update("records", notification_id, add)
        self._publish(events.NOTIFICATION_RECEIVED, grant.offer_id, event=event, notification_id=notification_id)

    def credential_refused(self, offer_id: str, error: str, description: str) -> None:
        """Note on the offer's timeline why a wallet's credential request was refused, for the desk."""
        detail = {"error": error, "reason": description}
        with self.store.lock:
            if self._live_offer(offer_id) is not None:  # a timeline detail: no answer depends on it
                self._update_live(offer_id, step=events.CREDENTIAL_FAILED, detail=detail, durable=False)
        self._publish(events.CREDENTIAL_FAILED, offer_id, **detail)

    # ----- housekeeping -----

    def purge_if_due(self, every: float = 30.0) -> int:
        now = self.clock()
        if now < self._next_purge or not self._purge_lock.acquire(blocking=False):
            return 0
        try:
            self._next_purge = now + every
            return self.purge_expired()
        finally:
            self._purge_lock.release()

    def purge_expired(self) -> int:
        """Move offers whose code or access token can no longer be used out of the state file.

        The state journal is compacted too, so the claims of offers finished since the last
        purge are gone from the disk (the sweeper runs this every 30 seconds).
        """
        now = self.clock()
        ttl = self.settings.access_token_ttl
        moved = []
        with self.store.lock:
            for document in self.store.offers.all():
                unredeemed = document["state"] in (CREATED, FETCHED)
                if unredeemed and document["expires_at"] < now:
                    self._archive(document, EXPIRED)
                    moved.append(document["offer_id"])
                elif document["state"] == REDEEMED and document.get("redeemed_at", now) + ttl < now:
                    self._archive(document, EXPIRED)
                    moved.append(document["offer_id"])
                elif document["created_at"] + ABANDONED_AFTER < now:  # a deferred issuance nobody came back for
                    self._archive(document, EXPIRED)
                    moved.append(document["offer_id"])
            self.store.authorizations.remove(  # sign-ins nobody can use any more
                lambda row: max(row["expires_at"], row.get("code_expires_at") or 0) + ttl < now
            )
            self.store.compact_state()
        for offer_id in moved:
            self._publish(events.OFFER_EXPIRED, offer_id)
        return len(moved)

    def close(self) -> None:
        self.store.close()
        self.status_lists.close()

    # ----- the ledger and status lists -----

    def status_list_uri(self, list_id: int) -> str:
        return f"{self.issuer_url}/status/{list_id}"

    def status_list_token(self, list_id: int) -> str:
        """The signed Status List Token served at `status_list_uri(list_id)`; KeyError if there is none."""
        return self.status_lists.token(
            list_id, self.status_list_uri(list_id), self.keys.active, self.settings.status_list_ttl
        )

    def status_list_claims(self, list_id: int) -> dict[str, Any]:
        return self.status_lists.claims(list_id, self.status_list_uri(list_id), self.settings.status_list_ttl)

    def find_credentials(self, query: LedgerQuery) -> list[dict[str, Any]]:
        """Ledger records matching `query`, newest first, each with its current `state`.

        The store's lock is held for one history segment at a time, so that issuing goes on
        while a search reads the whole ledger."""
        if query.state is not None and query.state not in STATES:
            raise ServiceError(f"state must be one of {', '.join(STATES)}")
        limit = max(1, min(query.limit, 1000))
        text = query.text.strip()
        with self.store.lock:
            exact = self.store.history.get("records", text) if text else None
            if exact is not None and exact.get("kind") == CREDENTIAL:
                return [self._ledger_view(exact)]
            if text and query.holder_ids is None:
                holder_ids = {h["holder_id"] for h in self._holders.search(text, 1000)}
                query = replace(query, holder_ids=holder_ids)
            numbers = list(reversed(self.store.history.segment_numbers()))
        matches = matcher(query, self._state_of)
        found: list[dict[str, Any]] = []
        for number in numbers:
            with self.store.lock:
                rows = self.store.history.segment_rows("records", number)
            found += [self._ledger_view(row) for row in rows if matches(row)][: limit - len(found)]
            if len(found) >= limit:
                break
        return found

    def credential_record(self, record_id: str) -> dict[str, Any]:
        with self.store.lock:
            return self._ledger_view(self._credential(record_id))

    def change_credential_status(
        self, record_id: str, action: str, operator: str | None = None, reason: str = ""
    ) -> dict[str, Any]:
        """Revoke, suspend or unsuspend one credential: the status list changes, the ledger and
        the audit log say who did it and why, and verifiers see it within the list's ttl."""
        if action not in ACTIONS:
            raise ServiceError(f"action must be one of {', '.join(ACTIONS)}")
        if len(reason) > 500:
            raise ServiceError("the reason is longer than 500 characters")
        with self.store.lock:
            self._change_status(record_id, action, operator, reason.strip())
            view = self._ledger_view(self._credential(record_id))
        self._publish(events.CREDENTIAL_STATUS_CHANGED, view["offer_id"], record_id=record_id, state=view["state"])
        return view

    # ----- internals -----

    def _recover_interrupted_issuances(self) -> None:
        """Undo what a crash left half-written. An issuance writes the ledger first and the live
        offer last, and answers the wallet after both: so a ledger record that its still-live
        offer does not list is a credential no wallet received. It is revoked and marked
        `undelivered`, and an archive record of an offer that is still live is dropped, so the
        wallet's retry is served afresh. Only the newest two segments can hold such records."""
        with self.store.lock:
            live = {document["offer_id"]: document for document in self.store.offers.all()}
            if not live:
                return
            history = self.store.history
            for number in history.segment_numbers()[-2:]:
                for row in history.segment_rows("records", number):
                    offer = live.get(row.get("offer_id", ""))
                    if offer is None:
                        continue
                    if row.get("kind") == "offer":
                        history.remove("records", row["id"])
                        continue
                    delivered = {record_id for entry in offer["issued"] for record_id in entry["record_ids"]}
                    if row.get("kind") == CREDENTIAL and row["id"] not in delivered and not row.get("undelivered"):
                        self._mark_undelivered(row)

    def _mark_undelivered(self, record: Mapping[str, Any]) -> None:
        self._record_status_change(record, INVALID, "revoke", None, "never delivered", undelivered=True)
        self._audit(None, "credential_undelivered", record["id"], offer_id=record["offer_id"])

    def _accepted_claims(self, config_ids: list[str], claims: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        if not isinstance(claims, Mapping):
            raise ServiceError("claims must be a JSON object of claim names and values")
        known = {spec.name for c in config_ids for spec in self.credential_types[c].claims}
        extra = sorted(set(claims) - known)
        if extra:
            raise ServiceError(f"claims not defined by {', '.join(config_ids)}: {', '.join(extra)}")
        return {c: self.credential_types[c].validate_claims(claims) for c in config_ids}

    def _pre_authorized_code(self, offer_id: str, reference_secret: str) -> str:
        """Derived from the offer's reference secret, so a by-reference offer can be served again
        without the code being stored anywhere in clear."""
        return f"{offer_id}.{self._hasher.digest('code:' + reference_secret)[:40]}"

    def _issuer_state(self, offer_id: str, reference_secret: str) -> str:
        """An authorization code offer's `issuer_state`, derived like the pre-authorized code."""
        return f"{offer_id}.{self._hasher.digest('state:' + reference_secret)[:40]}"

    def _offer_object(self, document: Mapping[str, Any], reference_secret: str) -> dict[str, Any]:
        """The Credential Offer (OID4VCI §4.1.1): issuer, configuration ids and the grant, no claims."""
        offer: dict[str, Any] = {
            "credential_issuer": self.issuer_url,
            "credential_configuration_ids": list(document["config_ids"]),
        }
        if document.get("grant") == "authorization_code":
            issuer_state = self._issuer_state(document["offer_id"], reference_secret)
            return {**offer, "grants": {"authorization_code": {"issuer_state": issuer_state}}}
        grant: dict[str, Any] = {
            "pre-authorized_code": self._pre_authorized_code(document["offer_id"], reference_secret)
        }
        if document["tx_code_hash"]:
            grant["tx_code"] = {
                "input_mode": "numeric",
                "length": self.settings.tx_code_length,
                "description": TX_CODE_DESCRIPTION,
            }
        return {**offer, "grants": {PRE_AUTHORIZED_GRANT: grant}}

    def _wrong_tx_code(self, document: dict[str, Any]) -> None:
        attempts = document["tx_attempts"] + 1
        left = self.settings.tx_code_max_attempts - attempts
        offer_id = document["offer_id"]
        if left <= 0:
            self._archive({**document, "tx_attempts": attempts}, BURNED)
            self._publish(events.OFFER_BURNED, offer_id, attempts=attempts)
            raise InvalidGrant("the transaction code is wrong; the offer is now invalid")
        self._update_live(offer_id, tx_attempts=attempts, step=events.TOKEN_FAILED, detail={"attempts_left": left})
        self._publish(events.TOKEN_FAILED, offer_id, reason="wrong transaction code", attempts_left=left)
        raise InvalidGrant("the transaction code is wrong")

    def _granted_config_ids(self, document: Mapping[str, Any], requested: list[str] | None) -> list[str]:
        """All offered configurations, or the requested subset (OID4VCI §6.1.1)."""
        if requested is None:
            return list(document["config_ids"])
        not_offered = [c for c in requested if c not in document["config_ids"]]
        if not_offered:
            raise InvalidAuthorizationDetails(f"not in the offer: {', '.join(not_offered)}")
        return list(dict.fromkeys(requested))

    def _token_result(
        self,
        offer_id: str,
        config_ids: list[str],
        with_details: bool,
        refresh_token: str | None,
        client_id: str | None,
        jkt: str | None,
    ) -> TokenResult:
        identifiers = {f"{c}:1": c for c in config_ids} if with_details else {}
        claims: dict[str, Any] = {"o": offer_id, "c": config_ids}
        if identifiers:
            claims["i"] = identifiers
        if client_id is not None:
            claims["k"] = client_id
        if jkt is not None:
            claims["j"] = jkt
        ttl = self.settings.access_token_ttl
        details = None
        if with_details:
            details = [
                {"type": "openid_credential", "credential_configuration_id": c, "credential_identifiers": [i]}
                for i, c in identifiers.items()
            ]
        token_type = "DPoP" if jkt else "Bearer"
        return TokenResult(self._tokens.seal(claims, ttl), ttl, details, refresh_token, token_type)

    def _offer_for_grant(self, grant: AccessGrant) -> dict[str, Any]:
        document = self._live_offer(grant.offer_id)
        if document is None:
            raise CredentialRequestDenied("this offer is complete or no longer valid")
        return document

    def _open_transaction(
        self, document: dict[str, Any], config_id: str, holder_jwks: list[dict[str, Any]]
    ) -> IssuanceResult:
        if document.get("transaction"):
            raise CredentialRequestDenied("a deferred issuance is already waiting for this offer")
        transaction_id = new_secret(24)
        transaction = {"hash": self._hasher.digest(transaction_id), "config_id": config_id, "holder_jwks": holder_jwks}
        self._update_live(document["offer_id"], state=PENDING, transaction=transaction, step=events.CREDENTIAL_DEFERRED)
        self._publish(events.CREDENTIAL_DEFERRED, document["offer_id"], config_id=config_id)
        return IssuanceResult(transaction_id=transaction_id, interval=self.settings.deferred_interval)

    def _issue(self, document: dict[str, Any], config_id: str, holder_jwks: list[dict[str, Any]]) -> IssuanceResult:
        credential_type = self.credential_types[config_id]
        now = int(self.clock())
        issued_at = now - now % ROUNDING
        expires_at = issued_at + credential_type.validity_days * 86400  # rounded too, or it gives iat away
        signer = self.keys.active
        credentials, records = [], []
        places = self.status_lists.allocate(len(holder_jwks))
        for holder_jwk, place in zip(holder_jwks, places, strict=True):
            credential_id = f"urn:uuid:{uuid.uuid4()}"
            status = {"status_list": {"idx": place.index, "uri": self.status_list_uri(place.list_id)}}
            credentials.append(
                issue_credential(
                    credential_type.format,
                    signer=signer,
                    issuer=self.issuer_url,
                    vct=credential_type.vct,
                    types=credential_type.types,
                    claims=document["claims"][config_id],
                    holder_jwk=holder_jwk,
                    issued_at=issued_at,
                    expires_at=expires_at,
                    credential_id=credential_id,
                    status=status,
                )
            )
            records.append(
                {
                    "kind": "credential",
                    "credential_id": credential_id,
                    "offer_id": document["offer_id"],
                    "config_id": config_id,
                    "format": credential_type.format,
                    "issued_at": now,
                    "expires_at": expires_at,
                    "operator": document.get("operator"),
                    "holder_id": document.get("holder_id"),
                    "kid": signer.kid,
                    "holder_jkt": _thumbprint(holder_jwk),
                    "status_list": {"list": place.list_id, "idx": place.index},
                    "status_changes": [],
                    "notifications": [],
                }
            )
        complete = {config_id, *(e["config_id"] for e in document["issued"])} >= set(
            document.get("granted", document["config_ids"])
        )
        # When the offer is complete, its archive record's durable write covers these too.
        record_ids = self.store.history.extend("records", records, durable=not complete)
        issued = [*document["issued"], {"config_id": config_id, "record_ids": record_ids, "at": now}]
        step = _step(now, events.CREDENTIAL_ISSUED, {"config_id": config_id, "count": len(credentials)})
        if complete:
            self._archive({**document, "issued": issued, "timeline": [*document["timeline"], step]}, ISSUED)
        else:
            self._update_live(document["offer_id"], issued=issued, transaction=None, step=events.CREDENTIAL_ISSUED)
        self._publish(events.CREDENTIAL_ISSUED, document["offer_id"], config_id=config_id, count=len(credentials))
        # One notification id per Credential Response (§8.3): the first credential's ledger record.
        return IssuanceResult(credentials=credentials, notification_id=record_ids[0])

    def _decide(self, offer_id: str, state: str, kind: str, operator: str | None, reason: str) -> dict[str, Any]:
        with self.store.lock:
            document = self._live_offer(offer_id)
            if document is None:
                raise ServiceError(f"no live offer {offer_id!r}", status=404, code="not_found")
            if not document["deferred"]:
                raise ServiceError("this offer is issued immediately; there is nothing to approve")
            if document.get("decision"):
                raise ServiceError(f"this offer was already {document['decision']}", status=409, code="conflict")
            detail = {"operator": operator, **({"reason": reason} if reason else {})}
            # A waiting transaction moves on; an offer not yet redeemed just keeps the decision.
            fields = {"decision": state, **({"state": state} if document["state"] == PENDING else {})}
            self._update_live(offer_id, step=kind, detail=detail, **fields)
            self._audit(operator, kind, offer_id, **({"reason": reason} if reason else {}))
            view = _public_view(self._live_offer(offer_id) or document)
        self._publish(kind, offer_id, **detail)
        return view

    def _notification_steps(self, document: Mapping[str, Any]) -> list[dict[str, Any]]:
        """What wallets reported about this offer's credentials, kept on their ledger records."""
        steps = []
        for entry in document.get("issued", []):
            record = self.store.history.get("records", entry["record_ids"][0])
            for notification in (record or {}).get("notifications", []):
                detail = {"event": notification["event"], "config_id": entry["config_id"]}
                steps.append(_step(notification["at"], events.NOTIFICATION_RECEIVED, detail))
        return steps

    def _live_offer(self, offer_id: str) -> dict[str, Any] | None:
        found = self.store.offers.get(Query().offer_id == offer_id)
        return dict(found) if found else None

    def _update_live(
        self,
        offer_id: str,
        *,
        step: str | None = None,
        detail: dict[str, Any] | None = None,
        durable: bool = True,
        **fields: Any,
    ) -> None:
        now = int(self.clock())
        if fields.get("state") == REDEEMED:
            fields["redeemed_at"] = now

        def change(row: dict[str, Any]) -> None:
            row.update(fields)
            if step:
                row["timeline"] = [*row["timeline"], _step(now, step, detail)]

        self.store.offers.update(change, Query().offer_id == offer_id, durable=durable)

    def _archive(self, document: Mapping[str, Any], final_state: str) -> None:
        """Move a finished offer to the history, without its secrets or claim values."""
        archived = {
            key: value
            for key, value in document.items()
            if key not in ("claims", "code_hash", "tx_code_hash", "reference_hash", "refresh_hash", "transaction")
        }
        archived.update(kind="offer", state=final_state, archived_at=int(self.clock()))
        self.store.history.append("records", archived)
        self.store.offers.remove(Query().offer_id == document["offer_id"])

    def _credential(self, record_id: str) -> dict[str, Any]:
        record = self.store.history.get("records", record_id) if isinstance(record_id, str) else None
        if record is None or record.get("kind") != CREDENTIAL:
            raise ServiceError(f"no issued credential {str(record_id)[:60]!r}", status=404, code="not_found")
        return record

    def _revocable(self, record_id: str) -> dict[str, Any]:
        record = self._credential(record_id)
        if self.status_lists.status(place_of(record)) not in ACTIONS["revoke"][0]:
            raise ServiceError(f"credential {record_id} is already revoked", status=409, code="conflict")
        return record

    def _state_of(self, record: Mapping[str, Any]) -> str:
        status = self.status_lists.status(place_of(record)) if "status_list" in record else None
        return state_of(record, status, self.clock())

    def _ledger_view(self, record: Mapping[str, Any]) -> dict[str, Any]:
        view = {key: value for key, value in record.items() if key != "key"}
        view["state"] = self._state_of(record)
        if "status_list" in record:
            view["status_list"] = {**record["status_list"], "uri": self.status_list_uri(record["status_list"]["list"])}
        return view

    def _change_status(self, record_id: str, action: str, operator: str | None, reason: str) -> None:
        """The caller holds the store lock."""
        record = self._credential(record_id)
        if "status_list" not in record:
            raise ServiceError("this credential was issued without a status list entry", status=409, code="conflict")
        allowed_from, new_status = ACTIONS[action]
        current = self.status_lists.status(place_of(record))
        if current not in allowed_from:
            state = state_of(record, current, self.clock())
            raise ServiceError(f"cannot {action} a credential that is {state}", status=409, code="conflict")
        self._record_status_change(record, new_status, action, operator, reason)
        self._audit(operator, f"credential_{action}d", record_id, **({"reason": reason} if reason else {}))

    def _record_status_change(
        self,
        record: Mapping[str, Any],
        status: int,
        action: str,
        operator: str | None,
        reason: str,
        **fields: Any,
    ) -> None:
        """The new status in the list and the change on the ledger record; the caller holds the lock."""
        if "status_list" in record:
            self.status_lists.set_status(place_of(record), status)
        change = {"at": int(self.clock()), "action": action, "operator": operator, "reason": reason}
        self.store.history.update(
            "records",
            record["id"],
            lambda row: row.update(status_changes=[*row.get("status_changes", []), change], **fields),
        )

    def _audit(self, operator: str | None, action: str, subject: str, **detail: Any) -> None:
        """Record an operator's action; the caller holds the store lock."""
        self.store.history.append(AUDIT_TABLE, audit_entry(int(self.clock()), operator, action, subject, detail))

    def _publish(self, kind: str, offer_id: str, **detail: Any) -> None:
        self.events.publish(Event(kind, offer_id, detail))

    # ----- backup and restore (issuer.backup) -----

    def backup(self, destination: Any, operator: str | None = None) -> dict[str, Any]:
        """Write the data folder as one tar.gz to `destination` (a Path or a binary file).

        Consistent while wallets are served: the files are copied under the store lock.
        """
        info = create_backup(self.settings.data_dir, destination, lock=self.store.lock)
        with self.store.lock:
            self._audit(operator, "backup_created", "", files=info.files)
        return {"files": info.files, "size": info.size, "created_at": info.created_at}

    def restore_at_next_start(self, archive: Path, operator: str | None = None) -> dict[str, Any]:
        """Check a backup and stage it: it replaces the data when the issuer next starts.

        A running issuer cannot swap its data folder under itself; at the next start the
        current contents move to `<data>.before-restore-<time>`, nothing is deleted.
        """
        try:
            checked = stage_restore(Path(archive), self.settings.data_dir)
        except BackupError as error:
            raise ServiceError(str(error)) from error
        with self.store.lock:
            self._audit(operator, "restore_staged", "", files=checked.files, backup_created_at=checked.created_at)
        return {"files": checked.files, "created_at": checked.created_at}


def _step(at: int, event: str, detail: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"at": at, "event": event, **({"detail": dict(detail)} if detail else {})}


def _public_view(document: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "offer_id": document["offer_id"],
        "state": document["state"],
        "credential_configuration_ids": list(document["config_ids"]),
        "deferred": document.get("deferred", False),
        "decision": document.get("decision"),
        "created_at": document["created_at"],
        "expires_at": document["expires_at"],
        "operator": document.get("operator"),
        "holder_id": document.get("holder_id"),
        "tx_attempts": document.get("tx_attempts", 0),
        "issued": [
            {"config_id": e["config_id"], "count": len(e["record_ids"]), "at": e["at"]}
            for e in document.get("issued", [])
        ],
        "timeline": list(document.get("timeline", [])),
    }


def _by_operator(operator: str) -> Callable[[Mapping[str, Any]], bool]:
    return lambda entry: entry.get("operator") == operator


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _thumbprint(holder_jwk: Mapping[str, Any]) -> str:
    if holder_jwk.get("kty") == "EC":
        return es256.jwk_thumbprint(holder_jwk)
    return jwk.JWK(**holder_jwk).thumbprint()
