"""Two issuers in one test process on one PostgreSQL store: what one does, the other sees."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from issuer.errors import Conflict
from issuer.events import Event
from issuer.records.ledger import LedgerQuery
from issuer.service import OfferRequest
from tests.conftest import PostgresDatabase, running_issuer
from tests.e2e.helpers import BADGE_CLAIMS, token_form
from wallet.client import TestWallet

pytestmark = pytest.mark.postgres


def test_an_offer_made_by_one_and_redeemed_through_the_other_moves_on_both_buses(
    tmp_path: Path, postgres: PostgresDatabase
) -> None:
    with running_issuer(tmp_path / "one", postgres) as one, running_issuer(tmp_path / "other", postgres) as other:
        seen: dict[str, list[Event]] = {"one": [], "other": []}
        one.service.events.subscribe(seen["one"].append)
        other.service.events.subscribe(seen["other"].append)
        offer = one.service.offers.create(
            OfferRequest(credential_configuration_ids=["employee_badge"], claims=BADGE_CLAIMS, operator="ada")
        )
        with TestWallet() as wallet:
            answer = wallet.post_form(f"{other.url}/token", token_form(offer))
            again = wallet.post_form(f"{one.url}/token", token_form(offer))
        assert answer.status == 200 and again.status == 400

        def kinds(name: str) -> list[tuple[str, bool]]:
            return [(e.kind, e.remote) for e in seen[name] if e.offer_id == offer.offer_id]

        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(kinds("one")) < 2:
            time.sleep(0.02)
        time.sleep(0.3)  # anything doubled would have come by now
        assert kinds("one") == [("offer_created", False), ("token_issued", True)]
        assert kinds("other") == [("offer_created", True), ("token_issued", False)]
        assert one.service.offers.status(offer.offer_id)["state"] == "redeemed"


def test_a_key_rotated_by_one_is_published_by_the_other(tmp_path: Path, postgres: PostgresDatabase) -> None:
    with running_issuer(tmp_path / "one", postgres) as one, running_issuer(tmp_path / "other", postgres) as other:
        assert one.service.keys.active.kid == other.service.keys.active.kid
        rotated = one.service.admin.rotate_key("ada")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and other.service.keys.active.kid != rotated["kid"]:
            time.sleep(0.02)
        assert other.service.keys.active.kid == rotated["kid"]
        with TestWallet() as wallet:
            published = wallet.request("GET", f"{other.url}/jwks").json()
        assert rotated["kid"] in {key["kid"] for key in published["keys"]} and len(published["keys"]) == 2


def test_a_revocation_through_one_is_served_by_the_other(tmp_path: Path, postgres: PostgresDatabase) -> None:
    with running_issuer(tmp_path / "one", postgres) as one, running_issuer(tmp_path / "other", postgres) as other:
        with TestWallet() as wallet:
            offer = one.service.offers.create(
                OfferRequest(credential_configuration_ids=["employee_badge"], claims=BADGE_CLAIMS)
            )
            wallet.receive(offer.offer_uri)
        [record] = one.service.ledger.find(LedgerQuery())
        place = record["status_list"]
        assert other.service.ledger.status_list_claims(place["list"])  # the other knows the list
        one.service.ledger.change_status(record["id"], "revoke", "ada", "lost")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and other.service.ledger.record(record["id"])["state"] != "revoked":
            time.sleep(0.02)
        assert other.service.ledger.record(record["id"])["state"] == "revoked"
        with pytest.raises(Conflict, match="cannot revoke"):
            other.service.ledger.change_status(record["id"], "revoke", "bob")
