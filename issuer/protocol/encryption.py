"""Credential Response encryption (OID4VCI §8.2 `credential_response_encryption`, §10).

The wallet sends a public key and an `enc`; the response body becomes a compact JWE with
`alg` from the key, `enc` as asked, the key's `kid` copied, and `zip` only when requested.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jwcrypto import jwe, jwk

from issuer.crypto import es256
from issuer.errors import InvalidEncryptionParameters

SUPPORTED_ALGS = ("ECDH-ES",)
SUPPORTED_ENCS = ("A128GCM", "A256GCM")
SUPPORTED_ZIPS = ("DEF",)
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


@dataclass(frozen=True)
class ResponseEncryption:
    jwk: dict[str, Any]
    enc: str
    zip: str | None


def parse_response_encryption(value: Any) -> ResponseEncryption:
    if not isinstance(value, dict):
        raise InvalidEncryptionParameters("credential_response_encryption must be an object")
    key = value.get("jwk")
    if not isinstance(key, dict):
        raise InvalidEncryptionParameters("credential_response_encryption.jwk is missing")
    if any(member in key for member in PRIVATE_MEMBERS):
        raise InvalidEncryptionParameters("the encryption jwk must be a public key")
    if key.get("alg") not in SUPPORTED_ALGS:
        raise InvalidEncryptionParameters(f"the encryption jwk needs alg {', '.join(SUPPORTED_ALGS)}")
    if key.get("kty") != "EC" or key.get("crv") != "P-256":
        raise InvalidEncryptionParameters("the encryption jwk must be an EC P-256 key")
    try:
        es256.public_key_from_jwk(key)  # also refuses a point off the curve
    except ValueError as error:
        raise InvalidEncryptionParameters("the encryption jwk is not a valid P-256 public key") from error
    enc = value.get("enc")
    if enc not in SUPPORTED_ENCS:
        raise InvalidEncryptionParameters(f"enc must be one of {', '.join(SUPPORTED_ENCS)}")
    zip_ = value.get("zip")
    if zip_ is not None and zip_ not in SUPPORTED_ZIPS:
        raise InvalidEncryptionParameters("zip must be DEF when present")
    return ResponseEncryption(dict(key), enc, zip_)


def encrypt_response(body: Mapping[str, Any], encryption: ResponseEncryption) -> str:
    header: dict[str, Any] = {"alg": encryption.jwk["alg"], "enc": encryption.enc}
    if "kid" in encryption.jwk:
        header["kid"] = encryption.jwk["kid"]
    if encryption.zip:
        header["zip"] = encryption.zip
    token = jwe.JWE(json.dumps(body, separators=(",", ":")).encode(), protected=json.dumps(header))
    token.add_recipient(jwk.JWK(**encryption.jwk))
    return str(token.serialize(compact=True))
