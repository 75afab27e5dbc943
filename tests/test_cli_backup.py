"""`frontdesk-issuer backup|restore|keys` and `serve --key-passphrase-file`, run as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from issuer.crypto.keys import ENCRYPTED_PEM, PASSPHRASE_ENV
from issuer.storage.backup import check_archive

PASSPHRASE = "a passphrase long enough"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != PASSPHRASE_ENV}
    return subprocess.run(
        [sys.executable, "-m", "issuer", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environment, **(env or {})},
    )


def one_line_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("frontdesk-issuer: ") and text in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@contextmanager
def serving(data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`serve` in its own process; yields the issuer URL."""
    environment = {k: v for k, v in os.environ.items() if k != PASSPHRASE_ENV}
    process = subprocess.Popen(
        [sys.executable, "-m", "issuer", "serve", "--data-dir", str(data_dir), "--port", "0", "--admin-port", "0"]
        + list(extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**environment, **(env or {})},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    try:
        assert line.startswith("issuer: "), (line, process.stderr.read() if process.stderr else "")
        process.stdout.readline()
        yield line.split(": ", 1)[1].strip()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


def kids(issuer_url: str) -> list[str]:
    with urllib.request.urlopen(f"{issuer_url}/jwks", timeout=5) as response:
        return [key["kid"] for key in json.loads(response.read())["keys"]]


def test_backup_of_a_running_issuer_and_restore_elsewhere(tmp_path: Path) -> None:
    data_dir, archive, restored = tmp_path / "data", tmp_path / "saved.tar.gz", tmp_path / "restored"
    with serving(data_dir) as url:
        before = kids(url)
        result = cli("backup", "--data-dir", str(data_dir), str(archive))
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"backup: {archive} (") and "taken by the running issuer" in result.stdout
        assert archive.stat().st_mode & 0o777 == 0o600
        one_line_error(cli("restore", "--data-dir", str(data_dir), "--force", str(archive)), "stop it before")
    assert check_archive(archive).files >= 8
    result = cli("restore", "--data-dir", str(restored), str(archive))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("restored ") and f"files into {restored}" in result.stdout
    with serving(restored) as url:
        assert kids(url) == before


def test_backup_of_a_stopped_issuer_and_forced_restore(tmp_path: Path) -> None:
    data_dir, archive = tmp_path / "data", tmp_path / "saved.tar.gz"
    with serving(data_dir):
        pass
    result = cli("backup", "--data-dir", str(data_dir), str(archive))
    assert result.returncode == 0 and "files," in result.stdout, result.stderr
    one_line_error(cli("restore", "--data-dir", str(data_dir), str(archive)), "is not empty")
    result = cli("restore", "--data-dir", str(data_dir), "--force", str(archive))
    assert result.returncode == 0, result.stderr
    assert f"the previous data is in {tmp_path}/data.before-restore-" in result.stdout


def test_backup_and_restore_failures_are_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"junk")
    one_line_error(cli("restore", "--data-dir", str(tmp_path / "new"), str(junk)), "not a readable frontdesk backup")
    one_line_error(cli("backup", "--data-dir", str(tmp_path / "none"), str(tmp_path / "x.tar.gz")), "not a data folder")
    assert not (tmp_path / "new").exists() or not any((tmp_path / "new").iterdir())


def test_keys_encrypted_in_place_then_served_with_the_passphrase(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with serving(data_dir) as url:
        before = kids(url)
        one_line_error(cli("keys", "encrypt", "--data-dir", str(data_dir), env={PASSPHRASE_ENV: PASSPHRASE}), "stop it")
    one_line_error(cli("keys", "encrypt", "--data-dir", str(data_dir)), f"no passphrase: set {PASSPHRASE_ENV}")
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text(PASSPHRASE + "\n")
    result = cli("keys", "encrypt", "--data-dir", str(data_dir), "--key-passphrase-file", str(passphrase_file))
    assert result.returncode == 0 and result.stdout.startswith("encrypted 1 key files"), result.stderr
    [pem] = (data_dir / "keys").glob("*.pem")
    assert pem.read_bytes().startswith(ENCRYPTED_PEM) and pem.stat().st_mode & 0o777 == 0o600

    missing = cli("serve", "--data-dir", str(data_dir), "--port", "0", "--admin-port", "0")
    one_line_error(missing, "is encrypted: give its passphrase")
    wrong_file = tmp_path / "wrong"
    wrong_file.write_text("not the right passphrase\n")
    wrong = cli(
        "serve",
        "--data-dir",
        str(data_dir),
        "--port",
        "0",
        "--admin-port",
        "0",
        "--key-passphrase-file",
        str(wrong_file),
    )
    one_line_error(wrong, "wrong passphrase")
    with serving(data_dir, "--key-passphrase-file", str(passphrase_file)) as url:
        assert kids(url) == before
    with serving(data_dir, env={PASSPHRASE_ENV: PASSPHRASE}) as url:
        assert kids(url) == before

    result = cli("keys", "decrypt", "--data-dir", str(data_dir), env={PASSPHRASE_ENV: PASSPHRASE})
    assert result.returncode == 0 and result.stdout.startswith("decrypted 1 key files"), result.stderr
    with serving(data_dir) as url:
        assert kids(url) == before
