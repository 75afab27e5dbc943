"""Key attestations (OID4VCI Appendix D, F.1, F.3; HAIP 1.0 §4.5.1; checklist B12, E13, E19): the `attestation`
proof type and the `key_attestation` header of `jwt` proofs, one credential per attested key, the levels a
credential type requires, and each check broken in turn."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jwcrypto import jwk

from issuer.records.ledger import LedgerQuery
from issuer.runtime import IssuerRuntime
from issuer.service import IssuerService, OfferRequest
from resources import resource_path
from tests.conftest import start_issuer
from tests.e2e.helpers import BADGE_CLAIMS, expect_error, issued, jwt_payload, read_reply
from wallet.attestation import MODERATE, WalletProvider
from wallet.client import Session, TestWallet, credential_request
from wallet.keys import make_proof, new_key, public_jwk

ATTESTED = "attested_badge"
REQUIRED = {"key_storage": ["iso_18045_high"], "user_authentication": ["iso_18045_high", MODERATE]}


class Issuer:
    def __init__(self, runtime: IssuerRuntime, provider: WalletProvider) -> None:
        assert runtime.service is not None
        self.runtime, self.provider, self.url = runtime, provider, runtime.issuer_url
        self.service: IssuerService = runtime.service
        self.wallet = TestWallet()

    def session(self, config_id: str = ATTESTED) -> tuple[Session, str]:
        offer = self.service.offers.create(OfferRequest([config_id], BADGE_CLAIMS))
        session = self.wallet.resolve_offer(offer.offer_uri)
        self.wallet.token(session)
        return session, offer.offer_id

    def send(self, session: Session, body: dict[str, Any]) -> Any:
        return self.wallet.post_protected(session, session.endpoint("credential"), body)


@pytest.fixture
def issuer(tmp_path: Path) -> Iterator[Issuer]:
    """An issuer trusting one wallet provider, with a badge that takes attested keys only."""
    data_dir = tmp_path / "data"
    types = data_dir / "credential_types"
    types.mkdir(parents=True)
    data_dir.chmod(0o700)
    for shipped in resource_path("credential_types").glob("*.json"):
        shutil.copy(shipped, types / shipped.name)
    definition = json.loads((types / "employee_badge.json").read_text())
    configuration = definition["credential_configuration"]
    configuration.update(scope=ATTESTED, vct="urn:frontdesk:attested_badge:1")
    proof = {"proof_signing_alg_values_supported": ["ES256"], "key_attestations_required": REQUIRED}
    configuration["proof_types_supported"] = {"jwt": proof, "attestation": proof}
    (types / f"{ATTESTED}.json").write_text(json.dumps(definition))
    provider = WalletProvider()
    (data_dir / "providers.pem").write_bytes(provider.trust_anchor_pem)
    runtime = start_issuer(data_dir, wallet_trust_anchors=("providers.pem",))
    running = Issuer(runtime, provider)
    try:
        yield running
    finally:
        running.wallet.close()
        runtime.stop()


def body_with(
    issuer: Issuer, session: Session, keys: list[jwk.JWK], attestation: str, proof_type: str
) -> dict[str, Any]:
    nonce = issuer.wallet.nonce(session)
    return credential_request(session, ATTESTED, keys, nonce, key_attestation=attestation, proof_type=proof_type)


def test_metadata_names_what_is_required(issuer: Issuer) -> None:
    metadata = issuer.wallet.request("GET", f"{issuer.url}/.well-known/openid-credential-issuer").json()
    proof_types = metadata["credential_configurations_supported"][ATTESTED]["proof_types_supported"]
    assert (
        proof_types["jwt"]["key_attestations_required"]
        == REQUIRED
        == proof_types["attestation"]["key_attestations_required"]
    )
    assert (
        "key_attestations_required"
        not in metadata["credential_configurations_supported"]["employee_badge"]["proof_types_supported"]["jwt"]
    )


@pytest.mark.parametrize("proof_type", ["jwt", "attestation"])
def test_one_credential_per_attested_key(issuer: Issuer, proof_type: str) -> None:
    session, offer_id = issuer.session()
    keys = [new_key() for _ in range(3)]
    received = issuer.wallet.request_credential(
        session,
        ATTESTED,
        holder_keys=keys,
        key_attestation=lambda attested, nonce: issuer.provider.key_attestation(attested, nonce),
        proof_type=proof_type,
    )
    assert not isinstance(received, str) and len(received.credentials) == 3
    bound = [jwt_payload(credential)["cnf"]["jwk"] for credential in received.credentials]
    assert bound == [public_jwk(key) for key in keys]
    records = issuer.service.ledger.find(LedgerQuery(offer_id=offer_id))
    assert len(records) == 3
    assert all(
        r["key_attestation"]
        == {
            "key_storage": ["iso_18045_high"],
            "user_authentication": ["iso_18045_high"],
            "provider": issuer.provider.name,
        }
        for r in records
    )


def test_an_attestation_for_a_type_that_does_not_require_one(issuer: Issuer) -> None:
    session, _ = issuer.session("employee_badge")
    keys = [new_key(), new_key()]
    received = issuer.wallet.request_credential(
        session, "employee_badge", holder_keys=keys, key_attestation=issuer.provider.key_attestation
    )
    assert not isinstance(received, str) and len(received.credentials) == 2


def plain_proof(issuer: Issuer, session: Session) -> dict[str, Any]:
    return credential_request(session, ATTESTED, [new_key()], issuer.wallet.nonce(session))


def foreign_nonce(issuer: Issuer, session: Session) -> dict[str, Any]:
    """The key attestation names a genuine c_nonce, but not the one of this request's proof."""
    key = new_key()
    attestation = issuer.provider.key_attestation([key], issuer.wallet.nonce(session))
    proof = make_proof(key, issuer.url, issuer.wallet.nonce(session), header={"key_attestation": attestation})
    return {"credential_configuration_id": ATTESTED, "proofs": {"jwt": [proof]}}


