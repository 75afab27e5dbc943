"""What the commands share: the one-line error, the options every command takes, checked arguments."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TypeAlias

from issuer.config import (
    STORE_PASSWORD_ENV,
    STORE_URL_ENV,
)
from issuer.storage.history import RECORD_ID

ADMIN_TIMEOUT = 10.0
# What `add_subparsers` returns: each module adds its commands to it.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class CommandError(Exception):
    """A failure the user can act on; printed as one line."""


def data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="data folder (default: the user data folder)")


def nested_data_dir_option(command: argparse.ArgumentParser, actions: Commands) -> None:
    """`--data-dir` before or after the action of a command with actions (`operators --data-dir X add`
    and `operators add --data-dir X`): an action's own option leaves the command's value alone when
    it is not given."""
    data_dir_option(command)
    for action in actions.choices.values():
        action.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, help="data folder (as above)")


def store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store-url", help=f"a shared PostgreSQL store, postgresql://user@host/db (or {STORE_URL_ENV})"
    )
    parser.add_argument(
        "--store-password-file", help=f"file whose first line is the store's password (or {STORE_PASSWORD_ENV})"
    )


def claims_argument(value: str) -> dict[str, Any]:
    try:
        text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
        claims = json.loads(text)
    except OSError as error:
        raise CommandError(f"cannot read claims file: {error.strerror}") from error
    except ValueError as error:
        raise CommandError(f"--claims is not valid JSON: {error}") from error
    if not isinstance(claims, dict):
        raise CommandError("--claims must be a JSON object of claim names and values")
    return claims


def offer_id_argument(value: str, kind: str = "an offer") -> str:
    if not value.replace("-", "").replace("_", "").isalnum() or len(value) > 64:
        raise CommandError(f"{value!r} is not {kind} id")
    return value


def record_id_argument(value: str) -> str:
    if not RECORD_ID.match(value):
        raise CommandError(f"{value!r} is not a credential id (see 'frontdesk-issuer credentials')")
    return value


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from error
