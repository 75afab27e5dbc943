"""ISO mdocs over real HTTP (OID4VCI Appendix A.2): the test wallet receives `membership_mdoc` and checks it as an
mdoc reader does, against the trust anchor only (wallet/mdoc.py), then follows it through the rest of the
issuer: batches, the desk's approval of a deferred issuance, notification, encrypted responses, the
authorization code flow, the ledger, and revocation and suspension read from the Token Status List."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import cbor2
import pytest
from cryptography import x509
from jwcrypto import jwk

from issuer.errors import InvalidInput
from issuer.service import OfferRequest
from tests.conftest import RunningIssuer
from tests.e2e.helpers import (
    MDOC_CLAIMS,
    encryption_key,
    issued,
    ledger,
    pending,
    poll,
    post,
    read_reply,
    redeem,
    request_body,
)
from wallet.certificates import load_anchor
from wallet.client import Session, TestWallet
from wallet.code_flow import CodeFlowWallet
from wallet.keys import encryption_parameters, new_key, public_jwk
from wallet.mdoc import VerifiedMdoc, verify_mdoc
from wallet.status_list import status_in_token
from wallet.verify import VerificationError

CONFIG_ID = "membership_mdoc"
DOCTYPE = NAMESPACE = "org.frontdesk.membership.1"


@pytest.fixture
def anchor(issuer: RunningIssuer) -> x509.Certificate:
    """The issuer made its own CA; a verifier imports the trust anchor it prints."""
    status = issuer.service.admin.create_issuing_ca("DE", operator="alice")
    return load_anchor(status["trust_anchor"])


@pytest.fixture
def mdoc_session(anchor: x509.Certificate, wallet: TestWallet, issuer: RunningIssuer) -> Session:
    return redeem(wallet, issuer.service.offers.create(OfferRequest([CONFIG_ID], MDOC_CLAIMS, operator="alice")))


def verified(credential: str, anchor: x509.Certificate, key: jwk.JWK) -> VerifiedMdoc:
    mdoc = verify_mdoc(credential, anchor, doctype=DOCTYPE, holder_jwk=public_jwk(key))
    assert mdoc.claims == {NAMESPACE: MDOC_CLAIMS}
    return mdoc


def ask(wallet: TestWallet, session: Session, count: int = 1) -> tuple[list[str], list[jwk.JWK], dict[str, Any]]:
    """`count` mdocs for fresh keys, in one Credential Request: the credentials, the keys and the body."""
    keys = [new_key() for _ in range(count)]
    body = read_reply(post(wallet, session, "credential", request_body(wallet, session, CONFIG_ID, keys)), 200)
    return issued(body, count), keys, body


def status_of(wallet: TestWallet, mdoc: VerifiedMdoc, jwks: dict[str, Any], anchor: x509.Certificate) -> int:
    assert mdoc.status is not None
    token = wallet.request("GET", mdoc.status["uri"], headers={"Accept": "application/statuslist+jwt"})
    assert token.status == 200
    return status_in_token(token.body.decode("ascii"), mdoc.status, jwks, anchor)


def test_an_mdoc_verifies_against_the_trust_anchor(
    issuer: RunningIssuer, wallet: TestWallet, mdoc_session: Session, anchor: x509.Certificate, jwks: dict[str, Any]
) -> None:
    configuration = mdoc_session.metadata["credential_configurations_supported"][CONFIG_ID]
    assert configuration["format"] == "mso_mdoc" and configuration["doctype"] == DOCTYPE
    [credential], [key], body = ask(wallet, mdoc_session)
    mdoc = verified(credential, anchor, key)
    assert [certificate.issuer for certificate in mdoc.chain] == [anchor.subject]
    assert mdoc.valid_until.timestamp() <= mdoc.chain[0].not_valid_after_utc.timestamp()
    assert mdoc.status is not None and mdoc.status["uri"] == f"{issuer.url}/status/1"
    assert status_of(wallet, mdoc, jwks, anchor) == 0
    [record] = ledger(issuer, issuer.service.offers.recent()[0]["offer_id"])
    assert record["format"] == "mso_mdoc" and record["id"] == body["notification_id"]
    assert record["status_list"] == {"list": 1, "idx": mdoc.status["idx"]}
    assert record["kid"] == issuer.service.keys.active.kid


def test_a_batch_is_one_mdoc_per_key_each_with_its_own_salts_and_digest_ids(
    wallet: TestWallet, mdoc_session: Session, anchor: x509.Certificate
) -> None:
    credentials, keys, _ = ask(wallet, mdoc_session, count=3)
    mdocs = [verified(credential, anchor, key) for credential, key in zip(credentials, keys, strict=True)]
    with pytest.raises(VerificationError, match="not the holder's key"):
        verify_mdoc(credentials[0], anchor, doctype=DOCTYPE, holder_jwk=public_jwk(keys[1]))
    assert len({mdoc.status["idx"] for mdoc in mdocs if mdoc.status}) == 3
    assert len(set(credentials)) == 3
    items = [item for credential in credentials for item in _item_members(credential)]
    assert len({item["digestID"] for item in items}) == len({item["random"] for item in items}) == 12


def test_revocation_and_suspension_reach_the_status_list(
    issuer: RunningIssuer, wallet: TestWallet, mdoc_session: Session, anchor: x509.Certificate, jwks: dict[str, Any]
) -> None:
    [credential], [key], body = ask(wallet, mdoc_session)
    mdoc = verified(credential, anchor, key)
    issuer.service.ledger.change_status(body["notification_id"], "suspend", "alice", "card left at home")
    assert status_of(wallet, mdoc, jwks, anchor) == 2
    issuer.service.ledger.change_status(body["notification_id"], "unsuspend", "alice", "found")
    assert status_of(wallet, mdoc, jwks, anchor) == 0
    assert issuer.service.ledger.change_status(body["notification_id"], "revoke", "alice", "left")["state"] == "revoked"
    assert status_of(wallet, mdoc, jwks, anchor) == 1


def test_deferred_until_the_desk_approves_then_notified(
    issuer: RunningIssuer, wallet: TestWallet, anchor: x509.Certificate
) -> None:
    offer = issuer.service.offers.create(OfferRequest([CONFIG_ID], MDOC_CLAIMS, deferred=True))
    session = redeem(wallet, offer)
    key = new_key()
    response = post(wallet, session, "credential", request_body(wallet, session, CONFIG_ID, [key]))
    transaction_id = pending(read_reply(response, 202))
    assert pending(read_reply(poll(wallet, session, transaction_id), 202)) == transaction_id
    issuer.service.offers.approve(offer.offer_id, operator="alice")
    body = read_reply(poll(wallet, session, transaction_id), 200)
    [credential] = issued(body, 1)
    verified(credential, anchor, key)
    notification = {"notification_id": body["notification_id"], "event": "credential_accepted"}
    assert post(wallet, session, "notification", notification).status == 204
    [record] = ledger(issuer, offer.offer_id)
    assert [n["event"] for n in record["notifications"]] == ["credential_accepted"]
    assert issuer.service.offers.status(offer.offer_id)["state"] == "issued"


def test_an_encrypted_response_carries_the_mdoc(
    wallet: TestWallet, mdoc_session: Session, anchor: x509.Certificate
) -> None:
    decrypt_with = encryption_key("wallet-1")
    keys = [new_key()]
    extra = {"credential_response_encryption": encryption_parameters(decrypt_with)}
    response = post(wallet, mdoc_session, "credential", request_body(wallet, mdoc_session, CONFIG_ID, keys, **extra))
    [credential] = issued(read_reply(response, 200, decrypt_with), 1)
    verified(credential, anchor, keys[0])


@pytest.fixture
def browser_wallet() -> Iterator[CodeFlowWallet]:
    with CodeFlowWallet() as wallet:
        yield wallet


def test_a_wallet_that_signs_in_gets_an_mdoc(
    issuer: RunningIssuer, browser_wallet: CodeFlowWallet, anchor: x509.Certificate
) -> None:
    """Wallet-initiated by scope: the desk fills in the claims when it confirms the code."""
    session = browser_wallet.authorization_session(issuer.url, [CONFIG_ID])
    authorization = browser_wallet.start(session, use_par=True, scope=CONFIG_ID)
    [request] = [r for r in issuer.service.sign_ins.pending() if r["confirmation"] == authorization.confirmation]
    issuer.service.sign_ins.approve(request["authorization_id"], operator="bob", claims=MDOC_CLAIMS)
    browser_wallet.follow(authorization)
    browser_wallet.exchange(authorization)
    received = browser_wallet.request_credential(session, CONFIG_ID)
    assert not isinstance(received, str)
    verified(received.credentials[0], anchor, received.holder_keys[0])


def test_an_mdoc_offer_needs_the_document_signer_certificate(issuer: RunningIssuer) -> None:
    with pytest.raises(InvalidInput, match="certificates init"):
        issuer.service.offers.create(OfferRequest([CONFIG_ID], MDOC_CLAIMS))
    issuer.service.offers.create(OfferRequest(["membership_card"], {**MDOC_CLAIMS, "member_id": "M-2"}))


def _item_members(credential: str) -> list[dict[str, Any]]:
    issuer_signed = cbor2.loads(base64.urlsafe_b64decode(credential + "=" * (-len(credential) % 4)))
    return [cbor2.loads(item.value) for item in issuer_signed["nameSpaces"][NAMESPACE]]
