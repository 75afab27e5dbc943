"""The Authorization Code flow at a front desk (OID4VCI §5, §6): the wallet asks, the desk confirms.

A wallet pushes its request (PAR) or sends it to `/authorize`; the browser page shows a short
confirmation code and waits; the operator approves the request (binding an offer made for the
holder, or filling in the holder's claims now) or denies it; the page then sends the browser
back to the wallet with a code, which the wallet exchanges with its PKCE verifier for an access
token to the same Credential endpoint as the Pre-Authorized Code flow.

Requests live in the state file's `authorizations` table until they are used or expire. Every
secret handed out (request_uri, browser session, code) is `<id>.<secret>` and kept only as a
keyed hash; each is single use.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from tinydb import Query
from tinydb.table import Table

from issuer import events
from issuer.config import Settings
from issuer.errors import InvalidGrant, ServiceError
from issuer.protocol.authorization import (
    REQUEST_URI_PREFIX,
    AuthorizationError,
    AuthorizationRequest,
    check_client,
    parse_request,
    pkce_matches,
)
from issuer.protocol.codes import SecretHasher, new_secret
from issuer.protocol.credential_types import CredentialType
from issuer.storage.store import Store

PUSHED, WAITING, APPROVED, DENIED, REDIRECTED, USED = "pushed", "waiting", "approved", "denied", "redirected", "used"
CONFIRMATION_ALPHABET = "ACDEFHJKLMNPRTUVWXY34679"  # no look-alikes (0/O, 1/I, 5/S, 8/B, 2/Z)


@dataclass(frozen=True)
class Progress:
    """Where a waiting browser stands: still waiting (show `confirmation`), or go to `location`."""

    confirmation: str | None = None
    location: str | None = None
    session: str | None = None


def new_confirmation() -> str:
    """Six characters to read aloud at the desk, grouped 3-3."""
    chars = "".join(secrets.choice(CONFIRMATION_ALPHABET) for _ in range(6))
    return f"{chars[:3]}-{chars[3:]}"


def redirect_location(redirect_uri: str, params: Mapping[str, str | None]) -> str:
    """The redirect URI with response parameters added to its query (RFC 6749 §4.1.2)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{redirect_uri}{'&' if urlsplit(redirect_uri).query else '?'}{query}"


