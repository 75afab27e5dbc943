"""Checks of what the issuer hands out, made independently of the issuer's code.

Signatures verify against the published JWKS, and, for a verifier that holds the issuer's trust anchor, with
the key of the `x5c` chain that leads to it (HAIP 1.0 §6.1.1); SD-JWT disclosure digests are processed as
RFC 9901 §7.1 says; holder binding, issuer, type and expiry are checked as a verifier would.
Encrypted responses (§10) are decrypted here with the key the wallet asked them to be sent to.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

from cryptography import x509
from jwcrypto import jwe, jwk, jws
from jwcrypto.common import JWException, base64url_decode, base64url_encode, json_decode

from wallet.certificates import ChainError, leaf_jwk, verified_chain
from wallet.keys import public_jwk

VC_CONTEXT_V1 = "https://www.w3.org/2018/credentials/v1"
ASYMMETRIC_ALGS = ("ES256", "ES384", "ES512", "EdDSA", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512")


class VerificationError(Exception):
    """A credential that a verifier would refuse."""


def decrypt(compact: str, key: jwk.JWK) -> str:
    """The plaintext of a compact JWE for `key`."""
    token = jwe.JWE()
    token.deserialize(compact, key=key)
    return str(token.payload.decode())


def decrypt_response(compact: str, key: jwk.JWK, enc: str) -> str:
    """An encrypted response's plaintext, after checking its header against the request (§10):
    `alg` is the JWK's, `enc` as requested, `kid` copied from the JWK when it has one."""
    header = json_decode(base64url_decode(compact.split(".")[0]))
    public = key.export_public(as_dict=True)
    if header.get("alg") != public.get("alg") or header.get("enc") != enc or header.get("kid") != public.get("kid"):
        raise ValueError(f"the JWE header {header} does not match the requested encryption")
    return decrypt(compact, key)


def verify_sd_jwt_vc(
    sd_jwt: str,
    jwks: Mapping[str, Any],
    *,
    issuer: str,
    vct: str,
    holder_jwk: Mapping[str, Any],
    trust_anchor: x509.Certificate | None = None,
) -> dict[str, Any]:
    """The selectively disclosed claims of an issued SD-JWT VC, once everything a verifier checks holds.

    The issuer-signed JWT verifies with the JWKS key named by `kid` and has `typ` dc+sd-jwt
    (SD-JWT VC §3.2.1); `_sd_alg` is sha-256; every disclosure's digest is embedded exactly once
    and the disclosures follow RFC 9901 §7.1; `iss`, `vct`, `exp` and `cnf.jwk` are as expected.
    """
    if not sd_jwt.endswith("~"):
        raise VerificationError("an issued SD-JWT ends with '~' and has no key binding JWT")
    issuer_jwt, *disclosures = sd_jwt[:-1].split("~")
    header, payload = verify_jws(issuer_jwt, jwks, trust_anchor)
    if header.get("typ") != "dc+sd-jwt":
        raise VerificationError(f"typ is {header.get('typ')!r}, not dc+sd-jwt")
    if payload.get("_sd_alg") != "sha-256":
        raise VerificationError(f"_sd_alg is {payload.get('_sd_alg')!r}, not sha-256")
    if payload.get("vct") != vct:
        raise VerificationError(f"vct is {payload.get('vct')!r}")
    _check_validity(payload, issuer=issuer, holder_jwk=holder_jwk)
    by_digest: dict[str, list[Any]] = {}
    for disclosure in disclosures:
        digest = base64url_encode(hashlib.sha256(disclosure.encode("ascii")).digest())
        if digest in by_digest:
            raise VerificationError("the same disclosure is sent twice")
        by_digest[digest] = _decode_disclosure(disclosure)
    unfolder = _Unfolder(by_digest)
    top_level = set(payload.get("_sd", []))
    processed = unfolder.process(payload)
    if unfolder.unused:
        raise VerificationError(f"{len(unfolder.unused)} disclosure(s) are not referenced by any digest")
    disclosed = {by_digest[digest][1] for digest in top_level & set(by_digest)}
    return {name: processed[name] for name in disclosed}