def weak_storage(issuer: Issuer, session: Session) -> dict[str, Any]:
    key, nonce = new_key(), issuer.wallet.nonce(session)
    attestation = issuer.provider.key_attestation([key], nonce, key_storage=["iso_18045_basic"])
    return body_with(issuer, session, [key], attestation, "attestation")


def untrusted_provider(issuer: Issuer, session: Session) -> dict[str, Any]:
    key, nonce = new_key(), issuer.wallet.nonce(session)
    attestation = WalletProvider("https://other.example").key_attestation([key], nonce)
    return credential_request(session, ATTESTED, [key], nonce, key_attestation=attestation)


def proof_by_another_key(issuer: Issuer, session: Session) -> dict[str, Any]:
    nonce = issuer.wallet.nonce(session)
    attestation = issuer.provider.key_attestation([new_key()], nonce)
    proof = make_proof(new_key(), issuer.url, nonce, header={"key_attestation": attestation})
    return {"credential_configuration_id": ATTESTED, "proofs": {"jwt": [proof]}}


def without_exp(issuer: Issuer, session: Session) -> dict[str, Any]:
    key, nonce = new_key(), issuer.wallet.nonce(session)
    attestation = issuer.provider.key_attestation([key], nonce, lifetime=None)
    return credential_request(session, ATTESTED, [key], nonce, key_attestation=attestation)


def wrong_typ(issuer: Issuer, session: Session) -> dict[str, Any]:
    key, nonce = new_key(), issuer.wallet.nonce(session)
    attestation = issuer.provider.key_attestation([key], nonce, header={"typ": "keyattestation+jwt"})
    return body_with(issuer, session, [key], attestation, "attestation")


def two_attestations(issuer: Issuer, session: Session) -> dict[str, Any]:
    nonce = issuer.wallet.nonce(session)
    attestations = [issuer.provider.key_attestation([new_key()], nonce) for _ in range(2)]
    return {"credential_configuration_id": ATTESTED, "proofs": {"attestation": attestations}}


def too_many_keys(issuer: Issuer, session: Session) -> dict[str, Any]:
    keys, nonce = [new_key() for _ in range(11)], issuer.wallet.nonce(session)
    return body_with(issuer, session, keys, issuer.provider.key_attestation(keys, nonce), "attestation")


BROKEN: dict[str, Callable[[Issuer, Session], dict[str, Any]]] = {
    "a proof without a key attestation": plain_proof,
    "a key attestation with a foreign nonce": foreign_nonce,
    "key storage below what the type accepts": weak_storage,
    "a provider the issuer does not trust": untrusted_provider,
    "a proof signed by a key the attestation does not name": proof_by_another_key,
    "no exp in a jwt proof's attestation": without_exp,
    "typ keyattestation+jwt": wrong_typ,
    "two attestations in one request": two_attestations,
    "more attested keys than the batch size": too_many_keys,
}


REASONS = {
    "a proof without a key attestation": "needs a key attestation",
    "a key attestation with a foreign nonce": "not this request's c_nonce",
    "key storage below what the type accepts": "key_storage is not one this issuer accepts",
    "a provider the issuer does not trust": "not from a trusted wallet provider",
    "a proof signed by a key the attestation does not name": "not signed by a key its key attestation attests",
    "no exp in a jwt proof's attestation": "needs exp",
    "typ keyattestation+jwt": "typ must be key-attestation+jwt",
    "two attestations in one request": "exactly one key attestation",
    "more attested keys than the batch size": "at most 10 keys",
}


@pytest.mark.parametrize("broken", list(BROKEN), ids=list(BROKEN))
def test_each_broken_check_is_invalid_proof(issuer: Issuer, broken: str) -> None:
    session, offer_id = issuer.session()
    body = expect_error(issuer.send(session, BROKEN[broken](issuer, session)), 400, "invalid_proof")
    assert REASONS[broken] in body["error_description"]
    assert issuer.service.ledger.find(LedgerQuery(offer_id=offer_id)) == []


def test_an_attestation_proof_with_a_nonce_never_given_is_invalid_nonce(issuer: Issuer) -> None:
    session, _ = issuer.session()
    key = new_key()
    body = body_with(issuer, session, [key], issuer.provider.key_attestation([key], "made-up"), "attestation")
    expect_error(issuer.send(session, body), 400, "invalid_nonce")
    good = body_with(issuer, session, [key], "", "attestation")
    nonce = issuer.wallet.nonce(session)
    good["proofs"] = {"attestation": [issuer.provider.key_attestation([key], nonce)]}
    assert issued(read_reply(issuer.send(session, good), 200), 1)
