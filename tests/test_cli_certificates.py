"""`frontdesk-issuer certificates init|csr|import|show` and `trust-anchor`, run as a user runs them."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from cryptography import x509

from issuer.config import Settings
from issuer.crypto.keys import ENCRYPTED_PEM, PASSPHRASE_ENV
from issuer.runtime import IssuerRuntime
from tests.test_cli_backup import PASSPHRASE, cli, one_line_error, serving
from wallet.certificates import load_anchor, verified_chain
from wallet.pki import Authority, pem_of


def test_own_ca_from_the_command_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    one_line_error(cli("trust-anchor", "--data-dir", str(data_dir)), "no trust anchor")
    result = cli("certificates", "init", "--country", "SE", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    assert "trust anchor:" in result.stdout and "document signer: CN=Frontdesk Issuer" in result.stdout
    anchor = cli("trust-anchor", "--data-dir", str(data_dir))
    assert anchor.returncode == 0 and anchor.stdout.startswith("-----BEGIN CERTIFICATE-----")
    assert anchor.stdout == (data_dir / "certificates" / "trust-anchor.pem").read_text()
    one_line_error(cli("certificates", "init", "--country", "SE", "--data-dir", str(data_dir)), "already holds")
    one_line_error(cli("certificates", "init", "--country", "Sweden", "--data-dir", str(data_dir), "--replace"), "two")

    runtime = IssuerRuntime(Settings.load(data_dir, port=0, admin_port=0))
    service = runtime.start()
    try:
        chain = list(service.keys.active.x5c)
        verified_chain(chain, load_anchor(anchor.stdout))
    finally:
        runtime.stop()
    with serving(data_dir):
        one_line_error(cli("certificates", "init", "--country", "SE", "--data-dir", str(data_dir)), "stop it first")
        shown = cli("certificates", "show", "--data-dir", str(data_dir))
        assert shown.returncode == 0 and "trust anchor: CN=Frontdesk Issuer issuing CA" in shown.stdout


def test_the_ca_key_follows_the_key_passphrase(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {PASSPHRASE_ENV: PASSPHRASE}
    assert cli("certificates", "init", "--country", "DE", "--data-dir", str(data_dir)).returncode == 0
    ca_key = data_dir / "certificates" / "ca-key.pem"
    assert not ca_key.read_bytes().startswith(ENCRYPTED_PEM)
    result = cli("keys", "encrypt", "--data-dir", str(data_dir), env=env)
    assert result.returncode == 0 and result.stdout.startswith("encrypted 2 key files"), result.stderr
    assert ca_key.read_bytes().startswith(ENCRYPTED_PEM)
    one_line_error(
        cli("certificates", "init", "--country", "DE", "--replace", "--data-dir", str(data_dir)), "encrypted"
    )
    result = cli("certificates", "init", "--country", "DE", "--replace", "--data-dir", str(data_dir), env=env)
    assert result.returncode == 0, result.stderr
    assert ca_key.read_bytes().startswith(ENCRYPTED_PEM)


def test_organisation_ca_from_the_command_line(tmp_path: Path) -> None:
    data_dir, request_file, chain_file = tmp_path / "data", tmp_path / "desk.csr", tmp_path / "chain.pem"
    result = cli("certificates", "csr", str(request_file), "--country", "BE", "--data-dir", str(data_dir))
    assert result.returncode == 0 and "signing request for key" in result.stdout, result.stderr
    request = x509.load_pem_x509_csr(request_file.read_bytes())
    root = Authority.root("Organisation Root", "BE")
    issuing = root.intermediate("Organisation Issuing CA")
    chain = issuing.certify(request.public_key(), "Desk")  # type: ignore[arg-type]
    chain_file.write_bytes(pem_of([*chain, root.certificate]))
    result = cli("certificates", "import", str(chain_file), "--data-dir", str(data_dir))
    assert result.returncode == 0 and "chain stored for key" in result.stdout, result.stderr
    assert cli("trust-anchor", "--data-dir", str(data_dir)).stdout == root.pem.decode()
    chain_file.write_bytes(pem_of(chain))
    one_line_error(cli("certificates", "import", str(chain_file), "--data-dir", str(data_dir)), "root certificate")
    one_line_error(cli("certificates", "import", str(tmp_path / "none.pem"), "--data-dir", str(data_dir)), "cannot")


def test_backup_holds_the_ca(tmp_path: Path) -> None:
    data_dir, archive = tmp_path / "data", tmp_path / "saved.tar.gz"
    assert cli("certificates", "init", "--country", "DE", "--data-dir", str(data_dir)).returncode == 0
    assert cli("backup", "--data-dir", str(data_dir), str(archive)).returncode == 0
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.loads(tar.extractfile("frontdesk-backup.json").read())  # type: ignore[union-attr]
    kid = json.loads((data_dir / "keys" / "keys.json").read_text())["active"]
    wanted = {"certificates/ca-key.pem", "certificates/trust-anchor.pem", f"certificates/chains/{kid}.pem"}
    assert {f"data/{name}" for name in wanted} <= names and wanted <= set(manifest["files"])
    restored = tmp_path / "restored"
    assert cli("restore", "--data-dir", str(restored), str(archive)).returncode == 0
    assert (
        cli("trust-anchor", "--data-dir", str(restored)).stdout
        == cli("trust-anchor", "--data-dir", str(data_dir)).stdout
    )


def test_data_dir_goes_before_or_after_the_action(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    before = cli("certificates", "--data-dir", str(data_dir), "show")
    after = cli("certificates", "show", "--data-dir", str(data_dir))
    assert before.returncode == after.returncode == 0, before.stderr
    assert before.stdout == after.stdout and str(data_dir) in before.stdout