def verify_jwt_vc_json(
    jwt_vc: str,
    jwks: Mapping[str, Any],
    *,
    issuer: str,
    holder_jwk: Mapping[str, Any],
    trust_anchor: x509.Certificate | None = None,
) -> dict[str, Any]:
    """The credentialSubject of a W3C VC as a JWT (Appendix A.1.1, VC Data Model 1.1 §6.3.1),
    once its signature, issuer, validity, type and holder binding check out."""
    _, payload = verify_jws(jwt_vc, jwks, trust_anchor)
    _check_validity(payload, issuer=issuer, holder_jwk=holder_jwk)
    vc = payload.get("vc")
    if not isinstance(vc, dict) or not isinstance(vc.get("credentialSubject"), dict):
        raise VerificationError("the JWT has no vc.credentialSubject")
    if (vc.get("@context") or [None])[0] != VC_CONTEXT_V1 or "VerifiableCredential" not in vc.get("type", []):
        raise VerificationError("vc has the wrong @context or type")
    if vc.get("issuer", issuer) != issuer:
        raise VerificationError("vc.issuer differs from iss")
    subject = dict(vc["credentialSubject"])
    if subject.get("id") != payload.get("sub"):
        raise VerificationError("credentialSubject.id differs from sub")
    if str(payload.get("sub", "")).startswith("did:jwk:"):
        did_key = json.loads(base64url_decode(payload["sub"][len("did:jwk:") :]))
        if public_jwk(did_key) != public_jwk(holder_jwk):
            raise VerificationError("sub (did:jwk) is not the holder's key")
    return subject


