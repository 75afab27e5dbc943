"""Status lists that fail open no more: the ledger is the source of truth for which slots are taken
and which credentials are revoked or suspended.

Observed before: with `status.json` deleted or emptied, the issuer started a new list 1, the
ledger answered 500 until the next issuance, revoked credentials read as valid, and new
credentials got slots old ones held; restoring an older backup, new credentials reused the slots
of credentials issued after the backup. Lists of 16 entries here, so that slots run out fast.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from issuer.records.ledger import LedgerQuery
from issuer.records.status_lists import INVALID, SUSPENDED, VALID, StatusReference
from issuer.runtime import IssuerRuntime
from issuer.service import IssuerService, OfferRequest
from issuer.storage.backup import create_backup, restore_backup
from tests.conftest import start_issuer
from wallet.client import TestWallet

CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}
SIZE = 16


def service_of(runtime: IssuerRuntime) -> IssuerService:
    assert runtime.service is not None
    return runtime.service


def issue(runtime: IssuerRuntime, count: int) -> list[str]:
    """`count` credentials through the wallet; their ledger record ids."""
    service = service_of(runtime)
    ids = []
    with TestWallet() as wallet:
        for n in range(count):
            offer = service.offers.create(OfferRequest(["employee_badge"], {**CLAIMS, "employee_id": f"E-{n}"}))
            [received] = wallet.receive(offer.offer_uri)
            ids.append(str(received.notification_id))
    return ids


def places(service: IssuerService) -> dict[str, tuple[int, int]]:
    """Every credential's (list, index), by record id."""
    found = service.ledger.find(LedgerQuery(limit=1000))
    return {r["id"]: (r["status_list"]["list"], r["status_list"]["idx"]) for r in found if "status_list" in r}


def served_status(service: IssuerService, place: tuple[int, int]) -> int:
    """What a verifier reads: the status in the list as served."""
    return service.ledger.status_lists.status(StatusReference(*place))


def start(data_dir: Path) -> IssuerRuntime:
    return start_issuer(data_dir, status_list_size=SIZE)


def lose(path: Path) -> None:
    path.unlink()


def empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize("loss", [lose, empty], ids=["deleted", "emptied"])
def test_a_lost_status_file_is_rebuilt_from_the_ledger(tmp_path: Path, loss: Callable[[Path], None]) -> None:
    data_dir = tmp_path / "data"
    runtime = start(data_dir)
    try:
        old = issue(runtime, 10)
        service = service_of(runtime)
        for record_id in old[:3]:
            service.ledger.change_status(record_id, "revoke", operator="Ada", reason="lost")
        service.ledger.change_status(old[3], "suspend", operator="Ada")
        service.ledger.change_status(old[4], "suspend", operator="Ada")
        service.ledger.change_status(old[4], "unsuspend", operator="Ada")
        before = places(service)
    finally:
        runtime.stop()
    loss(data_dir / "status.json")

    runtime = start(data_dir)
    try:
        service = service_of(runtime)
        states = {r["id"]: r["state"] for r in service.ledger.find(LedgerQuery(limit=100))}  # no 500
        assert [states[record_id] for record_id in old[:5]] == ["revoked"] * 3 + ["suspended", "valid"]
        expected = [INVALID] * 3 + [SUSPENDED] + [VALID] * 6
        assert [served_status(service, before[record_id]) for record_id in old] == expected
        new = issue(runtime, 10)
        after = places(service)
        taken = set(before.values())
        assert not [record_id for record_id in new if after[record_id] in taken], "a new credential got an old slot"
    finally:
        runtime.stop()


def test_a_status_file_behind_the_ledger_is_brought_up_to_it(tmp_path: Path) -> None:
    """status.json from an earlier moment (copied back by hand): the slots and revocations the ledger
    knows since come back."""
    data_dir = tmp_path / "data"
    runtime = start(data_dir)
    try:
        issue(runtime, 3)
    finally:
        runtime.stop()
    earlier = (data_dir / "status.json").read_bytes()
    runtime = start(data_dir)
    try:
        later = issue(runtime, 6)
        service_of(runtime).ledger.change_status(later[0], "revoke", operator="Ada")
    finally:
        runtime.stop()
    (data_dir / "status.json").write_bytes(earlier)

    runtime = start(data_dir)
    try:
        service = service_of(runtime)
        before = places(service)
        assert served_status(service, before[later[0]]) == INVALID
        new = issue(runtime, 8)
        after = places(service)
        assert not {after[record_id] for record_id in new} & set(before.values())
    finally:
        runtime.stop()


def test_after_restoring_an_older_backup_new_credentials_never_reuse_a_slot(tmp_path: Path) -> None:
    """Credentials issued after the backup are unknown to the restored ledger; their slots must
    still never be handed out again. A restore closes the restored lists, and new credentials go
    to a list numbered past every list the backup and the replaced data held."""
    data_dir = tmp_path / "data"
    runtime = start(data_dir)
    try:
        issue(runtime, 5)
        create_backup(data_dir, tmp_path / "backup.tar.gz", lock=service_of(runtime).store.transaction())
        after_backup = issue(runtime, 30)
        lost = {place for record_id, place in places(service_of(runtime)).items() if record_id in after_backup}
    finally:
        runtime.stop()
    restore_backup(tmp_path / "backup.tar.gz", data_dir, force=True)
    shutil.rmtree(next(tmp_path.glob("data.before-restore-*")))

    runtime = start(data_dir)
    try:
        new = issue(runtime, 30)
        reused = [
            record_id for record_id, place in places(service_of(runtime)).items() if record_id in new and place in lost
        ]
        assert not reused, f"{len(reused)} of 30 new credentials took slots of credentials issued after the backup"
    finally:
        runtime.stop()
