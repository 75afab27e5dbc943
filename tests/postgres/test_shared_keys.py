"""Two `serve` processes on one PostgreSQL store present one issuer: the same metadata, the same
signing keys and request encryption keys, the same X.509 chain; a request encrypted to the key one
process published is read by the other; a rotation or a new CA made through one is what the other
serves from then on."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from issuer.__main__ import main
from tests.conftest import KEY_PASSPHRASE, PostgresDatabase
from tests.e2e.helpers import BADGE_CLAIMS
from tests.postgres.balancer import Balancer
from tests.postgres.processes import ServeProcess, free_port
from wallet.client import Session, TestWallet
from wallet.transport import HttpResponse

pytestmark = pytest.mark.postgres

SETTINGS = {"require_request_encryption": True}  # the wallet then encrypts every Credential Request
SEEN_WITHIN = 10.0


class Pair:
    def __init__(self, one: ServeProcess, other: ServeProcess, balancer: Balancer) -> None:
        self.one, self.other, self.balancer = one, other, balancer

    @property
    def processes(self) -> tuple[ServeProcess, ServeProcess]:
        return self.one, self.other

    def get(self, process: ServeProcess, path: str) -> dict[str, Any]:
        with TestWallet() as wallet:
            response: HttpResponse = wallet.request("GET", process.url + path)
            assert response.status == 200, response.body
            answer: dict[str, Any] = response.json()
            return answer

    def public(self, process: ServeProcess) -> dict[str, Any]:
        """What a wallet or verifier reads of the issuer at this process."""
        metadata = self.get(process, "/.well-known/openid-credential-issuer")
        return {
            "metadata": metadata,
            "encryption_keys": metadata["credential_request_encryption"]["jwks"]["keys"],
            "jwt_vc_issuer": self.get(process, "/.well-known/jwt-vc-issuer"),
        }

    def session_at(self, wallet: TestWallet, pinned: int) -> Session:
        """An offer made at the first desk, resolved and redeemed through process `pinned`."""
        created = self.one.admin(
            "POST", "/api/offers", {"credential_configuration_ids": ["employee_badge"], "claims": BADGE_CLAIMS}
        )
        self.balancer.pinned = pinned
        session = wallet.resolve_offer(created["offer_uri"])
        wallet.fetch_metadata(session)
        wallet.token(session)
        wallet.close()  # the next request opens a new connection, to the process pinned then
        return session


@pytest.fixture
def pair(postgres: PostgresDatabase, tmp_path: Path) -> Iterator[Pair]:
    ports = [free_port(), free_port()]
    with Balancer(ports) as balancer:
        public_url = f"http://127.0.0.1:{balancer.port}"
        one = ServeProcess(tmp_path / "one", postgres, ports[0], public_url, SETTINGS)
        try:
            other = ServeProcess(tmp_path / "other", postgres, ports[1], public_url, SETTINGS)
        except BaseException:
            one.stop()
            raise
        try:
            yield Pair(one, other, balancer)
        finally:
            other.stop()
            one.stop()


def until(check: Callable[[], bool]) -> None:
    """Wait for what another process announced (LISTEN/NOTIFY) to arrive."""
    deadline = time.monotonic() + SEEN_WITHIN
    while not check():
        assert time.monotonic() < deadline, "the other process did not see the change"
        time.sleep(0.1)


def header(credential: str) -> dict[str, Any]:
    part = credential.split("~")[0].split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def test_both_processes_publish_the_same_issuer(pair: Pair) -> None:
    one, other = pair.public(pair.one), pair.public(pair.other)
    assert one == other
    [key] = one["encryption_keys"]
    assert key["use"] == "enc" and "d" not in key
    assert pair.one.admin("GET", "/api/keys") == pair.other.admin("GET", "/api/keys")


def test_a_request_encrypted_to_one_process_is_read_by_the_other(pair: Pair) -> None:
    with TestWallet() as wallet:
        for issuing in (1, 0):
            session = pair.session_at(wallet, pinned=1 - issuing)
            published = session.metadata["credential_request_encryption"]["jwks"]["keys"][0]["kid"]
            pair.balancer.pinned = issuing
            received = wallet.request_credential(session, "employee_badge")
            wallet.close()
            assert not isinstance(received, str) and received.credentials, received
            assert published == pair.public(pair.processes[issuing])["encryption_keys"][0]["kid"]
    assert pair.balancer.connections == {0: 2, 1: 2}  # offer, metadata and token at one; nonce and request at the other


def test_a_rotation_through_one_is_served_by_the_other(pair: Pair) -> None:
    before = pair.public(pair.other)
    rotated = pair.one.admin("POST", "/api/keys/rotate", {})
    until(lambda: pair.public(pair.other) == pair.public(pair.one) != before)
    after = pair.public(pair.other)
    assert rotated["kid"] in [key["kid"] for key in after["jwt_vc_issuer"]["jwks"]["keys"]]
    assert after["encryption_keys"][0]["kid"] != before["encryption_keys"][0]["kid"]
    with TestWallet() as wallet:  # a wallet that read the metadata before the rotation is still served
        session = pair.session_at(wallet, pinned=0)
        session.metadata["credential_request_encryption"]["jwks"]["keys"] = before["encryption_keys"]
        pair.balancer.pinned = 1
        received = wallet.request_credential(session, "employee_badge")
    assert not isinstance(received, str) and received.credentials
    assert header(received.credentials[0])["kid"] == rotated["kid"]


def test_a_ca_made_through_one_is_the_chain_of_both(pair: Pair) -> None:
    assert pair.other.admin("GET", "/api/certificates")["trust_anchor"] is None
    made = pair.one.admin("POST", "/api/certificates/ca", {"country": "SE"})
    assert made["own_ca"] and made["trust_anchor"]
    until(lambda: pair.other.admin("GET", "/api/certificates") == made)
    with TestWallet() as wallet:
        session = pair.session_at(wallet, pinned=0)
        pair.balancer.pinned = 1
        received = wallet.request_credential(session, "employee_badge")
    assert not isinstance(received, str)
    x5c = header(received.credentials[0])["x5c"]
    fingerprints = [c["sha256"] for c in made["certificates"] if c["role"] == "document signer"]

    assert [hashlib.sha256(base64.b64decode(x5c[0])).hexdigest()] == fingerprints
    rotated = pair.other.admin("POST", "/api/keys/rotate", {})  # certified by the CA the first process made
    until(lambda: pair.one.admin("GET", "/api/certificates") == pair.other.admin("GET", "/api/certificates"))
    status = pair.one.admin("GET", "/api/certificates")
    assert status["trust_anchor"] == made["trust_anchor"] and status["certificates"] != made["certificates"]
    assert pair.one.admin("GET", "/api/keys") == pair.other.admin("GET", "/api/keys")
    assert rotated["active"]


def test_the_certificates_commands_work_on_the_shared_store(
    postgres: PostgresDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`certificates init` on a process's folder makes the CA in the store; `trust-anchor` of another
    process's folder prints it, and neither folder holds a certificate."""
    monkeypatch.setenv("FRONTDESK_STORE_URL", postgres.url)
    monkeypatch.setenv("FRONTDESK_STORE_PASSWORD", postgres.password)
    monkeypatch.setenv("FRONTDESK_KEY_PASSPHRASE", KEY_PASSPHRASE.decode())
    assert main(["trust-anchor", "--data-dir", str(tmp_path / "one")]) == 1
    assert "no trust anchor in the shared store" in capsys.readouterr().err
    assert main(["certificates", "init", "--country", "NO", "--data-dir", str(tmp_path / "one")]) == 0
    made = capsys.readouterr().out
    assert "trust anchor: in the shared store" in made and "document signer" in made
    assert postgres.password not in made
    assert main(["trust-anchor", "--data-dir", str(tmp_path / "other")]) == 0
    anchor = capsys.readouterr().out
    assert anchor.startswith("-----BEGIN CERTIFICATE-----")
    assert not list(tmp_path.rglob("*.pem"))