def verify_jws(
    compact: str, jwks: Mapping[str, Any], trust_anchor: x509.Certificate | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a compact JWS whose signature verifies with the JWKS key named by `kid`; with a
    `trust_anchor`, also with the key of its `x5c` chain, which must lead to that anchor."""
    try:
        header = json_decode(base64url_decode(compact.split(".")[0]))
    except (ValueError, IndexError) as error:
        raise VerificationError("not a compact JWS") from error
    alg = header.get("alg")
    if alg not in ASYMMETRIC_ALGS:
        raise VerificationError(f"alg {alg!r} is not an asymmetric signature algorithm")
    matching = [key for key in jwks.get("keys", []) if key.get("kid") == header.get("kid")]
    if len(matching) != 1:
        raise VerificationError(f"{len(matching)} keys in the issuer's JWKS have kid {header.get('kid')!r}")
    if matching[0].get("alg", alg) != alg:
        raise VerificationError(f"the key is for {matching[0]['alg']}, the JWS uses {alg}")
    keys = [jwk.JWK(**matching[0])]
    if trust_anchor is not None:
        try:
            keys.append(leaf_jwk(verified_chain(header.get("x5c"), trust_anchor)))
        except ChainError as error:
            raise VerificationError(str(error)) from error
    for key in keys:
        token = jws.JWS()
        try:
            token.deserialize(compact)
            token.verify(key, alg=alg)
            payload = json.loads(token.payload)
        except (JWException, ValueError) as error:
            raise VerificationError(f"the signature does not verify: {error}") from error
    if not isinstance(payload, dict):
        raise VerificationError("the payload is not a JSON object")
    return header, payload


def verify_signed_metadata(compact: str, trust_anchor: x509.Certificate, issuer: str) -> dict[str, Any]:
    """The metadata in signed Credential Issuer metadata (§12.2.3), once it checks out as HAIP 1.0 §4.1 has
    a wallet check it: `typ`, an `x5c` chain to the trust anchor whose leaf signed it, `sub` the issuer,
    `iat`, an `exp` not passed."""
    try:
        header = json_decode(base64url_decode(compact.split(".")[0]))
    except (ValueError, IndexError) as error:
        raise VerificationError("not a compact JWS") from error
    if header.get("typ") != "openidvci-issuer-metadata+jwt":
        raise VerificationError(f"typ is {header.get('typ')!r}, not openidvci-issuer-metadata+jwt")
    try:
        key = leaf_jwk(verified_chain(header.get("x5c"), trust_anchor))
    except ChainError as error:
        raise VerificationError(str(error)) from error
    token = jws.JWS()
    try:
        token.deserialize(compact)
        token.verify(key, alg=header.get("alg"))
        payload = json.loads(token.payload)
    except (JWException, ValueError) as error:
        raise VerificationError(f"the signature does not verify: {error}") from error
    if not isinstance(payload, dict) or payload.get("sub") != issuer:
        raise VerificationError("sub is not the Credential Issuer Identifier")
    if not isinstance(payload.get("iat"), int) or payload.get("exp", time.time() + 1) <= time.time():
        raise VerificationError("iat is missing, or the signed metadata has expired")
    return {name: value for name, value in payload.items() if name not in ("sub", "iat", "exp", "iss")}


def _check_validity(
    payload: Mapping[str, Any], *, issuer: str, holder_jwk: Mapping[str, Any], leeway: int = 60
) -> None:
    now = time.time()
    if payload.get("iss") != issuer:
        raise VerificationError(f"iss is {payload.get('iss')!r}")
    if not isinstance(payload.get("exp"), int | float) or payload["exp"] <= now:
        raise VerificationError("the credential has no exp or has expired")
    if isinstance(payload.get("nbf"), int | float) and payload["nbf"] > now + leeway:
        raise VerificationError("the credential is not valid yet")
    cnf = payload.get("cnf")
    bound = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(bound, dict) or "d" in bound or public_jwk(bound) != public_jwk(holder_jwk):
        raise VerificationError("cnf.jwk is not the holder's public key")


def _decode_disclosure(disclosure: str) -> list[Any]:
    try:
        decoded = json.loads(base64url_decode(disclosure))
    except ValueError as error:
        raise VerificationError("a disclosure is not base64url JSON") from error
    if not isinstance(decoded, list) or len(decoded) not in (2, 3) or not isinstance(decoded[0], str):
        raise VerificationError("a disclosure is not [salt, (name,) value]")
    if len(base64url_decode(decoded[0])) < 16:
        raise VerificationError("a salt has fewer than 128 bits")
    return decoded


class _Unfolder:
    """RFC 9901 §7.1 step 3: replace embedded digests by their disclosures, recursively."""

    def __init__(self, by_digest: Mapping[str, list[Any]]) -> None:
        self._by_digest = by_digest
        self._seen: set[str] = set()
        self.unused = set(by_digest)

    def process(self, value: Any) -> Any:
        if isinstance(value, dict):
            return self._object(value)
        if isinstance(value, list):
            return list(self._array(value))
        return value

    def _object(self, source: Mapping[str, Any]) -> dict[str, Any]:
        result = {name: self.process(value) for name, value in source.items() if name not in ("_sd", "_sd_alg")}
        for digest in source.get("_sd", []):
            disclosure = self._take(digest)
            if disclosure is None:
                continue  # a decoy
            if len(disclosure) != 3 or disclosure[1] in ("_sd", "...") or disclosure[1] in result:
                raise VerificationError("an object disclosure is malformed or repeats a claim")
            result[disclosure[1]] = self.process(disclosure[2])
        return result

    def _array(self, source: list[Any]) -> Iterator[Any]:
        for element in source:
            if not (isinstance(element, dict) and set(element) == {"..."}):
                yield self.process(element)
                continue
            disclosure = self._take(element["..."])
            if disclosure is None:
                continue
            if len(disclosure) != 2:
                raise VerificationError("an array element disclosure is malformed")
            yield self.process(disclosure[1])

    def _take(self, digest: Any) -> list[Any] | None:
        if not isinstance(digest, str) or digest in self._seen:
            raise VerificationError("a digest is not a string or appears twice")
        self._seen.add(digest)
        self.unused.discard(digest)
        return self._by_digest.get(digest)
