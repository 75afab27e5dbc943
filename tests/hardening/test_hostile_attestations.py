"""Hostile wallet attestations, key attestations and encrypted requests: a JSON error, never a 500.

One issuer that trusts a wallet provider and takes encrypted requests serves the module; Hypothesis makes
header values, JWT-shaped attestations with arbitrary headers and claims, and JWE-shaped bodies. Every answer
is a 4xx OAuth-shaped JSON error, nothing is logged as an error, and the issuer still issues afterwards.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issuer.runtime import IssuerRuntime
from issuer.service import OfferRequest
from tests.conftest import start_issuer
from wallet.attestation import ATTESTATION_HEADER, POP_HEADER, WalletProvider
from wallet.client import Session, TestWallet
from wallet.keys import make_proof, new_key, sign_jws
from wallet.transport import HttpResponse

BADGE = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1"}
FUZZ = settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
CLAIM_NAMES = ["iss", "sub", "exp", "iat", "nbf", "cnf", "aud", "jti", "challenge", "attested_keys", "nonce"]
HEADER_NAMES = ["typ", "alg", "x5c", "kid", "jwk", "crit"]


class Target:
    def __init__(self, runtime: IssuerRuntime, provider: WalletProvider) -> None:
        assert runtime.service is not None
        self.runtime, self.service, self.provider = runtime, runtime.service, provider
        self.url = runtime.issuer_url
        self.wallet = TestWallet()
        offer = self.service.offers.create(OfferRequest(["employee_badge"], BADGE))
        self.session: Session = self.wallet.resolve_offer(offer.offer_uri)
        self.wallet.token(self.session)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    data_dir: Path = tmp_path_factory.mktemp("hostile-attestations") / "data"
    data_dir.mkdir(mode=0o700)
    provider = WalletProvider()
    (data_dir / "providers.pem").write_bytes(provider.trust_anchor_pem)
    runtime = start_issuer(data_dir, wallet_trust_anchors=("providers.pem",), request_encryption=True)
    running = Target(runtime, provider)
    try:
        yield running
    finally:
        running.wallet.close()
        runtime.stop()


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    with caplog.at_level(logging.ERROR):
        yield
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def refused_politely(response: HttpResponse) -> None:
    assert 400 <= response.status < 500, (response.status, response.body[:300])
    assert response.content_type == "application/json", response.body[:300]
    assert isinstance(response.json().get("error"), str)


def b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@st.composite
def jwt_shaped(draw: st.DrawFn, provider: WalletProvider | None = None) -> str:
    """A JWT with arbitrary members; signed by the provider's real key now and then, so that the checks
    after the signature's are reached too."""
    header = draw(st.dictionaries(st.sampled_from(HEADER_NAMES), JSON_VALUES, max_size=4))
    claims = draw(st.dictionaries(st.sampled_from(CLAIM_NAMES), JSON_VALUES, max_size=6))
    if provider is not None and provider.signer is not None and draw(st.booleans()):
        header.update(alg="ES256", x5c=provider.signer.x5c)
        return sign_jws(provider.signer.key, header, claims)
    return f"{b64(header)}.{b64(claims)}.{draw(st.text(alphabet='abcXYZ-_0123', max_size=20)) or 'x'}"


@FUZZ
@given(data=st.data())
def test_token_and_par_with_hostile_attestation_headers(target: Target, data: st.DataObject) -> None:
    attestation = data.draw(st.one_of(jwt_shaped(target.provider), st.text(max_size=40)), label="attestation")
    pop = data.draw(st.one_of(jwt_shaped(), st.text(max_size=40)), label="pop")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    for name, value in ((ATTESTATION_HEADER, attestation), (POP_HEADER, pop)):
        if value.isascii() and value.isprintable() and value.strip() == value:
            headers[name] = value
    for path, form in (
        ("/token", {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code", "pre-authorized_code": "x"}),
        ("/par", {"client_id": "w", "response_type": "code", "redirect_uri": "https://w.example/cb"}),
    ):
        response = target.wallet.request("POST", target.url + path, body=urlencode(form).encode(), headers=headers)
        refused_politely(response)


@FUZZ
@given(body=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)), dots=st.integers(0, 6))
def test_credential_requests_as_hostile_jwes(target: Target, body: bytes, dots: int) -> None:
    compact = b".".join([base64.urlsafe_b64encode(body).rstrip(b"=")] * dots) if dots else body
    headers = {"Content-Type": "application/jwt", "Authorization": f"Bearer {target.session.access_token}"}
    refused_politely(target.wallet.request("POST", f"{target.url}/credential", body=compact, headers=headers))


@FUZZ
@given(data=st.data())
def test_hostile_key_attestations(target: Target, data: st.DataObject) -> None:
    attestation = data.draw(jwt_shaped(target.provider), label="key attestation")
    nonce = target.wallet.nonce(target.session)
    if data.draw(st.booleans(), label="as a jwt proof header"):
        proofs = {"jwt": [make_proof(new_key(), target.url, nonce, header={"key_attestation": attestation})]}
    else:
        proofs = {"attestation": [attestation]}
    body = {"credential_configuration_id": "employee_badge", "proofs": proofs}
    refused_politely(target.wallet.post_protected(target.session, target.session.endpoint("credential"), body))


def test_still_issuing(target: Target) -> None:
    offer = target.service.offers.create(OfferRequest(["employee_badge"], BADGE))
    assert target.wallet.receive(offer.offer_uri)[0].credentials
