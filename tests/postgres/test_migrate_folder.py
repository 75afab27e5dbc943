"""`frontdesk-issuer migrate`: a desk's TinyDB folder with history, revocations and operators
copied into PostgreSQL, checked, the folder untouched, and then served from the store with every
credential's status as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from issuer.__main__ import main
from issuer.records.holders import HolderRequest
from issuer.records.ledger import LedgerQuery
from issuer.service import OfferRequest
from tests.conftest import KEY_PASSPHRASE, PostgresDatabase, running_issuer
from tests.e2e.helpers import BADGE_CLAIMS
from wallet.client import TestWallet

pytestmark = pytest.mark.postgres


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def badge_offer() -> OfferRequest:
    return OfferRequest(credential_configuration_ids=["employee_badge"], claims=BADGE_CLAIMS, operator="ada")


def test_a_folder_is_copied_checked_left_alone_and_served_from_the_store(
    tmp_path: Path, postgres: PostgresDatabase, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    desk = tmp_path / "desk"
    # One request per credential: an issued offer is archived at once instead of waiting for repeats.
    with running_issuer(desk, max_credential_requests=1) as issuer, TestWallet() as wallet:
        service = issuer.service
        service.operators.create_first("ada", "a long password")
        holder = service.desk.register_holder(HolderRequest("Ada", "Lovelace", "passport", "X1234567"), "ada")
        for _ in range(6):
            wallet.receive(service.offers.create(badge_offer()).offer_uri)
        records = service.ledger.find(LedgerQuery(limit=100))
        service.ledger.change_status(records[0]["id"], "revoke", "ada", "lost")
        service.ledger.change_status(records[1]["id"], "suspend", "ada", "on leave")
        waiting = service.offers.create(badge_offer())
        before = {record["id"]: service.ledger.record(record["id"]) for record in records}
        kid = service.keys.active.kid
        audit = service.desk.audit_log(limit=1000)
    folder_before = snapshot(desk)

    monkeypatch.setenv("FRONTDESK_STORE_PASSWORD", postgres.password)
    monkeypatch.setenv("FRONTDESK_KEY_PASSPHRASE", KEY_PASSPHRASE.decode())
    assert main(["migrate", "--data-dir", str(desk), "--store-url", postgres.url]) == 0
    printed = capsys.readouterr().out
    assert "checked the copy: 1 offers" in printed and "6 ledger" in printed and "1 operators" in printed
    assert postgres.password not in printed
    assert snapshot(desk) == folder_before

    assert main(["migrate", "--data-dir", str(desk), "--store-url", postgres.url]) == 1
    assert "already holds data" in capsys.readouterr().err

    with running_issuer(tmp_path / "served", postgres) as served, TestWallet() as wallet:
        service = served.service
        assert service.keys.active.kid == kid
        for record_id, record in before.items():
            assert service.ledger.record(record_id)["state"] == record["state"]
            assert service.ledger.record(record_id)["status_changes"] == record["status_changes"]
        states = sorted(record["state"] for record in before.values())
        assert states == ["revoked", "suspended", "valid", "valid", "valid", "valid"]
        assert service.operators.login("ada", "a long password").name == "ada"
        assert service.desk.holder(holder["holder_id"])["family_name"] == "Lovelace"
        assert [o["offer_id"] for o in service.offers.live()] == [waiting.offer_id]
        copied = service.desk.audit_log(limit=1000)[-len(audit) :]
        assert copied == [{k: v for k, v in entry.items() if k not in ("id", "key")} for entry in audit]
        service.ledger.change_status(records[1]["id"], "unsuspend", "ada")
        assert service.ledger.record(records[1]["id"])["state"] == "valid"
        wallet.receive(service.offers.create(badge_offer()).offer_uri)
        places = [(r["status_list"]["list"], r["status_list"]["idx"]) for r in service.ledger.find(LedgerQuery())]
        assert len(places) == 7 and len(set(places)) == 7


def test_backup_and_restore_point_to_pg_dump_on_a_shared_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FRONTDESK_STORE_URL", "postgresql://issuer@db.example/frontdesk")
    assert main(["backup", "--data-dir", str(tmp_path), str(tmp_path / "backup.tar.gz")]) == 1
    assert "pg_dump" in capsys.readouterr().err
    assert main(["restore", "--data-dir", str(tmp_path), str(tmp_path / "backup.tar.gz")]) == 1
    assert "pg_dump" in capsys.readouterr().err
    assert not (tmp_path / "backup.tar.gz").exists()


def test_the_certificates_and_encryption_keys_move_with_the_folder(
    tmp_path: Path, postgres: PostgresDatabase, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The own CA, the chain of each key and the request encryption keys, encrypted at rest in the folder,
    are the store's after `migrate`: the issuer served from it presents the same chain and encryption key,
    and its CA certifies the keys rotated later."""
    desk = tmp_path / "desk"
    desk.mkdir(mode=0o700)
    (desk / "settings.json").write_text('{"request_encryption": true}')  # a shared setting, copied to the store
    with running_issuer(desk) as issuer:
        issuer.service.admin.create_issuing_ca("SE")
        anchor = issuer.service.certificates.trust_anchor_pem()
        x5c = issuer.service.keys.active.x5c
        encryption = issuer.service.request_encryption.keys
        assert encryption is not None and encryption.active is not None and x5c
        encryption_kid = encryption.active.kid
    monkeypatch.setenv("FRONTDESK_KEY_PASSPHRASE", KEY_PASSPHRASE.decode())
    assert main(["keys", "encrypt", "--data-dir", str(desk)]) == 0
    assert "encrypted 3 key files" in capsys.readouterr().out  # the signing key, the CA's, the encryption key
    for path in (desk / "certificates" / "ca-key.pem", desk / "encryption-keys" / f"{encryption_kid}.pem"):
        assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with running_issuer(desk) as issuer:  # the folder still starts with them encrypted
        keys = issuer.service.request_encryption.keys
        assert keys is not None and keys.active is not None and keys.active.kid == encryption_kid

    monkeypatch.setenv("FRONTDESK_STORE_PASSWORD", postgres.password)
    assert main(["migrate", "--data-dir", str(desk), "--store-url", postgres.url]) == 0
    capsys.readouterr()
    with running_issuer(tmp_path / "served", postgres, request_encryption=True) as served:
        service = served.service
        assert service.certificates.trust_anchor_pem() == anchor and service.certificates.own_ca
        assert service.keys.active.x5c == x5c
        keys = service.request_encryption.keys
        assert keys is not None and keys.active is not None and keys.active.kid == encryption_kid
        rotated = service.admin.rotate_key()
        assert service.keys.active.kid == rotated["kid"] and service.keys.active.x5c
        assert service.keys.active.x5c != x5c and keys.active.kid != encryption_kid
    assert not (tmp_path / "served" / "certificates").exists()  # in the store, not in the process's folder
