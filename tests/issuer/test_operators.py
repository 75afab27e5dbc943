"""Operator accounts: slow salted hashes, clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from issuer.errors import ServiceError
from issuer.records.operators import OperatorDirectory, check_password, hash_password
from issuer.storage.store import JournalStore


@pytest.fixture
def directory(tmp_path: Path) -> OperatorDirectory:
    return OperatorDirectory(JournalStore(tmp_path).operators)


def test_hashes_are_salted_scrypt_and_verify() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("scrypt$16384$8$1$") and first != second
    assert check_password("correct horse", first) and not check_password("wrong horse", first)
    assert not check_password("x", "md5$abc")


def test_create_and_authenticate(directory: OperatorDirectory, tmp_path: Path) -> None:
    assert not directory.exists()
    directory.create("Ada", "long enough")
    assert directory.exists() and directory.names() == ["Ada"]
    assert directory.authenticate("Ada", "long enough").name == "Ada"
    assert "long enough" not in (tmp_path / "desk.json").read_text()


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [("", "long enough", "1 to 64"), ("x" * 65, "long enough", "1 to 64"), ("Bob", "short", "at least 8")],
)
def test_bad_accounts_are_refused(directory: OperatorDirectory, name: str, password: str, message: str) -> None:
    with pytest.raises(ServiceError, match=message):
        directory.create(name, password)
    assert not directory.exists()


def test_duplicate_names_and_wrong_passwords(directory: OperatorDirectory) -> None:
    directory.create("Ada", "long enough")
    with pytest.raises(ServiceError, match="already"):
        directory.create("Ada", "another one")
    for name, password in (("Ada", "wrong password"), ("Nobody", "long enough")):
        with pytest.raises(ServiceError, match="wrong operator name or password"):
            directory.authenticate(name, password)
