"""Wallet attestations as client authentication (OAuth 2.0 Attestation-Based Client Authentication -07,
OID4VCI 1.0 Appendix E, HAIP 1.0 §4.4.1), at the PAR and token endpoints.

The wallet sends two JWTs in the `OAuth-Client-Attestation` and `OAuth-Client-Attestation-PoP` headers:
the attestation its provider signed (`typ` oauth-client-attestation+jwt, the provider's certificate chain
in `x5c` leading to a configured trust anchor, `sub` the client_id, `cnf.jwk` the wallet instance's key,
`exp`), and a proof of possession the instance signed with that key (`typ` oauth-client-attestation-pop+jwt,
`iss` = `sub`, `aud` = this issuer, a `jti` used once, a recent `iat`, and a `challenge` when the wallet took
one from the challenge endpoint, -07 §8). The checks follow -07 §9 in order.

Challenges are sealed (HMAC) and expire, so they need no storage; the `jti` replay check makes each PoP
single use, with or without a challenge.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from jwcrypto import jwk
from jwcrypto.common import JWException

from issuer.crypto.es256 import jwk_thumbprint
from issuer.crypto.trust_anchors import ChainRefused, TrustAnchors, public_jwk_of
from issuer.errors import AttestationChallengeError, InvalidClient
from issuer.protocol import wire_json
from issuer.protocol.codes import KEY_BYTES, SealedTokens, new_secret
from issuer.protocol.proofs import PRIVATE_MEMBERS, PUBLIC_MEMBERS, signature_valid
from issuer.storage.interfaces import ReplaySet
from issuer.storage.local import MemoryReplaySet

ATTESTATION_HEADER = "OAuth-Client-Attestation"
POP_HEADER = "OAuth-Client-Attestation-PoP"
ATTESTATION_TYPE = "oauth-client-attestation+jwt"
POP_TYPE = "oauth-client-attestation-pop+jwt"
AUTH_METHOD = "attest_jwt_client_auth"
SIGNING_ALGS = ("ES256", "ES384", "ES512", "EdDSA", "PS256", "RS256")
MAX_JWT_LENGTH = 8192
MAX_AGE = 300  # a PoP older than this is refused (-07 §9 item 9)
LEEWAY = 60
CHALLENGE_TTL = 300


@dataclass(frozen=True)
class AttestedClient:
    """Who authenticated: the wallet (`client_id`), its provider, and its instance key."""

    client_id: str
    provider: str  # the attestation's `iss`
    jkt: str  # RFC 7638 thumbprint of the instance key (`cnf.jwk`)
    wallet_name: str | None = None

    def record(self) -> dict[str, str]:
        """What the ledger keeps of the wallet that received a credential."""
        named = {"wallet_name": self.wallet_name} if self.wallet_name else {}
        return {"provider": self.provider, "client_id": self.client_id, **named}


class ClientAttestations:
    """Checks of attestations and their PoPs. `seen` makes each PoP single use; `challenge_key` seals the
    challenges, kept in the store when `seen` is shared by several processes (`replay_safe_key`)."""

    def __init__(
        self,
        anchors: TrustAnchors,
        audience: str,
        *,
        required: bool,
        seen: ReplaySet | None = None,
        challenge_key: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.anchors = anchors
        self.required = required
        self._audience = audience
        self._clock = clock
        self._challenges = SealedTokens(challenge_key or secrets.token_bytes(KEY_BYTES), clock)
        self._seen = seen or MemoryReplaySet()

    @property
    def offered(self) -> bool:
        """Whether a wallet can authenticate this way at all: some provider is trusted."""
        return bool(self.anchors)

    def new_challenge(self) -> str:
        return self._challenges.seal({"c": new_secret(12)}, CHALLENGE_TTL)

    def verify(self, headers: Mapping[str, list[str]], client_id: str | None) -> AttestedClient | None:
        """The attested wallet of a request, None for a wallet without attestation where none is required;
        `client_id`, when the request names one, must be the attestation's `sub` (-07 §6.3, §6.4). An issuer
        that trusts no wallet provider does not take this client authentication, and ignores the headers."""
        attestations, pops = headers.get(ATTESTATION_HEADER, []), headers.get(POP_HEADER, [])
        if not self.offered and not self.required:
            return None
        if not attestations and not pops:
            if self.required:
                raise InvalidClient("this issuer requires a wallet attestation (OAuth-Client-Attestation)")
            return None
        if len(attestations) != 1 or len(pops) != 1:
            raise InvalidClient("send exactly one OAuth-Client-Attestation and one OAuth-Client-Attestation-PoP")
        header, claims, instance_key = self._attestation(attestations[0])
        self._pop(pops[0], instance_key, claims["sub"])
        if client_id is not None and client_id != claims["sub"]:
            raise InvalidClient("client_id is not the sub of the wallet attestation")
        name = claims.get("wallet_name")
        return AttestedClient(
            claims["sub"], claims["iss"], _thumbprint(instance_key), name if isinstance(name, str) else None
        )

    def _attestation(self, compact: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        header, claims = _decode(compact, "wallet attestation")
        if header.get("typ") != ATTESTATION_TYPE:
            raise InvalidClient(f"the wallet attestation typ must be {ATTESTATION_TYPE}")
        alg = _alg(header, "wallet attestation")
        now = self._clock()
        try:
            provider_key = public_jwk_of(self.anchors.verify(header.get("x5c"), now))
        except ChainRefused as error:
            raise InvalidClient(f"the wallet attestation is not from a trusted provider: {error}") from error
        if not signature_valid(compact, provider_key, alg):
            raise InvalidClient("the wallet attestation signature does not verify with its x5c certificate")
        for name in ("iss", "sub"):
            if not isinstance(claims.get(name), str) or not claims[name]:
                raise InvalidClient(f"the wallet attestation has no {name}")
        exp = claims.get("exp")
        if not _number(exp) or exp <= now - LEEWAY:
            raise InvalidClient("the wallet attestation has expired or has no exp")
        for name in ("nbf", "iat"):
            if _number(claims.get(name)) and claims[name] > now + LEEWAY:
                raise InvalidClient(f"the wallet attestation {name} is in the future")
        confirmation = claims.get("cnf")
        instance_key = confirmation.get("jwk") if isinstance(confirmation, dict) else None
        if not isinstance(instance_key, dict) or not isinstance(instance_key.get("kty"), str):
            raise InvalidClient("the wallet attestation has no cnf.jwk")
        if instance_key.keys() & set(PRIVATE_MEMBERS):
            raise InvalidClient("the wallet attestation cnf.jwk must be a public key")
        return header, claims, {name: instance_key[name] for name in PUBLIC_MEMBERS if name in instance_key}

    def _pop(self, compact: str, instance_key: dict[str, Any], client_id: str) -> None:
        header, claims = _decode(compact, "attestation PoP")
        if header.get("typ") != POP_TYPE:
            raise InvalidClient(f"the attestation PoP typ must be {POP_TYPE}")
        if not signature_valid(compact, instance_key, _alg(header, "attestation PoP")):
            raise InvalidClient("the attestation PoP is not signed by the key in the attestation's cnf")
        if claims.get("iss") != client_id:
            raise InvalidClient("the attestation PoP iss must be the attestation's sub")
        aud = claims.get("aud")
        if aud != self._audience and not (isinstance(aud, list) and self._audience in aud):
            raise InvalidClient("the attestation PoP aud must be this issuer")
        now = self._clock()
        iat = claims.get("iat")
        if not _number(iat) or iat > now + LEEWAY or iat < now - MAX_AGE:
            raise InvalidClient("the attestation PoP iat is missing or not recent")
        if _number(claims.get("exp")) and claims["exp"] <= now - LEEWAY:
            raise InvalidClient("the attestation PoP has expired")
        challenge = claims.get("challenge")
        if challenge is not None and (not isinstance(challenge, str) or self._challenges.open(challenge) is None):
            raise AttestationChallengeError("the PoP challenge is unknown or expired", self.new_challenge())
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 8 <= len(jti) <= 200:
            raise InvalidClient("the attestation PoP needs a unique jti")
        if not self._seen.first_time(f"attestation-pop {client_id} {jti}", iat + MAX_AGE + LEEWAY, self._clock()):
            raise InvalidClient("this attestation PoP was already used")


def _decode(compact: str, what: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if len(compact) > MAX_JWT_LENGTH:
        raise InvalidClient(f"the {what} is too long")
    try:
        return wire_json.jwt_parts(compact.strip())
    except ValueError as error:
        raise InvalidClient(f"the {what} is not a JWT") from error


def _alg(header: Mapping[str, Any], what: str) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in SIGNING_ALGS:
        raise InvalidClient(f"the {what} alg must be one of {', '.join(SIGNING_ALGS)}")
    return alg


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _thumbprint(public: Mapping[str, Any]) -> str:
    try:
        return jwk_thumbprint(public) if public.get("kty") == "EC" else str(jwk.JWK(**public).thumbprint())
    except (JWException, KeyError, TypeError, ValueError) as error:
        raise InvalidClient("the wallet attestation cnf.jwk is incomplete") from error
