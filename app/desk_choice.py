"""Which issuer this desk uses (the embedded one, or a running issuer's admin API elsewhere), and
the language it speaks.

The choice is the desk's own, per user: a small JSON file in the user's configuration folder
(`FRONTDESK_DESK_CONFIG` names another file), never in the embedded issuer's data folder, whose
settings belong to that issuer and its wallets. It is read once at start; `frontdesk --connect URL`
overrides it for one run.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_config_dir

from app.i18n import LANGUAGES, SYSTEM
from issuer.fileio import write_atomic

CONFIG_ENV = "FRONTDESK_DESK_CONFIG"
CONFIG_NAME = "connection.json"


def config_path() -> Path:
    named = os.environ.get(CONFIG_ENV)
    return Path(named) if named else Path(user_config_dir("frontdesk-issuer", appauthor=False)) / CONFIG_NAME


@dataclass(frozen=True)
class DeskChoice:
    connect: str | None = None  # the admin URL of the issuer this desk is a desk of; None: the embedded one
    language: str = SYSTEM  # a key of app.i18n.LANGUAGES, or "system": the system's languages decide

    @classmethod
    def load(cls, path: Path | None = None) -> DeskChoice:
        """The saved choice; a missing or unreadable file is the embedded issuer (the default)."""
        try:
            saved = json.loads((path or config_path()).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(saved, dict):
            return cls()
        url = saved.get("connect")
        language = saved.get("language")
        return cls(
            url if isinstance(url, str) and url else None,
            language if isinstance(language, str) and language in LANGUAGES else SYSTEM,
        )

    def save(self, path: Path | None = None) -> Path:
        target = path or config_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        chosen = {"connect": self.connect, "language": self.language}
        write_atomic(target, json.dumps(chosen, indent=2).encode() + b"\n")
        return target


def chosen_url(connect_arg: str | None, *, embedded: bool = False, path: Path | None = None) -> str | None:
    """The issuer to connect to at this start: `--connect`, else none with `--embedded`, else the saved choice."""
    if connect_arg or embedded:
        return connect_arg or None
    return DeskChoice.load(path).connect
