"""The headless command line, run as a user runs it: real processes, a real server."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import jwt_payload
from wallet.client import TestWallet
from wallet.code_flow import CodeFlowWallet

CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1", "department": "R&D"}


def cli(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "issuer", *args]
    if data_dir is not None:
        command[4:4] = ["--data-dir", str(data_dir)]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str, str]]:
    data_dir = tmp_path / "data"
    process = subprocess.Popen(
        [sys.executable, "-m", "issuer", "serve", "--data-dir", str(data_dir), "--port", "0", "--admin-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    issuer_line, admin_line = process.stdout.readline(), process.stdout.readline()
    try:
        assert issuer_line.startswith("issuer: http://127.0.0.1:"), issuer_line
        assert admin_line.startswith("admin: http://127.0.0.1:"), admin_line
        yield data_dir, issuer_line.split(": ", 1)[1].strip(), admin_line.split(": ", 1)[1].strip()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert "Traceback" not in (process.stderr.read() if process.stderr else "")


def test_serve_prints_urls_that_answer(served: tuple[Path, str, str]) -> None:
    data_dir, issuer_url, _ = served
    with urllib.request.urlopen(f"{issuer_url}/.well-known/openid-credential-issuer", timeout=5) as response:
        assert json.loads(response.read())["credential_issuer"] == issuer_url
    token_file = data_dir / "admin-token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert len(token_file.read_text().strip()) >= 32


def test_admin_api_requires_the_token(served: tuple[Path, str, str]) -> None:
    _, _, admin_url = served
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{admin_url}/api/offers", timeout=5)
    assert error.value.code == 401
    assert json.loads(error.value.read())["error"] == "invalid_token"


def test_offer_json_status_and_deferred_decisions(served: tuple[Path, str, str]) -> None:
    data_dir = served[0]
    result = cli(
        "offer", "--config", "employee_badge", "--claims", json.dumps(CLAIMS), "--tx-code", "--json", data_dir=data_dir
    )
    assert result.returncode == 0, result.stderr
    offer = json.loads(result.stdout)
    assert offer["offer_uri"].startswith("openid-credential-offer://?credential_offer=")
    assert offer["tx_code"].isdigit() and len(offer["tx_code"]) == 6
    state = cli(
        "offer",
        "--config",
        "employee_badge",
        "--claims",
        json.dumps(CLAIMS),
        "--deferred",
        "--by-reference",
        "--json",
        data_dir=data_dir,
    )
    deferred = json.loads(state.stdout)
    assert deferred["tx_code"] is None
    assert "credential_offer_uri=" in deferred["offer_uri"]

    status = json.loads(cli("status", offer["offer_id"], "--json", data_dir=data_dir).stdout)
    assert status["state"] == "created"
    assert [step["event"] for step in status["timeline"]] == ["offer_created"]

    approved = cli("approve", deferred["offer_id"], data_dir=data_dir)
    assert approved.returncode == 0 and approved.stdout.strip() == f"{deferred['offer_id']}: approved"
    again = cli("reject", deferred["offer_id"], data_dir=data_dir)
    assert again.returncode == 1 and again.stderr.count("\n") == 1 and "already approved" in again.stderr
    human = cli("status", deferred["offer_id"], data_dir=data_dir)
    assert "issuance_approved" in human.stdout


def test_offer_claims_from_a_file(served: tuple[Path, str, str], tmp_path: Path) -> None:
    claims_file = tmp_path / "claims.json"
    claims_file.write_text(json.dumps({"given_name": "Ada", "family_name": "L", "member_id": "M-7"}))
    result = cli("offer", "--config", "membership_card", "--claims", f"@{claims_file}", data_dir=served[0])
    assert result.returncode == 0, result.stderr
    assert "openid-credential-offer://" in result.stdout
    assert "transaction code" not in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "no_such_type", "--claims", "{}"], "unknown credential type: no_such_type"),
        (["--config", "employee_badge", "--claims", '{"given_name": "Ada"}'], "is required"),
        (["--config", "employee_badge", "--claims", json.dumps({**CLAIMS, "shoe_size": 9})], "shoe_size"),
        (["--config", "employee_badge", "--claims", "{not json"], "not valid JSON"),
        (["--config", "employee_badge", "--claims", "@/nonexistent/claims.json"], "cannot read claims file"),
    ],
)
def test_bad_offers_fail_with_one_line(served: tuple[Path, str, str], args: list[str], message: str) -> None:
    result = cli("offer", *args, data_dir=served[0])
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_unknown_offer_status(served: tuple[Path, str, str]) -> None:
    result = cli("status", "nosuchoffer", data_dir=served[0])
    assert result.returncode == 1 and "no offer" in result.stderr


def test_no_running_server(tmp_path: Path) -> None:
    result = cli("status", "abc", data_dir=tmp_path)
    assert result.returncode == 1
    assert "no running issuer" in result.stderr and "Traceback" not in result.stderr


def test_unreachable_server(tmp_path: Path) -> None:
    (tmp_path / "server.json").write_text(json.dumps({"admin_url": "http://127.0.0.1:9", "issuer_url": "x"}))
    (tmp_path / "admin-token").write_text("t")
    result = cli("approve", "abc", data_dir=tmp_path)
    assert result.returncode == 1 and "not reachable" in result.stderr


@pytest.mark.parametrize("host", ["localhost", "evil.example", "192.0.2.1", "[::ffff:203.0.113.9]"])
def test_server_json_is_trusted_for_a_loopback_address_only(tmp_path: Path, host: str) -> None:
    """server.json is only a hint (a restored archive or anyone who can write the folder may have put it
    there): the admin token goes to an IP loopback address or nowhere. A listener on this machine named
    `localhost` hears nothing either."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    admin_url = f"http://{host}:{port}"
    (tmp_path / "server.json").write_text(json.dumps({"admin_url": admin_url, "issuer_url": admin_url}))
    (tmp_path / "admin-token").write_text("a-token-that-must-not-leave-this-machine")
    try:
        refused = cli("approve", "abc", data_dir=tmp_path)
        assert refused.returncode == 1 and "no running issuer found" in refused.stderr, refused.stderr
        with pytest.raises(TimeoutError):
            listener.accept()[0].close()
        offline = cli("backup", str(tmp_path / "b.tar.gz"), data_dir=tmp_path)  # nobody holds the folder
        assert offline.returncode == 0 and "taken by the running issuer" not in offline.stdout, offline.stderr
        with pytest.raises(TimeoutError):
            listener.accept()[0].close()
    finally:
        listener.close()


