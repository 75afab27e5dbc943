"""The service's typed records and the values it exchanges with its callers.

An offer and a sign-in are frozen records with an explicit state; every transition returns a
new record, which the service stores with a compare-and-set on its `version`. Documents in
the store keep the field names they have always had, so an existing data folder opens as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from issuer import events
from issuer.protocol.authorization import AuthorizationRequest

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
NOTIFICATION_EVENTS = ("credential_accepted", "credential_failure", "credential_deleted")
SECRET_FIELDS = ("claims", "code_hash", "issuer_state_hash", "tx_code_hash", "reference_hash", "refresh_hash")


class OfferState(StrEnum):
    """Where an offer stands. The first six are live (in the state file); the rest are final, though an
    issued offer stays live while its access token lasts, for repeat requests (OID4VCI §8)."""

    CREATED = "created"
    FETCHED = "fetched"
    REDEEMED = "redeemed"
    PENDING = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    ISSUED = "issued"
    EXPIRED = "expired"
    BURNED = "burned"
    DENIED = "denied"
    CANCELLED = "cancelled"  # by the desk: nothing of it works any more


UNREDEEMED = frozenset({OfferState.CREATED, OfferState.FETCHED})
FINISHED = frozenset(
    {OfferState.ISSUED, OfferState.EXPIRED, OfferState.BURNED, OfferState.DENIED, OfferState.CANCELLED}
)
# The one vocabulary of the desk: what the app and the command line call each state (README, "Offer states").
STATE_WORDS: dict[OfferState, str] = {
    OfferState.CREATED: "created",
    OfferState.FETCHED: "scanned",
    OfferState.REDEEMED: "redeemed",
    OfferState.PENDING: "waiting for approval",
    OfferState.APPROVED: "approved",
    OfferState.REJECTED: "rejected",
    OfferState.ISSUED: "issued",
    OfferState.EXPIRED: "expired",
    OfferState.BURNED: "blocked",
    OfferState.DENIED: "rejected",
    OfferState.CANCELLED: "cancelled",
}


class OfferGrant(StrEnum):
    PRE_AUTHORIZED = "pre-authorized_code"
    AUTHORIZATION_CODE = "authorization_code"  # the wallet signs in and the desk confirms


class SignInState(StrEnum):
    PUSHED = "pushed"  # stored by PAR, its request_uri not yet used
    WAITING = "waiting"  # the browser waits for the desk
    APPROVED = "approved"
    DENIED = "denied"
    REDIRECTED = "redirected"  # sent back to the wallet with a code
    USED = "used"


@dataclass(frozen=True)
class Step:
    """One entry of an offer's timeline."""

    at: int
    event: str
    detail: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "event": self.event, **({"detail": dict(self.detail)} if self.detail else {})}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Step:
        return cls(data["at"], data["event"], data.get("detail"))


@dataclass(frozen=True)
class Delivery:
    """Credentials of one configuration handed to the wallet, by their ledger records."""

    config_id: str
    record_ids: tuple[str, ...]
    at: int

    def to_json(self) -> dict[str, Any]:
        return {"config_id": self.config_id, "record_ids": list(self.record_ids), "at": self.at}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Delivery:
        return cls(data["config_id"], tuple(data["record_ids"]), data["at"])


@dataclass(frozen=True)
class Transaction:
    """A deferred issuance waiting for the desk (OID4VCI §9): what to issue once approved."""

    hash: str
    config_id: str
    holder_jwks: tuple[Mapping[str, Any], ...]
    key_attestation: Mapping[str, Any] | None = None  # what the ledger keeps of the keys' attestation

    def to_json(self) -> dict[str, Any]:
        data = {"hash": self.hash, "config_id": self.config_id, "holder_jwks": [dict(k) for k in self.holder_jwks]}
        return {**data, **({"key_attestation": dict(self.key_attestation)} if self.key_attestation else {})}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Transaction:
        return cls(data["hash"], data["config_id"], tuple(data["holder_jwks"]), data.get("key_attestation"))


