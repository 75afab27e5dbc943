"""The store's rules as the command line keeps them: settings that must agree stop a process that
differs, the password comes from a file or the environment and is never printed, and a schema newer
than the code is never downgraded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from issuer.__main__ import main
from issuer.storage.interfaces import SharedSettingsMismatch
from issuer.storage.postgres import schema
from tests.conftest import KEY_PASSPHRASE, PostgresDatabase, running_issuer, start_issuer

pytestmark = pytest.mark.postgres

WRONG_PASSWORD = "a-wrong-password-nobody-may-see"


@pytest.mark.parametrize(
    ("name", "value"),
    [("batch_size", 4), ("status_list_ttl", 60), ("holder_retention_days", 30), ("tx_code_max_attempts", 9)],
)
def test_a_process_that_differs_in_a_shared_setting_does_not_start(
    tmp_path: Path, postgres: PostgresDatabase, name: str, value: int
) -> None:
    """What wallets read in the metadata, what verifiers are told of status lists, how often a code may
    be guessed, and which holders are forgotten: alike in every process, or the later one stops."""
    with running_issuer(tmp_path / "one", postgres):
        with pytest.raises(SharedSettingsMismatch, match=name):
            start_issuer(tmp_path / "other", postgres, **{name: value})
        with running_issuer(tmp_path / "third", postgres) as third:  # the same settings start
            assert third.service.settings.batch_size == 10


def serve(
    tmp_path: Path, postgres: PostgresDatabase, *options: str, **environment: str
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "issuer", "serve", "--data-dir", str(tmp_path / "data"), "--port", "0"]
    command += ["--admin-port", "0", "--store-url", postgres.url, *options]
    env = {name: value for name, value in os.environ.items() if not name.startswith("FRONTDESK_STORE")}
    env.update(FRONTDESK_KEY_PASSPHRASE=KEY_PASSPHRASE.decode(), **environment)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_a_wrong_store_password_stops_serve_in_one_line_that_does_not_show_it(
    tmp_path: Path, postgres: PostgresDatabase
) -> None:
    from_environment = serve(tmp_path, postgres, FRONTDESK_STORE_PASSWORD=WRONG_PASSWORD)
    password_file = tmp_path / "store-password"
    password_file.write_text(WRONG_PASSWORD + "\n")
    from_file = serve(tmp_path, postgres, "--store-password-file", str(password_file))
    for result in (from_environment, from_file):
        assert result.returncode != 0
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "cannot connect" in result.stderr and "Traceback" not in result.stderr
        assert WRONG_PASSWORD not in result.stderr + result.stdout
        assert postgres.password not in result.stderr + result.stdout


def test_migrate_never_downgrades_a_newer_schema(
    postgres: PostgresDatabase, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FRONTDESK_STORE_PASSWORD", postgres.password)
    assert main(["migrate", "--store-url", postgres.url]) == 0
    assert f"schema: version {schema.LATEST}" in capsys.readouterr().out
    with psycopg.connect(postgres.url, password=postgres.password, autocommit=True) as connection:
        connection.execute("UPDATE schema_version SET version = %s", (schema.LATEST + 1,))
    assert main(["migrate", "--store-url", postgres.url]) == 1
    refused = capsys.readouterr().err
    assert "never downgraded" in refused and len(refused.strip().splitlines()) == 1
    assert postgres.password not in refused
    with psycopg.connect(postgres.url, password=postgres.password) as connection:
        assert connection.execute("SELECT version FROM schema_version").fetchall() == [(schema.LATEST + 1,)]
