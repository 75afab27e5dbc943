"""`frontdesk --self-test` from the source tree: real processes, a real issuer on loopback, no display."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from issuer import selftest
from issuer.service.offers import Offers

ROOT = Path(__file__).resolve().parents[2]
PASSED = re.compile(r"self-test passed: issued and verified a dc\+sd-jwt employee_badge in \d+\.\d\d s")
FRONTDESK_SCRIPT = Path(sys.executable).parent / "frontdesk"


def isolated_env(tmp_path: Path) -> dict[str, str]:
    """No display, no Qt platform, a home and a temporary folder of the test's own."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.pop("XDG_DATA_HOME", None)
    (tmp_path / "home").mkdir(exist_ok=True)
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env.update(HOME=str(tmp_path / "home"), TMPDIR=str(tmp_path / "tmp"))
    return env


def run(command: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, env=isolated_env(tmp_path), capture_output=True, text=True, timeout=60)


def run_patched(patch: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`frontdesk --self-test` in a process where `patch` (Python code) has broken something first."""
    code = textwrap.dedent(patch) + "\nfrom app.main import main\nraise SystemExit(main(['--self-test']))\n"
    return run([sys.executable, "-c", code], tmp_path)


@pytest.mark.parametrize(
    "command",
    [
        pytest.param([str(FRONTDESK_SCRIPT), "--self-test"], id="frontdesk-script"),
        pytest.param([sys.executable, "-m", "app.main", "--self-test"], id="python-m-app.main"),
    ],
)
def test_self_test_passes_without_a_display_and_leaves_nothing_behind(command: list[str], tmp_path: Path) -> None:
    if not Path(command[0]).exists():
        pytest.skip("the frontdesk script is not installed in this environment")
    result = run(command, tmp_path)
    assert result.returncode == 0, result.stderr
    assert PASSED.fullmatch(result.stdout.strip()), result.stdout
    assert len(result.stdout.splitlines()) == 1
    assert not (tmp_path / "home" / ".local" / "share" / "frontdesk-issuer").exists()  # the user's data folder
    assert list((tmp_path / "tmp").iterdir()) == []  # the temporary data folder is gone


def test_a_credential_with_a_broken_signature_fails_the_self_test(tmp_path: Path) -> None:
    result = run_patched(
        """
        from wallet.client import TestWallet

        receive = TestWallet.request_credential

        def tampered(self, *args, **kwargs):
            received = receive(self, *args, **kwargs)
            jws, _, disclosures = received.credentials[0].partition("~")
            header, payload, signature = jws.split(".")
            middle = len(signature) // 2
            changed = "A" if signature[middle] != "A" else "B"
            signature = signature[:middle] + changed + signature[middle + 1 :]
            received.credentials[0] = f"{header}.{payload}.{signature}~{disclosures}"
            return received

        TestWallet.request_credential = tampered
        """,
        tmp_path,
    )
    assert result.returncode == 1
    assert result.stdout.startswith("self-test failed: the signature does not verify"), result.stdout
    assert len(result.stdout.splitlines()) == 1


def test_a_refused_token_request_fails_the_self_test(tmp_path: Path) -> None:
    result = run_patched(
        """
        import dataclasses
        from issuer.service.offers import Offers

        create = Offers.create

        def wrong_code(self, request):
            offer = create(self, request)
            return dataclasses.replace(offer, tx_code="0" * len(offer.tx_code) if set(offer.tx_code) != {"0"} else "1")

        Offers.create = wrong_code
        """,
        tmp_path,
    )
    assert result.returncode == 1
    line = result.stdout.strip()
    assert line.startswith("self-test failed: token: HTTP 400") and "invalid_grant" in line, line


def test_a_credential_missing_an_offered_claim_fails_the_self_test(tmp_path: Path) -> None:
    result = run_patched(
        """
        from issuer.protocol.credential_types import CredentialType

        validate = CredentialType.validate_claims
        CredentialType.validate_claims = lambda self, claims: {
            name: value for name, value in validate(self, claims).items() if name != "department"
        }
        """,
        tmp_path,
    )
    assert result.returncode == 1
    line = result.stdout.strip()
    assert line == "self-test failed: the credential's claims differ from those offered: missing department"


def test_an_issuer_that_cannot_listen_fails_the_self_test(tmp_path: Path) -> None:
    result = run_patched(
        """
        import errno
        from issuer import runtime

        def refuse(host, port):
            raise OSError(errno.EADDRINUSE, "Address already in use")

        runtime.bind = refuse
        """,
        tmp_path,
    )
    assert result.returncode == 1
    assert result.stdout.strip() == "self-test failed: the issuer did not start: [Errno 98] Address already in use"


def test_the_self_test_module_does_not_import_qt() -> None:
    code = "import sys, issuer.selftest; print(sorted(m for m in sys.modules if m.startswith('PySide6')))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, "[]\n"), result.stderr


def test_the_self_test_issues_and_verifies_a_w3c_vc_too() -> None:
    result = selftest.run_self_test("membership_card")
    assert result.passed, result.detail
    assert result.detail == "issued and verified a jwt_vc_json membership_card"
    assert re.fullmatch(r"self-test passed: .* in \d+\.\d\d s", result.line)


def test_claim_differences_name_what_is_missing_added_and_changed() -> None:
    offered = {"given_name": "Ada", "family_name": "Lovelace", "department": "Engines"}
    disclosed = {"given_name": "Ada", "family_name": "Byron", "employee_id": "E-1"}
    differences = selftest.claim_differences(offered, disclosed)
    assert differences == "missing department; unexpected employee_id; changed family_name"


def test_an_unknown_credential_type_fails() -> None:
    result = selftest.run_self_test("visitor_pass")
    assert not result.passed
    assert result.line == "self-test failed: no credential type 'visitor_pass' is shipped"


def test_an_unexpected_error_is_reported_with_its_type_and_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(self: Offers, offer_id: str) -> dict[str, str]:
        raise KeyError("state")

    monkeypatch.setattr(Offers, "status", broken)
    assert selftest.main([]) == 1
    out, err = capsys.readouterr()
    assert out == "self-test failed: KeyError: 'state'\n"
    assert "Traceback" in err and "offers.status" in err


def test_without_a_console_the_exit_status_still_tells(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", None)  # as in a windowed Windows executable
    assert selftest.main([]) == 0
