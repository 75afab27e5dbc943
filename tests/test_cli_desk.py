"""The desk's day from the command line: cancel, sign-in offers, strict admin bodies, a QR code
that fits a terminal, and start-up errors that name their cause. Real processes, a real server."""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from issuer.cli.desk import terminal_qr
from tests import test_cli
from tests.test_cli import CLAIMS, cli
from wallet.client import TestWallet
from wallet.code_flow import CodeFlowWallet
from wallet.transport import WalletError

Served = tuple[Path, str, str]
served = test_cli.served  # the running issuer of the command-line tests, a fixture


def admin_post(data_dir: Path, admin_url: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    token = (data_dir / "admin-token").read_text().strip()
    request = urllib.request.Request(
        admin_url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def offer_command(data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return cli(
        "offer", "--config", "employee_badge", "--claims", json.dumps(CLAIMS), "--json", *extra, data_dir=data_dir
    )


def add_operator(data_dir: Path, name: str, role: str = "admin") -> None:
    """An account for `--operator NAME`, which must name an enabled operator."""
    password_file = data_dir.parent / f"{name}.password"
    password_file.write_text("correct horse battery\n")
    added = cli(
        "operators", "add", name, "--role", role, "--password-file", str(password_file), "--data-dir", str(data_dir)
    )
    assert added.returncode == 0, added.stderr


def offer(data_dir: Path, *extra: str) -> dict[str, Any]:
    result = offer_command(data_dir, *extra)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_cancel_from_the_command_line_ends_the_offer(served: Served) -> None:
    data_dir = served[0]
    add_operator(data_dir, "alice")
    made = offer(data_dir, "--tx-code")
    result = cli("cancel", made["offer_id"], "--operator", "alice", data_dir=data_dir)
    assert (result.returncode, result.stdout.strip()) == (0, f"{made['offer_id']}: cancelled")
    status = json.loads(cli("status", made["offer_id"], "--json", data_dir=data_dir).stdout)
    assert status["state"] == "cancelled"
    human = cli("status", made["offer_id"], data_dir=data_dir).stdout
    assert human.startswith(f"{made['offer_id']}: cancelled") and "offer_cancelled  operator=alice" in human
    with TestWallet() as wallet:
        session = wallet.resolve_offer(made["offer_uri"])
        wallet.fetch_metadata(session)
        with pytest.raises(WalletError) as refused:
            wallet.token(session, made["tx_code"])
    assert refused.value.status == 400 and refused.value.body["error"] == "invalid_grant"
    again = cli("cancel", made["offer_id"], data_dir=data_dir)
    assert (
        again.returncode == 1 and again.stderr.strip() == "frontdesk-issuer: This offer is already finished (cancelled)"
    )


def test_an_access_token_stops_working_when_the_offer_is_cancelled(served: Served) -> None:
    data_dir = served[0]
    made = offer(data_dir)
    with TestWallet() as wallet:
        session = wallet.resolve_offer(made["offer_uri"])
        wallet.fetch_metadata(session)
        wallet.token(session)
        assert cli("cancel", made["offer_id"], data_dir=data_dir).returncode == 0
        with pytest.raises(WalletError) as refused:
            wallet.request_credential(session, "employee_badge")
    assert refused.value.body["error"] == "credential_request_denied"


def test_a_sign_in_offer_from_the_command_line(served: Served) -> None:
    data_dir, issuer_url, _ = served
    made = offer(data_dir, "--grant", "authorization_code")
    with CodeFlowWallet() as wallet:
        session = wallet.resolve_offer(made["offer_uri"])
        assert set(session.offer["grants"]) == {"authorization_code"}
        wallet.fetch_metadata(session)
        authorization = wallet.start(session)
        waiting = json.loads(cli("sign-ins", "--json", data_dir=data_dir).stdout)["authorizations"]
        assert [(w["offer_id"], w["confirmation"]) for w in waiting] == [(made["offer_id"], authorization.confirmation)]
        assert cli("confirm", waiting[0]["authorization_id"], data_dir=data_dir).returncode == 0
        wallet.follow(authorization)
        wallet.exchange(authorization)
        received = wallet.request_credential(session, "employee_badge")
    assert not isinstance(received, str) and received.credentials
    refused = offer_command(data_dir, "--grant", "authorization_code", "--tx-code")
    assert refused.returncode == 1 and "no transaction code" in refused.stderr


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/offers", {"credential_configuration_ids": ["employee_badge"], "claims": CLAIMS, "grnat": "x"}, "grnat"),
        ("/api/holders", {"given_name": "Ada", "family_name": "L", "document_number": "12345", "phone": "1"}, "phone"),
        ("/api/authorizations/0123456789abcdef/approve", {"claim": {}}, "claim"),
        ("/api/authorizations/0123456789abcdef/deny", {"reasons": "x"}, "reasons"),
        ("/api/credentials/000001-1-abcdefabcdef/revoke", {"operator": "a", "why": "x"}, "why"),
    ],
)
def test_admin_bodies_with_an_unknown_field_are_refused_naming_it(
    served: Served, path: str, body: dict[str, Any], field: str
) -> None:
    data_dir, _, admin_url = served
    status, answer = admin_post(data_dir, admin_url, path, body)
    assert status == 400 and answer["error_description"].startswith(f"unknown field: {field} ")
    assert json.loads(cli("credentials", "--json", data_dir=data_dir).stdout)["credentials"] == []


def test_the_grant_field_makes_a_sign_in_offer(served: Served) -> None:
    data_dir, _, admin_url = served
    body = {"credential_configuration_ids": ["employee_badge"], "claims": CLAIMS, "grant": "authorization_code"}
    status, created = admin_post(data_dir, admin_url, "/api/offers", body)
    assert status == 201 and set(created["credential_offer"]["grants"]) == {"authorization_code"}
    status, answer = admin_post(data_dir, admin_url, "/api/offers", {**body, "grant": "password"})
    assert status == 400 and "grant must be one of" in answer["error_description"]


def test_an_unknown_credential_type_is_an_error_not_an_empty_list(served: Served) -> None:
    result = cli("credentials", "--type", "employe_badge", data_dir=served[0])
    assert result.returncode == 1 and "unknown credential type: employe_badge" in result.stderr
    assert "employee_badge" in result.stderr  # the types there are


def run_on_a_terminal(args: list[str], columns: int = 80) -> str:
    """The command with its output on a pseudo-terminal of `columns` columns, as a person runs it."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "50"}
    process = subprocess.Popen(
        [sys.executable, "-m", "issuer", *args], stdout=terminal, stderr=subprocess.PIPE, env=env
    )
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    assert process.wait(timeout=30) == 0, process.stderr.read() if process.stderr else ""
    return output.decode().replace("\r\n", "\n")


def test_on_a_terminal_the_offer_is_by_reference_and_its_qr_fits_80_columns(served: Served) -> None:
    data_dir = served[0]
    shown = run_on_a_terminal(
        ["offer", "--data-dir", str(data_dir), "--config", "employee_badge", "--claims", json.dumps(CLAIMS)]
    )
    lines = shown.splitlines()
    link = next(line for line in lines if line.startswith("openid-credential-offer://"))
    assert "credential_offer_uri=" in link
    qr = [line for line in lines if "█" in line or "▀" in line or "▄" in line]
    assert len(qr) > 10 and max(len(line) for line in qr) <= 80


def test_the_terminal_qr_is_left_out_when_it_cannot_fit() -> None:
    long_link = "openid-credential-offer://?credential_offer=" + "x" * 900
    assert terminal_qr(long_link, 80) is None
    short = terminal_qr("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fdesk.example%2Foffers%2Fa.b")
    assert short is not None and max(len(line) for line in short.splitlines()) <= 80


def test_a_port_in_use_is_named(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", "--port", "0", "--admin-port", str(port), data_dir=tmp_path / "data")
    assert result.returncode == 1
    assert result.stderr.strip() == f"frontdesk-issuer: cannot listen: port {port} is in use by another program"


def test_a_data_folder_that_is_a_file_is_named(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("a file")
    result = cli("serve", "--port", "0", "--admin-port", "0", data_dir=not_a_folder)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"the data folder {not_a_folder} is a file" in result.stderr
    inside = cli("serve", "--port", "0", "--admin-port", "0", data_dir=not_a_folder / "data")
    assert f"{not_a_folder} is a file" in inside.stderr and "Traceback" not in inside.stderr
