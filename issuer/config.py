"""Settings: where the data lives and where the issuer listens.

Settings come from `<data>/settings.json` (editable), then from command-line overrides.
Nothing is read at import time.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from platformdirs import user_data_dir

from issuer.fileio import write_atomic

SETTINGS_FILE = "settings.json"
HAIP = "haip"
PROFILES = ("", HAIP)
# What the HAIP 1.0 profile turns on, whatever settings.json says (docs/haip.md); its other requirements
# (an https public URL, a certificate chain, a scope on every credential type) are checked at start.
HAIP_REQUIREMENTS: dict[str, Any] = {
    "require_par": True,
    "require_dpop": True,
    "require_dpop_nonce": True,
    "require_wallet_attestation": True,
    "request_encryption": True,
}


LIST_SETTINGS = ("trusted_proxies", "rate_limit_exempt", "allowed_hosts", "wallet_trust_anchors")
STORE_URL_ENV = "FRONTDESK_STORE_URL"
STORE_PASSWORD_ENV = "FRONTDESK_STORE_PASSWORD"
# What every issuer process sharing one store must have alike: the identity wallets see, what
# decides how a wallet's request is answered, what verifiers are told of status lists, and what
# one process does to the data of all (holders' retention).
SHARED_SETTINGS = (
    "public_url",
    "issuer_name",
    "clients",
    "require_par",
    "require_dpop",
    "require_dpop_nonce",
    "profile",
    "max_credential_requests",
    "require_wallet_attestation",
    "request_encryption",
    "require_request_encryption",
    "batch_size",
    "access_token_ttl",
    "nonce_ttl",
    "tx_code_max_attempts",
    "deferred_interval",
    "status_list_size",
    "status_list_ttl",
    "holder_retention_days",
)


class SettingsError(ValueError):
    """Settings that cannot work, with a message for the person who wrote them."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8440
    public_url: str | None = None
    issuer_name: str = "Frontdesk Issuer"
    admin_host: str = "127.0.0.1"
    admin_port: int = 8441
    trusted_proxies: tuple[str, ...] = ()
    offer_ttl: int = 600
    access_token_ttl: int = 300
    nonce_ttl: int = 300
    tx_code_length: int = 6
    tx_code_max_attempts: int = 5
    batch_size: int = 10
    deferred_interval: int = 5
    holder_retention_days: int = 365
    lock_after_minutes: int = 10  # the desktop app locks itself after this long without input; 0 never
    status_list_size: int = 100_000  # entries per status list; a new list starts when one is full
    status_list_ttl: int = 300  # seconds a verifier may cache a Status List Token
    # Authorization Code flow: wallets by client_id with their redirect URIs; empty accepts any
    # wallet (https, its own scheme, or http on loopback), which suits testing.
    clients: dict[str, list[str]] = field(default_factory=dict)
    require_par: bool = False
    require_dpop: bool = False
    require_dpop_nonce: bool = False
    par_ttl: int = 60
    authorization_wait: int = 600  # how long a wallet's browser waits for the desk
    authorization_code_ttl: int = 60
    # Sign-ins a wallet started without an offer that wait for the desk, per client address and in
    # all; a new one drops the oldest beyond these (issuer.service.sign_ins).
    sign_ins_per_client: int = 10
    max_sign_ins: int = 100
    # Remote desks' live event streams one process serves at once; each holds an admin thread.
    desk_streams: int = 8
    threads: int = 1  # 1: requests served on the server's own thread, the least CPU per issuance (docs/benchmarks.md)
    # Hardening (issuer.guard): requests per window per client address, 0 turns a limit off.
    token_rate_limit: int = 30
    wallet_rate_limit: int = 120
    rate_limit_window: int = 10
    rate_limit_exempt: tuple[str, ...] = ("127.0.0.1", "::1")
    check_host: bool = True
    # Connections (issuer.web.server): at most this many open at once, at most this many from one
    # client address (trusted proxies excepted), and seconds a request may take to arrive whole.
    max_connections: int = 250
    max_connections_per_client: int = 40
    request_timeout: int = 10
    allowed_hosts: tuple[str, ...] = ()
    key_passphrase_file: str | None = None
    # High assurance (docs/haip.md). `profile: "haip"` applies HAIP_REQUIREMENTS and is checked at start.
    profile: str = ""
    max_credential_requests: int = 3  # Credential Requests per credential of an offer while its token lasts
    require_wallet_attestation: bool = False  # wallets without an attestation (OID4VCI Appendix E) are refused
    wallet_trust_anchors: tuple[str, ...] = ()  # PEM files (in the data folder) of wallet providers' CAs
    request_encryption: bool = False  # offer encrypted Credential Requests (OID4VCI §10)
    require_request_encryption: bool = False
    # A shared PostgreSQL store instead of the data folder's journals; its password comes from
    # FRONTDESK_STORE_PASSWORD or the first line of `store_password_file`, never from the URL.
    store_url: str | None = None
    store_password_file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def load(cls, data_dir: Path | str | None = None, **overrides: Any) -> Settings:
        """Settings from the data folder's settings.json, with non-None overrides on top."""
        folder = Path(data_dir) if data_dir else default_data_dir()
        stored = read_settings_file(folder / SETTINGS_FILE)
        known = {f.name for f in fields(cls)} - {"data_dir", "extra"}
        values: dict[str, Any] = {k: v for k, v in stored.items() if k in known}
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values.get("profile") == HAIP:
            values.update(HAIP_REQUIREMENTS)
        for name in LIST_SETTINGS:
            if name in values:
                if isinstance(values[name], str) or not all(isinstance(v, str) for v in values[name]):
                    raise SettingsError(f"{name} must be a list of strings")
                values[name] = tuple(values[name])
        settings = cls(data_dir=folder, **values)
        settings.validate()
        return settings

    def with_ports(self, port: int, admin_port: int) -> Settings:
        return replace(self, port=port, admin_port=admin_port)

    def validate(self) -> None:
        for name in ("port", "admin_port"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value <= 65535:
                raise SettingsError(f"{name} must be a port number from 0 to 65535, not {value!r}")
        if self.public_url is not None:
            check_public_url(self.public_url)
        for name in (
            "offer_ttl",
            "access_token_ttl",
            "nonce_ttl",
            "tx_code_max_attempts",
            "holder_retention_days",
            "status_list_ttl",
            "par_ttl",
            "authorization_wait",
            "authorization_code_ttl",
            "sign_ins_per_client",
            "max_sign_ins",
            "desk_streams",
        ):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1")
        if (
            not isinstance(self.lock_after_minutes, int)
            or isinstance(self.lock_after_minutes, bool)
            or not 0 <= self.lock_after_minutes <= 1440
        ):
            raise SettingsError("lock_after_minutes must be from 0 (never) to 1440")
        if not 4 <= self.tx_code_length <= 12:
            raise SettingsError("tx_code_length must be from 4 to 12")
        if self.batch_size < 1:
            raise SettingsError("batch_size must be at least 1")
        for name in ("token_rate_limit", "wallet_rate_limit"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise SettingsError(f"{name} must be a number of requests, 0 for no limit")
        if not isinstance(self.rate_limit_window, int) or not 1 <= self.rate_limit_window <= 3600:
            raise SettingsError("rate_limit_window must be from 1 to 3600 seconds")
        if not isinstance(self.max_connections, int) or not 10 <= self.max_connections <= 10_000:
            raise SettingsError("max_connections must be from 10 to 10,000")
        if not isinstance(self.max_connections_per_client, int) or not 1 <= self.max_connections_per_client:
            raise SettingsError("max_connections_per_client must be at least 1")
        if self.max_connections_per_client >= self.max_connections:
            raise SettingsError("max_connections_per_client must be below max_connections, or one client can take all")
        if not isinstance(self.request_timeout, int) or not 1 <= self.request_timeout <= 600:
            raise SettingsError("request_timeout must be from 1 to 600 seconds")
        if not isinstance(self.check_host, bool):
            raise SettingsError("check_host must be true or false")
        if not isinstance(self.clients, dict) or not all(
            isinstance(uris, list) and all(isinstance(uri, str) for uri in uris) for uris in self.clients.values()
        ):
            raise SettingsError("clients must map each client_id to a list of redirect URIs")
        if not 16 <= self.status_list_size <= 10_000_000:
            raise SettingsError("status_list_size must be from 16 to 10,000,000")
        if self.profile not in PROFILES:
            raise SettingsError(f"profile must be {' or '.join(repr(p) for p in PROFILES)}, not {self.profile!r}")
        if not isinstance(self.max_credential_requests, int) or not 1 <= self.max_credential_requests <= 100:
            raise SettingsError("max_credential_requests must be from 1 to 100")
        for name in ("require_wallet_attestation", "request_encryption", "require_request_encryption"):
            if not isinstance(getattr(self, name), bool):
                raise SettingsError(f"{name} must be true or false")
        if self.store_url is not None:
            check_store_url(self.store_url)

    @property
    def haip(self) -> bool:
        return self.profile == HAIP

    @property
    def offers_request_encryption(self) -> bool:
        """Whether wallets may encrypt Credential Requests (`credential_request_encryption`, §12.2.4)."""
        return self.request_encryption or self.require_request_encryption

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("data_dir")
        data.pop("extra")
        for name in LIST_SETTINGS:
            data[name] = list(getattr(self, name))
        return data


def default_data_dir() -> Path:
    return Path(user_data_dir("frontdesk-issuer", appauthor=False))


def save_settings(data_dir: Path, changes: dict[str, Any], check: Callable[[Settings], None] | None = None) -> Settings:
    """Merge `changes` into settings.json after checking them (and with `check`, which raises
    SettingsError for settings the issuer could not start with); they apply at the next start."""
    known = {f.name for f in fields(Settings)} - {"data_dir", "extra"}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise SettingsError(f"unknown settings: {', '.join(unknown)}")
    stored = {**read_settings_file(data_dir / SETTINGS_FILE), **changes}
    stored = {k: v for k, v in stored.items() if v is not None}
    settings = Settings.load(data_dir, **{k: v for k, v in stored.items() if k in known})
    if check is not None:
        check(settings)
    write_atomic(data_dir / SETTINGS_FILE, (json.dumps(stored, indent=2) + "\n").encode())
    return settings


def check_store_url(url: str) -> None:
    """A `postgresql://` URL that holds no password (that comes from a file or the environment)."""
    if not isinstance(url, str) or not url.startswith(("postgresql://", "postgres://")):
        raise SettingsError("store_url must be a postgresql:// URL")
    parts = urlsplit(url)
    if parts.password is not None or "password" in parse_qs(parts.query):
        raise SettingsError(
            f"store_url must not hold the password: put it in {STORE_PASSWORD_ENV} or in a file named by "
            "store_password_file"
        )


def store_url_override(given: str | None, environ: Mapping[str, str]) -> str | None:
    """The store URL that overrides settings.json: the command line's, else FRONTDESK_STORE_URL."""
    return given or environ.get(STORE_URL_ENV) or None


def check_public_url(url: str) -> None:
    """The Credential Issuer Identifier: http(s) URL, no query or fragment (OID4VCI §12.2.1)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"public URL must be an http or https URL with a host, not {url!r}")
    if parts.query or parts.fragment:
        raise SettingsError("public URL must have no query and no fragment")
    if url.endswith("/"):
        raise SettingsError("public URL must not end with '/'")


def read_settings_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SettingsError(f"{path}: cannot be read: {error}") from error
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: must hold a JSON object")
    return data


def ensure_private_dir(path: Path) -> None:
    """Create the data folder readable by its owner alone."""
    path.mkdir(parents=True, exist_ok=True)
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        path.chmod(0o700)
