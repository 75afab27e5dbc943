"""The issuer as a running thing: data folder, keys, service, and its two servers.

Used alike by `frontdesk-issuer serve`, the desktop app and the tests. The issuer server
faces wallets; the admin server (127.0.0.1 unless configured otherwise) faces the CLI and
remote desks and requires the bearer token kept in `<data>/admin-token`.

At start, the data folder's lock is taken (`issuer.storage.folder_lock`: one process per
folder, for the runtime's whole life), then a restore staged by the desktop app
(`issuer.storage.backup`) is applied before anything opens the data folder, the store is opened
(the data folder's journals, or the PostgreSQL store named by `store_url`, shared with other
issuer processes, which must agree on the shared settings), and the signing keys are loaded with
their passphrase, if any. `server.json` says where the running issuer listens; the command line
trusts it only for an admin URL on a loopback address.
"""

from __future__ import annotations

import dataclasses
import errno
import ipaddress
import json
import logging
import os
import secrets
import socket
import stat
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from issuer.config import SHARED_SETTINGS, Settings, SettingsError, ensure_private_dir
from issuer.crypto.certificates import CA_KEY_PATTERN, CERTIFICATES_DIR
from issuer.crypto.keys import KeyRing, resolve_passphrase
from issuer.fileio import POSIX_MODES, write_private_file
from issuer.service import IssuerService
from issuer.storage.backends import open_store
from issuer.storage.backup import PENDING_RESTORE, apply_pending_restore
from issuer.storage.folder_lock import FolderLock
from issuer.storage.interfaces import StorageUnavailable
from issuer.web.admin_app import create_admin_app
from issuer.web.event_feed import EventFeed
from issuer.web.server import ConnectionLimits, IssuerServer, bind
from issuer.web.wallet_app import create_app

ADMIN_TOKEN_FILE = "admin-token"
ADMIN_THREADS = 2  # for requests, besides the threads the desks' event streams hold
SERVER_FILE = "server.json"
PURGE_INTERVAL = 30.0
HOLDER_PURGE_INTERVAL = 86400.0
MIN_ADMIN_TOKEN_LENGTH = 16

log = logging.getLogger(__name__)


class IssuerRuntime:
    """Start with `start()` (returns once both servers listen), stop with `stop()`."""

    def __init__(self, settings: Settings, key_passphrase: bytes | None = None, *, command: str = "an issuer") -> None:
        """`command` names this process in the data folder's lock, for a second one to report."""
        self.settings = settings
        self._key_passphrase = key_passphrase  # None: FRONTDESK_KEY_PASSPHRASE or the settings' file
        self._lock = FolderLock(settings.data_dir, command)
        self.service: IssuerService | None = None
        self.issuer_url = ""
        self.admin_url = ""
        self._servers: list[IssuerServer] = []
        self._stopped = threading.Event()
        self._sweeper: threading.Thread | None = None
        self._feed: EventFeed | None = None

    def start(self) -> IssuerService:
        """Take the data folder's lock and start; a StartupError names the cause in words, and
        FolderInUse (a SettingsError) says which process has the folder."""
        open_data_folder(self.settings.data_dir)
        self._lock.acquire()
        try:
            return self._start()
        except BaseException:
            self._lock.release()
            raise

    def _start(self) -> IssuerService:
        settings = self.settings = _apply_pending_restore(self.settings)
        check_secret_permissions(settings.data_dir)
        passphrase = self._key_passphrase
        if passphrase is None:
            passphrase = resolve_passphrase(settings.key_passphrase_file, os.environ)
        store = open_store(settings, passphrase, os.environ)
        try:
            keys = KeyRing(store.key_files, passphrase)
            shared = settings.to_json()
            store.agree_on({name: shared[name] for name in SHARED_SETTINGS})
            issuer_sock = listen(settings.host, settings.port)
        except BaseException:
            store.close()
            raise
        try:
            admin_sock = listen(settings.admin_host, settings.admin_port)
        except PortUnavailable:
            issuer_sock.close()
            store.close()
            raise
        port, admin_port = issuer_sock.getsockname()[1], admin_sock.getsockname()[1]
        self.issuer_url = issuer_url_of(settings, port)
        self.admin_url = f"http://{_url_host(settings.admin_host)}:{admin_port}"
        self.settings = settings.with_ports(port, admin_port)
        try:
            service = IssuerService(self.settings, self.issuer_url, store=store, keys=keys)
            admin_token = read_admin_token(settings.data_dir, create=True)
        except BaseException:
            issuer_sock.close()
            admin_sock.close()
            store.close()
            raise
        self._feed = EventFeed(service.events, max_streams=settings.desk_streams)
        limits = ConnectionLimits(
            total=settings.max_connections,
            per_client=settings.max_connections_per_client,
            request_timeout=settings.request_timeout,
            uncapped=settings.trusted_proxies,
        )
        self._servers = [
            IssuerServer(
                create_app(service),
                issuer_sock,
                threads=settings.threads,
                name="issuer",
                limits=limits,
                inline=settings.threads == 1,
            ),
            IssuerServer(
                create_admin_app(service, admin_token, self._feed),
                admin_sock,
                threads=settings.desk_streams + ADMIN_THREADS,
                name="admin",
                limits=limits,
            ),
        ]
        for server in self._servers:
            server.start()
        server_info = {"issuer_url": self.issuer_url, "admin_url": self.admin_url, "pid": os.getpid()}
        write_private_file(settings.data_dir / SERVER_FILE, json.dumps(server_info).encode())
        self.service = service
        self._sweeper = threading.Thread(target=self._sweep, name="issuer-purge", daemon=True)
        self._sweeper.start()
        return service

    def stop(self) -> None:
        """Stop serving, close the store, remove server.json and give the data folder up."""
        self._stopped.set()
        try:
            if self._feed is not None:
                self._feed.close()  # open event streams end, so the admin server's threads can stop
            for server in self._servers:
                server.stop()
            if self._sweeper:
                self._sweeper.join(5)
            if self.service:
                self.service.close()
        finally:
            (self.settings.data_dir / SERVER_FILE).unlink(missing_ok=True)
            self._lock.release()

    def _sweep(self) -> None:
        """Expired offers every 30 seconds; holders past the retention period at start and daily."""
        next_holder_purge = 0.0
        while True:
            service = self.service
            if service is not None:
                try:
                    service.purge_if_due(0)
                    if time.monotonic() >= next_holder_purge:
                        service.desk.purge_holders(self.settings.holder_retention_days, operator=None)
                        next_holder_purge = time.monotonic() + HOLDER_PURGE_INTERVAL
                except StorageUnavailable as error:  # a full disk: the next round tries again
                    log.warning("the purge is put off: %s", error.reason)
            if self._stopped.wait(PURGE_INTERVAL):
                return


