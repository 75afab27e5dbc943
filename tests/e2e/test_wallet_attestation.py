"""Wallet attestations as client authentication at the token and PAR endpoints (OID4VCI Appendix E,
attestation-based client auth -07, checklist C16, C17, D9), each check broken in turn."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from jwcrypto import jwk
from jwcrypto.common import base64url_decode, base64url_encode

from issuer.records.ledger import LedgerQuery
from issuer.runtime import IssuerRuntime
from issuer.service import CreatedOffer, IssuerService, OfferRequest
from tests.conftest import start_issuer
from tests.e2e.helpers import BADGE_CLAIMS, ERROR_DESCRIPTION, altered, expect_error, token_form
from wallet.attestation import ATTESTATION_HEADER, POP_HEADER, ClientAttestation, WalletProvider
from wallet.client import TestWallet
from wallet.code_flow import CodeFlowWallet
from wallet.keys import new_key, public_jwk, sign_jws
from wallet.pki import Authority, CertifiedKey
from wallet.transport import HttpResponse

CLIENT_ID = "https://wallet.example/app"


class Attested:
    """An issuer that trusts one wallet provider, and the wallets' requests to it."""

    def __init__(self, runtime: IssuerRuntime, provider: WalletProvider) -> None:
        self.runtime = runtime
        self.provider = provider
        assert runtime.service is not None
        self.service: IssuerService = runtime.service
        self.url = runtime.issuer_url
        self.wallet = TestWallet()

    def offer(self, **options: Any) -> CreatedOffer:
        return self.service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS, **options))

    def token(self, offer: CreatedOffer, headers: dict[str, str], **form: str) -> HttpResponse:
        body = urlencode(token_form(offer, **form)).encode()
        sent = {"Content-Type": "application/x-www-form-urlencoded", **headers}
        return self.wallet.request("POST", f"{self.url}/token", body=body, headers=sent)


def attested(tmp_path: Path, **settings: Any) -> Iterator[Attested]:
    provider = WalletProvider()
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    (data_dir / "providers.pem").write_bytes(provider.trust_anchor_pem)
    runtime = start_issuer(data_dir, wallet_trust_anchors=("providers.pem",), **settings)
    issuer = Attested(runtime, provider)
    try:
        yield issuer
    finally:
        issuer.wallet.close()
        runtime.stop()


@pytest.fixture
def issuer(tmp_path: Path) -> Iterator[Attested]:
    yield from attested(tmp_path)


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[Attested]:
    yield from attested(tmp_path, require_wallet_attestation=True)


def test_an_attested_wallet_is_recorded_with_its_credential(issuer: Attested) -> None:
    as_metadata = issuer.wallet.request("GET", f"{issuer.url}/.well-known/oauth-authorization-server").json()
    assert as_metadata["token_endpoint_auth_methods_supported"] == ["none", "attest_jwt_client_auth"]
    assert as_metadata["pre-authorized_grant_anonymous_access_supported"] is True
    offer = issuer.offer()
    session = issuer.wallet.resolve_offer(offer.offer_uri)
    session.client_attestation = issuer.provider.client_attestation(CLIENT_ID)
    issuer.wallet.token(session)
    assert not isinstance(issuer.wallet.request_credential(session, "employee_badge"), str)
    [record] = issuer.service.ledger.find(LedgerQuery(offer_id=offer.offer_id))
    assert record["wallet"] == {
        "provider": issuer.provider.name,
        "client_id": CLIENT_ID,
        "wallet_name": "Frontdesk Test Wallet",
    }
    unattested = issuer.wallet.receive(issuer.offer().offer_uri)  # not required: wallets without one as before
    assert unattested[0].credentials


def test_required_attestation_refuses_wallets_without_one(strict: Attested) -> None:
    as_metadata = strict.wallet.request("GET", f"{strict.url}/.well-known/oauth-authorization-server").json()
    assert as_metadata["token_endpoint_auth_methods_supported"] == ["attest_jwt_client_auth"]
    assert as_metadata["pre-authorized_grant_anonymous_access_supported"] is False
    offer = strict.offer()
    body = refused(strict.token(offer, {}))
    assert "attestation" in body["error_description"]
    headers = strict.provider.client_attestation(CLIENT_ID).headers(strict.url)
    assert strict.token(offer, headers).status == 200