@dataclass(frozen=True)
class Offer:
    """A live Credential Offer and everything a wallet has done with it."""

    offer_id: str
    config_ids: tuple[str, ...]
    claims: Mapping[str, Mapping[str, Any]]  # config id -> accepted claims
    state: OfferState
    grant: OfferGrant
    created_at: int
    expires_at: int
    reference_hash: str
    code_hash: str | None = None
    issuer_state_hash: str | None = None
    tx_code_hash: str | None = None
    tx_attempts: int = 0
    deferred: bool = False
    by_reference: bool = False
    operator: str | None = None
    holder_id: str | None = None
    holder_name: str | None = None  # whom it is for, kept in the archive and on the ledger (not a claim)
    issued: tuple[Delivery, ...] = ()
    timeline: tuple[Step, ...] = ()
    decision: OfferState | None = None  # the desk's decision on a deferred issuance
    transaction: Transaction | None = None
    granted: tuple[str, ...] | None = None  # what the access token covers, once redeemed
    refresh_hash: str | None = None
    client_id: str | None = None
    identifiers: bool = False  # the token response named credential_identifiers
    jkt: str | None = None  # the DPoP key the token is bound to
    redeemed_at: int | None = None
    authorization_id: str | None = None  # the sign-in bound to it (Authorization Code flow)
    wallet: Mapping[str, str] | None = None  # the attested wallet that redeemed it (OID4VCI Appendix E)
    version: int = 0

    @property
    def unredeemed(self) -> bool:
        return self.state in UNREDEEMED

    @property
    def covered(self) -> tuple[str, ...]:
        return self.granted if self.granted is not None else self.config_ids

    @property
    def delivered_record_ids(self) -> set[str]:
        return {record_id for delivery in self.issued for record_id in delivery.record_ids}

    def issued_config_ids(self) -> set[str]:
        return {delivery.config_id for delivery in self.issued}

    def requests_for(self, config_id: str) -> int:
        """How many Credential Requests for `config_id` were answered with credentials."""
        return sum(delivery.config_id == config_id for delivery in self.issued)

    @property
    def last_use(self) -> int:
        """When the offer's code was redeemed or, later, its credentials last delivered."""
        return max([self.redeemed_at or self.created_at, *(delivery.at for delivery in self.issued)])

    def with_step(self, now: int, event: str, detail: Mapping[str, Any] | None = None, **changes: Any) -> Offer:
        return replace(self, timeline=(*self.timeline, Step(now, event, detail)), **changes)

    def fetched(self, now: int) -> Offer:
        return self.with_step(now, events.OFFER_FETCHED, state=OfferState.FETCHED)

    def redeemed(
        self,
        now: int,
        granted: tuple[str, ...],
        *,
        client_id: str | None,
        identifiers: bool,
        jkt: str | None,
        refresh_hash: str | None = None,
        wallet: Mapping[str, str] | None = None,
    ) -> Offer:
        return self.with_step(
            now,
            events.TOKEN_ISSUED,
            state=OfferState.REDEEMED,
            redeemed_at=now,
            granted=granted,
            client_id=client_id,
            identifiers=identifiers,
            jkt=jkt,
            refresh_hash=refresh_hash,
            wallet=wallet,
        )

    def with_refresh(self, refresh_hash: str) -> Offer:
        """A refresh token rotated (RFC 6749 §6): the old one stops working."""
        return replace(self, refresh_hash=refresh_hash)

    def wrong_tx_code(self, now: int, attempts_left: int) -> Offer:
        return self.with_step(
            now, events.TOKEN_FAILED, {"attempts_left": attempts_left}, tx_attempts=self.tx_attempts + 1
        )

    def waiting_for_desk(self, now: int, transaction: Transaction) -> Offer:
        return self.with_step(now, events.CREDENTIAL_DEFERRED, state=OfferState.PENDING, transaction=transaction)

    def decided(self, now: int, decision: OfferState, event: str, detail: Mapping[str, Any]) -> Offer:
        """A waiting transaction moves on; an offer not yet redeemed just keeps the decision."""
        state = decision if self.state == OfferState.PENDING else self.state
        return self.with_step(now, event, detail, decision=decision, state=state)

    def delivered(self, now: int, delivery: Delivery, *, complete: bool = False) -> Offer:
        """Credentials handed over; `complete`: every configuration it covers has now been delivered."""
        detail = {"config_id": delivery.config_id, "count": len(delivery.record_ids)}
        state = OfferState.ISSUED if complete else self.state
        return self.with_step(
            now, events.CREDENTIAL_ISSUED, detail, issued=(*self.issued, delivery), transaction=None, state=state
        )

    def archive_document(self, final_state: OfferState, now: int) -> dict[str, Any]:
        """The offer as the history keeps it: no secrets, no claim values."""
        document = self.to_document()
        for name in (*SECRET_FIELDS, "transaction"):
            document.pop(name, None)
        return {**document, "state": final_state, "archived_at": now}

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "offer_id": self.offer_id,
            "config_ids": list(self.config_ids),
            "claims": {config_id: dict(claims) for config_id, claims in self.claims.items()},
            "state": self.state,
            "grant": self.grant,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "reference_hash": self.reference_hash,
            "code_hash": self.code_hash,
            "issuer_state_hash": self.issuer_state_hash,
            "tx_code_hash": self.tx_code_hash,
            "tx_attempts": self.tx_attempts,
            "deferred": self.deferred,
            "by_reference": self.by_reference,
            "operator": self.operator,
            "holder_id": self.holder_id,
            "holder_name": self.holder_name,
            "issued": [delivery.to_json() for delivery in self.issued],
            "timeline": [step.to_json() for step in self.timeline],
        }
        optional = {
            "decision": self.decision,
            "transaction": self.transaction.to_json() if self.transaction else None,
            "granted": list(self.granted) if self.granted is not None else None,
            "refresh_hash": self.refresh_hash,
            "client_id": self.client_id,
            "identifiers": self.identifiers or None,
            "jkt": self.jkt,
            "redeemed_at": self.redeemed_at,
            "authorization_id": self.authorization_id,
            "wallet": dict(self.wallet) if self.wallet else None,
        }
        document.update({name: value for name, value in optional.items() if value is not None})
        return document

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Offer:
        decision, transaction, granted = document.get("decision"), document.get("transaction"), document.get("granted")
        return cls(
            offer_id=document["offer_id"],
            config_ids=tuple(document["config_ids"]),
            claims=document.get("claims", {}),
            state=OfferState(document["state"]),
            grant=OfferGrant(document.get("grant", OfferGrant.PRE_AUTHORIZED)),
            created_at=document["created_at"],
            expires_at=document["expires_at"],
            reference_hash=document.get("reference_hash", ""),
            code_hash=document.get("code_hash"),
            issuer_state_hash=document.get("issuer_state_hash"),
            tx_code_hash=document.get("tx_code_hash"),
            tx_attempts=document.get("tx_attempts", 0),
            deferred=document.get("deferred", False),
            by_reference=document.get("by_reference", False),
            operator=document.get("operator"),
            holder_id=document.get("holder_id"),
            holder_name=document.get("holder_name"),
            issued=tuple(Delivery.from_json(entry) for entry in document.get("issued", [])),
            timeline=tuple(Step.from_json(step) for step in document.get("timeline", [])),
            decision=OfferState(decision) if decision else None,
            transaction=Transaction.from_json(transaction) if transaction else None,
            granted=tuple(granted) if granted is not None else None,
            refresh_hash=document.get("refresh_hash"),
            client_id=document.get("client_id"),
            identifiers=bool(document.get("identifiers")),
            jkt=document.get("jkt"),
            redeemed_at=document.get("redeemed_at"),
            authorization_id=document.get("authorization_id"),
            wallet=document.get("wallet"),
            version=document.get("version", 0),
        )