class StartupError(SettingsError):
    """The issuer cannot start, for a reason its operator can fix, said in words."""


class PortUnavailable(OSError):
    """The issuer or admin port cannot be listened on; `cause` says why in words."""

    def __init__(self, error: OSError, cause: str) -> None:
        super().__init__(error.errno, error.strerror)
        self.cause = cause


def open_data_folder(data_dir: Path) -> None:
    """Create the data folder (owner-only) or use it; a file, or a folder that cannot be made, is named."""
    if data_dir.exists() and not data_dir.is_dir():
        raise StartupError(f"the data folder {data_dir} is a file; choose a folder with --data-dir")
    blocking = next((parent for parent in data_dir.parents if parent.exists() and not parent.is_dir()), None)
    if blocking is not None:
        raise StartupError(f"the data folder {data_dir} cannot be made: {blocking} is a file")
    try:
        ensure_private_dir(data_dir)
    except OSError as error:
        raise StartupError(f"the data folder {data_dir} cannot be made: {error.strerror or error}") from error


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port; a port taken or refused is named as such."""
    try:
        return bind(host, port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise PortUnavailable(error, f"port {port} is in use by another program") from error
        if error.errno == errno.EACCES:
            raise PortUnavailable(error, f"port {port} needs administrator rights; use 1024 or above") from error
        if error.errno == errno.EADDRNOTAVAIL:
            raise PortUnavailable(error, f"{host} is not an address of this computer") from error
        raise PortUnavailable(error, f"port {port} on {host}: {error.strerror or error}") from error


def running_admin_url(data_dir: Path) -> str | None:
    """The admin URL `server.json` names, if it is http on a loopback address: nothing else in that
    file, which anyone who can write the folder (or a restored archive) may have put there, is used."""
    try:
        admin_url = json.loads((data_dir / SERVER_FILE).read_text(encoding="utf-8"))["admin_url"]
        parts = urlsplit(admin_url)
        port = parts.port
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    try:
        loopback = ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:  # a name: whatever it resolves to, it is not vouched for
        loopback = False
    if parts.scheme != "http" or not loopback or port is None:
        return None
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        return None
    return f"http://{_url_host(parts.hostname)}:{port}"


def check_secret_permissions(data_dir: Path) -> None:
    """Refuse to start when a key (a signing key, the CA's) or the admin token can be read by anyone but the
    owner (on Unix; Windows keeps a user's data folder private by its access list, which mode bits do not show)."""
    if not POSIX_MODES:
        return
    certificates_dir = data_dir / CERTIFICATES_DIR
    candidates = [data_dir / ADMIN_TOKEN_FILE, certificates_dir, *certificates_dir.glob(CA_KEY_PATTERN)]
    keys_dir = data_dir / "keys"
    if keys_dir.is_dir():
        candidates += [keys_dir, *keys_dir.iterdir()]
    for path in candidates:
        if path.exists() and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            mode = oct(path.stat().st_mode & 0o777)[2:]
            fix = "chmod 700" if path.is_dir() else "chmod 600"
            raise SettingsError(f"{path} is open to other users (mode {mode}); run: {fix} '{path}'")


def read_admin_token(data_dir: Path, *, create: bool = False) -> str:
    """The admin API's bearer token; `serve` creates it, the CLI reads it."""
    path = data_dir / ADMIN_TOKEN_FILE
    if create and not path.exists():
        write_private_file(path, secrets.token_urlsafe(32).encode())
    token = path.read_text(encoding="ascii").strip()
    if create and len(token) < MIN_ADMIN_TOKEN_LENGTH:
        raise SettingsError(f"{path} holds a token shorter than {MIN_ADMIN_TOKEN_LENGTH} characters; delete it")
    return token


def _apply_pending_restore(settings: Settings) -> Settings:
    """Restore a staged backup; the restored settings.json then applies, under the caller's overrides."""
    data_dir = settings.data_dir
    if not (data_dir / PENDING_RESTORE).is_file():
        return settings
    stored = Settings.load(data_dir)
    overrides = {
        f.name: getattr(settings, f.name)
        for f in dataclasses.fields(Settings)
        if f.name not in ("data_dir", "extra") and getattr(settings, f.name) != getattr(stored, f.name)
    }
    restored = apply_pending_restore(data_dir)
    if restored is None:
        return settings
    log.info("restored %d files from a backup; the previous data is in %s", restored.files, restored.replaced)
    return Settings.load(data_dir, **overrides)


def issuer_url_of(settings: Settings, port: int) -> str:
    """The Credential Issuer Identifier: the public URL, else the address the issuer listens on."""
    return settings.public_url or f"http://{_url_host(settings.host)}:{port}"


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
