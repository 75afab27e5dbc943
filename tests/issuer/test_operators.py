"""Operator records: slow salted hashes, the password rules, records from before roles."""

from __future__ import annotations

from pathlib import Path

import pytest

from issuer.errors import ServiceError
from issuer.records.operators import (
    Operator,
    OperatorDirectory,
    Role,
    check_name,
    check_password,
    hash_password,
    password_problem,
)
from issuer.storage.store import JournalStore


@pytest.fixture
def directory(tmp_path: Path) -> OperatorDirectory:
    return OperatorDirectory(JournalStore(tmp_path).operators)


def test_hashes_are_salted_scrypt_and_verify() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("scrypt$16384$8$1$") and first != second
    assert check_password("correct horse", first) and not check_password("wrong horse", first)
    assert not check_password("x", "md5$abc")


@pytest.mark.parametrize(
    ("name", "password", "problem"),
    [
        ("Ada", "nine char", "at least 10"),
        ("Ada", "my ADA password", "name"),
        ("Lovelace", "ecalevoL", "at least 10"),
        ("Grace Hopper", "reppoH ecarG", "reversed"),
        ("Grace Hopper", "REPPOH ECARG", "reversed"),
        ("Ada", "x" * 1025, "at most"),
    ],
)
def test_the_password_rules(name: str, password: str, problem: str) -> None:
    found = password_problem(name, password)
    assert found is not None and problem in found


def test_good_passwords_pass_the_rules() -> None:
    assert password_problem("Ada", "correct horse") is None
    assert password_problem("Ada", "a" * 10) is None


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "tab\there"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ServiceError, match="1 to 64"):
        check_name(name)


def test_add_get_update_and_the_hash_never_stored_plain(directory: OperatorDirectory, tmp_path: Path) -> None:
    assert not directory.exists()
    directory.add(Operator("Ada", 1, Role.ADMIN), hash_password("long enough"))
    with pytest.raises(ServiceError, match="already"):
        directory.add(Operator("Ada", 2, Role.OPERATOR), hash_password("another one"))
    changed = directory.update("Ada", role=Role.OPERATOR, enabled=False)
    assert (changed.role, changed.enabled) == (Role.OPERATOR, False)
    assert directory.get("Ada") == changed and directory.names() == ["Ada"]
    stored = directory.password_hash("Ada")
    assert stored is not None and check_password("long enough", stored)
    assert "long enough" not in (tmp_path / "desk.json").read_text()
    with pytest.raises(ServiceError, match="no operator"):
        directory.update("Nobody", enabled=True)


def test_a_record_from_before_roles_reads_as_an_enabled_admin(tmp_path: Path) -> None:
    store = JournalStore(tmp_path)
    old_hash = hash_password("correct horse")
    store.operators.insert("Ada", {"name": "Ada", "password": old_hash, "created_at": 5})  # as written before
    account = OperatorDirectory(store.operators).get("Ada")
    assert account == Operator("Ada", 5, Role.ADMIN, enabled=True, must_change_password=False)
    assert OperatorDirectory(store.operators).password_hash("Ada") == old_hash
