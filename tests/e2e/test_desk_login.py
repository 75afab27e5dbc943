"""Login tokens on the admin API: an operator's password gives a short-lived token that opens every
admin route, names the operator in the audit log, ends on logout or expiry, and is refused on the
wallet port."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.conftest import RunningIssuer
from tests.e2e.helpers import BADGE_CLAIMS, clock_shifted

PASSWORD = "correct horse battery"


def call(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(), method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


@pytest.fixture
def operator(issuer: RunningIssuer) -> str:
    issuer.service.operators.create_first("ada", PASSWORD)
    return "ada"


def login(issuer: RunningIssuer, name: str, password: str) -> tuple[int, Any]:
    return call(f"{issuer.admin_url}/api/login", "POST", {"operator": name, "password": password})


def test_a_good_password_gives_a_token_that_opens_admin_routes(issuer: RunningIssuer, operator: str) -> None:
    status, answer = login(issuer, operator, PASSWORD)
    assert status == 200
    assert answer["operator"] == "ada" and answer["role"] == "admin"
    assert answer["expires_at"] == pytest.approx(issuer.service.clock() + issuer.service.logins.ttl, abs=2)
    status, offers = call(f"{issuer.admin_url}/api/offers", token=answer["token"])
    assert status == 200 and offers == {"offers": []}


def test_the_token_is_stored_only_as_a_hash(issuer: RunningIssuer, operator: str) -> None:
    _, answer = login(issuer, operator, PASSWORD)
    rows = issuer.service.store.logins.all()
    assert len(rows) == 1
    assert answer["token"] not in json.dumps(rows)


@pytest.mark.parametrize(("name", "password"), [("ada", "wrong password"), ("nobody", PASSWORD)])
def test_a_bad_password_or_name_gives_no_token(issuer: RunningIssuer, operator: str, name: str, password: str) -> None:
    status, answer = login(issuer, name, password)
    assert status == 401
    assert answer == {"error": "invalid_credentials", "error_description": "wrong operator name or password"}
    assert issuer.service.desk.audit_log()[0]["action"] == "login_failed"


def test_a_malformed_login_is_a_json_error(issuer: RunningIssuer, operator: str) -> None:
    status, answer = call(f"{issuer.admin_url}/api/login", "POST", {"operator": "ada", "password": 7})
    assert status == 400 and answer["error"] == "invalid_request"
    status, answer = call(f"{issuer.admin_url}/api/login", "POST", {"operator": "ada", "pasword": PASSWORD})
    assert status == 400 and "unknown field" in answer["error_description"]


def test_actions_are_recorded_under_the_tokens_operator(issuer: RunningIssuer, operator: str) -> None:
    _, answer = login(issuer, operator, PASSWORD)
    body = {"credential_configuration_ids": ["employee_badge"], "claims": BADGE_CLAIMS, "operator": "mallory"}
    status, created = call(f"{issuer.admin_url}/api/offers", "POST", body, answer["token"])
    assert status == 201
    status, _ = call(
        f"{issuer.admin_url}/api/offers/{created['offer_id']}/cancel", "POST", {"operator": "eve"}, answer["token"]
    )
    assert status == 200
    entries = {entry["action"]: entry["operator"] for entry in issuer.service.desk.audit_log()}
    assert entries["offer_created"] == "ada" and entries["offer_cancelled"] == "ada"


def test_logout_ends_the_token(issuer: RunningIssuer, operator: str) -> None:
    _, answer = login(issuer, operator, PASSWORD)
    token = answer["token"]
    assert call(f"{issuer.admin_url}/api/logout", "POST", token=token) == (200, {"logged_out": True})
    status, refused = call(f"{issuer.admin_url}/api/offers", token=token)
    assert status == 401 and refused["error"] == "invalid_token"
    assert issuer.service.desk.audit_log()[0]["action"] == "logout"


def test_an_expired_token_is_refused_and_purged(issuer: RunningIssuer, operator: str) -> None:
    _, answer = login(issuer, operator, PASSWORD)
    with clock_shifted(issuer.service, issuer.service.logins.ttl + 1):
        status, refused = call(f"{issuer.admin_url}/api/offers", token=answer["token"])
        assert status == 401 and refused["error"] == "invalid_token"
        assert issuer.service.logins.purge() == 1
    assert issuer.service.store.logins.all() == []


def test_a_made_up_token_is_refused(issuer: RunningIssuer, operator: str) -> None:
    for token in ("fdl_" + "A" * 43, "not-a-token", "fdl_" + "x" * 500):
        status, refused = call(f"{issuer.admin_url}/api/offers", token=token)
        assert status == 401 and refused["error"] == "invalid_token"


def test_the_wallet_port_has_no_login_and_takes_no_token(issuer: RunningIssuer, operator: str) -> None:
    status, _ = call(f"{issuer.url}/api/login", "POST", {"operator": operator, "password": PASSWORD})
    assert status == 404
    _, answer = login(issuer, operator, PASSWORD)
    status, _ = call(f"{issuer.url}/api/offers", token=answer["token"])
    assert status == 404


def test_the_admin_token_still_works(issuer: RunningIssuer) -> None:
    status, _ = call(f"{issuer.admin_url}/api/offers", token=issuer.admin_token)
    assert status == 200
