"""A response that cannot be encrypted after its credentials were signed and recorded.

Every check that can refuse `credential_response_encryption` runs before anything is signed (the
e2e tests F2 prove it); what is left is a failure nobody can foresee while encrypting. The wallet
then gets an error, and its credentials, recorded but never delivered, are revoked and marked
`undelivered`, as after a crash between the ledger write and the answer.
"""

from __future__ import annotations

from typing import Any

import pytest
from jwcrypto import jwe

from issuer.service import OfferRequest
from tests.conftest import RunningIssuer
from tests.e2e.helpers import encryption_key, expect_error, post, redeem, request_body
from wallet.client import TestWallet
from wallet.keys import encryption_parameters, new_key

CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}


@pytest.fixture
def encryption_fails_for_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """jwcrypto fails to encrypt any payload that holds credentials (a check on `{}` still passes)."""
    original = jwe.JWE.__init__

    def failing(self: jwe.JWE, plaintext: Any = None, *args: Any, **kwargs: Any) -> None:
        if isinstance(plaintext, bytes) and b'"credentials"' in plaintext:
            raise jwe.InvalidJWEOperation("no encryption today")
        original(self, plaintext, *args, **kwargs)

    monkeypatch.setattr(jwe.JWE, "__init__", failing)


def test_a_response_that_cannot_be_encrypted_leaves_its_credentials_undelivered(
    issuer: RunningIssuer, encryption_fails_for_credentials: None
) -> None:
    service = issuer.service
    offer = service.offers.create(OfferRequest(["employee_badge"], CLAIMS))
    with TestWallet() as wallet:
        session = redeem(wallet, offer)
        key = encryption_key()
        body = request_body(
            wallet,
            session,
            "employee_badge",
            [new_key(), new_key()],
            credential_response_encryption=encryption_parameters(key),
        )
        expect_error(post(wallet, session, "credential", body), 400, "invalid_encryption_parameters")
    records = [row for batch in service.store.ledger.batches() for row in batch if row["offer_id"] == offer.offer_id]
    assert len(records) == 2
    for record in records:
        view = service.ledger.record(record["id"])
        assert view["state"] == "revoked" and view["undelivered"] is True, view
        assert view["status_changes"][-1]["reason"] == "never delivered"
    audit = [entry["action"] for entry in service.desk.audit_log(limit=5)]
    assert audit.count("credential_undelivered") == 2
