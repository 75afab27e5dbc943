"""The remote client (issuer.remote) against a real issuer: every part the desk's pages call works
over the admin API, and refusals come back as the same exceptions, with the same messages, as the
embedded service raises."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from issuer.errors import Conflict, InvalidInput, NotFound, ServiceError, Unauthenticated
from issuer.records.holders import HolderRequest
from issuer.records.ledger import LedgerQuery
from issuer.remote import RemoteIssuer, check_remote_url
from issuer.remote.connection import LoginEnded
from issuer.remote.probe import NotAnIssuer, probe_issuer
from issuer.service import OfferRequest
from tests.conftest import RunningIssuer
from tests.e2e.helpers import BADGE_CLAIMS
from tests.e2e.test_desk_login import PASSWORD
from wallet.client import TestWallet


@pytest.fixture
def remote(issuer: RunningIssuer) -> Iterator[RemoteIssuer]:
    issuer.service.operators.create_first("ada", PASSWORD)
    client = RemoteIssuer(issuer.admin_url)
    client.operators.login("ada", PASSWORD)
    client.connect()
    try:
        yield client
    finally:
        client.close()


def badge(**options: object) -> OfferRequest:
    return OfferRequest(["employee_badge"], BADGE_CLAIMS, operator="ada", **options)  # type: ignore[arg-type]


def test_what_the_desk_shows_at_once_is_read_on_connect(issuer: RunningIssuer, remote: RemoteIssuer) -> None:
    assert remote.issuer_url == issuer.url
    assert remote.settings.offer_ttl == issuer.service.settings.offer_ttl
    assert remote.settings.issuer_name == issuer.service.settings.issuer_name
    assert str(remote.settings.data_dir) == str(issuer.data_dir)
    assert sorted(remote.credential_types) == sorted(issuer.service.credential_types)
    badge_type = remote.credential_types["employee_badge"]
    assert badge_type.claims == issuer.service.credential_types["employee_badge"].claims
    assert remote.admin.key_info() == issuer.service.admin.key_info()
    assert remote.storage_problem() is None


def test_an_offer_made_remotely_is_issued_found_and_revoked(issuer: RunningIssuer, remote: RemoteIssuer) -> None:
    created = remote.offers.create(badge(tx_code=True))
    assert created.tx_code and created.offer_uri.startswith("openid-credential-offer://")
    assert [offer["offer_id"] for offer in remote.offers.recent()] == [created.offer_id]
    with TestWallet() as wallet:
        wallet.receive(created.offer_uri, created.tx_code)
    assert remote.offers.status(created.offer_id)["state"] == "issued"
    [record] = remote.ledger.find(LedgerQuery(text="Lovelace"))
    assert remote.ledger.record(record["id"])["state"] == "valid"
    remote.ledger.change_status(record["id"], "revoke", "ada", "lost phone")
    assert issuer.service.ledger.record(record["id"])["state"] == "revoked"
    with pytest.raises(Conflict) as again:
        remote.ledger.change_status(record["id"], "revoke", "ada", "twice")
    with pytest.raises(Conflict) as embedded:
        issuer.service.ledger.change_status(record["id"], "revoke", "ada", "twice")
    assert again.value.message == embedded.value.message


def test_refusals_are_the_services_own_exceptions(issuer: RunningIssuer, remote: RemoteIssuer) -> None:
    with pytest.raises(NotFound) as missing:
        remote.offers.status("no-such-offer")
    with pytest.raises(NotFound) as embedded:
        issuer.service.offers.status("no-such-offer")
    assert missing.value.message == embedded.value.message
    with pytest.raises(InvalidInput, match="is required"):
        remote.offers.create(OfferRequest(["employee_badge"], {"given_name": "Ada"}))
    with pytest.raises(NotFound):
        remote.desk.holder("no-such-holder")
    with pytest.raises(InvalidInput, match="unknown credential type"):
        remote.ledger.find(LedgerQuery(config_id="no_such_type"))
    created = remote.offers.create(badge())
    remote.offers.cancel(created.offer_id, "ada")
    with pytest.raises(Conflict):
        remote.offers.cancel(created.offer_id, "ada")


def test_a_wrong_password_is_refused_as_in_the_app(issuer: RunningIssuer) -> None:
    issuer.service.operators.create_first("ada", PASSWORD)
    with pytest.raises(Unauthenticated, match="wrong operator name or password"):
        RemoteIssuer(issuer.admin_url).operators.login("ada", "not the password")


def test_after_logout_every_call_asks_for_a_new_login(issuer: RunningIssuer, remote: RemoteIssuer) -> None:
    token = remote.connection.token
    remote.operators.logout()
    remote.connection.token = token
    with pytest.raises(LoginEnded, match="log in again"):
        remote.offers.recent()


def test_holders_and_the_audit_log(issuer: RunningIssuer, remote: RemoteIssuer) -> None:
    holder = remote.desk.register_holder(HolderRequest("Ada", "Lovelace", "passport", "X1234567"), "ada")
    assert remote.desk.holder(holder["holder_id"])["family_name"] == "Lovelace"
    assert [found["holder_id"] for found in remote.desk.search_holders("lovel")] == [holder["holder_id"]]
    actions = [entry["action"] for entry in remote.desk.audit_log()]
    assert actions[:2] == ["holder_registered", "login"]
    assert "holder_registered" in remote.desk.audit_csv()


def test_settings_keys_certificates_and_types(issuer: RunningIssuer, remote: RemoteIssuer) -> None:
    saved = remote.admin.save_settings({"holder_retention_days": 30}, "ada")
    assert saved.holder_retention_days == 30
    with pytest.raises(InvalidInput, match="unknown field"):
        remote.admin.save_settings({"store_url": "postgresql://elsewhere/db"}, "ada")
    before = remote.admin.key_info()
    rotated = remote.admin.rotate_key("ada")
    assert rotated["active"] and rotated["kid"] not in {key["kid"] for key in before}
    assert remote.admin.key_info() == issuer.service.admin.key_info()
    assert remote.admin.certificate_status()["own_ca"] is False
    status = remote.admin.create_issuing_ca("DE", "ada")
    assert status["own_ca"] is True and status == issuer.service.admin.certificate_status()
    assert remote.admin.certificate_warnings() == []
    version = remote.credential_types.version
    remote.admin.reload_credential_types("ada")
    assert remote.credential_types.version == version + 1
    reachability = remote.admin.check_public_url()
    assert reachability.url == issuer.url and reachability.problems
    entries = {entry["action"]: entry["operator"] for entry in issuer.service.desk.audit_log()}
    assert entries["key_rotated"] == entries["settings_changed"] == entries["issuing_ca_created"] == "ada"


def test_what_needs_the_issuers_folder_says_so(remote: RemoteIssuer, tmp_path: Path) -> None:
    with pytest.raises(ServiceError, match="done on the issuer's machine"):
        remote.admin.restore_at_next_start(tmp_path / "backup.tar.gz", "ada")
    with pytest.raises(ServiceError, match=r"A backup is done on the issuer's machine \(frontdesk-issuer backup"):
        remote.admin.backup(tmp_path / "backup.tar.gz", "ada")
    assert not (tmp_path / "backup.tar.gz").exists()
    with pytest.raises(ServiceError, match="done on the issuer's machine"):
        remote.operators.create_first("bob", PASSWORD)


def test_only_https_or_loopback_http() -> None:
    assert check_remote_url("https://issuer.example/admin/") == "https://issuer.example/admin"
    assert check_remote_url("http://127.0.0.1:8441") == "http://127.0.0.1:8441"
    assert check_remote_url("http://localhost:8441") == "http://localhost:8441"
    for refused in ("http://issuer.example:8441", "ftp://issuer.example", "issuer.example", "http://10.0.0.1"):
        with pytest.raises(InvalidInput):
            check_remote_url(refused)


def test_an_issuer_that_is_not_there_is_an_os_error() -> None:
    with pytest.raises(OSError, match="cannot be reached"):
        RemoteIssuer("http://127.0.0.1:9").operators.login("ada", PASSWORD)


def test_the_ledger_is_found_by_a_list_of_holders(issuer: RunningIssuer, remote: RemoteIssuer) -> None:
    grace = remote.desk.register_holder(HolderRequest("Grace", "Hopper", "passport", "P1234567"), "ada")
    ada = remote.desk.register_holder(HolderRequest("Ada", "Lovelace", "passport", "X1234567"), "ada")
    issued = {}
    for holder in (grace, ada):
        created = remote.offers.create(badge(holder_id=holder["holder_id"]))
        with TestWallet() as wallet:
            (received,) = wallet.receive(created.offer_uri, created.tx_code)
        issued[holder["holder_id"]] = received.notification_id
    for holder_ids in ([grace["holder_id"]], [ada["holder_id"]], [grace["holder_id"], ada["holder_id"]], []):
        query = LedgerQuery(holder_ids=holder_ids)
        expected = [record["id"] for record in issuer.service.ledger.find(query)]
        assert [record["id"] for record in remote.ledger.find(query)] == expected
        assert sorted(expected) == sorted(issued[holder_id] for holder_id in holder_ids)
    with pytest.raises(InvalidInput, match="at most 500 holder ids"):
        remote.ledger.find(LedgerQuery(holder_ids=[f"h{n}" for n in range(501)]))


def test_an_address_is_checked_before_a_desk_keeps_it(issuer: RunningIssuer) -> None:
    assert probe_issuer(issuer.admin_url + "/") == issuer.admin_url
    with pytest.raises(NotAnIssuer, match=r"not as a Frontdesk issuer's admin API \(HTTP 404\)"):
        probe_issuer(issuer.url)  # the wallets' port
    with pytest.raises(OSError, match="nothing answers"):
        probe_issuer("http://127.0.0.1:9")
    with pytest.raises(InvalidInput, match="must use https"):
        probe_issuer("http://issuer.example:8441")
