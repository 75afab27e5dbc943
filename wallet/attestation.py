"""Attestations a wallet presents: its wallet attestation as client authentication (OAuth 2.0
Attestation-Based Client Authentication -07, OID4VCI 1.0 Appendix E), and the key attestations its
provider makes for the keys credentials are bound to (Appendix D).

`WalletProvider` plays the wallet provider's backend, with a certified signing key (`x5c` leads to its CA,
the trust anchor the issuer is given); `ClientAttestation` is what one wallet instance holds: the
attestation JWT and the instance key, which signs a fresh PoP for every request.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jwcrypto import jwk
from jwcrypto.common import base64url_encode

from wallet.keys import new_key, public_jwk, sign_jws
from wallet.pki import Authority, CertifiedKey

ATTESTATION_HEADER = "OAuth-Client-Attestation"
POP_HEADER = "OAuth-Client-Attestation-PoP"
CLIENT_ATTESTATION_TYP = "oauth-client-attestation+jwt"
POP_TYP = "oauth-client-attestation-pop+jwt"
KEY_ATTESTATION_TYP = "key-attestation+jwt"
HIGH = "iso_18045_high"
MODERATE = "iso_18045_moderate"


@dataclass
class ClientAttestation:
    """A wallet instance's attestation and its instance key (the attestation's `cnf.jwk`)."""

    jwt: str
    key: jwk.JWK
    client_id: str

    def headers(
        self, audience: str, *, challenge: str | None = None, claims: Mapping[str, Any] | None = None
    ) -> dict[str, str]:
        """The two headers of one request (-07 §6.1), with a PoP made for it: `iss` the client_id, `aud`
        the authorization server, a fresh `jti` and `iat`; `claims` override members (None removes one)."""
        payload = {
            "iss": self.client_id,
            "aud": audience,
            "jti": base64url_encode(os.urandom(16)),
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
            "challenge": challenge,
            **(claims or {}),
        }
        pop = sign_jws(self.key, {"typ": POP_TYP, "alg": "ES256"}, _present(payload))
        return {ATTESTATION_HEADER: self.jwt, POP_HEADER: pop}


@dataclass
class WalletProvider:
    """A wallet provider: its CA (the trust anchor), an intermediate CA, and the certified key that signs
    what it attests. `name` is the provider's identifier (`iss`)."""

    name: str = "https://wallet-provider.example"
    root: Authority = field(default_factory=lambda: Authority.root("Wallet Provider Root CA"))
    signer: CertifiedKey | None = None

    def __post_init__(self) -> None:
        if self.signer is None:
            issuing = self.root.intermediate("Wallet Provider Attestations CA")
            self.signer = CertifiedKey.issued_by(issuing, "Wallet Provider Attestations")

    @property
    def trust_anchor_pem(self) -> bytes:
        return self.root.pem

    def client_attestation(
        self,
        client_id: str = "https://wallet.example/app",
        *,
        instance_key: jwk.JWK | None = None,
        lifetime: int = 3600,
        header: Mapping[str, Any] | None = None,
        claims: Mapping[str, Any] | None = None,
    ) -> ClientAttestation:
        """A wallet attestation (-07 §5.1, Appendix E) for a wallet instance; `header` and `claims` override
        members (None removes one), so that tests can make the broken ones they need."""
        key = instance_key or new_key()
        now = int(time.time())
        payload = {
            "iss": self.name,
            "sub": client_id,
            "iat": now,
            "exp": now + lifetime,
            "wallet_name": "Frontdesk Test Wallet",
            "cnf": {"jwk": public_jwk(key)},
            **(claims or {}),
        }
        return ClientAttestation(self._sign(CLIENT_ATTESTATION_TYP, payload, header), key, client_id)

    def key_attestation(
        self,
        keys: Sequence[jwk.JWK],
        nonce: str | None,
        *,
        key_storage: Sequence[str] = (HIGH,),
        user_authentication: Sequence[str] = (HIGH,),
        lifetime: int | None = 3600,
        header: Mapping[str, Any] | None = None,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A key attestation (Appendix D.1) naming `keys`, for the issuer's `nonce`."""
        now = int(time.time())
        payload = {
            "iss": self.name,
            "iat": now,
            "exp": now + lifetime if lifetime is not None else None,
            "attested_keys": [public_jwk(key) for key in keys],
            "key_storage": list(key_storage),
            "user_authentication": list(user_authentication),
            "nonce": nonce,
            **(claims or {}),
        }
        return self._sign(KEY_ATTESTATION_TYP, payload, header)

    def _sign(self, typ: str, payload: Mapping[str, Any], header: Mapping[str, Any] | None) -> str:
        signer = self.signer
        if signer is None:
            raise ValueError("the wallet provider has no signing key")
        protected = {"typ": typ, "alg": "ES256", "x5c": signer.x5c, **(header or {})}
        return sign_jws(signer.key, _present(protected), _present(payload))


def _present(members: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in members.items() if value is not None}
