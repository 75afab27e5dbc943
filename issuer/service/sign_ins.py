"""The Authorization Code flow at a front desk (OID4VCI §5, §6): the wallet asks, the desk confirms.

A wallet pushes its request (PAR) or sends it to `/authorize`; the browser page shows a short
confirmation code and waits; the operator approves the request (binding an offer made for the
holder, or filling in the holder's claims now) or denies it; the page then sends the browser
back to the wallet with a code, which the wallet exchanges with its PKCE verifier for an access
token to the same Credential endpoint as the Pre-Authorized Code flow.

Requests live in the store's `sign_ins` table until they are used or expire. Every secret
handed out (request_uri, browser session, code) is `<id>.<secret>` and kept only as a keyed
hash; each is single use. A request that came without an offer is anyone's to send, so their
number is capped, per client address and in all: a new one drops the oldest still unconfirmed
beyond the caps, and a flood leaves the desk a short queue whose newest entries are kept.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode, urlsplit

from issuer import events
from issuer.errors import AuthorizationError, Conflict, InvalidGrant, InvalidInput, NotFound
from issuer.protocol.authorization import (
    REQUEST_URI_PREFIX,
    AuthorizationRequest,
    check_client,
    parse_request,
    pkce_matches,
)
from issuer.protocol.codes import new_secret
from issuer.protocol.credential_types import CredentialTypes
from issuer.service.context import Context
from issuer.service.offers import Offers, Superseded
from issuer.service.types import Offer, OfferGrant, OfferRequest, Progress, SignIn, SignInState

CONFIRMATION_ALPHABET = "ACDEFHJKLMNPRTUVWXY34679"  # no look-alikes (0/O, 1/I, 5/S, 8/B, 2/Z)
MAX_ID_LENGTH = 32


def new_confirmation() -> str:
    """Six characters to read aloud at the desk, grouped 3-3."""
    chars = "".join(secrets.choice(CONFIRMATION_ALPHABET) for _ in range(6))
    return f"{chars[:3]}-{chars[3:]}"


def redirect_location(redirect_uri: str, params: Mapping[str, str | None]) -> str:
    """The redirect URI with response parameters added to its query (RFC 6749 §4.1.2)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{redirect_uri}{'&' if urlsplit(redirect_uri).query else '?'}{query}"


