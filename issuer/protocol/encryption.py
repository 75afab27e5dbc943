"""Encrypted Credential Responses and Requests (OID4VCI §8.2, §10).

Responses: the wallet sends a public key and an `enc` (`credential_response_encryption`); the response
body becomes a compact JWE with `alg` from the key, `enc` as asked, the key's `kid` copied, and `zip` only
when requested.

Requests: when the issuer offers it (`credential_request_encryption`), a wallet sends its (Deferred)
Credential Request as a compact JWE (`application/jwt`) to one of the issuer's encryption keys, named by
`kid`; its plaintext is the request's JSON object.

Everything that could refuse the response parameters is checked when the request is read, before any
credential is signed or recorded: the key's members, its `use` and `key_ops` (RFC 7517 §4.2, §4.3), and
a trial encryption to it. A failure after that is still possible in principle; the caller then treats
the credentials as never delivered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jwcrypto import jwe, jwk
from jwcrypto.common import JWException, base64url_decode

from issuer.crypto import es256
from issuer.crypto.encryption_keys import EncryptionKeys
from issuer.errors import InvalidCredentialRequest, InvalidEncryptionParameters
from issuer.protocol import wire_json

SUPPORTED_ALGS = ("ECDH-ES",)
SUPPORTED_ENCS = ("A128GCM", "A256GCM")
SUPPORTED_ZIPS = ("DEF",)
REQUEST_MEDIA_TYPE = "application/jwt"
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
# `key_ops` that let a public key receive an ECDH-ES response: the key is used to derive the content key.
ENCRYPTION_KEY_OPS = frozenset({"encrypt", "wrapKey", "deriveKey", "deriveBits"})
USAGE_MEMBERS = ("use", "key_ops")  # checked here; jwcrypto's own reading of them differs for ECDH-ES


@dataclass(frozen=True)
class RequestEncryption:
    """Whether wallets may (`keys`) or must (`required`) encrypt their Credential Requests."""

    keys: EncryptionKeys | None  # None: request encryption is not offered
    required: bool = False


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


def decrypt_request(compact: str, keys: EncryptionKeys) -> dict[str, Any]:
    """The JSON object an encrypted request carries; InvalidEncryptionParameters for a JWE this issuer
    cannot or will not decrypt (§10: `alg` ECDH-ES, an `enc` and `zip` it supports, its key's `kid`)."""
    parts = compact.strip().split(".")
    if len(parts) != 5:
        raise InvalidEncryptionParameters("an encrypted request must be a compact JWE")
    try:
        header = wire_json.loads(base64url_decode(parts[0]))
    except (ValueError, TypeError) as error:
        raise InvalidEncryptionParameters("the JWE header is not base64url JSON") from error
    if not isinstance(header, dict):
        raise InvalidEncryptionParameters("the JWE header must be a JSON object")
    if header.get("alg") not in SUPPORTED_ALGS:
        raise InvalidEncryptionParameters(f"the request must be encrypted with alg {', '.join(SUPPORTED_ALGS)}")
    if header.get("enc") not in SUPPORTED_ENCS:
        raise InvalidEncryptionParameters(f"enc must be one of {', '.join(SUPPORTED_ENCS)}")
    if header.get("zip") not in (None, *SUPPORTED_ZIPS):
        raise InvalidEncryptionParameters("zip must be DEF when present")
    kid = header.get("kid")
    key = keys.find(kid) if isinstance(kid, str) else None
    if key is None:
        raise InvalidEncryptionParameters("the JWE kid names no encryption key of this issuer: read its metadata again")
    token = jwe.JWE()
    try:
        token.deserialize(compact.strip(), key=key.private)
        body = wire_json.loads(token.payload)
    except (JWException, ValueError, TypeError) as error:
        raise InvalidEncryptionParameters("the request cannot be decrypted with the key it names") from error
    if not isinstance(body, dict):
        raise InvalidCredentialRequest("the decrypted request must be a JSON object")
    return body
