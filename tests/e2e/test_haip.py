"""The HAIP 1.0 profile end to end: what it turns on and refuses at start, what the metadata advertises,
and both flows of a wallet that does all of it (PAR, DPoP with nonces, a wallet attestation at PAR and
token, signed metadata, `x5c` checked against the trust anchor; checklist B15, B20, B21, B24, C16, D9, E30).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from issuer.config import Settings, SettingsError
from issuer.errors import Conflict, InvalidInput
from issuer.records.ledger import LedgerQuery
from issuer.runtime import IssuerRuntime
from issuer.service import IssuerService, OfferRequest
from tests.e2e.helpers import BADGE_CLAIMS, BADGE_VCT, CARD_CLAIMS, jose_header, jwt_payload
from tests.haip import PUBLIC_URL, HaipIssuer, haip_issuer, prepare_data_folder
from wallet.attestation import WalletProvider
from wallet.certificates import verified_chain
from wallet.client import Session, TestWallet
from wallet.keys import make_proof, new_key, public_jwk
from wallet.transport import WalletError
from wallet.verify import verify_jws, verify_sd_jwt_vc, verify_signed_metadata


@pytest.fixture
def haip(tmp_path: Path) -> Iterator[HaipIssuer]:
    with haip_issuer(tmp_path / "data") as running:
        yield running


def jwks_of(wallet: TestWallet, issuer: HaipIssuer) -> dict[str, Any]:
    return dict(wallet.request("GET", f"{issuer.url}/jwks").json())


def test_the_profile_turns_on_what_haip_requires(haip: HaipIssuer) -> None:
    settings = haip.service.settings
    assert settings.haip and settings.require_par and settings.require_dpop and settings.require_dpop_nonce
    assert settings.require_wallet_attestation and settings.offers_request_encryption


def test_metadata_advertises_exactly_what_is_enforced(haip: HaipIssuer) -> None:
    with haip.wallet() as wallet:
        session = Session({"credential_issuer": haip.url, "credential_configuration_ids": ["employee_badge"]})
        metadata = wallet.fetch_metadata(session)  # signed, and checked against the trust anchor
        as_metadata = wallet.fetch_as_metadata(session)
    assert all("scope" in c for c in metadata["credential_configurations_supported"].values())  # B15
    assert metadata["nonce_endpoint"] == f"{haip.url}/nonce"
    encryption = metadata["credential_request_encryption"]
    assert encryption["encryption_required"] is False and encryption["enc_values_supported"]
    [key] = encryption["jwks"]["keys"]
    assert key["kid"] and key["alg"] == "ECDH-ES" and "d" not in key
    assert as_metadata["require_pushed_authorization_requests"] is True
    assert as_metadata["token_endpoint_auth_methods_supported"] == ["attest_jwt_client_auth"]
    assert as_metadata["pre-authorized_grant_anonymous_access_supported"] is False
    assert "ES256" in as_metadata["client_attestation_signing_alg_values_supported"]
    assert "ES256" in as_metadata["client_attestation_pop_signing_alg_values_supported"]
    assert as_metadata["challenge_endpoint"] == f"{haip.url}/challenge"
    assert as_metadata["authorization_response_iss_parameter_supported"] is True


def test_signed_metadata_is_the_json_metadata_with_x5c(haip: HaipIssuer) -> None:
    """B20, B21: `typ`, `sub`, `iat`, `exp`, every parameter a top-level claim; the signer's chain in
    `x5c`, leaf not self-signed, no trust anchor."""
    with TestWallet(connect_to={haip.url: haip.local_url}) as plain:
        path = "/.well-known/openid-credential-issuer"
        unsigned = plain.request("GET", haip.url + path, headers={"Accept": "application/json"})
        signed = plain.request("GET", haip.url + path, headers={"Accept": "application/jwt"})
    assert unsigned.content_type == "application/json" and "accept" in unsigned.headers["vary"].lower()
    assert signed.status == 200 and signed.content_type == "application/jwt"
    compact = signed.body.decode()
    header = jose_header(compact)
    assert header["typ"] == "openidvci-issuer-metadata+jwt" and header["alg"] == "ES256"
    chain = verified_chain(header["x5c"], haip.trust_anchor)
    assert chain[0].issuer != chain[0].subject and haip.trust_anchor not in chain
    claims = jwt_payload(compact)
    assert claims["sub"] == haip.url and claims["iat"] <= claims["exp"]
    assert verify_signed_metadata(compact, haip.trust_anchor, haip.url) == unsigned.json()


def attested_session(wallet: TestWallet, issuer: HaipIssuer, offer_uri: str) -> Session:
    session = wallet.resolve_offer(offer_uri)
    session.dpop_key = new_key()
    session.client_attestation = issuer.provider.client_attestation()
    wallet.fetch_metadata(session)
    wallet.fetch_as_metadata(session)
    return session


def test_pre_authorized_flow_under_haip(haip: HaipIssuer) -> None:
    offer = haip.service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS, tx_code=True))
    with haip.wallet() as wallet:
        session = attested_session(wallet, haip, offer.offer_uri)
        assert wallet.token(session, offer.tx_code)["token_type"] == "DPoP"
        received = wallet.request_credential(session, "employee_badge")
        assert not isinstance(received, str)
        credential = received.credentials[0]
        disclosed = verify_sd_jwt_vc(
            credential,
            jwks_of(wallet, haip),
            issuer=haip.url,
            vct=BADGE_VCT,
            holder_jwk=public_jwk(received.holder_keys[0]),
            trust_anchor=haip.trust_anchor,
        )
        assert {name: disclosed[name] for name in BADGE_CLAIMS} == BADGE_CLAIMS
        payload = jwt_payload(credential)  # HAIP §6.1: cnf.jwk, exp and status
        assert payload["cnf"]["jwk"] == public_jwk(received.holder_keys[0])
        assert payload["exp"] > payload["iat"] and "idx" in payload["status"]["status_list"]
        status_token = wallet.request("GET", payload["status"]["status_list"]["uri"]).body.decode()
        verify_jws(status_token, jwks_of(wallet, haip), haip.trust_anchor)
    [record] = haip.service.ledger.find(LedgerQuery(offer_id=offer.offer_id))
    assert record["wallet"] == {
        "provider": haip.provider.name,
        "client_id": "https://wallet.example/app",
        "wallet_name": "Frontdesk Test Wallet",
    }


def test_authorization_code_flow_under_haip(haip: HaipIssuer) -> None:
    """Wallet-initiated by scope (HAIP §4.3): PAR with the attestation, the desk confirms, the code is
    exchanged with DPoP and the attestation again, and the credential request is encrypted."""
    attestation = haip.provider.client_attestation("https://wallet.example/app")
    with haip.code_flow_wallet() as wallet:
        session = wallet.authorization_session(haip.url, ["membership_card"])
        session.dpop_key = new_key()
        session.client_attestation = attestation
        session.encrypt_requests = True
        with pytest.raises(WalletError) as direct:
            wallet.start(session, use_par=False, scope="membership_card", client_id=attestation.client_id)
        assert direct.value.status == 303 and "error=invalid_request" in direct.value.body  # PAR is required
        authorization = wallet.start(session, scope="membership_card", client_id=attestation.client_id)
        (request,) = haip.service.sign_ins.pending()
        haip.service.sign_ins.approve(request["authorization_id"], operator="desk", claims=CARD_CLAIMS)
        wallet.follow(authorization)
        assert wallet.exchange(authorization)["token_type"] == "DPoP"
        received = wallet.request_credential(session, "membership_card", encryption_key=new_key("ECDH-ES"))
        assert not isinstance(received, str)
        assert verified_chain(jose_header(received.credentials[0])["x5c"], haip.trust_anchor)


def test_wallets_without_attestation_are_refused(haip: HaipIssuer) -> None:
    """C16, D9: no attestation at the token endpoint or at PAR is 401 invalid_client."""
    offer = haip.service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS))
    with haip.code_flow_wallet() as wallet:
        session = wallet.resolve_offer(offer.offer_uri)
        session.dpop_key = new_key()
        with pytest.raises(WalletError) as refused:
            wallet.token(session)
        assert (refused.value.status, refused.value.error) == (401, "invalid_client")
        assert refused.value.headers["www-authenticate"].startswith("OAuth-Client-Attestation")
        code_session = wallet.authorization_session(haip.url, ["employee_badge"])
        params, _ = wallet.authorization_parameters(code_session, scope="employee_badge")
        with pytest.raises(WalletError) as pushed:
            wallet.push(code_session, params)
        assert (pushed.value.status, pushed.value.error) == (401, "invalid_client")


def test_the_draft_15_proof_is_not_taken_under_haip(haip: HaipIssuer) -> None:
    offer = haip.service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS))
    with haip.wallet() as wallet:
        session = attested_session(wallet, haip, offer.offer_uri)
        wallet.token(session)
        proof = {"proof_type": "jwt", "jwt": make_proof(new_key(), haip.url, wallet.nonce(session))}
        body = {"credential_configuration_id": "employee_badge", "proof": proof}
        response = wallet.post_protected(session, session.endpoint("credential"), body)
    assert (response.status, response.json()["error"]) == (400, "invalid_proof")


def refused_start(data_dir: Path) -> str:
    with pytest.raises(SettingsError) as refusal:
        IssuerRuntime(Settings.load(data_dir, port=0, admin_port=0)).start()
    return str(refusal.value)


def test_start_is_refused_without_what_the_profile_needs(tmp_path: Path) -> None:
    provider = WalletProvider()
    no_chain = tmp_path / "no-chain"
    prepare_data_folder(no_chain, provider)
    for path in (no_chain / "certificates").rglob("*"):
        if path.is_file():
            path.unlink()
    assert "certificates init --country XX" in refused_start(no_chain)

    http = tmp_path / "http"
    prepare_data_folder(http, provider, public_url="http://issuer.haip.test")
    assert "needs an https public URL" in refused_start(http)

    no_provider = tmp_path / "no-provider"
    prepare_data_folder(no_provider, provider, wallet_trust_anchors=[])
    assert "wallet_trust_anchors" in refused_start(no_provider)

    unscoped = tmp_path / "unscoped"
    prepare_data_folder(unscoped, provider)
    IssuerService(Settings.load(unscoped, port=0, admin_port=0, profile=""), PUBLIC_URL).close()  # copies the types
    badge = unscoped / "credential_types" / "employee_badge.json"
    definition = json.loads(badge.read_text())
    del definition["credential_configuration"]["scope"]
    badge.write_text(json.dumps(definition))
    assert "scope on every credential type; add one to employee_badge" in refused_start(unscoped)


def test_the_desk_cannot_save_a_profile_the_issuer_could_not_start_with(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path / "data", port=0, admin_port=0)
    settings.data_dir.mkdir()
    service = IssuerService(settings, PUBLIC_URL)
    try:
        with pytest.raises(InvalidInput, match="certificate chain"):
            service.admin.save_settings({"profile": "haip", "public_url": PUBLIC_URL})
        assert not (settings.data_dir / "settings.json").exists()
        service.admin.create_issuing_ca("DE")
        with pytest.raises(InvalidInput, match="wallet_trust_anchors"):
            service.admin.save_settings({"profile": "haip", "public_url": PUBLIC_URL})
        (settings.data_dir / "providers.pem").write_bytes(WalletProvider().trust_anchor_pem)
        changes = {"profile": "haip", "public_url": PUBLIC_URL, "wallet_trust_anchors": ["providers.pem"]}
        assert service.admin.save_settings(changes).haip
    finally:
        service.close()


def test_rotation_under_haip_certifies_the_new_key(haip: HaipIssuer) -> None:
    before = haip.service.keys.active
    request_key = haip.service.request_encryption.keys
    assert request_key is not None and request_key.active is not None
    old_encryption_kid = request_key.active.kid
    haip.service.admin.rotate_key(operator="desk")
    after = haip.service.keys.active
    assert after.kid != before.kid and after.x5c and after.x5c != before.x5c
    assert request_key.active is not None and request_key.active.kid != old_encryption_kid
    assert request_key.find(old_encryption_kid) is not None  # still accepted for its grace period


def test_rotation_under_haip_with_an_organisation_chain_is_refused(tmp_path: Path) -> None:
    """An organisation's CA cannot certify a new key in the same step: the rotation waits for the desk."""
    with haip_issuer(tmp_path / "data") as running:
        (running.data_dir / "certificates" / "ca-key.pem").unlink()  # as after 'certificates import'

        with pytest.raises(Conflict, match="organisation's CA"):
            running.service.admin.rotate_key()
