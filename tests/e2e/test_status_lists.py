"""Token Status Lists over real HTTP (checklist E29, E30, H3): what a verifier reads about each
credential, before and after the desk revokes or suspends it.

The served tokens are checked independently of the issuer's code: the signature against the
JWKS with jwcrypto, the claims as draft-ietf-oauth-status-list §5.1 and §8.3 require, and the
statuses read from the inflated `lst` with zlib.
"""

from __future__ import annotations

import base64
import json
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from jwcrypto import jwk, jwt

from issuer.service import OfferRequest
from tests.conftest import RunningIssuer, start_issuer
from tests.e2e.helpers import CLAIMS, CONFIG_IDS, MakeOffer, jwt_payload, redeem, request_credentials
from wallet.client import TestWallet

TOKEN_TYPE = "application/statuslist+jwt"


def status_reference(credential: str) -> dict[str, Any]:
    """The credential's `status.status_list` (TSL §6.2), in the clear in both formats."""
    reference = jwt_payload(credential)["status"]["status_list"]
    assert set(reference) == {"idx", "uri"} and isinstance(reference["idx"], int)
    return dict(reference)


def fetch_token(wallet: TestWallet, uri: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """GET the list as a verifier does (TSL §8.1) and validate it (§8.3); its claims."""
    response = wallet.request("GET", uri, headers={"Accept": TOKEN_TYPE})
    assert response.status == 200, response.body
    assert response.headers["content-type"] == TOKEN_TYPE
    compact = response.body.decode("ascii")
    header = json.loads(base64.urlsafe_b64decode(compact.split(".")[0] + "=="))
    assert header["typ"] == "statuslist+jwt" and header["alg"] == "ES256"
    keys = jwk.JWKSet.from_json(json.dumps(jwks))
    verified = jwt.JWT(jwt=compact, key=keys, algs=["ES256"], expected_type="JWS")
    claims = json.loads(verified.claims)
    assert claims["sub"] == uri
    assert claims["iat"] <= time.time() + 5 < claims["exp"]
    assert isinstance(claims["ttl"], int) and claims["ttl"] > 0
    assert claims["status_list"]["bits"] == 2
    return dict(claims)


def status_at(claims: dict[str, Any], index: int) -> int:
    lst = claims["status_list"]["lst"]
    statuses = zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))
    bits = claims["status_list"]["bits"]
    assert index < len(statuses) * 8 // bits, "out of bounds: a verifier must reject the credential"
    return (statuses[index * bits // 8] >> (index * bits % 8)) & ((1 << bits) - 1)


def read_status(wallet: TestWallet, credential: str, jwks: dict[str, Any]) -> int:
    reference = status_reference(credential)
    return status_at(fetch_token(wallet, reference["uri"], jwks), reference["idx"])


def issue(wallet: TestWallet, make_offer: MakeOffer, config_id: str = "employee_badge", count: int = 1):
    """Credentials of one offer, and their ledger record id (the notification id)."""
    session = redeem(wallet, make_offer(config_id))
    credentials, _, body = request_credentials(wallet, session, config_id, count)
    return credentials, str(body["notification_id"])


@pytest.mark.parametrize("config_id", CONFIG_IDS)
def test_revoke_then_a_verifier_reads_invalid(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict[str, Any], config_id: str
) -> None:
    """H3: the status is 0 when issued, 1 once the desk revokes, in both formats."""
    (credential,), record_id = issue(wallet, make_offer, config_id)
    assert status_reference(credential)["uri"] == f"{issuer.url}/status/1"
    assert read_status(wallet, credential, jwks) == 0
    record = issuer.service.ledger.change_status(record_id, "revoke", "alice", "badge lost")
    assert record["state"] == "revoked"
    assert read_status(wallet, credential, jwks) == 1


def test_suspend_and_unsuspend(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict[str, Any]
) -> None:
    (credential,), record_id = issue(wallet, make_offer)
    issuer.service.ledger.change_status(record_id, "suspend", "alice", "on leave")
    assert read_status(wallet, credential, jwks) == 2
    issuer.service.ledger.change_status(record_id, "unsuspend", "alice", "back")
    assert read_status(wallet, credential, jwks) == 0


def test_a_later_issuance_leaves_the_earlier_credential_valid(
    wallet: TestWallet, make_offer: MakeOffer, jwks: dict[str, Any]
) -> None:
    """E29: a second offer for the same person issues anew; the first credential stays valid."""
    (first,), _ = issue(wallet, make_offer)
    (second,), _ = issue(wallet, make_offer)
    assert status_reference(first)["idx"] != status_reference(second)["idx"]
    assert (read_status(wallet, first, jwks), read_status(wallet, second, jwks)) == (0, 0)


def test_a_batch_gets_distinct_random_indices(wallet: TestWallet, make_offer: MakeOffer) -> None:
    """E30: idx values are distinct across a batch and not sequential."""
    credentials, _ = issue(wallet, make_offer, count=10)
    indices = [status_reference(credential)["idx"] for credential in credentials]
    assert len(set(indices)) == 10
    steps = [b - a for a, b in zip(indices, indices[1:], strict=False)]
    assert steps.count(1) < 3, indices


def test_the_list_in_json_when_asked(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, jwks: dict[str, Any]
) -> None:
    (credential,), record_id = issue(wallet, make_offer)
    issuer.service.ledger.change_status(record_id, "revoke")
    uri = status_reference(credential)["uri"]
    response = wallet.request("GET", uri, headers={"Accept": "application/statuslist+json"})
    assert response.status == 200 and response.headers["content-type"] == "application/statuslist+json"
    claims = response.json()
    assert claims["sub"] == uri and status_at(claims, status_reference(credential)["idx"]) == 1
    assert claims["status_list"] == fetch_token(wallet, uri, jwks)["status_list"]


def test_the_token_is_cacheable_for_its_ttl_and_resigned_when_a_status_changes(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    (credential,), record_id = issue(wallet, make_offer)
    uri = status_reference(credential)["uri"]
    first = wallet.request("GET", uri)
    assert first.headers["content-type"] == TOKEN_TYPE  # the token is the default
    assert first.headers["cache-control"] == f"public, max-age={issuer.service.settings.status_list_ttl}"
    assert wallet.request("GET", uri).body == first.body  # cached, not signed per request
    issuer.service.ledger.change_status(record_id, "suspend")
    assert wallet.request("GET", uri).body != first.body


@pytest.mark.parametrize(
    "path", ["/status/2", "/status/0", "/status/abc", "/status/-1", "/status/1%2F..", "/status/" + "9" * 40]
)
def test_unknown_lists_are_json_404(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer, path: str
) -> None:
    issue(wallet, make_offer)  # list 1 exists
    response = wallet.request("GET", issuer.url + path, headers={"Accept": TOKEN_TYPE})
    assert (response.status, response.headers["content-type"]) == (404, "application/json")
    assert response.json()["error"] == "not_found"


def test_a_full_list_rolls_over_to_the_next(tmp_path: Path, wallet: TestWallet) -> None:
    """A list of 16 entries: the 17th credential starts list 2; both lists are served."""
    runtime = start_issuer(tmp_path / "data", status_list_size=16)
    assert runtime.service is not None
    try:
        references = []
        for _ in range(2):
            offer = runtime.service.offers.create(OfferRequest(["employee_badge"], CLAIMS["employee_badge"]))
            session = redeem(wallet, offer)
            credentials, _, _ = request_credentials(wallet, session, "employee_badge", 10)
            references += [status_reference(credential) for credential in credentials]
        jwks = wallet.request("GET", f"{runtime.issuer_url}/jwks").json()
        lists = {reference["uri"] for reference in references}
        assert lists == {f"{runtime.issuer_url}/status/1", f"{runtime.issuer_url}/status/2"}
        first_list = [r["idx"] for r in references if r["uri"].endswith("/1")]
        assert sorted(first_list) == list(range(16))  # every entry of the full list used once
        for uri in lists:
            claims = fetch_token(wallet, uri, jwks)
            assert len(zlib.decompress(base64.urlsafe_b64decode(claims["status_list"]["lst"] + "=="))) == 4
    finally:
        runtime.stop()
