"""Credential formats checked from outside: signatures, digests, salts, binding."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from jwcrypto import jwk, jwt
from jwcrypto.common import base64url_decode, base64url_encode

from issuer.crypto.keys import IssuerKey, KeyRing
from issuer.formats import issue_credential
from issuer.formats.jwt_vc_json import did_jwk, issue_jwt_vc_json
from issuer.formats.sd_jwt_vc import issue_sd_jwt_vc
from wallet.keys import new_key, public_jwk

CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1"}
STATUS = {"status_list": {"idx": 7, "uri": "https://desk.example/status/1"}}


@pytest.fixture
def signer(tmp_path: Path) -> IssuerKey:
    return KeyRing(tmp_path / "keys").active


def verified(compact: str, signer: IssuerKey) -> tuple[dict[str, Any], dict[str, Any]]:
    token = jwt.JWT(jwt=compact, key=jwk.JWK(**signer.public_jwk), algs=["ES256"], check_claims=False)
    return json.loads(token.header), json.loads(token.claims)


def sd_jwt(signer: IssuerKey, holder: dict[str, Any], **extra: Any) -> str:
    return issue_sd_jwt_vc(
        signer=signer,
        issuer="https://desk.example",
        vct="urn:test:1",
        claims=CLAIMS,
        holder_jwk=holder,
        issued_at=1_800_000_000,
        expires_at=1_900_000_000,
        **extra,
    )


def test_sd_jwt_vc_structure(signer: IssuerKey) -> None:
    holder = public_jwk(new_key())
    issued = sd_jwt(signer, holder, status=STATUS)
    assert issued.endswith("~")
    issuer_jwt, *disclosures = issued[:-1].split("~")
    header, payload = verified(issuer_jwt, signer)
    assert header == {"alg": "ES256", "kid": signer.kid, "typ": "dc+sd-jwt"}
    assert payload["cnf"] == {"jwk": holder} and payload["vct"] == "urn:test:1" and payload["_sd_alg"] == "sha-256"
    assert payload["status"] == STATUS and payload["iss"] == "https://desk.example"
    assert not set(CLAIMS) & set(payload)  # every claim is selectively disclosable
    digests = set(payload["_sd"])
    revealed = {}
    for disclosure in disclosures:
        assert base64url_encode(hashlib.sha256(disclosure.encode()).digest()) in digests
        salt, name, value = json.loads(base64url_decode(disclosure))
        assert len(base64url_decode(salt)) == 16
        revealed[name] = value
    assert revealed == CLAIMS
    assert len(digests) == len(disclosures) + 2  # two decoys
    assert payload["_sd"] == sorted(payload["_sd"])


def test_sd_jwt_salts_differ_between_issuances(signer: IssuerKey) -> None:
    holder = public_jwk(new_key())
    first, second = sd_jwt(signer, holder), sd_jwt(signer, holder)
    assert not set(first.split("~")[1:-1]) & set(second.split("~")[1:-1])


def test_jwt_vc_json_structure(signer: IssuerKey) -> None:
    holder = public_jwk(new_key())
    compact = issue_jwt_vc_json(
        signer=signer,
        issuer="https://desk.example",
        types=["VerifiableCredential", "MembershipCard"],
        claims=CLAIMS,
        holder_jwk=holder,
        issued_at=1_800_000_000,
        expires_at=1_900_000_000,
        credential_id="urn:uuid:1",
    )
    header, payload = verified(compact, signer)
    assert header["typ"] == "JWT"
    assert payload["sub"] == did_jwk(holder) and payload["cnf"] == {"jwk": holder} and payload["jti"] == "urn:uuid:1"
    assert payload["nbf"] == payload["iat"] == 1_800_000_000 and payload["exp"] == 1_900_000_000
    vc = payload["vc"]
    assert vc["type"] == ["VerifiableCredential", "MembershipCard"]
    assert vc["credentialSubject"] == {"id": did_jwk(holder), **CLAIMS}
    decoded = json.loads(base64url_decode(did_jwk(holder).removeprefix("did:jwk:")))
    assert decoded == holder


@pytest.mark.parametrize(("credential_format", "separator_count"), [("dc+sd-jwt", 4), ("jwt_vc_json", 0)])
def test_registry_dispatches_by_format(signer: IssuerKey, credential_format: str, separator_count: int) -> None:
    issued = issue_credential(
        credential_format,
        signer=signer,
        issuer="https://desk.example",
        vct="urn:test:1",
        types=["VerifiableCredential"],
        claims=CLAIMS,
        holder_jwk=public_jwk(new_key()),
        issued_at=1,
        expires_at=2,
        credential_id="urn:uuid:2",
        status=None,
    )
    assert issued.count("~") == separator_count