def refused(response: HttpResponse) -> dict[str, Any]:
    """401 invalid_client (RFC 6749 §5.2) as JSON, no-store, with a challenge naming the mechanism."""
    assert (response.status, response.headers.get("content-type")) == (401, "application/json"), response.body
    assert "no-store" in response.headers["cache-control"]
    assert response.headers["www-authenticate"].startswith('OAuth-Client-Attestation error="invalid_client"')
    body = dict(response.json())
    assert body["error"] == "invalid_client" and ERROR_DESCRIPTION.fullmatch(body.get("error_description", ""))
    return body


def pop(attestation: ClientAttestation, audience: str, **claims: Any) -> dict[str, str]:
    return attestation.headers(audience, claims=claims)


def foreign_attestation(issuer: Attested) -> dict[str, str]:
    return WalletProvider("https://other-provider.example").client_attestation(CLIENT_ID).headers(issuer.url)


def self_signed_attestation(issuer: Attested) -> dict[str, str]:
    root = Authority.root("Self")
    provider = WalletProvider(root=root, signer=CertifiedKey(_key_of(root), [root.certificate]))
    return provider.client_attestation(CLIENT_ID).headers(issuer.url)


def _key_of(authority: Authority) -> jwk.JWK:
    return jwk.JWK.from_pyca(authority.key)


def tampered_attestation(issuer: Attested) -> dict[str, str]:
    headers = issuer.provider.client_attestation(CLIENT_ID).headers(issuer.url)
    header, payload, signature = headers[ATTESTATION_HEADER].split(".")
    return {**headers, ATTESTATION_HEADER: f"{header}.{payload}.{altered(signature)}"}


def wrong_typ(issuer: Attested) -> dict[str, str]:
    return issuer.provider.client_attestation(CLIENT_ID, header={"typ": "JWT"}).headers(issuer.url)


def expired(issuer: Attested) -> dict[str, str]:
    return issuer.provider.client_attestation(CLIENT_ID, claims={"exp": int(time.time()) - 3600}).headers(issuer.url)


def private_cnf(issuer: Attested) -> dict[str, str]:
    key = new_key()
    private = key.export_private(as_dict=True)
    return issuer.provider.client_attestation(CLIENT_ID, instance_key=key, claims={"cnf": {"jwk": private}}).headers(
        issuer.url
    )


def pop_by_another_key(issuer: Attested) -> dict[str, str]:
    attestation = issuer.provider.client_attestation(CLIENT_ID)
    return ClientAttestation(attestation.jwt, new_key(), CLIENT_ID).headers(issuer.url)


def pop_with_wrong_typ(issuer: Attested) -> dict[str, str]:
    attestation = issuer.provider.client_attestation(CLIENT_ID)
    payload = {
        "iss": CLIENT_ID,
        "aud": issuer.url,
        "jti": base64url_encode(b"0123456789abcdef"),
        "iat": int(time.time()),
    }
    return {
        ATTESTATION_HEADER: attestation.jwt,
        POP_HEADER: sign_jws(attestation.key, {"typ": "JWT", "alg": "ES256"}, payload),
    }


def only_the_attestation(issuer: Attested) -> dict[str, str]:
    headers = issuer.provider.client_attestation(CLIENT_ID).headers(issuer.url)
    return {ATTESTATION_HEADER: headers[ATTESTATION_HEADER]}


BROKEN: dict[str, Callable[[Attested], dict[str, str]]] = {
    "another provider (a trust anchor the issuer does not have)": foreign_attestation,
    "a self-signed attestation certificate": self_signed_attestation,
    "a tampered attestation signature": tampered_attestation,
    "attestation typ JWT": wrong_typ,
    "an expired attestation": expired,
    "a private key in cnf": private_cnf,
    "a PoP signed by another key": pop_by_another_key,
    "PoP typ JWT": pop_with_wrong_typ,
    "PoP for another audience": lambda i: pop(i.provider.client_attestation(CLIENT_ID), "https://elsewhere.example"),
    "PoP iss not the sub": lambda i: pop(i.provider.client_attestation(CLIENT_ID), i.url, iss="someone-else"),
    "PoP from an hour ago": lambda i: pop(i.provider.client_attestation(CLIENT_ID), i.url, iat=int(time.time()) - 3600),
    "PoP without jti": lambda i: pop(i.provider.client_attestation(CLIENT_ID), i.url, jti=None),
    "the attestation without its PoP": only_the_attestation,
}


@pytest.mark.parametrize("broken", list(BROKEN), ids=list(BROKEN))
def test_each_broken_check_is_invalid_client(issuer: Attested, broken: str) -> None:
    """C17: every check of -07 §9, broken in turn; the offer is not redeemed by the attempt."""
    offer = issuer.offer()
    refused(issuer.token(offer, BROKEN[broken](issuer)))
    headers = issuer.provider.client_attestation(CLIENT_ID).headers(issuer.url)
    assert issuer.token(offer, headers).status == 200


