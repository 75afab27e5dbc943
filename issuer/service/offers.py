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
from issuer.crypto.certificates import IssuerCertificates
from issuer.errors import Conflict, InvalidGrant, InvalidInput, NotFound
from issuer.protocol.codes import new_secret, new_tx_code
from issuer.protocol.credential_types import MSO_MDOC, CredentialTypes
from issuer.records.holders import HolderDirectory
from issuer.service.context import Context
from issuer.service.ledger import Ledger
from issuer.service.types import (
    PRE_AUTHORIZED_GRANT,
    STATE_WORDS,
    CreatedOffer,
    Offer,
    OfferGrant,
    OfferRequest,
    OfferState,
    public_view,
)
from issuer.storage.interfaces import DUE, Document

OFFER_SCHEME = "openid-credential-offer://"
TX_CODE_DESCRIPTION = "Enter the code the front desk gave you"
ABANDONED_AFTER = 30 * 86400  # live offers older than this leave the state file, whatever their state
MIN_TTL, MAX_TTL = 30, 7 * 86400
RECENT_LIMIT = 200


class Superseded(Exception):
    """A record changed by another writer between its read and its save."""


class Offers:
    def __init__(
        self,
        ctx: Context,
        types: CredentialTypes,
        ledger: Ledger,
        holders: HolderDirectory,
        certificates: IssuerCertificates,
    ) -> None:
        self._ctx = ctx
        self._types = types
        self._ledger = ledger
        self._holders = holders
        self._certificates = certificates

    # ----- the desk -----

    def create(self, request: OfferRequest) -> CreatedOffer:
        ctx = self._ctx
        config_ids = tuple(dict.fromkeys(request.credential_configuration_ids))
        claims = self._accepted_claims(config_ids, request.claims)
        grant = self._grant_of(request)
        holder = self._holders.get(request.holder_id) if request.holder_id is not None else None
        if request.holder_id is not None and holder is None:
            raise NotFound("There is no holder with this id: choose the holder again on the Holders page")
        for record_id in request.replaces:
            self._ledger.check_revocable(record_id)
        now = ctx.now()
        ttl = request.expires_in or ctx.settings.offer_ttl
        if not MIN_TTL <= ttl <= MAX_TTL:
            raise InvalidInput("An offer must expire between 30 seconds and 7 days from now")
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
            holder_name=holder_name(claims, holder),
        ).with_step(now, events.OFFER_CREATED)
        with ctx.transaction():
            ctx.store.offers.insert(offer_id, self._stored(offer))
            ctx.audit(
                request.operator,
                "offer_created",
                offer_id,
                config_ids=list(config_ids),
                holder_id=request.holder_id,
                holder_name=offer.holder_name,
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

    def cancel(self, offer_id: str, operator: str | None = None) -> dict[str, Any]:
        """End a live offer at the desk: from now on its pre-authorized code, transaction code,
        issuer_state and any access token given for it are refused; the audit log says who."""
        ctx = self._ctx
        with ctx.transaction():
            offer = self._live(offer_id)
            detail = {"operator": operator} if operator else None
            cancelled = offer.with_step(ctx.now(), events.OFFER_CANCELLED, detail)
            try:
                self.archive(cancelled, OfferState.CANCELLED)
            except Superseded as error:
                raise Conflict("The offer changed at this moment: look at it again, then cancel it") from error
            ctx.audit(operator, "offer_cancelled", offer_id, holder_name=offer.holder_name)
            view = public_view(cancelled.archive_document(OfferState.CANCELLED, ctx.now()))
        ctx.publish(events.OFFER_CANCELLED, offer_id, operator=operator)
        return view

    def cancelled(self, offer_id: str) -> bool:
        """Whether the desk cancelled this offer (it is then in the archive, no longer live)."""
        archived = self._ctx.store.archive.find(offer_id) if offer_id else None
        return archived is not None and archived.get("state") == OfferState.CANCELLED

    def status(self, offer_id: str) -> dict[str, Any]:
        with self._ctx.transaction():
            document = self._ctx.store.offers.get(offer_id) or self._ctx.store.archive.find(offer_id)
            if document is None:
                raise NotFound("There is no offer with this id")
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
            current.offer_id, self._stored(new), version=current.version, durable=durable
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
        """Archive offers whose code or access token can no longer be used; their ids. An issued offer,
        kept live for repeat requests, is archived as issued once no token of it can be used. Only
        the offers the store says are due are read, however many are live."""
        ctx = self._ctx
        now = ctx.clock()
        token_ttl = ctx.settings.access_token_ttl
        moved = []
        with ctx.transaction():
            for offer_id in ctx.store.offers.due(now):
                offer = self.get(offer_id)  # read, and held: another process may have changed it
                final = ending(offer, now, token_ttl) if offer is not None else None
                if offer is not None and final is not None:
                    self.archive(offer, final)
                    if final == OfferState.EXPIRED:
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

    def _stored(self, offer: Offer) -> Document:
        """The offer's document, with the time from which `expire` must look at it."""
        return {**offer.to_document(), DUE: ends_at(offer, self._ctx.settings.access_token_ttl)}

    def _decide(
        self, offer_id: str, decision: OfferState, event: str, operator: str | None, reason: str
    ) -> dict[str, Any]:
        ctx = self._ctx
        with ctx.transaction():
            offer = self._live(offer_id)
            if not offer.deferred:
                raise InvalidInput("This offer is issued immediately: there is nothing to approve")
            if offer.decision:
                raise Conflict(f"This offer was already {STATE_WORDS[offer.decision]}")
            detail = {"operator": operator, **({"reason": reason} if reason else {})}
            decided = self.save(offer, offer.decided(ctx.now(), decision, event, detail))
            ctx.audit(operator, event, offer_id, **({"reason": reason} if reason else {}))
        ctx.publish(event, offer_id, **detail)
        return public_view(decided.to_document())

    def _live(self, offer_id: str) -> Offer:
        """A live offer, or why there is none: finished already, or never made."""
        offer = self.get(offer_id) if isinstance(offer_id, str) else None
        if offer is not None:
            return offer
        archived = self._ctx.store.archive.find(offer_id) if isinstance(offer_id, str) and offer_id else None
        if archived is not None:
            raise Conflict(f"This offer is already finished ({STATE_WORDS[OfferState(archived['state'])]})")
        raise NotFound("There is no live offer with this id")

    def _grant_of(self, request: OfferRequest) -> OfferGrant:
        try:
            grant = OfferGrant(request.grant)
        except ValueError as error:
            raise InvalidInput(f"grant must be one of {', '.join(OfferGrant)}") from error
        if grant == OfferGrant.AUTHORIZATION_CODE and (request.tx_code or request.deferred):
            raise InvalidInput(
                "A wallet that signs in is confirmed at the desk: it needs no transaction code and no approval"
            )
        return grant

    def _accepted_claims(self, config_ids: tuple[str, ...], claims: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        if not config_ids:
            raise InvalidInput("Choose at least one credential type")
        unknown = [c for c in config_ids if c not in self._types]
        if unknown:
            raise InvalidInput(f"unknown credential type: {', '.join(unknown)}")
        if not isinstance(claims, Mapping):
            raise InvalidInput("claims must be a JSON object of claim names and values")
        known = {spec.name for c in config_ids for spec in self._types[c].claims}
        extra = sorted(set(claims) - known)
        if extra:
            names = " and ".join(self._types[c].display_name for c in config_ids)
            raise InvalidInput(f"These claims are not defined by {names}: {', '.join(extra)}")
        mdocs = [c for c in config_ids if self._types[c].format == MSO_MDOC]
        if mdocs and not self._certificates.chain():
            raise InvalidInput(
                f"{' and '.join(self._types[c].display_name for c in mdocs)} is an mdoc, signed with a document-signer "
                "certificate, and the signing key has none yet: make the issuing CA first (Settings, or "
                "'frontdesk-issuer certificates init --country XX')"
            )
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


def holder_name(claims: Mapping[str, Mapping[str, Any]], holder: Mapping[str, Any] | None) -> str | None:
    """Whom an offer is for, in words, as the ledger shows it: the registered holder's name, else
    the name its claims give (so the ledger finds a credential by name without a registration)."""
    if holder is not None:
        return f"{holder['given_name']} {holder['family_name']}"
    for accepted in claims.values():
        name = " ".join(str(accepted[part]) for part in ("given_name", "family_name") if accepted.get(part))
        if name:
            return name
    return None


def ending(offer: Offer, now: float, token_ttl: int) -> OfferState | None:
    """The state to archive `offer` in at `now`, or None while it can still be used."""
    if offer.state == OfferState.ISSUED:
        return OfferState.ISSUED if offer.last_use + token_ttl < now else None
    unusable = (
        (offer.unredeemed and offer.expires_at < now)
        or (offer.state == OfferState.REDEEMED and (offer.redeemed_at or now) + token_ttl < now)
        or offer.created_at + ABANDONED_AFTER < now  # a deferred issuance nobody came back for
    )
    return OfferState.EXPIRED if unusable else None


def ends_at(offer: Offer, token_ttl: int) -> float:
    """The earliest time `ending` can give a state for `offer` as it is now (its `due_at`)."""
    if offer.state == OfferState.ISSUED:
        return offer.last_use + token_ttl
    bounds = [offer.created_at + ABANDONED_AFTER]
    if offer.unredeemed:
        bounds.append(offer.expires_at)
    if offer.state == OfferState.REDEEMED and offer.redeemed_at is not None:
        bounds.append(offer.redeemed_at + token_ttl)
    return min(bounds)
