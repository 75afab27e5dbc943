"""Fixtures for flows over real HTTP: a wallet, offers, a redeemed session, the issuer's keys.

Every test here runs twice: on the data folder's journals, and on a PostgreSQL store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from issuer.service import CreatedOffer, OfferRequest
from tests.conftest import PostgresDatabase, RunningIssuer, running_issuer
from tests.e2e.helpers import CLAIMS, MakeOffer, redeem
from wallet.client import Session, TestWallet


@pytest.fixture(params=["tinydb", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> PostgresDatabase | None:
    """The backend of the test's issuer: None for the data folder's journals, or a PostgreSQL database."""
    return request.getfixturevalue("postgres") if request.param == "postgres" else None


@pytest.fixture
def issuer(database: PostgresDatabase | None, tmp_path: Path) -> Iterator[RunningIssuer]:
    with running_issuer(tmp_path / "data", database) as running:
        yield running


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
