"""Shared fixtures: a real issuer (Waitress on 127.0.0.1, ephemeral ports, data in tmp_path), on
the data folder's journals or on a PostgreSQL store of a throw-away cluster (`postgres` marker)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from issuer.config import Settings
from issuer.runtime import IssuerRuntime, read_admin_token
from issuer.service import IssuerService
from issuer.storage.postgres import schema
from tests.postgres_cluster import Cluster, ClusterUnavailable

KEY_PASSPHRASE = b"the passphrase of the tests' keys"
MIGRATED = "frontdesk_migrated"


@dataclass(frozen=True)
class RunningIssuer:
    url: str
    admin_url: str
    admin_token: str
    data_dir: Path
    service: IssuerService
    runtime: IssuerRuntime


@dataclass(frozen=True)
class PostgresDatabase:
    """A fresh database of the session's cluster, and a file holding its password."""

    url: str
    password: str
    password_file: Path


def start_issuer(data_dir: Path, database: PostgresDatabase | None = None, **overrides: object) -> IssuerRuntime:
    if database is not None:
        overrides = {"store_url": database.url, "store_password_file": str(database.password_file), **overrides}
    settings = Settings.load(data_dir=data_dir, port=0, admin_port=0, **overrides)
    runtime = IssuerRuntime(settings, key_passphrase=KEY_PASSPHRASE if database is not None else None)
    runtime.start()
    return runtime


@contextmanager
def running_issuer(
    data_dir: Path, database: PostgresDatabase | None = None, **overrides: object
) -> Iterator[RunningIssuer]:
    runtime = start_issuer(data_dir, database, **overrides)
    assert runtime.service is not None
    try:
        yield RunningIssuer(
            runtime.issuer_url, runtime.admin_url, read_admin_token(data_dir), data_dir, runtime.service, runtime
        )
    finally:
        runtime.stop()


@pytest.fixture
def issuer(tmp_path: Path) -> Iterator[RunningIssuer]:
    with running_issuer(tmp_path / "data") as running:
        yield running


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    try:
        cluster = Cluster()
    except ClusterUnavailable as error:
        if os.environ.get("FRONTDESK_TEST_POSTGRES") == "required":  # CI on Debian: never skipped there
            raise
        pytest.skip(str(error))
    cluster.start()
    try:
        cluster.create_template(MIGRATED, schema.migrate)  # each test's database starts as a copy of it
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres(postgres_cluster: Cluster, tmp_path: Path) -> Iterator[PostgresDatabase]:
    password_file = tmp_path / "store-password"
    password_file.write_text(postgres_cluster.password + "\n")
    password_file.chmod(0o600)
    url = postgres_cluster.create_database(MIGRATED)
    try:
        yield PostgresDatabase(url, postgres_cluster.password, password_file)
    finally:
        postgres_cluster.drop_database(url)