def test_a_pop_is_used_once(issuer: Attested) -> None:
    headers = issuer.provider.client_attestation(CLIENT_ID).headers(issuer.url)
    assert issuer.token(issuer.offer(), headers).status == 200
    body = refused(issuer.token(issuer.offer(), headers))
    assert "already used" in body["error_description"]


def test_the_client_id_must_be_the_attestations_sub(issuer: Attested) -> None:
    headers = issuer.provider.client_attestation(CLIENT_ID).headers(issuer.url)
    refused(issuer.token(issuer.offer(), headers, client_id="another-wallet"))
    with CodeFlowWallet() as wallet:
        session = wallet.authorization_session(issuer.url, ["employee_badge"])
        session.client_attestation = issuer.provider.client_attestation(CLIENT_ID)
        params, _ = wallet.authorization_parameters(session, scope="employee_badge", client_id="another-wallet")
        url = session.as_metadata["pushed_authorization_request_endpoint"]
        headers = {"Content-Type": "application/x-www-form-urlencoded", **wallet.attestation_headers(session)}
        refused(wallet.request("POST", url, body=urlencode(params).encode(), headers=headers))
        params["client_id"] = CLIENT_ID
        assert wallet.push(session, params)["request_uri"]


def test_challenges_from_the_challenge_endpoint(issuer: Attested) -> None:
    """-07 §8: a challenge endpoint (advertised in the AS metadata) hands out challenges for the PoP; a
    challenge the issuer did not give is use_attestation_challenge, with a fresh one in a header."""
    response = issuer.wallet.request("POST", f"{issuer.url}/challenge")
    assert response.status == 200 and "no-store" in response.headers["cache-control"]
    challenge = response.json()["attestation_challenge"]
    attestation = issuer.provider.client_attestation(CLIENT_ID)
    assert issuer.token(issuer.offer(), attestation.headers(issuer.url, challenge=challenge)).status == 200
    refused = issuer.token(issuer.offer(), attestation.headers(issuer.url, challenge="made-up"))
    assert refused.status == 400 and refused.json()["error"] == "use_attestation_challenge"
    fresh = refused.headers["oauth-client-attestation-challenge"]
    assert issuer.token(issuer.offer(), attestation.headers(issuer.url, challenge=fresh)).status == 200


def test_a_refresh_token_stays_with_the_attested_wallet_instance(issuer: Attested) -> None:
    """-07 §10.3: a refresh token given to an attested wallet needs the same instance key."""
    offer = issuer.offer(deferred=True)
    attestation = issuer.provider.client_attestation(CLIENT_ID)
    token = issuer.token(offer, attestation.headers(issuer.url)).json()
    form = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    url = f"{issuer.url}/token"
    content = {"Content-Type": "application/x-www-form-urlencoded"}

    def refresh(headers: dict[str, str]) -> HttpResponse:
        return issuer.wallet.request("POST", url, body=urlencode(form).encode(), headers={**content, **headers})

    expect_error(refresh({}), 400, "invalid_grant")
    other_instance = issuer.provider.client_attestation(CLIENT_ID)
    expect_error(refresh(other_instance.headers(issuer.url)), 400, "invalid_grant")
    assert refresh(attestation.headers(issuer.url)).status == 200


def test_the_attestation_header_names_are_case_insensitive(issuer: Attested) -> None:
    headers = issuer.provider.client_attestation(CLIENT_ID).headers(issuer.url)
    lower = {name.lower(): value for name, value in headers.items()}
    assert issuer.token(issuer.offer(), lower).status == 200
    assert public_jwk(new_key())  # the wallet's own keys are unaffected
    assert base64url_decode(headers[POP_HEADER].split(".")[0])


def test_an_issuer_that_trusts_no_provider_ignores_attestations(tmp_path: Path) -> None:
    """No wallet_trust_anchors: attest_jwt_client_auth is not offered, and a wallet that sends an attestation
    anyway is served as before."""
    runtime = start_issuer(tmp_path / "plain")
    plain = Attested(runtime, WalletProvider())
    try:
        as_metadata = plain.wallet.request("GET", f"{plain.url}/.well-known/oauth-authorization-server").json()
        assert as_metadata["token_endpoint_auth_methods_supported"] == ["none"]
        assert "challenge_endpoint" not in as_metadata
        assert plain.token(plain.offer(), foreign_attestation(plain)).status == 200
    finally:
        plain.wallet.close()
        runtime.stop()