def test_bad_arguments_exit_non_zero_without_traceback() -> None:
    result = cli("offer")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert cli("serve", "--port", "99999").returncode == 1


def test_port_in_use_is_a_one_line_error(served: tuple[Path, str, str], tmp_path: Path) -> None:
    busy_port = served[1].rsplit(":", 1)[1]
    result = cli("serve", "--port", busy_port, "--admin-port", "0", data_dir=tmp_path / "other")
    assert result.returncode == 1 and "cannot listen" in result.stderr


def test_environment_has_no_display_needs() -> None:
    assert (
        "PySide6"
        not in subprocess.run(
            [sys.executable, "-c", "import issuer.__main__, sys; print(sorted(sys.modules))"],
            capture_output=True,
            text=True,
            env={**os.environ},
            timeout=30,
        ).stdout
    )


@pytest.mark.parametrize("name", ["keys/keys.json", "admin-token", "keys"])
def test_serve_refuses_secrets_readable_by_others(tmp_path: Path, name: str) -> None:
    data_dir = tmp_path / "data"
    first = subprocess.Popen(
        [sys.executable, "-m", "issuer", "serve", "--data-dir", str(data_dir), "--port", "0", "--admin-port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert first.stdout is not None and first.stdout.readline().startswith("issuer: ")
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=15) == 0
    (data_dir / name).chmod(0o755 if name == "keys" else 0o644)
    result = cli("serve", "--port", "0", "--admin-port", "0", data_dir=data_dir)
    assert result.returncode == 1
    assert "open to other users" in result.stderr and "chmod" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_find_revoke_suspend_and_replace_from_the_command_line(served: tuple[Path, str, str]) -> None:
    """The ledger commands against credentials a wallet received; the status list shows each change."""
    data_dir, issuer_url, _ = served
    offer = json.loads(
        cli("offer", "--config", "employee_badge", "--claims", json.dumps(CLAIMS), "--json", data_dir=data_dir).stdout
    )
    with TestWallet() as wallet:
        (received,) = wallet.receive(offer["offer_uri"])
    record_id = received.notification_id
    assert record_id is not None

    listed = json.loads(cli("credentials", "--json", data_dir=data_dir).stdout)["credentials"]
    assert [(c["id"], c["state"], c["config_id"]) for c in listed] == [(record_id, "valid", "employee_badge")]
    human = cli("credentials", "--type", "employee_badge", data_dir=data_dir).stdout
    assert human.startswith(record_id) and "valid" in human
    assert cli("credentials", "--state", "revoked", data_dir=data_dir).stdout.strip() == "no credentials found"

    password_file = data_dir.parent / "alice.password"
    password_file.write_text("correct horse battery\n")
    added = cli(
        "operators",
        "add",
        "alice",
        "--role",
        "admin",
        "--password-file",
        str(password_file),
        "--data-dir",
        str(data_dir),
    )
    assert added.returncode == 0, added.stderr
    suspended = cli("suspend", record_id, "--reason", "on leave", "--operator", "alice", data_dir=data_dir)
    assert suspended.returncode == 0 and suspended.stdout.strip() == f"{record_id}: suspended"
    unsuspend = cli("unsuspend", record_id, data_dir=data_dir)
    assert unsuspend.stdout.strip() == f"{record_id}: valid"
    replaced = cli(
        "offer", "--config", "employee_badge", "--claims", json.dumps(CLAIMS), "--replaces", record_id,
        data_dir=data_dir,
    )  # fmt: skip
    assert replaced.returncode == 0, replaced.stderr
    again = cli("revoke", record_id, data_dir=data_dir)
    assert again.returncode == 1 and "cannot revoke a credential that is revoked" in again.stderr
    assert (
        cli("revoke", "not-an-id", data_dir=data_dir)
        .stderr.strip()
        .endswith("is not a credential id (see 'frontdesk-issuer credentials')")
    )
    with urllib.request.urlopen(f"{issuer_url}/status/1", timeout=5) as response:
        assert response.headers["Content-Type"] == "application/statuslist+jwt"
        claims = json.loads(base64.urlsafe_b64decode(response.read().split(b".")[1] + b"=="))
    index = jwt_payload(received.credentials[0])["status"]["status_list"]["idx"]
    statuses = zlib.decompress(base64.urlsafe_b64decode(claims["status_list"]["lst"] + "=="))
    assert (statuses[index // 4] >> (index % 4 * 2)) & 3 == 1


def test_sign_ins_are_confirmed_or_denied_from_the_command_line(served: tuple[Path, str, str]) -> None:
    """A wallet that starts on its own waits at the desk; `sign-ins`, `confirm`, `deny`."""
    data_dir, issuer_url, _ = served
    assert cli("sign-ins", data_dir=data_dir).stdout.strip() == "no wallet is waiting"
    with CodeFlowWallet() as wallet:
        session = wallet.authorization_session(issuer_url, ["employee_badge"])
        authorization = wallet.start(session, config_ids=["employee_badge"])
        other = wallet.start(session, config_ids=["employee_badge"], use_par=False)
        waiting = json.loads(cli("sign-ins", "--json", data_dir=data_dir).stdout)["authorizations"]
        by_code = {request["confirmation"]: request["authorization_id"] for request in waiting}
        assert set(by_code) == {authorization.confirmation, other.confirmation}
        human = cli("sign-ins", data_dir=data_dir).stdout
        assert f"code {authorization.confirmation}" in human and "needs --claims" in human

        refused = cli("confirm", by_code[authorization.confirmation], data_dir=data_dir)
        assert refused.returncode == 1 and "fill in the holder's claims" in refused.stderr
        confirmed = cli(
            "confirm", by_code[authorization.confirmation], "--claims", json.dumps(CLAIMS), data_dir=data_dir
        )
        assert confirmed.returncode == 0, confirmed.stderr
        assert confirmed.stdout.strip().endswith(f"confirmed (code {authorization.confirmation})")
        denied = cli("deny", by_code[other.confirmation], "--reason", "not the person", data_dir=data_dir)
        assert denied.stdout.strip() == f"{by_code[other.confirmation]}: denied"

        wallet.follow(authorization)
        wallet.exchange(authorization)
        received = wallet.request_credential(session, "employee_badge")
        assert not isinstance(received, str)
        assert jwt_payload(received.credentials[0])["iss"] == issuer_url
        assert wallet.follow(other)["error"] == "access_denied"
