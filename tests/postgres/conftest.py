"""Stores on the test's PostgreSQL database (every module here is marked `postgres`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from issuer.storage.postgres import PostgresStore
from tests.conftest import KEY_PASSPHRASE, PostgresDatabase

OpenStore = Callable[..., PostgresStore]


@pytest.fixture
def open_store(postgres: PostgresDatabase) -> Iterator[OpenStore]:
    """`open_store()`: a store on the test's database, as one more process would open it."""
    opened: list[PostgresStore] = []

    def open_one(**options: object) -> PostgresStore:
        arguments: dict[str, object] = {"password": postgres.password, "key_passphrase": KEY_PASSPHRASE, **options}
        store = PostgresStore(postgres.url, **arguments)  # type: ignore[arg-type]
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()
