"""Offers: made at the desk, fetched and redeemed by wallets, decided, finished and archived.

A live offer is in the store's `offers` table; every change is a transition of its record
saved with a compare-and-set, so a change made by another writer in between is never lost
or repeated. A finished offer moves to the archive without its secrets and claim values.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from issuer import events
from issuer.errors import Conflict, InvalidGrant, InvalidInput, NotFound
from issuer.protocol.codes import new_secret, new_tx_code
from issuer.protocol.credential_types import CredentialTypes
from issuer.records.holders import HolderDirectory
from issuer.service.context import Context
from issuer.service.ledger import Ledger
from issuer.service.types import (
    PRE_AUTHORIZED_GRANT,
    CreatedOffer,
    Offer,
    OfferGrant,
    OfferRequest,
    OfferState,
    public_view,
)
from issuer.storage.interfaces import Document

OFFER_SCHEME = "openid-credential-offer://"
TX_CODE_DESCRIPTION = "Enter the code the front desk gave you"
ABANDONED_AFTER = 30 * 86400  # live offers older than this leave the state file, whatever their state
MIN_TTL, MAX_TTL = 30, 7 * 86400
RECENT_LIMIT = 200


class Superseded(Exception):
    """A record changed by another writer between its read and its save."""


class Offers:
    def __init__(self, ctx: Context, types: CredentialTypes, ledger: Ledger, holders: HolderDirectory) -> None:
        self._ctx = ctx
        self._types = types
        self._ledger = ledger
        self._holders = holders

    # ----- the desk -----

    def create(self, request: OfferRequest) -> CreatedOffer:
        ctx = self._ctx
        config_ids = tuple(dict.fromkeys(request.credential_configuration_ids))
        claims = self._accepted_claims(config_ids, request.claims)
        grant = self._grant_of(request)
        if request.holder_id is not None and self._holders.get(request.holder_id) is None:
            raise NotFound(f"no holder {request.holder_id!r}")
        for record_id in request.replaces:
            self._ledger.check_revocable(record_id)
        now = ctx.now()
        ttl = request.expires_in or ctx.settings.offer_ttl
        if not MIN_TTL <= ttl <= MAX_TTL:
            raise InvalidInput("an offer must expire between 30 seconds and 7 days from now")
        offer_id = secrets.token_hex(8)  # hex: never mistaken for a command-line option
        reference_secret = new_secret(24)
        tx_code = new_tx_code(ctx.settings.tx_code_length) if request.tx_code else None
        by_code = grant == OfferGrant.AUTHORIZATION_CODE
        derive = self.issuer_state if by_code else self.pre_authorized_code
        grant_secret_hash = ctx.hasher.digest(derive(offer_id, reference_secret))
        offer = Offer(
            offer_id=offer_id,
            config_ids=config_ids,
            claims=claims,
            state=OfferState.CREATED,
            grant=grant,
            created_at=now,
            expires_at=now + ttl,
            reference_hash=ctx.hasher.digest(reference_secret),
            code_hash=None if by_code else grant_secret_hash,
            issuer_state_hash=grant_secret_hash if by_code else None,
            tx_code_hash=ctx.hasher.digest(tx_code) if tx_code else None,
            deferred=request.deferred,
            by_reference=request.by_reference,
            operator=request.operator,
            holder_id=request.holder_id,
        ).with_step(now, events.OFFER_CREATED)
        with ctx.transaction():
            ctx.store.offers.insert(offer_id, offer.to_document())
            ctx.audit(
                request.operator, "offer_created", offer_id, config_ids=list(config_ids), holder_id=request.holder_id
            )
            for record_id in request.replaces:
                self._ledger.apply_action(record_id, "revoke", request.operator, f"replaced by offer {offer_id}")
        credential_offer = self.offer_object(offer, reference_secret)
        if request.by_reference:
            reference = f"{ctx.issuer_url}/offers/{offer_id}.{reference_secret}"
            query = "credential_offer_uri=" + quote(reference, safe="")
        else:
            query = "credential_offer=" + quote(json.dumps(credential_offer, separators=(",", ":")), safe="")
        ctx.publish(events.OFFER_CREATED, offer_id, config_ids=list(config_ids), operator=request.operator)
        return CreatedOffer(offer_id, f"{OFFER_SCHEME}?{query}", tx_code, credential_offer, offer.expires_at)

    def approve(self, offer_id: str, operator: str | None = None) -> dict[str, Any]:
        return self._decide(offer_id, OfferState.APPROVED, events.ISSUANCE_APPROVED, operator, "")

    def reject(self, offer_id: str, operator: str | None = None, reason: str = "") -> dict[str, Any]:
        return self._decide(offer_id, OfferState.REJECTED, events.ISSUANCE_REJECTED, operator, reason)

    def status(self, offer_id: str) -> dict[str, Any]:
        with self._ctx.transaction():
            document = self._ctx.store.offers.get(offer_id) or self._ctx.store.archive.find(offer_id)
            if document is None:
                raise NotFound(f"no offer {offer_id!r}")
            view = public_view(document)
            view["timeline"] += self._notification_steps(document)
            return view

    def live(self, states: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Live offers (not yet issued, expired or archived), newest first."""
        wanted = set(states) if states else None
        rows = [d for d in self._ctx.store.offers.all() if wanted is None or d["state"] in wanted]
        return [public_view(d) for d in sorted(rows, key=lambda d: d["created_at"], reverse=True)]

    def recent(self, limit: int = RECENT_LIMIT) -> list[dict[str, Any]]:
        """Live offers, then finished ones from the archive, newest first (for the desk's table)."""
        rows = self.live()
        for archived in self._ctx.store.archive.newest():
            if len(rows) >= limit:
                break
            view = public_view(archived)
            view["timeline"] += self._notification_steps(archived)
            rows.append(view)
        return rows[:limit]

    # ----- the wallet -----

    def by_reference(self, reference: str) -> dict[str, Any]:
        """The Credential Offer behind a `credential_offer_uri` (OID4VCI §4.1.3)."""
        ctx = self._ctx
        offer_id, _, reference_secret = reference.partition(".")
        with ctx.transaction():
            offer = self.get(offer_id)
            if offer is None or not ctx.hasher.matches(reference_secret, offer.reference_hash):
                raise NotFound("no such credential offer")
            if not offer.unredeemed or offer.expires_at < ctx.clock():
                raise NotFound("this credential offer is no longer valid")
            first_fetch = offer.state == OfferState.CREATED
            if first_fetch:  # a timeline detail: no answer depends on it being on disk
                self.save(offer, offer.fetched(ctx.now()), durable=False)
        if first_fetch:
            ctx.publish(events.OFFER_FETCHED, offer_id)
        return self.offer_object(offer, reference_secret)

    # ----- for the other parts -----

    def get(self, offer_id: str) -> Offer | None:
        document = self._ctx.store.offers.get(offer_id) if offer_id else None
        return Offer.from_document(document) if document else None

    def save(self, current: Offer, new: Offer, *, durable: bool = True) -> Offer:
        """Store a transition of `current`; Superseded when another writer changed it first."""
        if not self._ctx.store.offers.replace(
            current.offer_id, new.to_document(), version=current.version, durable=durable
        ):
            raise Superseded(current.offer_id)
        return Offer.from_document({**new.to_document(), "version": current.version + 1})

    def archive(self, offer: Offer, final_state: OfferState) -> None:
        """Move a finished offer to the archive: first the archive record, then out of the live table, so
        that a crash in between leaves it live (the next start drops the early archive record)."""
        self._ctx.store.archive.add(offer.archive_document(final_state, self._ctx.now()))
        if not self._ctx.store.offers.delete(offer.offer_id, version=offer.version):
            raise Superseded(offer.offer_id)

    def burn(self, offer: Offer, reason: str) -> None:
        """End an offer that was attacked (a code used twice, too many wrong transaction codes)."""
        self.archive(offer, OfferState.BURNED)
        self._ctx.audit(None, "offer_burned", offer.offer_id, reason=reason)

    def wrong_tx_code(self, offer: Offer) -> InvalidGrant:
        """Count a wrong transaction code; the error to answer, after the last attempt with the offer burned."""
        ctx = self._ctx
        attempts = offer.tx_attempts + 1
        left = ctx.settings.tx_code_max_attempts - attempts
        if left <= 0:
            self.archive(offer.wrong_tx_code(ctx.now(), 0), OfferState.BURNED)
            ctx.publish(events.OFFER_BURNED, offer.offer_id, attempts=attempts)
            return InvalidGrant("the transaction code is wrong; the offer is now invalid")
        self.save(offer, offer.wrong_tx_code(ctx.now(), left))
        ctx.publish(events.TOKEN_FAILED, offer.offer_id, reason="wrong transaction code", attempts_left=left)
        return InvalidGrant("the transaction code is wrong")

    def expire(self) -> list[str]:
        """Archive offers whose code or access token can no longer be used; their ids."""
        ctx = self._ctx
        now = ctx.clock()
        token_ttl = ctx.settings.access_token_ttl
        moved = []

        def unusable(offer: Offer) -> bool:
            return (
                (offer.unredeemed and offer.expires_at < now)
                or (offer.state == OfferState.REDEEMED and (offer.redeemed_at or now) + token_ttl < now)
                or offer.created_at + ABANDONED_AFTER < now  # a deferred issuance nobody came back for
            )

        with ctx.transaction():
            candidates = [d["offer_id"] for d in ctx.store.offers.all() if unusable(Offer.from_document(d))]
            for offer_id in candidates:
                offer = self.get(offer_id)  # read again, and held: another process may have changed it
                if offer is not None and unusable(offer):
                    self.archive(offer, OfferState.EXPIRED)
                    moved.append(offer.offer_id)
        for offer_id in moved:
            ctx.publish(events.OFFER_EXPIRED, offer_id)
        return moved

    def pre_authorized_code(self, offer_id: str, reference_secret: str) -> str:
        """Derived from the offer's reference secret, so a by-reference offer can be served again
        without the code being stored anywhere in clear."""
        return f"{offer_id}.{self._ctx.hasher.digest('code:' + reference_secret)[:40]}"

    def issuer_state(self, offer_id: str, reference_secret: str) -> str:
        """An authorization code offer's `issuer_state`, derived like the pre-authorized code."""
        return f"{offer_id}.{self._ctx.hasher.digest('state:' + reference_secret)[:40]}"

    def offer_object(self, offer: Offer, reference_secret: str) -> dict[str, Any]:
        """The Credential Offer (OID4VCI §4.1.1): issuer, configuration ids and the grant, no claims."""
        body: dict[str, Any] = {
            "credential_issuer": self._ctx.issuer_url,
            "credential_configuration_ids": list(offer.config_ids),
        }
        if offer.grant == OfferGrant.AUTHORIZATION_CODE:
            issuer_state = self.issuer_state(offer.offer_id, reference_secret)
            return {**body, "grants": {"authorization_code": {"issuer_state": issuer_state}}}
        grant: dict[str, Any] = {"pre-authorized_code": self.pre_authorized_code(offer.offer_id, reference_secret)}
        if offer.tx_code_hash:
            grant["tx_code"] = {
                "input_mode": "numeric",
                "length": self._ctx.settings.tx_code_length,
                "description": TX_CODE_DESCRIPTION,
            }
        return {**body, "grants": {PRE_AUTHORIZED_GRANT: grant}}

    # ----- internals -----

    def _decide(
        self, offer_id: str, decision: OfferState, event: str, operator: str | None, reason: str
    ) -> dict[str, Any]:
        ctx = self._ctx
        with ctx.transaction():
            offer = self.get(offer_id)
            if offer is None:
                raise NotFound(f"no live offer {offer_id!r}")
            if not offer.deferred:
                raise InvalidInput("this offer is issued immediately; there is nothing to approve")
            if offer.decision:
                raise Conflict(f"this offer was already {offer.decision}")
            detail = {"operator": operator, **({"reason": reason} if reason else {})}
            decided = self.save(offer, offer.decided(ctx.now(), decision, event, detail))
            ctx.audit(operator, event, offer_id, **({"reason": reason} if reason else {}))
        ctx.publish(event, offer_id, **detail)
        return public_view(decided.to_document())

    def _grant_of(self, request: OfferRequest) -> OfferGrant:
        try:
            grant = OfferGrant(request.grant)
        except ValueError as error:
            raise InvalidInput(f"grant must be one of {', '.join(OfferGrant)}") from error
        if grant == OfferGrant.AUTHORIZATION_CODE and (request.tx_code or request.deferred):
            raise InvalidInput("an authorization code offer is confirmed at the desk: no transaction code or approval")
        return grant

    def _accepted_claims(self, config_ids: tuple[str, ...], claims: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        if not config_ids:
            raise InvalidInput("choose at least one credential type")
        unknown = [c for c in config_ids if c not in self._types]
        if unknown:
            raise InvalidInput(f"unknown credential type: {', '.join(unknown)}")
        if not isinstance(claims, Mapping):
            raise InvalidInput("claims must be a JSON object of claim names and values")
        known = {spec.name for c in config_ids for spec in self._types[c].claims}
        extra = sorted(set(claims) - known)
        if extra:
            raise InvalidInput(f"claims not defined by {', '.join(config_ids)}: {', '.join(extra)}")
        return {c: self._types[c].validate_claims(claims) for c in config_ids}

    def _notification_steps(self, document: Document) -> list[dict[str, Any]]:
        """What wallets reported about this offer's credentials, kept on their ledger records."""
        steps = []
        for entry in document.get("issued", []):
            record = self._ctx.store.ledger.get(entry["record_ids"][0])
            for notification in (record or {}).get("notifications", []):
                detail = {"event": notification["event"], "config_id": entry["config_id"]}
                steps.append({"at": notification["at"], "event": events.NOTIFICATION_RECEIVED, "detail": detail})
        return steps
