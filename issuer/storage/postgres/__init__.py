"""The PostgreSQL backend (needs the `postgres` extra: psycopg 3 and its pool)."""

from issuer.storage.postgres.database import StoreError
from issuer.storage.postgres.store import PostgresStore

__all__ = ["PostgresStore", "StoreError"]
