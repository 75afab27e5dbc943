"""DPoP proofs (RFC 9449): sender-constrained access tokens for wallets that ask for them.

A proof is a JWT the client signs for one request (§4): `typ` dpop+jwt, an asymmetric `alg`,
its public key in `jwk`; claims `jti` (used once), `htm` and `htu` naming this request, a
fresh `iat`, the server's `nonce` when one is required (§8), and at a protected resource
`ath`, the hash of the access token (§7). The checks follow §4.3 in order.

Server nonces are sealed (HMAC) and expire, so they need no storage; any unexpired nonce is
accepted, and the `jti` replay check makes each proof single use, in every process that shares
the replay set. A replay set kept in memory forgets at a restart, so then a proof made before this
process started (its `iat` earlier than the start, less the clock skew allowed) is refused: a
restart cannot make a used proof good again (§11.1).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from jwcrypto import jwk
from jwcrypto.common import JWException, base64url_decode

from issuer.crypto.es256 import jwk_thumbprint
from issuer.errors import DpopError
from issuer.protocol import wire_json
from issuer.protocol.codes import KEY_BYTES, SealedTokens, b64url, new_secret
from issuer.protocol.proofs import PRIVATE_MEMBERS, PUBLIC_MEMBERS, signature_valid
from issuer.storage.interfaces import ReplaySet
from issuer.storage.local import MemoryReplaySet

PROOF_TYPE = "dpop+jwt"
SIGNING_ALGS = ("ES256", "ES384", "ES512", "EdDSA", "PS256", "RS256")
MAX_PROOF_LENGTH = 8192
MAX_AGE = 300  # a proof older than this is refused (§11.1)
LEEWAY = 60  # clock skew allowed for a proof from the future
NONCE_TTL = 300


@dataclass(frozen=True)
class VerifiedDpop:
    jkt: str  # RFC 7638 thumbprint of the proof's key: the token's `cnf.jkt`


class DpopVerifier:
    def __init__(
        self,
        *,
        require_nonce: bool,
        clock: Callable[[], float] = time.time,
        key: bytes | None = None,
        seen: ReplaySet | None = None,
    ) -> None:
        self.require_nonce = require_nonce
        self._clock = clock
        self._nonces = SealedTokens(key or secrets.token_bytes(KEY_BYTES), clock)
        self._seen = seen or MemoryReplaySet()
        # Proofs seen before this process are not known to a replay set that lives in its memory.
        self._oldest_iat = float("-inf") if self._seen.shared else clock() - LEEWAY

    def new_nonce(self) -> str:
        return self._nonces.seal({"d": new_secret(12)}, NONCE_TTL)

    def verify(self, proof: str, method: str, url: str, access_token: str | None = None) -> VerifiedDpop:
        """The proof's key thumbprint, or DpopError (RFC 9449 §4.3)."""
        if not proof or len(proof) > MAX_PROOF_LENGTH or proof.count(".") != 2:
            raise DpopError("invalid_dpop_proof", "the DPoP header must hold one JWT")
        header, claims = _decode(proof)
        if header.get("typ") != PROOF_TYPE:
            raise DpopError("invalid_dpop_proof", f"the DPoP proof typ must be {PROOF_TYPE}")
        alg = header.get("alg")
        if alg not in SIGNING_ALGS:
            raise DpopError("invalid_dpop_proof", f"the DPoP proof alg must be one of {', '.join(SIGNING_ALGS)}")
        key = header.get("jwk")
        if not isinstance(key, dict) or not isinstance(key.get("kty"), str) or key.keys() & set(PRIVATE_MEMBERS):
            raise DpopError("invalid_dpop_proof", "the DPoP proof jwk must be a public key")
        public = {name: key[name] for name in PUBLIC_MEMBERS if name in key}
        if not signature_valid(proof, public, alg):
            raise DpopError("invalid_dpop_proof", "the DPoP proof signature does not verify")
        self._check_claims(claims, method, url, access_token)
        if not self._seen.first_time("dpop_jti:" + claims["jti"], claims["iat"] + MAX_AGE + LEEWAY, self._clock()):
            raise DpopError("invalid_dpop_proof", "this DPoP proof was already used")
        try:
            thumbprint = jwk_thumbprint(public) if public["kty"] == "EC" else jwk.JWK(**public).thumbprint()
        except (JWException, KeyError, TypeError, ValueError) as error:
            raise DpopError("invalid_dpop_proof", "the DPoP proof jwk is incomplete") from error
        return VerifiedDpop(thumbprint)

    def _check_claims(self, claims: dict[str, Any], method: str, url: str, access_token: str | None) -> None:
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 8 <= len(jti) <= 200:
            raise DpopError("invalid_dpop_proof", "the DPoP proof needs a unique jti")
        if claims.get("htm") != method:
            raise DpopError("invalid_dpop_proof", f"the DPoP proof htm must be {method}")
        htu = claims.get("htu")
        if not isinstance(htu, str) or _normalized(htu) != _normalized(url):
            raise DpopError("invalid_dpop_proof", "the DPoP proof htu must be the URL of this endpoint")
        iat = claims.get("iat")
        now = self._clock()
        if not isinstance(iat, int | float) or isinstance(iat, bool):
            raise DpopError("invalid_dpop_proof", "the DPoP proof iat is missing")
        if iat > now + LEEWAY or iat < now - MAX_AGE:
            raise DpopError("invalid_dpop_proof", "the DPoP proof iat is not recent")
        if iat < self._oldest_iat:
            raise DpopError("invalid_dpop_proof", "the DPoP proof was made before this server started")
        nonce = claims.get("nonce")
        if nonce is not None or self.require_nonce:
            if not isinstance(nonce, str) or self._nonces.open(nonce) is None:
                raise DpopError("use_dpop_nonce", "use the DPoP-Nonce this server provides", self.new_nonce())
        if access_token is not None:
            expected = b64url(hashlib.sha256(access_token.encode("ascii")).digest())
            if claims.get("ath") != expected:
                raise DpopError("invalid_dpop_proof", "the DPoP proof ath does not match the access token")


def _decode(proof: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header_part, claims_part, _ = proof.split(".")
        header, claims = wire_json.loads(base64url_decode(header_part)), wire_json.loads(base64url_decode(claims_part))
    except (ValueError, TypeError) as error:
        raise DpopError("invalid_dpop_proof", "the DPoP proof is not a JWT") from error
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise DpopError("invalid_dpop_proof", "the DPoP proof header and claims must be JSON objects")
    return header, claims


def _normalized(url: str) -> tuple[str, str, str]:
    """A URL without query and fragment, scheme and host in lower case, default ports dropped (§4.3)."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme.lower())
    try:
        port = parts.port
    except ValueError:
        return ("", "", url)
    host = (parts.hostname or "") + (f":{port}" if port and port != default else "")
    return parts.scheme.lower(), host, parts.path or "/"