def public_view(document: Mapping[str, Any]) -> dict[str, Any]:
    """What the desk and the admin API see of an offer, live (a document) or archived."""
    return {
        "offer_id": document["offer_id"],
        "state": str(document["state"]),
        "credential_configuration_ids": list(document["config_ids"]),
        "deferred": document.get("deferred", False),
        "decision": document.get("decision"),
        "created_at": document["created_at"],
        "expires_at": document["expires_at"],
        "operator": document.get("operator"),
        "holder_id": document.get("holder_id"),
        "holder_name": document.get("holder_name"),
        "grant": str(document.get("grant", OfferGrant.PRE_AUTHORIZED)),
        "tx_attempts": document.get("tx_attempts", 0),
        "issued": [
            {"config_id": e["config_id"], "count": len(e["record_ids"]), "at": e["at"]}
            for e in document.get("issued", [])
        ],
        "timeline": list(document.get("timeline", [])),
    }


@dataclass(frozen=True)
class SignIn:
    """An authorization request of the Authorization Code flow, from the push to the code's use."""

    auth_id: str
    request: AuthorizationRequest
    state: SignInState
    confirmation: str  # the code the browser shows and the desk compares
    created_at: int
    expires_at: int
    offer_id: str | None = None
    request_uri_hash: str | None = None
    session_hash: str | None = None
    code_hash: str | None = None
    code_expires_at: int | None = None
    client: str | None = None  # the address it came from (an IPv6 client by its /64)
    requested_at: float = 0.0  # created_at to the fraction of a second: the order in which they came
    version: int = 0

    @property
    def last_use(self) -> int:
        """When nothing of it can be used any more."""
        return max(self.expires_at, self.code_expires_at or 0)

    def finished(self, state: SignInState) -> SignIn:
        return replace(self, state=state, session_hash=None)

    def to_document(self) -> dict[str, Any]:
        return {
            "auth_id": self.auth_id,
            "request": self.request.to_json(),
            "state": self.state,
            "confirmation": self.confirmation,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "offer_id": self.offer_id,
            "request_uri_hash": self.request_uri_hash,
            "session_hash": self.session_hash,
            "code_hash": self.code_hash,
            "code_expires_at": self.code_expires_at,
            "client": self.client,
            "requested_at": self.requested_at,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> SignIn:
        return cls(
            auth_id=document["auth_id"],
            request=AuthorizationRequest.from_json(document["request"]),
            state=SignInState(document["state"]),
            confirmation=document["confirmation"],
            created_at=document["created_at"],
            expires_at=document["expires_at"],
            offer_id=document.get("offer_id"),
            request_uri_hash=document.get("request_uri_hash"),
            session_hash=document.get("session_hash"),
            code_hash=document.get("code_hash"),
            code_expires_at=document.get("code_expires_at"),
            client=document.get("client"),
            requested_at=document.get("requested_at", 0.0),
            version=document.get("version", 0),
        )


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
    grant: str = OfferGrant.PRE_AUTHORIZED


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
    record_ids: tuple[str, ...] = ()  # the ledger records of `credentials`


@dataclass(frozen=True)
class Progress:
    """Where a waiting browser stands: still waiting (show `confirmation`), or go to `location`."""

    confirmation: str | None = None
    location: str | None = None
    session: str | None = None