class AuthorizationCodeFlow:
    """IssuerService's part for the Authorization Code flow (a mixin: it shares the service's state)."""

    settings: Settings
    issuer_url: str
    store: Store
    credential_types: dict[str, CredentialType]
    clock: Callable[[], float]
    _hasher: SecretHasher

    # ----- the wallet's browser -----

    def push_authorization_request(self, params: Mapping[str, str]) -> tuple[str, int]:
        """RFC 9126: store a checked request; its single-use `request_uri` and lifetime."""
        if "request_uri" in params:
            raise AuthorizationError("invalid_request", "request_uri is not allowed in a pushed request")
        request = self._parse_authorization(params)
        secret = new_secret(24)
        ttl = self.settings.par_ttl
        with self.store.lock:
            auth_id = self._new_authorization(request, PUSHED, ttl, request_uri_hash=self._hasher.digest(secret))
        return f"{REQUEST_URI_PREFIX}{auth_id}.{secret}", ttl

    def start_authorization(self, params: Mapping[str, str]) -> Progress:
        """`/authorize`: a pushed request by its request_uri, or the request itself; the browser
        session that then waits for the desk."""
        request_uri = params.get("request_uri")
        session = new_secret(24)
        with self.store.lock:
            session_hash = self._hasher.digest(session)
            if request_uri is not None:
                auth_id = self._take_pushed(request_uri, params.get("client_id", ""), session_hash)
            else:
                if self.settings.require_par:
                    raise AuthorizationError("invalid_request", "this issuer accepts pushed requests only (PAR)")
                request = self._parse_authorization(params)
                wait = self.settings.authorization_wait
                auth_id = self._new_authorization(request, WAITING, wait, session_hash=session_hash)
            record = self._authorization(auth_id)
            assert record is not None
        self._publish(events.AUTHORIZATION_REQUESTED, record.get("offer_id") or "", authorization_id=auth_id)
        return Progress(confirmation=record["confirmation"], session=f"{auth_id}.{session}")

    def authorization_progress(self, session: str) -> Progress:
        """The waiting page's question: still waiting, or where the browser goes now."""
        auth_id, _, secret = session.partition(".")
        with self.store.lock:
            record = self._authorization(auth_id)
            if record is None or not self._hasher.matches(secret, record.get("session_hash")):
                raise AuthorizationError("invalid_request", "this sign-in is unknown or finished", redirect=False)
            request = AuthorizationRequest.from_json(record["request"])
            if record["state"] == WAITING and record["expires_at"] < self.clock():
                self._finish_authorization(auth_id, DENIED)
                return Progress(location=self._error_location(request, "access_denied", "the desk did not confirm"))
            if record["state"] == WAITING:
                return Progress(confirmation=record["confirmation"], session=session)
            if record["state"] == DENIED:
                self._finish_authorization(auth_id, USED)
                return Progress(location=self._error_location(request, "access_denied", "the front desk declined"))
            if record["state"] != APPROVED:
                raise AuthorizationError("invalid_request", "this sign-in is finished", redirect=False)
            code = new_secret(24)
            self._authorizations.update(
                {
                    "state": REDIRECTED,
                    "code_hash": self._hasher.digest(code),
                    "code_expires_at": int(self.clock()) + self.settings.authorization_code_ttl,
                    "session_hash": None,
                },
                Query().auth_id == auth_id,
            )
        location = redirect_location(
            request.redirect_uri, {"code": f"{auth_id}.{code}", "state": request.state, "iss": self.issuer_url}
        )
        return Progress(location=location)

    def authorization_error_location(self, params: Mapping[str, str], error: AuthorizationError) -> str | None:
        """Where an authorization error goes: the client's redirect URI once it is known to be good."""
        if not error.redirect:
            return None
        try:
            _, redirect_uri = check_client(params, self.settings.clients)
        except AuthorizationError:
            return None
        return redirect_location(
            redirect_uri,
            {"error": error.error, "error_description": error.description, "state": params.get("state"),
             "iss": self.issuer_url},
        )  # fmt: skip

    # ----- the desk -----

    def pending_authorizations(self) -> list[dict[str, Any]]:
        """Requests whose browser waits for the desk, oldest first."""
        now = self.clock()
        with self.store.lock:
            rows = self._authorizations.search((Query().state == WAITING) & (Query().expires_at >= now))
            return [self._authorization_view(row) for row in sorted(rows, key=lambda r: r["created_at"])]

    def approve_authorization(
        self,
        auth_id: str,
        operator: str | None = None,
        claims: Mapping[str, Any] | None = None,
        holder_id: str | None = None,
    ) -> dict[str, Any]:
        """Let the waiting browser go back to the wallet with a code. A request that came with an
        offer's issuer_state is bound already; one the wallet started needs the holder's claims."""
        with self.store.lock:
            record = self._waiting(auth_id)
            offer_id = record.get("offer_id")
            if offer_id is None:
                if claims is None:
                    raise ServiceError("this request came without an offer: fill in the holder's claims")
                offer_id = self._offer_for_authorization(record, claims, holder_id, operator)
            elif claims is not None:
                raise ServiceError("this request is for an offer that already holds the claims")
            self._authorizations.update({"state": APPROVED, "offer_id": offer_id}, Query().auth_id == auth_id)
            self._audit(operator, "authorization_approved", auth_id, offer_id=offer_id)
            view = self._authorization_view(self._authorization(auth_id) or record)
        self._publish(events.AUTHORIZATION_DECIDED, offer_id, authorization_id=auth_id, decision=APPROVED)
        return view

    def deny_authorization(self, auth_id: str, operator: str | None = None, reason: str = "") -> dict[str, Any]:
        with self.store.lock:
            record = self._waiting(auth_id)
            self._authorizations.update({"state": DENIED}, Query().auth_id == auth_id)
            self._audit(operator, "authorization_denied", auth_id, **({"reason": reason[:300]} if reason else {}))
            view = self._authorization_view({**record, "state": DENIED})
        self._publish(events.AUTHORIZATION_DECIDED, record.get("offer_id") or "", authorization_id=auth_id,
                      decision=DENIED)  # fmt: skip
        return view

    # ----- the token endpoint -----

    def redeem_authorization_code(
        self, code: str, *, client_id: str, redirect_uri: str, code_verifier: str, dpop_jkt: str | None
    ) -> tuple[str, AuthorizationRequest]:
        """RFC 6749 §4.1.3 with PKCE: the offer the code unlocks and what was asked for, once.
        A code presented twice burns its offer, so a token already given for it is worthless."""
        auth_id, _, secret = code.partition(".")
        with self.store.lock:
            record = self._authorization(auth_id)
            if record is None or not self._hasher.matches(secret, record.get("code_hash")):
                raise InvalidGrant("the authorization code is unknown")
            request = AuthorizationRequest.from_json(record["request"])
            if record["state"] == USED:
                self._burn_offer(record["offer_id"], "authorization code used twice")
                raise InvalidGrant("the authorization code was already used")
            self._finish_authorization(auth_id, USED)
            if record["code_expires_at"] < self.clock():
                raise InvalidGrant("the authorization code has expired")
            if client_id != request.client_id:
                raise InvalidGrant("the authorization code was issued to another client")
            if redirect_uri != request.redirect_uri:
                raise InvalidGrant("redirect_uri does not match the authorization request")
            if not pkce_matches(code_verifier, request.code_challenge):
                raise InvalidGrant("code_verifier does not match the code_challenge")
            if request.dpop_jkt is not None and dpop_jkt != request.dpop_jkt:
                raise InvalidGrant("the DPoP key is not the one the authorization request named")
        return record["offer_id"], request

    # ----- internals -----

    @property
    def _authorizations(self) -> Table:
        return self.store.authorizations

    def _parse_authorization(self, params: Mapping[str, str]) -> AuthorizationRequest:
        scopes = {t.configuration["scope"]: i for i, t in self.credential_types.items() if "scope" in t.configuration}
        config_ids = set(self.credential_types)
        return parse_request(params, clients=self.settings.clients, scopes=scopes, config_ids=config_ids)

    def _new_authorization(self, request: AuthorizationRequest, state: str, ttl: int, **fields: Any) -> str:
        """Store a request (the caller holds the lock), bound to its offer when issuer_state names one."""
        offer_id = self._bind_issuer_state(request) if request.issuer_state else None
        if offer_id is not None and not set(request.config_ids) <= set(self._offer_config_ids(offer_id)):
            raise AuthorizationError("invalid_authorization_details", "the request asks for more than the offer")
        auth_id = secrets.token_hex(8)
        now = int(self.clock())
        self._authorizations.insert(
            {
                "auth_id": auth_id,
                "request": request.to_json(),
                "state": state,
                "offer_id": offer_id,
                "confirmation": new_confirmation(),
                "created_at": now,
                "expires_at": now + ttl,
                **fields,
            }
        )
        if offer_id is not None:
            self._update_live(offer_id, authorization_id=auth_id, step=events.AUTHORIZATION_REQUESTED)
        return auth_id

    def _take_pushed(self, request_uri: str, client_id: str, session_hash: str) -> str:
        """A pushed request, once (RFC 9126 §4): it now waits for the desk."""
        reference = request_uri.removeprefix(REQUEST_URI_PREFIX) if request_uri.startswith(REQUEST_URI_PREFIX) else ""
        auth_id, _, secret = reference.partition(".")
        record = self._authorization(auth_id)
        if record is None or not self._hasher.matches(secret, record.get("request_uri_hash")):
            raise AuthorizationError("invalid_request", "request_uri is unknown or was already used", redirect=False)
        if record["state"] != PUSHED or record["expires_at"] < self.clock():
            raise AuthorizationError("invalid_request", "request_uri has expired or was already used", redirect=False)
        if client_id != record["request"]["client_id"]:
            raise AuthorizationError("invalid_request", "request_uri was pushed by another client", redirect=False)
        self._authorizations.update(
            {
                "state": WAITING,
                "request_uri_hash": None,
                "session_hash": session_hash,
                "expires_at": int(self.clock()) + self.settings.authorization_wait,
            },
            Query().auth_id == auth_id,
        )
        return auth_id

    def _bind_issuer_state(self, request: AuthorizationRequest) -> str:
        """The offer an issuer_state names; an unknown, forged, used or expired one binds nothing (§5.1.3)."""
        issuer_state = request.issuer_state or ""
        offer_id = issuer_state.partition(".")[0]
        document = self._live_offer(offer_id)
        if (
            document is None
            or not self._hasher.matches(issuer_state, document.get("issuer_state_hash"))
            or document["state"] not in ("created", "fetched")
            or document["expires_at"] < self.clock()
            or document.get("authorization_id")
        ):
            raise AuthorizationError("invalid_request", "issuer_state is unknown, expired or already used")
        return offer_id

    def _offer_config_ids(self, offer_id: str) -> list[str]:
        document = self._live_offer(offer_id)
        return list(document["config_ids"]) if document else []

    def _offer_for_authorization(
        self, record: Mapping[str, Any], claims: Mapping[str, Any], holder_id: str | None, operator: str | None
    ) -> str:
        """An offer for a request the wallet started: the operator's claims for what it asked for."""
        from issuer.service import OfferRequest  # the service module imports this one

        request = AuthorizationRequest.from_json(record["request"])
        created = self.create_offer(  # type: ignore[attr-defined]
            OfferRequest(
                list(request.config_ids), claims, operator=operator, holder_id=holder_id, grant="authorization_code"
            )
        )
        self._update_live(created.offer_id, authorization_id=record["auth_id"])
        return created.offer_id

    def _waiting(self, auth_id: str) -> dict[str, Any]:
        record = self._authorization(auth_id) if isinstance(auth_id, str) else None
        if record is None:
            raise ServiceError(f"no sign-in request {str(auth_id)[:40]!r}", status=404, code="not_found")
        if record["state"] != WAITING or record["expires_at"] < self.clock():
            raise ServiceError("this sign-in request is no longer waiting", status=409, code="conflict")
        return record

    def _authorization(self, auth_id: str) -> dict[str, Any] | None:
        if not auth_id or len(auth_id) > 32:
            return None
        found = self._authorizations.get(Query().auth_id == auth_id)
        return dict(found) if found else None

    def _finish_authorization(self, auth_id: str, state: str) -> None:
        self._authorizations.update({"state": state, "session_hash": None}, Query().auth_id == auth_id)

    def _burn_offer(self, offer_id: str | None, reason: str) -> None:
        document = self._live_offer(offer_id) if offer_id else None
        if document is not None:
            self._archive(document, "burned")  # type: ignore[attr-defined]
            self._audit(None, "offer_burned", document["offer_id"], reason=reason)

    def _error_location(self, request: AuthorizationRequest, error: str, description: str) -> str:
        params = {"error": error, "error_description": description, "state": request.state, "iss": self.issuer_url}
        return redirect_location(request.redirect_uri, params)

    def _authorization_view(self, record: Mapping[str, Any]) -> dict[str, Any]:
        request = record["request"]
        offer = self._live_offer(record["offer_id"]) if record.get("offer_id") else None
        return {
            "authorization_id": record["auth_id"],
            "confirmation": record["confirmation"],
            "state": record["state"],
            "client_id": request["client_id"],
            "credential_configuration_ids": list(request["config_ids"] or (offer or {}).get("config_ids", [])),
            "offer_id": record.get("offer_id"),
            "holder_id": (offer or {}).get("holder_id"),
            "created_at": record["created_at"],
            "expires_at": record["expires_at"],
        }

    # provided by IssuerService
    _live_offer: Callable[[str], dict[str, Any] | None]
    _update_live: Callable[..., None]
    _audit: Callable[..., None]
    _publish: Callable[..., None]