class SignIns:
    def __init__(self, ctx: Context, offers: Offers, types: CredentialTypes) -> None:
        self._ctx = ctx
        self._offers = offers
        self._types = types

    # ----- the wallet's browser -----

    def push(self, params: Mapping[str, str], client: str | None = None) -> tuple[str, int]:
        """RFC 9126: store a checked request from `client` (its address); its single-use `request_uri`
        and lifetime."""
        if "request_uri" in params:
            raise AuthorizationError("invalid_request", "request_uri is not allowed in a pushed request")
        request = self._parse(params)
        secret = new_secret(24)
        ttl = self._ctx.settings.par_ttl
        with self._ctx.transaction():
            sign_in = self._new(
                request, SignInState.PUSHED, ttl, client, request_uri_hash=self._ctx.hasher.digest(secret)
            )
        return f"{REQUEST_URI_PREFIX}{sign_in.auth_id}.{secret}", ttl

    def start(self, params: Mapping[str, str], client: str | None = None) -> Progress:
        """`/authorize`: a pushed request by its request_uri, or the request itself from `client`; the
        browser session that then waits for the desk."""
        ctx = self._ctx
        request_uri = params.get("request_uri")
        session = new_secret(24)
        session_hash = ctx.hasher.digest(session)
        with ctx.transaction():
            if request_uri is not None:
                sign_in = self._take_pushed(request_uri, params.get("client_id", ""), session_hash)
            else:
                if ctx.settings.require_par:
                    raise AuthorizationError("invalid_request", "this issuer accepts pushed requests only (PAR)")
                request = self._parse(params)
                wait = ctx.settings.authorization_wait
                sign_in = self._new(request, SignInState.WAITING, wait, client, session_hash=session_hash)
        ctx.publish(events.AUTHORIZATION_REQUESTED, sign_in.offer_id or "", authorization_id=sign_in.auth_id)
        return Progress(confirmation=sign_in.confirmation, session=f"{sign_in.auth_id}.{session}")

    def progress(self, session: str) -> Progress:
        """The waiting page's question: still waiting, or where the browser goes now."""
        ctx = self._ctx
        auth_id, _, secret = session.partition(".")
        with ctx.transaction():
            sign_in = self.get(auth_id)
            if sign_in is None or not ctx.hasher.matches(secret, sign_in.session_hash):
                raise AuthorizationError("invalid_request", "this sign-in is unknown or finished", redirect=False)
            request = sign_in.request
            if sign_in.state == SignInState.WAITING and sign_in.expires_at < ctx.clock():
                self._save(sign_in, sign_in.finished(SignInState.DENIED))
                return Progress(location=self._error_location(request, "access_denied", "the desk did not confirm"))
            if sign_in.state == SignInState.WAITING:
                return Progress(confirmation=sign_in.confirmation, session=session)
            if sign_in.state == SignInState.DENIED:
                self._save(sign_in, sign_in.finished(SignInState.USED))
                return Progress(location=self._error_location(request, "access_denied", "the front desk declined"))
            if sign_in.state != SignInState.APPROVED:
                raise AuthorizationError("invalid_request", "this sign-in is finished", redirect=False)
            code = new_secret(24)
            redirected = replace(
                sign_in,
                state=SignInState.REDIRECTED,
                code_hash=ctx.hasher.digest(code),
                code_expires_at=ctx.now() + ctx.settings.authorization_code_ttl,
                session_hash=None,
            )
            self._save(sign_in, redirected)
        params = {"code": f"{auth_id}.{code}", "state": request.state, "iss": ctx.issuer_url}
        return Progress(location=redirect_location(request.redirect_uri, params))

    def error_location(self, params: Mapping[str, str], error: AuthorizationError) -> str | None:
        """Where an authorization error goes: the client's redirect URI once it is known to be good
        (RFC 6749 §4.1.2.1). With `clients`, the registration vouches for it; without, only a request
        valid in every other respect (response type, PKCE, what it asks for) is sent back."""
        if not error.redirect:
            return None
        try:
            if self._ctx.settings.clients:
                _, redirect_uri = check_client(params, self._ctx.settings.clients)
            else:
                redirect_uri = self._parse(params).redirect_uri
        except AuthorizationError:
            return None
        return redirect_location(
            redirect_uri,
            {"error": error.error, "error_description": error.description, "state": params.get("state"),
             "iss": self._ctx.issuer_url},
        )  # fmt: skip

    # ----- the desk -----

    def pending(self) -> list[dict[str, Any]]:
        """Requests whose browser waits for the desk, oldest first."""
        now = self._ctx.clock()
        with self._ctx.transaction():
            waiting = [SignIn.from_document(row) for row in self._ctx.store.sign_ins.all()]
            waiting = [s for s in waiting if s.state == SignInState.WAITING and s.expires_at >= now]
            return [self._view(s) for s in sorted(waiting, key=lambda s: s.created_at)]

    def approve(
        self,
        auth_id: str,
        operator: str | None = None,
        claims: Mapping[str, Any] | None = None,
        holder_id: str | None = None,
    ) -> dict[str, Any]:
        """Let the waiting browser go back to the wallet with a code. A request that came with an
        offer's issuer_state is bound already; one the wallet started needs the holder's claims."""
        ctx = self._ctx
        with ctx.transaction():
            sign_in = self._waiting(auth_id)
            offer_id = sign_in.offer_id
            if offer_id is None:
                if claims is None:
                    raise InvalidInput("this request came without an offer: fill in the holder's claims")
                offer_id = self._offer_for(sign_in, claims, holder_id, operator)
            elif claims is not None:
                raise InvalidInput("this request is for an offer that already holds the claims")
            elif self._offers.get(offer_id) is None:
                raise Conflict("The offer of this sign-in is finished (cancelled or expired): make a new offer")
            approved = self._save(sign_in, replace(sign_in, state=SignInState.APPROVED, offer_id=offer_id))
            ctx.audit(operator, "authorization_approved", auth_id, offer_id=offer_id)
            view = self._view(approved)
        ctx.publish(events.AUTHORIZATION_DECIDED, offer_id, authorization_id=auth_id, decision=SignInState.APPROVED)
        return view

    def deny(self, auth_id: str, operator: str | None = None, reason: str = "") -> dict[str, Any]:
        ctx = self._ctx
        with ctx.transaction():
            sign_in = self._waiting(auth_id)
            denied = self._save(sign_in, replace(sign_in, state=SignInState.DENIED))
            ctx.audit(operator, "authorization_denied", auth_id, **({"reason": reason[:300]} if reason else {}))
            view = self._view(denied)
        ctx.publish(
            events.AUTHORIZATION_DECIDED, sign_in.offer_id or "", authorization_id=auth_id, decision=SignInState.DENIED
        )
        return view

    # ----- the token endpoint, and housekeeping -----

    def redeem_code(
        self, code: str, *, client_id: str, redirect_uri: str, code_verifier: str, dpop_jkt: str | None
    ) -> tuple[str, AuthorizationRequest]:
        """RFC 6749 §4.1.3 with PKCE: the offer the code unlocks and what was asked for, once.
        A code presented twice burns its offer, so a token already given for it is worthless."""
        ctx = self._ctx
        auth_id, _, secret = code.partition(".")
        with ctx.transaction():
            sign_in = self.get(auth_id)
            if sign_in is None or not ctx.hasher.matches(secret, sign_in.code_hash):
                raise InvalidGrant("the authorization code is unknown")
            request = sign_in.request
            if sign_in.state == SignInState.USED:
                offer = self._offers.get(sign_in.offer_id or "")
                if offer is not None:
                    self._offers.burn(offer, "authorization code used twice")
                raise InvalidGrant("the authorization code was already used")
            try:
                self._save(sign_in, sign_in.finished(SignInState.USED))
            except Superseded as error:
                raise InvalidGrant("the authorization code was already used") from error
            if (sign_in.code_expires_at or 0) < ctx.clock():
                raise InvalidGrant("the authorization code has expired")
            if client_id != request.client_id:
                raise InvalidGrant("the authorization code was issued to another client")
            if redirect_uri != request.redirect_uri:
                raise InvalidGrant("redirect_uri does not match the authorization request")
            if not pkce_matches(code_verifier, request.code_challenge):
                raise InvalidGrant("code_verifier does not match the code_challenge")
            if request.dpop_jkt is not None and dpop_jkt != request.dpop_jkt:
                raise InvalidGrant("the DPoP key is not the one the authorization request named")
        return sign_in.offer_id or "", request

    def purge(self) -> int:
        """Drop sign-ins nobody can use any more; how many."""
        cutoff = self._ctx.clock() - self._ctx.settings.access_token_ttl
        table = self._ctx.store.sign_ins
        with self._ctx.transaction():
            done = [row for row in table.all() if SignIn.from_document(row).last_use < cutoff]
            return sum(table.delete(row["auth_id"], version=row["version"]) for row in done)

    def get(self, auth_id: str) -> SignIn | None:
        if not auth_id or len(auth_id) > MAX_ID_LENGTH:
            return None
        document = self._ctx.store.sign_ins.get(auth_id)
        return SignIn.from_document(document) if document else None

    # ----- internals -----

    def _save(self, current: SignIn, new: SignIn) -> SignIn:
        if not self._ctx.store.sign_ins.replace(current.auth_id, new.to_document(), version=current.version):
            raise Superseded(current.auth_id)
        return replace(new, version=current.version + 1)

    def _parse(self, params: Mapping[str, str]) -> AuthorizationRequest:
        scopes = {t.configuration["scope"]: i for i, t in self._types.items() if "scope" in t.configuration}
        return parse_request(params, clients=self._ctx.settings.clients, scopes=scopes, config_ids=set(self._types))

    def _new(
        self, request: AuthorizationRequest, state: SignInState, ttl: int, client: str | None, **fields: Any
    ) -> SignIn:
        """Store a request, bound to its offer when issuer_state names one."""
        ctx = self._ctx
        offer = self._bound_offer(request) if request.issuer_state else None
        if offer is not None and not set(request.config_ids) <= set(offer.config_ids):
            raise AuthorizationError("invalid_authorization_details", "the request asks for more than the offer")
        if offer is None:
            self._make_room(client)
        now = ctx.now()
        sign_in = SignIn(
            auth_id=secrets.token_hex(8),
            request=request,
            state=state,
            confirmation=new_confirmation(),
            created_at=now,
            expires_at=now + ttl,
            offer_id=offer.offer_id if offer else None,
            client=client,
            requested_at=ctx.clock(),
            version=1,
            **fields,
        )
        ctx.store.sign_ins.insert(sign_in.auth_id, sign_in.to_document())
        if offer is not None:
            bound = offer.with_step(now, events.AUTHORIZATION_REQUESTED, authorization_id=sign_in.auth_id)
            self._offers.save(offer, bound)
        return sign_in

    def _make_room(self, client: str | None) -> None:
        """Drop the oldest unconfirmed requests without an offer, so that with one more `client` holds
        at most its share and all of them at most the total (inside the caller's transaction)."""
        settings, now = self._ctx.settings, self._ctx.clock()
        table = self._ctx.store.sign_ins
        unconfirmed = sorted(
            (
                sign_in
                for sign_in in map(SignIn.from_document, table.all())
                if sign_in.offer_id is None
                and sign_in.state in (SignInState.PUSHED, SignInState.WAITING)
                and sign_in.expires_at >= now
            ),
            key=lambda sign_in: (sign_in.created_at, sign_in.requested_at),
        )
        mine = [sign_in for sign_in in unconfirmed if sign_in.client == client]
        dropped = {sign_in.auth_id for sign_in in mine[: max(0, len(mine) - settings.sign_ins_per_client + 1)]}
        others = [sign_in for sign_in in unconfirmed if sign_in.auth_id not in dropped]
        dropped.update(sign_in.auth_id for sign_in in others[: max(0, len(others) - settings.max_sign_ins + 1)])
        for sign_in in unconfirmed:
            if sign_in.auth_id in dropped:
                table.delete(sign_in.auth_id, version=sign_in.version)

    def _take_pushed(self, request_uri: str, client_id: str, session_hash: str) -> SignIn:
        """A pushed request, once (RFC 9126 §4): it now waits for the desk."""
        ctx = self._ctx
        reference = request_uri.removeprefix(REQUEST_URI_PREFIX) if request_uri.startswith(REQUEST_URI_PREFIX) else ""
        auth_id, _, secret = reference.partition(".")
        sign_in = self.get(auth_id)
        if sign_in is None or not ctx.hasher.matches(secret, sign_in.request_uri_hash):
            raise AuthorizationError("invalid_request", "request_uri is unknown or was already used", redirect=False)
        if sign_in.state != SignInState.PUSHED or sign_in.expires_at < ctx.clock():
            raise AuthorizationError("invalid_request", "request_uri has expired or was already used", redirect=False)
        if client_id != sign_in.request.client_id:
            raise AuthorizationError("invalid_request", "request_uri was pushed by another client", redirect=False)
        waiting = replace(
            sign_in,
            state=SignInState.WAITING,
            request_uri_hash=None,
            session_hash=session_hash,
            expires_at=ctx.now() + ctx.settings.authorization_wait,
        )
        try:
            return self._save(sign_in, waiting)
        except Superseded as error:
            raise AuthorizationError("invalid_request", "request_uri was already used", redirect=False) from error

    def _bound_offer(self, request: AuthorizationRequest) -> Offer:
        """The offer an issuer_state names; an unknown, forged, used or expired one binds nothing (§5.1.3)."""
        issuer_state = request.issuer_state or ""
        offer = self._offers.get(issuer_state.partition(".")[0])
        if (
            offer is None
            or not self._ctx.hasher.matches(issuer_state, offer.issuer_state_hash)
            or not offer.unredeemed
            or offer.expires_at < self._ctx.clock()
            or offer.authorization_id
        ):
            raise AuthorizationError("invalid_request", "issuer_state is unknown, expired or already used")
        return offer

    def _offer_for(
        self, sign_in: SignIn, claims: Mapping[str, Any], holder_id: str | None, operator: str | None
    ) -> str:
        """An offer for a request the wallet started: the operator's claims for what it asked for."""
        request = OfferRequest(
            list(sign_in.request.config_ids),
            claims,
            operator=operator,
            holder_id=holder_id,
            grant=OfferGrant.AUTHORIZATION_CODE,
        )
        created = self._offers.create(request)
        offer = self._offers.get(created.offer_id)
        if offer is None:
            raise NotFound(f"no offer {created.offer_id!r}")
        self._offers.save(offer, replace(offer, authorization_id=sign_in.auth_id))
        return created.offer_id

    def _waiting(self, auth_id: str) -> SignIn:
        sign_in = self.get(auth_id) if isinstance(auth_id, str) else None
        if sign_in is None:
            raise NotFound(f"no sign-in request {str(auth_id)[:40]!r}")
        if sign_in.state != SignInState.WAITING or sign_in.expires_at < self._ctx.clock():
            raise Conflict("this sign-in request is no longer waiting")
        return sign_in

    def _error_location(self, request: AuthorizationRequest, error: str, description: str) -> str:
        params = {"error": error, "error_description": description, "state": request.state, "iss": self._ctx.issuer_url}
        return redirect_location(request.redirect_uri, params)

    def _view(self, sign_in: SignIn) -> dict[str, Any]:
        offer = self._offers.get(sign_in.offer_id) if sign_in.offer_id else None
        return {
            "authorization_id": sign_in.auth_id,
            "confirmation": sign_in.confirmation,
            "state": str(sign_in.state),
            "client_id": sign_in.request.client_id,
            "credential_configuration_ids": list(sign_in.request.config_ids or (offer.config_ids if offer else ())),
            "offer_id": sign_in.offer_id,
            "holder_id": offer.holder_id if offer else None,
            "holder_name": offer.holder_name if offer else None,
            "created_at": sign_in.created_at,
            "expires_at": sign_in.expires_at,
        }
