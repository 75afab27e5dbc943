"""Credential Response encryption (OID4VCI §8.2 `credential_response_encryption`, §10).

The wallet sends a public key and an `enc`; the response body becomes a compact JWE with
`alg` from the key, `enc` as asked, the key's `kid` copied, and `zip` only when requested.

Everything that could refuse the parameters is checked when the request is read, before any
credential is signed or recorded: the key's members, its `use` and `key_ops` (RFC 7517 §4.2,
§4.3), and a trial encryption to it. A failure after that is still possible in principle; the
caller then treats the credentials as never delivered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jwcrypto import jwe, jwk
from jwcrypto.common import JWException

from issuer.crypto import es256
from issuer.errors import InvalidEncryptionParameters

SUPPORTED_ALGS = ("ECDH-ES",)
SUPPORTED_ENCS = ("A128GCM", "A256GCM")
SUPPORTED_ZIPS = ("DEF",)
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
# `key_ops` that let a public key receive an ECDH-ES response: the key is used to derive the content key.
ENCRYPTION_KEY_OPS = frozenset({"encrypt", "wrapKey", "deriveKey", "deriveBits"})
USAGE_MEMBERS = ("use", "key_ops")  # checked here; jwcrypto's own reading of them differs for ECDH-ES


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
    if key.get("use", "enc") != "enc":
        raise InvalidEncryptionParameters("the encryption jwk is marked for another use than enc")
    key_ops = key.get("key_ops", list(ENCRYPTION_KEY_OPS))
    if not isinstance(key_ops, list) or not ENCRYPTION_KEY_OPS.intersection(
        op for op in key_ops if isinstance(op, str)
    ):
        raise InvalidEncryptionParameters("the encryption jwk's key_ops allow no encryption or key derivation")
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
    encryption = ResponseEncryption(dict(key), enc, zip_)
    encrypt_response({}, encryption)  # whatever else jwcrypto would refuse, refused now
    return encryption


def encrypt_response(body: Mapping[str, Any], encryption: ResponseEncryption) -> str:
    """The body as a compact JWE to the wallet's key; InvalidEncryptionParameters if it cannot be."""
    header: dict[str, Any] = {"alg": encryption.jwk["alg"], "enc": encryption.enc}
    if "kid" in encryption.jwk:
        header["kid"] = encryption.jwk["kid"]
    if encryption.zip:
        header["zip"] = encryption.zip
    recipient = {name: value for name, value in encryption.jwk.items() if name not in USAGE_MEMBERS}
    try:
        token = jwe.JWE(json.dumps(body, separators=(",", ":")).encode(), protected=json.dumps(header))
        token.add_recipient(jwk.JWK(**recipient))
        return str(token.serialize(compact=True))
    except (JWException, ValueError, TypeError) as error:
        raise InvalidEncryptionParameters("the response cannot be encrypted to this key") from error
