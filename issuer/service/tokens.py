"""The token endpoint's work (OID4VCI §6, RFC 6749 §5): codes redeemed once for access tokens,
refresh tokens for deferred issuances, nonces for key proofs, DPoP binding, and the wallet attestation
a wallet authenticates with (Appendix E), which the offer keeps for the ledger and the refresh token.

Access tokens and nonces are sealed (HMAC) and need no write; what a code unlocks is
recorded on its offer with a compare-and-set, so a code redeemed twice, in any process,
gives one token.
"""

from __future__ import annotations

from collections.abc import Mapping

from issuer import events
from issuer.errors import InvalidAuthorizationDetails, InvalidGrant, InvalidRequest, InvalidToken
from issuer.protocol.client_attestation import AttestedClient, ClientAttestations
from issuer.protocol.codes import NonceMint, SealedTokens, new_secret, replay_safe_key
from issuer.protocol.dpop import DpopVerifier
from issuer.service.context import Context
from issuer.service.offers import Offers, Superseded
from issuer.service.sign_ins import SignIns
from issuer.service.types import AccessGrant, Offer, TokenResult

NONCE_KEY, DPOP_NONCE_KEY = "c-nonce.key", "dpop-nonce.key"


class Tokens:
    def __init__(
        self, ctx: Context, offers: Offers, sign_ins: SignIns, token_key: bytes, attestations: ClientAttestations
    ) -> None:
        self._ctx = ctx
        self._offers = offers
        self._sign_ins = sign_ins
        self._tokens = SealedTokens(token_key, ctx.time)
        replays, files = ctx.store.replays, ctx.store.key_files
        nonce_key = replay_safe_key(files, NONCE_KEY, replays)
        self._nonces = NonceMint(ctx.settings.nonce_ttl, ctx.time, key=nonce_key, seen=replays)
        dpop_key = replay_safe_key(files, DPOP_NONCE_KEY, replays)
        self.dpop = DpopVerifier(
            require_nonce=ctx.settings.require_dpop_nonce, clock=ctx.time, key=dpop_key, seen=replays
        )
        self.attestations = attestations

    def redeem_pre_authorized_code(
        self,
        code: str,
        tx_code: str | None,
        requested_config_ids: list[str] | None,
        client_id: str | None = None,
        jkt: str | None = None,
        wallet: AttestedClient | None = None,
    ) -> TokenResult:
        """Exchange a pre-authorized code for an access token (OID4VCI §6.1, §6.3), once; an attested
        wallet is the token's client."""
        ctx = self._ctx
        client_id = wallet.client_id if wallet else client_id
        offer_id = code.partition(".")[0]
        with ctx.transaction():
            offer = self._offers.get(offer_id)
            if offer is None or not ctx.hasher.matches(code, offer.code_hash) or not offer.unredeemed:
                raise InvalidGrant("the pre-authorized code is unknown or was already used")
            if offer.expires_at < ctx.clock():
                raise InvalidGrant("the pre-authorized code has expired")
            if offer.tx_code_hash is None and tx_code is not None:
                raise InvalidRequest("this offer has no transaction code, but tx_code was sent")
            if offer.tx_code_hash is not None and tx_code is None:
                raise InvalidRequest("tx_code is required for this offer")
            if tx_code is not None and not ctx.hasher.matches(tx_code, offer.tx_code_hash):
                raise self._offers.wrong_tx_code(offer)
            granted = _granted(offer, requested_config_ids)
            refresh_token = f"{offer_id}.{new_secret(32)}" if offer.deferred else None
            redeemed = offer.redeemed(
                ctx.now(),
                granted,
                client_id=client_id,
                identifiers=requested_config_ids is not None,
                jkt=jkt,
                refresh_hash=ctx.hasher.digest(refresh_token) if refresh_token else None,
                wallet=_wallet(wallet),
            )
            self._save_once(offer, redeemed, "the pre-authorized code is unknown or was already used")
        ctx.publish(events.TOKEN_ISSUED, offer_id)
        return self._token_result(redeemed, refresh_token)

    def redeem_authorization(
        self,
        code: str,
        *,
        client_id: str,
        redirect_uri: str,
        code_verifier: str,
        jkt: str | None = None,
        wallet: AttestedClient | None = None,
    ) -> TokenResult:
        """Exchange an authorization code (OID4VCI §6.1, RFC 7636 §4.5) for an access token, once."""
        ctx = self._ctx
        offer_id, request = self._sign_ins.redeem_code(
            code, client_id=client_id, redirect_uri=redirect_uri, code_verifier=code_verifier, dpop_jkt=jkt
        )
        with ctx.transaction():
            offer = self._offers.get(offer_id)
            if offer is None or not offer.unredeemed or offer.expires_at < ctx.clock():
                raise InvalidGrant("the offer behind this authorization code is no longer valid")
            granted = request.config_ids or offer.config_ids
            redeemed = offer.redeemed(
                ctx.now(),
                granted,
                client_id=client_id,
                identifiers=request.with_details,
                jkt=jkt,
                wallet=_wallet(wallet),
            )
            self._save_once(offer, redeemed, "the offer behind this authorization code is no longer valid")
        ctx.publish(events.TOKEN_ISSUED, offer_id)
        return self._token_result(redeemed, None)

    def refresh(self, refresh_token: str, jkt: str | None = None, wallet: AttestedClient | None = None) -> TokenResult:
        """A new access token for a deferred issuance that outlives the first one (RFC 6749 §6);
        a refresh token given to a DPoP client works only with the same key (RFC 9449 §5), and one given
        to an attested wallet only to the same wallet instance (attestation-based client auth -07 §10.3)."""
        ctx = self._ctx
        offer_id = refresh_token.partition(".")[0]
        with ctx.transaction():
            offer = self._offers.get(offer_id)
            if offer is None or not ctx.hasher.matches(refresh_token, offer.refresh_hash):
                raise InvalidGrant("the refresh token is unknown or was already used")
            if offer.jkt and offer.jkt != jkt:
                raise InvalidGrant("the refresh token is bound to another DPoP key")
            if offer.wallet and (wallet is None or wallet.jkt != offer.wallet.get("jkt")):
                raise InvalidGrant("the refresh token is bound to the attested wallet instance that received it")
            rotated = f"{offer_id}.{new_secret(32)}"
            refreshed = offer.with_refresh(ctx.hasher.digest(rotated))
            self._save_once(offer, refreshed, "the refresh token is unknown or was already used")
        return self._token_result(refreshed, rotated)

    def authorize(self, access_token: str) -> AccessGrant:
        """The grant behind an access token, or InvalidToken (RFC 6750 §3.1)."""
        claims = self._tokens.open(access_token)
        if claims is None:
            raise InvalidToken("the access token is invalid or has expired")
        return AccessGrant(claims["o"], tuple(claims["c"]), claims.get("i") or {}, claims.get("k"), claims.get("j"))

    def new_nonce(self) -> str:
        return self._nonces.issue()

    def consume_nonce(self, nonce: str) -> bool:
        return self._nonces.consume(nonce)

    def _save_once(self, offer: Offer, new: Offer, refusal: str) -> None:
        try:
            self._offers.save(offer, new)
        except Superseded as error:  # another request redeemed it first
            raise InvalidGrant(refusal) from error

    def _token_result(self, offer: Offer, refresh_token: str | None) -> TokenResult:
        config_ids = list(offer.covered)
        identifiers = {f"{c}:1": c for c in config_ids} if offer.identifiers else {}
        claims: dict[str, object] = {"o": offer.offer_id, "c": config_ids}
        if identifiers:
            claims["i"] = identifiers
        if offer.client_id is not None:
            claims["k"] = offer.client_id
        if offer.jkt is not None:
            claims["j"] = offer.jkt
        ttl = self._ctx.settings.access_token_ttl
        details = None
        if offer.identifiers:
            details = [
                {"type": "openid_credential", "credential_configuration_id": c, "credential_identifiers": [i]}
                for i, c in identifiers.items()
            ]
        token_type = "DPoP" if offer.jkt else "Bearer"
        return TokenResult(self._tokens.seal(claims, ttl), ttl, details, refresh_token, token_type)


def _wallet(wallet: AttestedClient | None) -> Mapping[str, str] | None:
    """What the offer keeps of an attested wallet: the ledger's record, and the instance key."""
    return {**wallet.record(), "jkt": wallet.jkt} if wallet else None


def _granted(offer: Offer, requested: list[str] | None) -> tuple[str, ...]:
    """All offered configurations, or the requested subset (OID4VCI §6.1.1)."""
    if requested is None:
        return offer.config_ids
    not_offered = [c for c in requested if c not in offer.config_ids]
    if not_offered:
        raise InvalidAuthorizationDetails(f"not in the offer: {', '.join(not_offered)}")
    return tuple(dict.fromkeys(requested))
