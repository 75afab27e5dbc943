"""Published metadata (OID4VCI §12.2, §12.3; RFC 8414; SD-JWT VC §3) as a wallet reads it."""

from __future__ import annotations

import pytest

from issuer.testwallet import TestWallet, well_known
from tests.conftest import RunningIssuer


@pytest.fixture
def metadata(issuer: RunningIssuer, wallet: TestWallet) -> dict:
    response = wallet.request("GET", well_known(issuer.url, "openid-credential-issuer"))
    assert response.status == 200 and response.headers["content-type"] == "application/json"  # B3
    return response.json()


def test_issuer_metadata(issuer: RunningIssuer, metadata: dict) -> None:
    assert metadata["credential_issuer"] == issuer.url  # B6
    for endpoint in ("credential", "nonce", "deferred_credential", "notification"):  # B7
        assert metadata[f"{endpoint}_endpoint"] == f"{issuer.url}/{endpoint}"
    assert metadata["batch_credential_issuance"]["batch_size"] >= 2  # B16
    encryption = metadata["credential_response_encryption"]  # B17
    assert encryption["alg_values_supported"] and encryption["enc_values_supported"]
    assert encryption["encryption_required"] is False
    assert metadata["display"][0]["name"]
    configurations = metadata["credential_configurations_supported"]
    assert set(configurations) == {"employee_badge", "membership_card"}  # B9
    badge, card = configurations["employee_badge"], configurations["membership_card"]
    assert badge["format"] == "dc+sd-jwt" and badge["vct"]  # B10
    assert card["format"] == "jwt_vc_json" and card["credential_definition"]["type"][-1] == "MembershipCard"
    for configuration in (badge, card):
        assert configuration["scope"]  # B15
        assert configuration["cryptographic_binding_methods_supported"] == ["jwk"]  # B11
        assert configuration["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == ["ES256"]
        display = configuration["credential_metadata"]["display"]  # B18
        assert display[0]["name"] and display[0]["logo"]["uri"].startswith(issuer.url)
        paths = [tuple(claim["path"]) for claim in configuration["credential_metadata"]["claims"]]
        assert paths and len(paths) == len(set(paths))  # B19


def test_authorization_server_metadata(issuer: RunningIssuer, wallet: TestWallet) -> None:
    response = wallet.request("GET", well_known(issuer.url, "oauth-authorization-server"))
    assert response.status == 200
    body = response.json()
    assert body["issuer"] == issuer.url and body["token_endpoint"] == f"{issuer.url}/token"  # B22
    assert "urn:ietf:params:oauth:grant-type:pre-authorized_code" in body["grant_types_supported"]
    assert body["pre-authorized_grant_anonymous_access_supported"] is True  # B23


def test_jwt_vc_issuer_metadata_and_jwks(issuer: RunningIssuer, wallet: TestWallet) -> None:
    body = wallet.request("GET", well_known(issuer.url, "jwt-vc-issuer")).json()
    assert body["issuer"] == issuer.url
    jwks = wallet.request("GET", f"{issuer.url}/jwks").json()
    assert body["jwks"] == jwks
    [key] = jwks["keys"]
    assert key["kid"] == issuer.service.keys.active.kid and key["alg"] == "ES256" and "d" not in key


def test_logo_is_served(issuer: RunningIssuer, wallet: TestWallet, metadata: dict) -> None:
    uri = metadata["credential_configurations_supported"]["employee_badge"]["credential_metadata"]["display"][0]
    response = wallet.request("GET", uri["logo"]["uri"])
    assert response.status == 200 and response.body.startswith(b"<svg")
