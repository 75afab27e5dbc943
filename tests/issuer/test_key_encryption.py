"""Signing keys encrypted at rest with a passphrase: written, loaded, converted, refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from issuer.crypto.keys import ENCRYPTED_PEM, PASSPHRASE_ENV, KeyPassphraseError, KeyRing, change_passphrase
from tests.conftest import start_issuer

PASSPHRASE = b"correct horse battery staple"


def pem_files(keys_dir: Path) -> list[Path]:
    return sorted(keys_dir.glob("*.pem"))


def test_a_ring_with_a_passphrase_writes_encrypted_keys(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    ring = KeyRing(keys_dir, PASSPHRASE)
    ring.rotate()
    assert len(pem_files(keys_dir)) == 2
    for pem in pem_files(keys_dir):
        assert pem.read_bytes().startswith(ENCRYPTED_PEM)
        assert pem.stat().st_mode & 0o777 == 0o600
        assert b"BEGIN PRIVATE KEY" not in pem.read_bytes()
    again = KeyRing(keys_dir, PASSPHRASE)
    assert again.jwks() == ring.jwks() and again.active.kid == ring.active.kid
    with pytest.raises(KeyPassphraseError, match=f"is encrypted: give its passphrase in {PASSPHRASE_ENV}"):
        KeyRing(keys_dir)
    with pytest.raises(KeyPassphraseError, match="wrong passphrase"):
        KeyRing(keys_dir, b"wrong")


def test_keys_are_encrypted_and_decrypted_in_place(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    ring = KeyRing(keys_dir)
    ring.rotate()
    with pytest.raises(KeyPassphraseError, match="is not encrypted: run 'frontdesk-issuer keys encrypt'"):
        KeyRing(keys_dir, PASSPHRASE)
    assert change_passphrase(keys_dir, None, PASSPHRASE) == 2
    assert change_passphrase(keys_dir, None, PASSPHRASE) == 0  # already done: checked, left alone
    assert all(p.read_bytes().startswith(ENCRYPTED_PEM) for p in pem_files(keys_dir))
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in pem_files(keys_dir))
    assert KeyRing(keys_dir, PASSPHRASE).jwks() == ring.jwks()
    with pytest.raises(KeyPassphraseError, match="wrong passphrase"):
        change_passphrase(keys_dir, None, b"another passphrase")  # encrypted under another one
    with pytest.raises(KeyPassphraseError, match="wrong passphrase"):
        change_passphrase(keys_dir, b"wrong", None)
    assert all(p.read_bytes().startswith(ENCRYPTED_PEM) for p in pem_files(keys_dir))  # nothing half done
    assert change_passphrase(keys_dir, PASSPHRASE, None) == 2
    assert KeyRing(keys_dir).jwks() == ring.jwks()


def test_a_half_encrypted_ring_is_finished_by_a_second_run(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    KeyRing(keys_dir).rotate()
    first, second = pem_files(keys_dir)
    encrypted = KeyRing(keys_dir)  # as if the first run stopped after one file
    key = next(k for k in encrypted.all() if first.name.startswith(k.kid))
    first.write_bytes(key.private.export_to_pem(private_key=True, password=PASSPHRASE))
    with pytest.raises(KeyPassphraseError):
        KeyRing(keys_dir, PASSPHRASE)
    assert change_passphrase(keys_dir, None, PASSPHRASE) == 1
    assert second.read_bytes().startswith(ENCRYPTED_PEM)
    assert len(KeyRing(keys_dir, PASSPHRASE).all()) == 2


def test_the_issuer_starts_with_the_passphrase_from_the_environment_or_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE.decode())
    runtime = start_issuer(data_dir)
    kid = runtime.service.keys.active.kid if runtime.service else ""
    runtime.stop()
    assert all(p.read_bytes().startswith(ENCRYPTED_PEM) for p in pem_files(data_dir / "keys"))
    monkeypatch.delenv(PASSPHRASE_ENV)
    with pytest.raises(KeyPassphraseError, match="is encrypted"):
        start_issuer(data_dir)
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_bytes(PASSPHRASE + b"\n")
    runtime = start_issuer(data_dir, key_passphrase_file=str(passphrase_file))
    try:
        jwks = requests.get(f"{runtime.issuer_url}/jwks", timeout=5).json()
        assert [key["kid"] for key in jwks["keys"]] == [kid]
    finally:
        runtime.stop()
    monkeypatch.setenv(PASSPHRASE_ENV, "not the passphrase")  # the environment wins over the settings' file
    with pytest.raises(KeyPassphraseError, match="wrong passphrase"):
        start_issuer(data_dir, key_passphrase_file=str(passphrase_file))
    monkeypatch.setenv(PASSPHRASE_ENV, "")
    with pytest.raises(KeyPassphraseError, match="set but empty"):
        start_issuer(data_dir)
    monkeypatch.setenv(PASSPHRASE_ENV, "short")
    with pytest.raises(KeyPassphraseError, match="too short: a key passphrase has at least 12 characters"):
        start_issuer(data_dir)
    monkeypatch.delenv(PASSPHRASE_ENV)
    with pytest.raises(KeyPassphraseError, match="cannot read the key passphrase file"):
        start_issuer(data_dir, key_passphrase_file=str(tmp_path / "missing"))


def test_loading_an_encrypted_key_costs_little(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    KeyRing(keys_dir, PASSPHRASE)
    started = time.perf_counter()
    KeyRing(keys_dir, PASSPHRASE)
    assert time.perf_counter() - started < 2.0
