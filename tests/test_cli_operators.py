"""`frontdesk-issuer operators`: the accounts from the command line, directly on a data folder and
through the admin API of a running `serve`; errors are one line and a non-zero exit. Real processes."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from issuer.service.actors import Actor
from issuer.service.operators import Operators
from issuer.storage.store import JournalStore
from tests import test_cli
from tests.test_cli import CLAIMS, cli

served = test_cli.served  # a running `serve`, a fixture

PASSWORD = "correct horse battery"


def password_file(folder: Path, text: str = PASSWORD, name: str = "password") -> str:
    path = folder / f"{name}.txt"
    path.write_text(text + "\nignored second line\n")
    return str(path)


def operators(data_dir: Path, *args: str, before: bool = True) -> subprocess.CompletedProcess[str]:
    """The command with `--data-dir` before the action (`operators --data-dir X add`) or after it."""
    if before:
        return cli("operators", *args, data_dir=data_dir)
    return cli("operators", *args, "--data-dir", str(data_dir))


def admin_get(served: tuple[Path, str, str], path: str) -> tuple[int, Any]:
    token = (served[0] / "admin-token").read_text().strip()
    request = urllib.request.Request(served[2] + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def one_line_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("frontdesk-issuer: "), result.stderr
    assert text in result.stderr and "Traceback" not in result.stderr


def accounts_in(data_dir: Path) -> dict[str, tuple[str, bool, bool]]:
    store = JournalStore(data_dir)
    try:
        return {
            a.name: (str(a.role), a.enabled, a.must_change_password)
            for a in Operators(store, lambda: 0.0).list(Actor())
        }
    finally:
        store.close()


@pytest.mark.parametrize("before", [True, False])
def test_the_accounts_directly_on_a_folder(tmp_path: Path, before: bool) -> None:
    data = tmp_path / "data"
    first = operators(data, "add", "ada", "--role", "admin", "--password-file", password_file(tmp_path), before=before)
    assert (first.returncode, first.stdout.strip()) == (
        0,
        "added ada (admin): the password is to be changed at the first login",
    ), first.stderr
    added = operators(
        data,
        "add",
        "bob",
        "--role",
        "operator",
        "--password-file",
        password_file(tmp_path),
        "--operator",
        "ada",
        before=before,
    )
    assert added.returncode == 0, added.stderr
    assert operators(data, "disable", "bob", before=before).stdout.strip() == "bob: disabled"
    listed = operators(data, "list", before=before).stdout.splitlines()
    assert listed == [
        "ada  admin  enabled  (must change the password at the next login)",
        "bob  operator  disabled  (must change the password at the next login)",
    ]
    assert operators(data, "enable", "bob", before=before).stdout.strip() == "bob: enabled"
    reset = operators(data, "reset-password", "bob", "--password-file", password_file(tmp_path, "another password"))
    assert reset.stdout.strip() == "bob: password reset, to be changed at the next login"
    as_json = json.loads(operators(data, "list", "--json", before=before).stdout)
    assert [(a["name"], a["role"], a["enabled"]) for a in as_json["operators"]] == [
        ("ada", "admin", True),
        ("bob", "operator", True),
    ]
    assert accounts_in(data) == {"ada": ("admin", True, True), "bob": ("operator", True, True)}
    store = JournalStore(data)
    try:
        entries = [(e["operator"], e["action"], e["subject"]) for e in store.audit.entries(None)]
    finally:
        store.close()
    assert entries[:4] == [
        (None, "password_reset", "bob"),
        (None, "operator_enabled", "bob"),
        (None, "operator_disabled", "bob"),
        ("ada", "operator_added", "bob"),
    ]


def test_errors_are_one_line_and_change_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    one_line_error(operators(data, "list"), "is not a data folder")
    one_line_error(
        operators(data, "add", "ada", "--role", "operator", "--password-file", password_file(tmp_path)),
        "first operator is an admin",
    )
    assert operators(data, "add", "ada", "--role", "admin", "--password-file", password_file(tmp_path)).returncode == 0
    one_line_error(operators(data, "disable", "ada"), "ada is the last enabled admin")
    one_line_error(operators(data, "enable", "zed"), "no operator named 'zed'")
    one_line_error(
        operators(data, "add", "bob", "--role", "operator", "--password-file", password_file(tmp_path, "short")),
        "at least 10",
    )
    one_line_error(
        operators(data, "add", "bob", "--role", "operator", "--password-file", password_file(tmp_path, "xxbobxxbobxx")),
        "name",
    )
    one_line_error(
        operators(data, "add", "bob", "--role", "operator", "--password-file", str(tmp_path / "missing")),
        "cannot read the password file",
    )
    one_line_error(
        operators(data, "add", "bob", "--role", "operator", "--password-file", password_file(tmp_path, "")), "is empty"
    )
    one_line_error(
        operators(data, "add", "ada", "--role", "admin", "--password-file", password_file(tmp_path)),
        "already an operator named 'ada'",
    )
    one_line_error(
        operators(
            data, "add", "bob", "--role", "operator", "--password-file", password_file(tmp_path), "--operator", "zed"
        ),
        "'zed' does not exist",
    )
    bad_role = operators(data, "add", "bob", "--role", "root", "--password-file", password_file(tmp_path))
    assert bad_role.returncode == 2 and "invalid choice: 'root'" in bad_role.stderr
    assert accounts_in(data) == {"ada": ("admin", True, True)}


def test_the_accounts_through_a_running_issuer(served: tuple[Path, str, str], tmp_path: Path) -> None:
    data = served[0]
    added = operators(data, "add", "ada", "--role", "admin", "--password-file", password_file(tmp_path))
    assert added.returncode == 0, added.stderr
    added = operators(
        data,
        "add",
        "bob",
        "--role",
        "operator",
        "--password-file",
        password_file(tmp_path),
        "--operator",
        "ada",
        before=False,
    )
    assert added.returncode == 0, added.stderr
    assert operators(data, "disable", "bob", "--operator", "ada").stdout.strip() == "bob: disabled"
    listed = json.loads(operators(data, "list", "--json").stdout)["operators"]
    assert [(a["name"], a["enabled"]) for a in listed] == [("ada", True), ("bob", False)]
    one_line_error(operators(data, "disable", "ada"), "ada is the last enabled admin")
    one_line_error(operators(data, "enable", "bob", "--operator", "bob"), "'bob' is disabled")
    one_line_error(
        operators(data, "reset-password", "zed", "--password-file", password_file(tmp_path)), "no operator named 'zed'"
    )
    assert operators(data, "enable", "bob").stdout.strip() == "bob: enabled"
    assert (
        operators(
            data, "reset-password", "bob", "--password-file", password_file(tmp_path, "another password")
        ).returncode
        == 0
    )
    status, audit = admin_get(served, "/api/audit")
    assert status == 200
    changes = [(e["operator"], e["action"], e["subject"]) for e in audit["entries"] if e["subject"] == "bob"]
    assert changes == [
        (None, "password_reset", "bob"),
        (None, "operator_enabled", "bob"),
        ("ada", "operator_disabled", "bob"),
        ("ada", "operator_added", "bob"),
    ]


def test_operator_on_other_commands_must_name_an_enabled_operator(
    served: tuple[Path, str, str], tmp_path: Path
) -> None:
    data = served[0]
    for name, role in (("ada", "admin"), ("bob", "operator")):
        assert operators(data, "add", name, "--role", role, "--password-file", password_file(tmp_path)).returncode == 0
    offer = ["offer", "--config", "employee_badge", "--claims", json.dumps(CLAIMS), "--json"]
    made = cli(*offer, "--operator", "bob", data_dir=data)
    assert made.returncode == 0, made.stderr
    offer_id = json.loads(made.stdout)["offer_id"]
    one_line_error(cli("cancel", offer_id, "--operator", "zed", data_dir=data), "'zed' does not exist")
    assert operators(data, "disable", "bob").returncode == 0
    one_line_error(cli("cancel", offer_id, "--operator", "bob", data_dir=data), "'bob' is disabled")
    one_line_error(cli(*offer, "--operator", "bob", data_dir=data), "'bob' is disabled")
    assert cli("cancel", offer_id, "--operator", "ada", data_dir=data).returncode == 0


def test_operators_help_names_every_action() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "issuer", "operators", "--help"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    for action in ("list", "add", "disable", "enable", "reset-password"):
        assert action in result.stdout
