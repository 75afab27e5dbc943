"""Desk records through IssuerService: operators, holders, the audit log."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import requests

from issuer.errors import ServiceError
from issuer.records.holders import HolderRequest
from issuer.service import IssuerService, OfferRequest
from tests.conftest import RunningIssuer

ADA = HolderRequest("Ada", "Lovelace", "passport", "X 1234 5678", "ada@example.org")
CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1"}


def test_holders_keep_the_minimum_and_are_found(service: IssuerService, tmp_path: Path) -> None:
    holder = service.desk.register_holder(ADA, operator="Ada")
    assert holder["identity_check"]["document_suffix"] == "5678"
    assert holder["identity_check"]["checked_by"] == "Ada"
    assert "X 1234" not in (tmp_path / "data" / "desk.json").read_text()
    service.desk.register_holder(HolderRequest("Grace", "Hopper", "identity_card", "ID-99999"), operator="Ada")
    assert [h["given_name"] for h in service.desk.search_holders("love ada")] == ["Ada"]
    assert len(service.desk.search_holders("")) == 2
    assert service.desk.holder(holder["holder_id"])["email"] == "ada@example.org"


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (HolderRequest("", "Lovelace", "passport", "12345"), "given name"),
        (HolderRequest("Ada", "Lovelace", "library_card", "12345"), "document type"),
        (HolderRequest("Ada", "Lovelace", "passport", "12"), "at least 4"),
        (HolderRequest("Ada", "Lovelace", "passport", "12345", "not an address"), "e-mail"),
        (HolderRequest("Ada" * 100, "Lovelace", "passport", "12345"), "longer than"),
    ],
)
def test_bad_holder_input_is_refused(service: IssuerService, request_: HolderRequest, message: str) -> None:
    with pytest.raises(ServiceError, match=message):
        service.desk.register_holder(request_, operator="Ada")
    assert service.desk.search_holders() == []


def test_retention_purges_old_holders(service: IssuerService) -> None:
    service.desk.register_holder(ADA, operator="Ada")
    real_clock = service.clock
    service.clock = lambda: real_clock() + 31 * 86400
    service.desk.register_holder(HolderRequest("Grace", "Hopper", "passport", "P-77777"), operator="Ada")
    assert service.desk.purge_holders(30, operator="Ada") == 1
    assert [h["given_name"] for h in service.desk.search_holders()] == ["Grace"]
    assert service.desk.audit_log(limit=1)[0]["detail"] == {"retention_days": 30, "count": 1}


def test_offers_for_a_holder_reach_the_ledger(service: IssuerService) -> None:
    holder = service.desk.register_holder(ADA, operator="Ada")
    offer = service.offers.create(
        OfferRequest(["employee_badge"], CLAIMS, operator="Ada", holder_id=holder["holder_id"])
    )
    assert service.offers.status(offer.offer_id)["holder_id"] == holder["holder_id"]
    with pytest.raises(ServiceError, match="no holder"):
        service.offers.create(OfferRequest(["employee_badge"], CLAIMS, holder_id="nobody"))
    entry = service.desk.audit_log(limit=1, operator="Ada")[0]
    assert (entry["action"], entry["subject"]) == ("offer_created", offer.offer_id)


def test_audit_exports_as_csv(service: IssuerService) -> None:
    service.desk.register_holder(ADA, operator="Ada")
    rows = list(csv.reader(io.StringIO(service.desk.audit_csv())))
    assert rows[0] == ["at", "operator", "action", "subject", "detail"]
    assert rows[1][1:3] == ["Ada", "holder_registered"] and rows[1][0].endswith("+00:00")


def test_admin_api_for_holders_and_audit(issuer: RunningIssuer) -> None:
    issuer.service.operators.create_first("Ada", "correct horse")  # `operator` names an enabled operator
    headers = {"Authorization": f"Bearer {issuer.admin_token}"}
    body = {"given_name": "Ada", "family_name": "Lovelace", "document_type": "passport", "document_number": "X12345"}
    created = requests.post(
        f"{issuer.admin_url}/api/holders", json={**body, "operator": "Ada"}, headers=headers, timeout=5
    )
    assert created.status_code == 201 and created.json()["identity_check"]["document_suffix"] == "2345"
    bad = requests.post(
        f"{issuer.admin_url}/api/holders", json={**body, "document_type": 7}, headers=headers, timeout=5
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_request"
    found = requests.get(f"{issuer.admin_url}/api/holders", params={"q": "lovelace"}, headers=headers, timeout=5)
    assert [h["holder_id"] for h in found.json()["holders"]] == [created.json()["holder_id"]]
    offer = requests.post(
        f"{issuer.admin_url}/api/offers",
        json={
            "credential_configuration_ids": ["employee_badge"],
            "claims": CLAIMS,
            "holder_id": created.json()["holder_id"],
        },
        headers=headers,
        timeout=5,
    )
    assert offer.status_code == 201
    audit = requests.get(f"{issuer.admin_url}/api/audit", headers=headers, timeout=5).json()["entries"]
    assert [e["action"] for e in audit] == ["offer_created", "holder_registered", "operator_added"]
    exported = requests.get(f"{issuer.admin_url}/api/audit", params={"format": "csv"}, headers=headers, timeout=5)
    assert exported.headers["Content-Type"].startswith("text/csv") and exported.text.count("\n") == 4
