"""`frontdesk-issuer operators list|add|disable|enable|reset-password`: the desk's accounts, headless.

With an issuer running on the data folder the commands go through its admin API (the admin token
counts as admin); otherwise they take the folder's lock, as `serve` does, and change the accounts
in the folder directly. Passwords come from a file (its first line), never from the command line,
where other users could read them.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from issuer.cli.admin_client import admin_call
from issuer.cli.common import CommandError, Commands, nested_data_dir_option
from issuer.config import Settings, ensure_private_dir
from issuer.errors import ServiceError
from issuer.records.operators import Role
from issuer.service.actors import Actor
from issuer.service.operators import Operators
from issuer.storage.backends import open_store
from issuer.storage.folder_lock import FolderInUse, FolderLock


def register(commands: Commands) -> None:
    operators = commands.add_parser("operators", help="operator accounts: list, add, disable, enable, reset-password")
    actions = operators.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every account with its role and state")
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    add = actions.add_parser("add", help="add an account; its person changes the password at the first login")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=tuple(Role))
    add.add_argument("--password-file", required=True, type=Path, help="file whose first line is the password")
    for name in ("disable", "enable"):
        actions.add_parser(name, help=f"{name} an account").add_argument("name")
    reset = actions.add_parser("reset-password", help="a new password, to be changed at the next login")
    reset.add_argument("name")
    reset.add_argument("--password-file", required=True, type=Path, help="file whose first line is the password")
    nested_data_dir_option(operators, actions)
    for action in actions.choices.values():
        if action is not listing:
            action.add_argument("--operator", help="who makes the change, for the audit log (an enabled operator)")
    operators.set_defaults(run=_operators)


def _operators(args: argparse.Namespace) -> int:
    settings = Settings.load(args.data_dir)
    folder = settings.data_dir
    password = _password(args.password_file) if getattr(args, "password_file", None) else ""
    if not folder.is_dir():
        if args.action != "add":
            raise CommandError(f"{folder} is not a data folder")
        ensure_private_dir(folder)
    lock = FolderLock(folder, f"frontdesk-issuer operators {args.action}")
    try:
        lock.acquire()
    except FolderInUse:  # an issuer runs there: it makes the change, under its store lock
        return _print(args, _through_admin_api(args, password))
    try:
        return _print(args, _in_folder(args, settings, password))
    finally:
        lock.release()


def _through_admin_api(args: argparse.Namespace, password: str) -> dict[str, Any]:
    acting = {"operator": args.operator} if getattr(args, "operator", None) else {}
    if args.action == "list":
        return admin_call(args.data_dir, "GET", "/api/operators")
    if args.action == "add":
        body = {"name": args.name, "role": args.role, "password": password, **acting}
        return admin_call(args.data_dir, "POST", "/api/operators", body)
    path = f"/api/operators/{urllib.parse.quote(args.name, safe='')}/{args.action}"
    return admin_call(args.data_dir, "POST", path, {"password": password, **acting} if password else acting)


def _in_folder(args: argparse.Namespace, settings: Settings, password: str) -> dict[str, Any]:
    store = open_store(settings, None, os.environ)
    try:
        operators = Operators(store, time.time)
        actor = Actor(operators.acting(getattr(args, "operator", None)))
        work: dict[str, Callable[[], Any]] = {
            "list": lambda: {"operators": [account.to_json() for account in operators.list(actor)]},
            "add": lambda: operators.add(actor, args.name, args.role, password).to_json(),
            "disable": lambda: operators.set_enabled(actor, args.name, False).to_json(),
            "enable": lambda: operators.set_enabled(actor, args.name, True).to_json(),
            "reset-password": lambda: operators.reset_password(actor, args.name, password).to_json(),
        }
        result: dict[str, Any] = work[args.action]()
        return result
    except ServiceError as error:
        raise CommandError(error.message) from error
    finally:
        store.close()


def _print(args: argparse.Namespace, result: dict[str, Any]) -> int:
    if args.action == "list":
        if args.json:
            print(json.dumps(result))
            return 0
        for account in result["operators"]:
            state = "enabled" if account["enabled"] else "disabled"
            change = "  (must change the password at the next login)" if account["must_change_password"] else ""
            print(f"{account['name']}  {account['role']}  {state}{change}")
        if not result["operators"]:
            print("no operators yet")
        return 0
    said = {
        "add": f"added {result['name']} ({result['role']}): the password is to be changed at the first login",
        "disable": f"{result['name']}: disabled",
        "enable": f"{result['name']}: enabled",
        "reset-password": f"{result['name']}: password reset, to be changed at the next login",
    }
    print(said[args.action])
    return 0


def _password(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise CommandError(f"cannot read the password file {path}: {error.strerror}") from error
    except ValueError as error:
        raise CommandError(f"the password file {path} is not UTF-8 text") from error
    if not lines or not lines[0]:
        raise CommandError(f"the password file {path} is empty: its first line is the password")
    return lines[0]
