"""One PostgreSQL database for the issuer processes that share it: a pool of connections, and the
transaction a thread holds on one of them.

`transaction()` is a real database transaction on one pooled connection, held by the calling
thread until its outermost `with` ends; every statement the thread runs meanwhile runs in it.
Outside a transaction a statement runs on its own (autocommit). The transaction commits when the
`with` ends, also when it ends by an exception the service raised (as with the journals, where a
change is durable when made: a refusal may record something, such as a wrong transaction code);
it rolls back when the database itself failed. A database that cannot take a change (unreachable,
full) is `StorageUnavailable`, as a full disk is for the journals, and `health` says so until a
transaction commits again.

The password never appears in a URL: it comes from a file or the environment, and is handed to
libpq apart from the URL, so no message or log line can show it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg_pool import ConnectionPool, PoolTimeout

from issuer.config import SettingsError, check_store_url
from issuer.storage.interfaces import StorageHealth, StorageUnavailable

CONNECT_TIMEOUT = 10
POOL_TIMEOUT = 30.0
APPLICATION_NAME = "frontdesk-issuer"

Query = str | sql.Composed | sql.SQL


class StoreError(SettingsError):
    """A store that cannot be used (unreachable, a schema too new, keys that do not open), in one line."""


class Database:
    """A connection pool with one held connection per thread in a transaction."""

    def __init__(self, url: str, password: str | None = None, *, max_connections: int = 10) -> None:
        check_store_url(url)
        self.url = url
        extra: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT, "application_name": APPLICATION_NAME}
        if password is not None:
            extra["password"] = password
        self.conninfo = make_conninfo(url, **extra)
        self.connect().close()  # a clear error now rather than a pool that waits
        self._pool = ConnectionPool(
            self.conninfo,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True},
            timeout=POOL_TIMEOUT,
            open=False,
            name="frontdesk-store",
        )
        self._pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        self._local = threading.local()
        self.health = StorageHealth()

    def connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        """A connection of its own, outside the pool (migrations, the listener)."""
        try:
            return psycopg.connect(self.conninfo, autocommit=True)
        except psycopg.OperationalError as error:
            raise StoreError(f"cannot connect to the store at {self.url}: {_first_line(error)}") from error

    @property
    def in_transaction(self) -> bool:
        return getattr(self._local, "connection", None) is not None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.in_transaction:
            yield
            return
        with self._connection_from_pool() as connection, self._unavailable_when_down():
            connection.execute("BEGIN")
            self._local.connection = connection
            try:
                yield
            except psycopg.Error:
                self._local.connection = None
                _rollback(connection)
                raise
            except BaseException:
                self._local.connection = None
                connection.execute("COMMIT")
                raise
            self._local.connection = None
            connection.execute("COMMIT")
        self.health.succeeded()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        """The thread's transaction connection, or a pooled one for a statement on its own."""
        held = getattr(self._local, "connection", None)
        if held is not None:
            yield held
            return
        with self._connection_from_pool() as connection:
            yield connection

    @contextmanager
    def autonomous(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        """A pooled connection outside the thread's transaction: a change committed at once, whatever
        the transaction does (a reserved block of status list positions)."""
        with self._connection_from_pool() as connection:
            yield connection

    def rows(self, query: Query, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        with self.connection() as connection:
            cursor = connection.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def changed(self, query: Query, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Run a change; how many rows it touched."""
        with self.connection() as connection:
            return connection.execute(query, params).rowcount

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def _connection_from_pool(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        try:
            with self._pool.connection() as connection:
                yield connection
        except PoolTimeout as error:
            self.health.failed("the database does not answer")
            raise StorageUnavailable(f"no connection to the store within {POOL_TIMEOUT:.0f} s") from error

    @contextmanager
    def _unavailable_when_down(self) -> Iterator[None]:
        """A database that fails to take a change (lost, shut down, out of space) as `StorageUnavailable`."""
        try:
            yield
        except psycopg.OperationalError as error:
            reason = "the database is full" if isinstance(error, psycopg.errors.DiskFull) else "the database is lost"
            self.health.failed(reason)
            raise StorageUnavailable(reason) from error


def _rollback(connection: psycopg.Connection[tuple[Any, ...]]) -> None:
    try:
        connection.execute("ROLLBACK")
    except psycopg.Error:
        pass  # a broken connection: the pool drops it


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
