"""Fixtures for flows over real HTTP: a wallet, offers, and the issuer's published keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from issuer.service import CreatedOffer, OfferRequest
from issuer.testwallet import Session, TestWallet
from tests.conftest import RunningIssuer

BADGE_CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}
CARD_CLAIMS = {"given_name": "Grace", "family_name": "Hopper", "member_id": "M-1906", "level": "gold"}
CLAIMS = {"employee_badge": BADGE_CLAIMS, "membership_card": CARD_CLAIMS}
BADGE_VCT = "urn:frontdesk:employee_badge:1"

MakeOffer = Callable[..., CreatedOffer]


@pytest.fixture
def wallet() -> Iterator[TestWallet]:
    client = TestWallet()
    yield client
    client.close()


@pytest.fixture
def make_offer(issuer: RunningIssuer) -> MakeOffer:
    """`make_offer("employee_badge", tx_code=True, ...)`: an offer with the sample claims of each type."""

    def make(*config_ids: str, **options: Any) -> CreatedOffer:
        ids = list(config_ids or ["employee_badge"])
        claims: dict[str, Any] = {}
        for config_id in ids:
            claims.update(CLAIMS[config_id])
        return issuer.service.create_offer(OfferRequest(credential_configuration_ids=ids, claims=claims, **options))

    return make


@pytest.fixture
def session(wallet: TestWallet, make_offer: MakeOffer) -> Session:
    """A wallet session holding an access token for an employee badge offer."""
    offer = make_offer("employee_badge")
    started = wallet.resolve_offer(offer.offer_uri)
    wallet.fetch_metadata(started)
    wallet.token(started)
    return started


@pytest.fixture
def jwks(issuer: RunningIssuer, wallet: TestWallet) -> dict[str, Any]:
    """The issuer's keys as a verifier fetches them."""
    return wallet.request("GET", f"{issuer.url}/jwks").json()
