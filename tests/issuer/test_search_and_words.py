"""Searching as people type (any case, any accents), duplicate holders, and messages in the words
of the forms: labels, never internal ids."""

from __future__ import annotations

import pytest

from issuer.errors import ServiceError
from issuer.records.holders import HolderRequest
from issuer.records.ledger import LedgerQuery
from issuer.records.text import fold, has_every_word, search_words
from issuer.service import PRE_AUTHORIZED_GRANT, IssuerService, OfferRequest
from wallet.keys import new_key, public_jwk

BADGE = {"given_name": "Hans", "family_name": "Lüdenscheidt", "employee_id": "E-7"}


def issue(service: IssuerService, claims: dict[str, str], holder_id: str | None = None) -> str:
    offer = service.offers.create(OfferRequest(["employee_badge"], claims, holder_id=holder_id))
    code = offer.credential_offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    grant = service.tokens.authorize(service.tokens.redeem_pre_authorized_code(code, None, None).access_token)
    result = service.issuance.request(grant, "employee_badge", [public_jwk(new_key())])
    assert result.notification_id
    return result.notification_id


def test_folding_drops_case_and_accents() -> None:
    assert fold("LÜDENSCHEIDT") == fold("lüdenscheidt") == "ludenscheidt"
    assert fold("Ångström Ærø Straße") == "angstrom ærø strasse"
    assert has_every_word(search_words("luden HANS"), "Hans", "Lüdenscheidt")
    assert not has_every_word(search_words("luden grace"), "Hans", "Lüdenscheidt")
    assert has_every_word([], None)


def test_holders_are_found_whatever_the_case_and_accents(service: IssuerService) -> None:
    service.desk.register_holder(HolderRequest("Hans", "Lüdenscheidt", "passport", "P-12345"), "alice")
    service.desk.register_holder(HolderRequest("Zoë", "Saldaña", "passport", "P-67890", "zoe@example.org"), "alice")
    assert [h["family_name"] for h in service.desk.search_holders("luden")] == ["Lüdenscheidt"]
    assert [h["given_name"] for h in service.desk.search_holders("ZOE saldana")] == ["Zoë"]


def test_the_ledger_finds_a_credential_by_name_without_a_registered_holder(service: IssuerService) -> None:
    record_id = issue(service, BADGE)
    issue(service, {"given_name": "Grace", "family_name": "Hopper", "employee_id": "E-8"})
    found = service.ledger.find(LedgerQuery(text="luden"))
    assert [r["id"] for r in found] == [record_id] and found[0]["holder_name"] == "Hans Lüdenscheidt"
    assert [r["id"] for r in service.ledger.find(LedgerQuery(text="HANS lüd"))] == [record_id]
    assert service.ledger.find(LedgerQuery(text="E-7")) == []  # the other claims are not kept


def test_the_ledger_keeps_the_registered_holders_name(service: IssuerService) -> None:
    holder = service.desk.register_holder(HolderRequest("Hans", "Lüdenscheidt", "passport", "P-12345"), "alice")
    record_id = issue(service, BADGE, holder_id=holder["holder_id"])
    service.desk.purge_holders(1, "alice")  # nobody old enough yet: the holder stays
    assert service.ledger.record(record_id)["holder_name"] == "Hans Lüdenscheidt"
    assert service.offers.recent()[0]["holder_name"] == "Hans Lüdenscheidt"


def test_a_duplicate_holder_is_registered_with_a_warning(service: IssuerService) -> None:
    first = service.desk.register_holder(HolderRequest("Ada", "Lovelace", "passport", "X 1234 5678"), "alice")
    assert first["warnings"] == []
    other_document = service.desk.register_holder(HolderRequest("Ada", "Lovelace", "passport", "Y-0000"), "alice")
    assert other_document["warnings"] == []
    again = service.desk.register_holder(HolderRequest("ADA", "Lovélace", "passport", "Z-5678"), "bob")
    assert again["warnings"] == [
        "ADA Lovélace with a passport ending in 5678 was already registered once: "
        "check that this is not the same person twice"
    ]
    assert len(service.desk.search_holders("lovelace")) == 3


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"family_name": "Lovelace", "employee_id": "E-1"}, "Given name is required"),
        ({"given_name": "Ada", "family_name": "Lovelace", "employee_id": ["E-1"]}, "Employee number must be text"),
        ({"given_name": "A" * 201, "family_name": "L", "employee_id": "E-1"}, "Given name is longer than 200"),
    ],
)
def test_claim_messages_name_the_field_by_its_label(service: IssuerService, claims: dict, message: str) -> None:
    with pytest.raises(ServiceError) as refused:
        service.offers.create(OfferRequest(["employee_badge"], claims))
    assert refused.value.message.startswith(message)
    assert "employee_badge" not in refused.value.message and "given_name" not in refused.value.message


def test_offer_messages_show_no_internal_ids(service: IssuerService) -> None:
    offer = service.offers.create(OfferRequest(["employee_badge"], {**BADGE}, deferred=True))
    service.offers.cancel(offer.offer_id, "alice")
    for action in (service.offers.approve, service.offers.cancel):
        with pytest.raises(ServiceError) as refused:
            action(offer.offer_id)
        assert refused.value.message == "This offer is already finished (cancelled)"
    for action in (service.offers.approve, service.offers.status, service.offers.cancel):
        with pytest.raises(ServiceError) as unknown:
            action("8bcac0ffee123456")
        assert "8bcac0ffee123456" not in unknown.value.message
    with pytest.raises(ServiceError) as no_holder:
        service.offers.create(OfferRequest(["employee_badge"], BADGE, holder_id="8bcac0ffee123456"))
    assert "8bcac0ffee123456" not in no_holder.value.message


def test_holder_messages_name_the_field_by_its_label(service: IssuerService) -> None:
    with pytest.raises(ServiceError) as refused:
        service.desk.register_holder(HolderRequest("Ada", "", "passport", "12345"), "alice")
    assert refused.value.message.startswith("Family name is required")
    with pytest.raises(ServiceError) as refused:
        service.desk.register_holder(HolderRequest("Ada", "L" * 201, "passport", "12345"), "alice")
    assert refused.value.message == "Family name is longer than 200 characters"
