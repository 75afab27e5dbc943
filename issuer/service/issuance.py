"""Issuing: credentials signed and recorded (OID4VCI §8), deferred ones after the desk decides (§9),
and what wallets report back (§11).

An issuance writes the ledger first and the live offer last, and answers the wallet after
both. So a ledger record that its still-live offer does not list is a credential no wallet
received; `recover_interrupted` finds those at start. A write that fails in between (a full
disk) leaves the same; the offer is then put right before it is served again.

"The Credential Endpoint can be accessed multiple times by a Wallet using the same Access Token,
even for the same Credential" (§8): while its token lasts, an offer stays live after its credentials
are delivered, and each credential may be asked for again, up to `max_credential_requests` times,
each time bound to the new proof's key and recorded in the ledger; what was issued before stays valid
(§14.3). A wallet whose answer was lost retries without a new visit to the desk.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from jwcrypto import jwk

from issuer import events
from issuer.crypto import es256
from issuer.crypto.certificates import IssuerCertificates
from issuer.crypto.keys import KeyRing
from issuer.errors import (
    CredentialRequestDenied,
    InsufficientScope,
    InvalidNotificationId,
    InvalidToken,
    InvalidTransactionId,
)
from issuer.formats import issue_credential
from issuer.protocol.codes import new_secret
from issuer.protocol.credential_types import CredentialTypes
from issuer.service.context import Context
from issuer.service.ledger import Ledger
from issuer.service.offers import Offers
from issuer.service.types import AccessGrant, Delivery, IssuanceResult, Offer, OfferState, Transaction
from issuer.storage.interfaces import StorageUnavailable

ROUNDING = 3600  # iat is rounded down to the hour (OID4VCI §15.4.1)
MAX_DESCRIPTION = 300


class Issuance:
    def __init__(
        self,
        ctx: Context,
        offers: Offers,
        ledger: Ledger,
        keys: KeyRing,
        types: CredentialTypes,
        certificates: IssuerCertificates,
    ) -> None:
        self._ctx = ctx
        self._offers = offers
        self._ledger = ledger
        self._keys = keys
        self._certificates = certificates  # an mdoc carries the document-signer chain itself
        self.types = types
        self._interrupted: set[str] = set()  # offers whose issuance a failed write cut short

    def request(
        self,
        grant: AccessGrant,
        config_id: str,
        holder_jwks: list[dict[str, Any]],
        *,
        key_attestation: Mapping[str, Any] | None = None,
    ) -> IssuanceResult:
        """Issue one credential per holder key now, or open a deferred transaction (§8, §9);
        `key_attestation`: what the ledger keeps of the keys' attestation (Appendix D)."""
        if config_id not in grant.configuration_ids:
            raise InsufficientScope(f"the access token does not cover {config_id}")
        limit = self._ctx.settings.max_credential_requests
        with self._ctx.transaction():
            offer = self._live_offer(grant.offer_id)
            if offer is None:
                self._refuse_cancelled(grant.offer_id)
                raise CredentialRequestDenied("this offer is complete or no longer valid")
            if offer.decision == OfferState.REJECTED:
                raise CredentialRequestDenied("the front desk declined this issuance")
            if offer.requests_for(config_id) >= limit:
                times = "" if limit == 1 else f" {limit} times"
                raise CredentialRequestDenied(f"{config_id} was already issued{times} for this offer")
            if offer.deferred and offer.decision != OfferState.APPROVED:
                return self._open_transaction(offer, config_id, holder_jwks, key_attestation)
            return self._issue(offer, config_id, holder_jwks, key_attestation)

    def deferred(self, grant: AccessGrant, transaction_id: str) -> IssuanceResult:
        """Poll a deferred transaction (OID4VCI §9): 202 until approved, then the credentials once."""
        ctx = self._ctx
        with ctx.transaction():
            offer = self._live_offer(grant.offer_id)
            if offer is None:
                self._refuse_cancelled(grant.offer_id)
            transaction = offer.transaction if offer else None
            if offer is None or transaction is None or not ctx.hasher.matches(transaction_id, transaction.hash):
                if self._transaction_elsewhere(ctx.hasher.digest(transaction_id)):
                    raise InvalidToken("the access token was not issued for this transaction")
                raise InvalidTransactionId("the transaction id is unknown or was already used")
            if offer.decision == OfferState.REJECTED:
                self._offers.archive(offer, OfferState.DENIED)
                raise CredentialRequestDenied("the front desk declined this issuance")
            if offer.decision != OfferState.APPROVED:
                return IssuanceResult(transaction_id=transaction_id, interval=ctx.settings.deferred_interval)
            keys = [dict(key) for key in transaction.holder_jwks]
            return self._issue(offer, transaction.config_id, keys, transaction.key_attestation)

    def notify(self, grant: AccessGrant, notification_id: str, event: str, description: str | None) -> None:
        """Record a wallet's notification (OID4VCI §11); repeating one changes nothing."""
        ledger = self._ctx.store.ledger
        with self._ctx.transaction():
            record = ledger.get(notification_id)
            if record is None or record.get("offer_id") != grant.offer_id:
                raise InvalidNotificationId("the notification id is unknown")
            if any(n["event"] == event for n in record.get("notifications", [])):
                return
            notification = {"event": event, "at": self._ctx.now()}
            if description:
                notification["description"] = description[:MAX_DESCRIPTION]
            ledger.update(notification_id, lambda row: _add_notification(row, notification))
        self._ctx.publish(events.NOTIFICATION_RECEIVED, grant.offer_id, event=event, notification_id=notification_id)

    def refused(self, offer_id: str, error: str, description: str) -> None:
        """Note on the offer's timeline why a wallet's credential request was refused, for the desk."""
        detail = {"error": error, "reason": description}
        with self._ctx.transaction():
            offer = self._offers.get(offer_id)
            if offer is not None:  # a timeline detail: no answer depends on it
                self._offers.save(
                    offer, offer.with_step(self._ctx.now(), events.CREDENTIAL_FAILED, detail), durable=False
                )
        self._ctx.publish(events.CREDENTIAL_FAILED, offer_id, **detail)

    def undelivered(self, result: IssuanceResult) -> None:
        """Credentials signed and recorded whose answer never left (it could not be encrypted): revoked
        and marked `undelivered`, as `recover_interrupted` does after a crash."""
        ledger = self._ctx.store.ledger
        with self._ctx.transaction():
            for record_id in result.record_ids:
                record = ledger.get(record_id)
                if record is not None and not record.get("undelivered"):
                    self._ledger.mark_undelivered(record)

    def recover_interrupted(self) -> None:
        """Undo what a crash left half-written: a ledger record its still-live offer does not list
        is revoked and marked `undelivered`, and an archive record of an offer that is still live
        is dropped, so the wallet's retry is served afresh."""
        with self._ctx.transaction():
            self._undo_interrupted({document["offer_id"] for document in self._ctx.store.offers.all()})

    def _live_offer(self, offer_id: str) -> Offer | None:
        """The live offer, put right first if a failed write cut its last issuance short."""
        offer = self._offers.get(offer_id)
        if offer is not None and offer_id in self._interrupted:
            self._undo_interrupted({offer_id})
            self._interrupted.discard(offer_id)
            offer = self._offers.get(offer_id)
        return offer

    def _undo_interrupted(self, live: set[str]) -> None:
        """Each candidate is checked again on its offer read now, and held: on a shared store another
        process may have finished that issuance since the first reads."""
        store = self._ctx.store
        if not live:
            return
        for archived in store.archive.recent():
            if archived.get("offer_id") in live and self._offers.get(archived["offer_id"]) is not None:
                store.archive.remove(archived["id"])
        for record in store.ledger.recent():
            if record.get("offer_id") not in live or record.get("undelivered"):
                continue
            offer = self._offers.get(record["offer_id"])
            if offer is not None and record["id"] not in offer.delivered_record_ids:
                self._ledger.mark_undelivered(record)

    def _refuse_cancelled(self, offer_id: str) -> None:
        """An access token outlives its offer by design (it is sealed, not stored); the desk's
        cancellation still ends what it covers (OID4VCI §8.3.1.2, credential_request_denied)."""
        if self._offers.cancelled(offer_id):
            raise CredentialRequestDenied("the front desk cancelled this offer")

    def _transaction_elsewhere(self, transaction_hash: str) -> bool:
        return any(
            (document.get("transaction") or {}).get("hash") == transaction_hash
            for document in self._ctx.store.offers.all()
        )

    def _open_transaction(
        self,
        offer: Offer,
        config_id: str,
        holder_jwks: list[dict[str, Any]],
        key_attestation: Mapping[str, Any] | None,
    ) -> IssuanceResult:
        ctx = self._ctx
        if offer.transaction is not None:
            raise CredentialRequestDenied("a deferred issuance is already waiting for this offer")
        transaction_id = new_secret(24)
        transaction = Transaction(ctx.hasher.digest(transaction_id), config_id, tuple(holder_jwks), key_attestation)
        self._offers.save(offer, offer.waiting_for_desk(ctx.now(), transaction))
        ctx.publish(events.CREDENTIAL_DEFERRED, offer.offer_id, config_id=config_id)
        return IssuanceResult(transaction_id=transaction_id, interval=ctx.settings.deferred_interval)

    def _issue(
        self,
        offer: Offer,
        config_id: str,
        holder_jwks: list[dict[str, Any]],
        key_attestation: Mapping[str, Any] | None,
    ) -> IssuanceResult:
        ctx = self._ctx
        credential_type = self.types[config_id]
        now = ctx.now()
        issued_at = now - now % ROUNDING
        expires_at = issued_at + credential_type.validity_days * 86400  # rounded too, or it gives iat away
        signer = self._keys.active
        if signer.not_after is not None:  # a credential never outlives the certificate that signs it
            if signer.not_after <= now:
                raise CredentialRequestDenied("the issuer's signing certificate has expired; ask the front desk")
            expires_at = min(expires_at, signer.not_after - signer.not_after % ROUNDING)
        chain = self._certificates.document_signer_chain(signer.kid)
        credentials: list[str] = []
        records: list[dict[str, Any]] = []
        for holder_jwk, place in zip(holder_jwks, self._ledger.allocate(len(holder_jwks)), strict=True):
            credential_id = f"urn:uuid:{uuid.uuid4()}"
            status = {"status_list": {"idx": place.index, "uri": self._ledger.status_list_uri(place.list_id)}}
            credentials.append(
                issue_credential(
                    credential_type.format,
                    signer=signer,
                    issuer=ctx.issuer_url,
                    vct=credential_type.vct,
                    types=credential_type.types,
                    claims=offer.claims[config_id],
                    holder_jwk=holder_jwk,
                    issued_at=issued_at,
                    expires_at=expires_at,
                    credential_id=credential_id,
                    status=status,
                    doctype=credential_type.doctype,
                    elements=credential_type.claims,
                    certificate_chain=chain,
                )
            )
            records.append(
                {
                    "credential_id": credential_id,
                    "offer_id": offer.offer_id,
                    "config_id": config_id,
                    "format": credential_type.format,
                    "issued_at": now,
                    "expires_at": expires_at,
                    "operator": offer.operator,
                    "holder_id": offer.holder_id,
                    "holder_name": offer.holder_name,
                    "kid": signer.kid,
                    "holder_jkt": _thumbprint(holder_jwk),
                    "status_list": {"list": place.list_id, "idx": place.index},
                    "status_changes": [],
                    "notifications": [],
                    **({"wallet": {k: v for k, v in offer.wallet.items() if k != "jkt"}} if offer.wallet else {}),
                    **({"key_attestation": dict(key_attestation)} if key_attestation else {}),
                }
            )
        complete = {config_id, *offer.issued_config_ids()} >= set(offer.covered)
        final = complete and ctx.settings.max_credential_requests == 1  # no repeat request can follow
        # When the offer is archived, its archive record's durable write covers these too.
        record_ids = ctx.store.ledger.add(records, durable=not final)
        delivered = offer.delivered(now, Delivery(config_id, tuple(record_ids), now), complete=complete)
        try:
            if final:
                self._offers.archive(delivered, OfferState.ISSUED)
            else:
                self._offers.save(offer, delivered)
        except StorageUnavailable:
            self._interrupted.add(offer.offer_id)
            raise
        ctx.publish(events.CREDENTIAL_ISSUED, offer.offer_id, config_id=config_id, count=len(credentials))
        # One notification id per Credential Response (§8.3): the first credential's ledger record.
        return IssuanceResult(credentials=credentials, notification_id=record_ids[0], record_ids=tuple(record_ids))


def _add_notification(record: dict[str, Any], notification: dict[str, Any]) -> None:
    """On the record as stored when it is changed: a notification another process recorded in
    between is kept, and the same event is not recorded twice."""
    notifications = record.get("notifications", [])
    if not any(n["event"] == notification["event"] for n in notifications):
        record["notifications"] = [*notifications, notification]


def _thumbprint(holder_jwk: Mapping[str, Any]) -> str:
    if holder_jwk.get("kty") == "EC":
        return es256.jwk_thumbprint(holder_jwk)
    return str(jwk.JWK(**holder_jwk).thumbprint())
