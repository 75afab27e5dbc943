"""Which backend a start uses: the data folder's journals, or a PostgreSQL store shared with other
issuer processes when `store_url` is set."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from issuer.config import STORE_PASSWORD_ENV, Settings, SettingsError
from issuer.storage.interfaces import Store
from issuer.storage.store import JournalStore


def open_store(settings: Settings, key_passphrase: bytes | None, environ: Mapping[str, str]) -> Store:
    if settings.store_url is None:
        return JournalStore(settings.data_dir)
    try:
        from issuer.storage.postgres import PostgresStore  # psycopg is an extra the desktop app does without
    except ImportError as error:
        raise SettingsError("a PostgreSQL store needs psycopg: pip install 'frontdesk-issuer[postgres]'") from error
    return PostgresStore(
        settings.store_url,
        password=store_password(settings, environ),
        key_passphrase=key_passphrase,
        max_connections=2 * (settings.threads + 4),  # a request may need a second connection for a moment
    )


def store_password(settings: Settings, environ: Mapping[str, str]) -> str | None:
    """FRONTDESK_STORE_PASSWORD, else the first line of `store_password_file`, else None (libpq's own
    ways then apply: a .pgpass file, a local socket's peer authentication)."""
    value = environ.get(STORE_PASSWORD_ENV)
    if value:
        return value
    if settings.store_password_file is None:
        return None
    path = Path(settings.store_password_file)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise SettingsError(f"cannot read the store password file {path}: {error.strerror}") from error
    if not lines or not lines[0]:
        raise SettingsError(f"the store password file {path} is empty")
    return lines[0]
