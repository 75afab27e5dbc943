"""Fixtures for flows over real HTTP: a wallet, offers, a redeemed session, the issuer's keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from issuer.service import CreatedOffer, OfferRequest
from tests.conftest import RunningIssuer
from tests.e2e.helpers import CLAIMS, MakeOffer, redeem
from wallet.client import Session, TestWallet


@pytest.fixture
def wallet() -> Iterator[TestWallet]:
    with TestWallet() as client:
        yield client


@pytest.fixture
def make_offer(issuer: RunningIssuer) -> MakeOffer:
    """`make_offer("employee_badge", tx_code=True, ...)`: an offer with the sample claims of each type."""

    def make(*config_ids: str, **options: Any) -> CreatedOffer:
        ids = list(config_ids or ["employee_badge"])
        claims: dict[str, Any] = {}
        for config_id in ids:
            claims.update(CLAIMS[config_id])
        return issuer.service.offers.create(OfferRequest(credential_configuration_ids=ids, claims=claims, **options))

    return make


@pytest.fixture
def session(wallet: TestWallet, make_offer: MakeOffer) -> Session:
    """A wallet session holding an access token for an employee badge offer."""
    return redeem(wallet, make_offer("employee_badge"))


@pytest.fixture
def jwks(issuer: RunningIssuer, wallet: TestWallet) -> dict[str, Any]:
    """The issuer's keys as a verifier fetches them."""
    response = wallet.request("GET", f"{issuer.url}/jwks")
    assert response.status == 200 and response.headers["content-type"] == "application/json"
    return dict(response.json())


@pytest.fixture
def token_endpoint(issuer: RunningIssuer, wallet: TestWallet) -> str:
    """The token endpoint as a wallet finds it, in the AS metadata (RFC 8414)."""
    response = wallet.request("GET", f"{issuer.url}/.well-known/oauth-authorization-server")
    return str(response.json()["token_endpoint"])
