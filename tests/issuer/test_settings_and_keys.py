"""Settings saved for the next start, key rotation, and the public URL check."""

from __future__ import annotations

import json

import pytest
import requests
from jwcrypto.common import base64url_decode

from issuer.errors import ServiceError
from issuer.reachability import check, metadata_url
from issuer.service import IssuerService, OfferRequest
from tests.conftest import RunningIssuer
from wallet.client import TestWallet
from wallet.keys import public_jwk
from wallet.verify import verify_sd_jwt_vc


def test_settings_are_checked_and_saved_for_the_next_start(service: IssuerService) -> None:
    saved = service.admin.save_settings({"public_url": "https://desk.example.org", "port": 9443}, operator="Ada")
    assert saved.public_url == "https://desk.example.org" and saved.port == 9443
    stored = json.loads((service.settings.data_dir / "settings.json").read_text())
    assert stored == {"public_url": "https://desk.example.org", "port": 9443}
    for bad in ({"public_url": "ftp://x"}, {"port": 70000}, {"colour": "blue"}, {"holder_retention_days": 0}):
        with pytest.raises(ServiceError):
            service.admin.save_settings(bad)
    assert json.loads((service.settings.data_dir / "settings.json").read_text()) == stored
    assert service.desk.audit_log(limit=1)[0]["action"] == "settings_changed"


def test_rotation_keeps_old_keys_published(issuer: RunningIssuer) -> None:
    wallet = TestWallet()
    offer = issuer.service.offers.create(
        OfferRequest(["employee_badge"], {"given_name": "A", "family_name": "B", "employee_id": "1"})
    )
    [before] = wallet.receive(offer.offer_uri)
    old_kid = issuer.service.admin.key_info()[0]["kid"]
    rotated = issuer.service.admin.rotate_key(operator="Ada")
    assert rotated["active"] and rotated["kid"] != old_kid
    assert [k["active"] for k in issuer.service.admin.key_info()] == [False, True]
    jwks = wallet.request("GET", f"{issuer.url}/jwks").json()
    assert {k["kid"] for k in jwks["keys"]} == {old_kid, rotated["kid"]}
    verify_sd_jwt_vc(
        before.credentials[0],
        jwks,
        issuer=issuer.url,
        vct="urn:frontdesk:employee_badge:1",
        holder_jwk=public_jwk(before.holder_keys[0]),
    )
    offer = issuer.service.offers.create(
        OfferRequest(["employee_badge"], {"given_name": "A", "family_name": "B", "employee_id": "1"})
    )
    [after] = wallet.receive(offer.offer_uri)
    assert json.loads(base64url_decode(after.credentials[0].split(".")[0]))["kid"] == rotated["kid"]
    wallet.close()


def test_reachable_issuer_over_http_is_reachable_but_explained(issuer: RunningIssuer) -> None:
    result = check(issuer.url)
    assert result.reachable
    assert any("https" in p for p in result.problems) and any("loopback" in p for p in result.problems)
    assert metadata_url("https://h.example/desk") == "https://h.example/.well-known/openid-credential-issuer/desk"


def test_mismatching_credential_issuer_is_named(issuer: RunningIssuer) -> None:
    other = issuer.url.replace("127.0.0.1", "localhost")
    result = check(other)
    assert result.reachable and any("credential_issuer" in p for p in result.problems)


@pytest.mark.parametrize(
    ("url", "reason"),
    [("http://127.0.0.1:9", "refused"), ("https://no-such-host.invalid", "does not resolve")],
)
def test_unreachable_urls_say_why(url: str, reason: str) -> None:
    result = check(url, timeout=2)
    assert not result.reachable and reason in result.summary


def test_proxy_errors_are_named(issuer: RunningIssuer) -> None:
    result = check(f"{issuer.url}/wrong-prefix")
    assert not result.reachable and "HTTP 404" in result.summary
    assert requests.get(metadata_url(issuer.url), timeout=5).status_code == 200
