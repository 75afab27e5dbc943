"""The accounts over the admin API of a real issuer, and a remote desk on it: a login token acts with
its account's role as it stands at each request, the admin token acts as an admin, refusals are JSON
with their status, and the remote client meets the same refusals as the embedded service."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from issuer.errors import Conflict, Forbidden, Throttled, Unauthenticated
from issuer.records.operators import Role
from issuer.remote import RemoteIssuer
from issuer.remote.connection import LoginEnded
from issuer.service.login_throttle import FREE_FAILURES
from tests.conftest import RunningIssuer
from tests.e2e.helpers import BADGE_CLAIMS
from tests.e2e.test_desk_login import PASSWORD, call

OTHER = "staple battery horse"
OFFER = {"credential_configuration_ids": ["employee_badge"], "claims": BADGE_CLAIMS}


@pytest.fixture
def accounts(issuer: RunningIssuer) -> RunningIssuer:
    """Ada (admin) and Bob (operator, who has chosen his own password)."""
    issuer.service.operators.create_first("ada", PASSWORD)
    issuer.service.operators.add("ada", "bob", Role.OPERATOR, OTHER)
    issuer.service.operators.change_password("bob", OTHER, PASSWORD)
    return issuer


def token_of(issuer: RunningIssuer, name: str, password: str = PASSWORD) -> str:
    status, answer = call(f"{issuer.admin_url}/api/login", "POST", {"operator": name, "password": password})
    assert status == 200, answer
    return str(answer["token"])


ADMIN_ROUTES = [
    ("GET", "/api/operators", None),
    ("POST", "/api/operators", {"name": "cy", "role": "operator", "password": OTHER}),
    ("POST", "/api/operators/ada/disable", {}),
    ("POST", "/api/operators/bob/role", {"role": "admin"}),
    ("POST", "/api/operators/ada/reset-password", {"password": OTHER}),
    ("POST", "/api/settings", {"holder_retention_days": 3}),
    ("POST", "/api/keys/rotate", {}),
    ("POST", "/api/certificates/ca", {"country": "DE"}),
    ("POST", "/api/credential-types/reload", {}),
    ("GET", "/api/backup", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_an_operators_token_is_refused_the_admin_routes(
    accounts: RunningIssuer, method: str, path: str, body: object
) -> None:
    status, answer = call(accounts.admin_url + path, method, body, token_of(accounts, "bob"))
    assert status == 403 and answer["error"] == "forbidden"
    assert "is for admins: 'bob' is an operator" in answer["error_description"]
    assert accounts.service.settings.holder_retention_days != 3
    assert [a.name for a in accounts.service.operators.list("ada")] == ["ada", "bob"]


def test_an_operators_token_does_the_desk_work(accounts: RunningIssuer) -> None:
    token = token_of(accounts, "bob")
    status, created = call(f"{accounts.admin_url}/api/offers", "POST", OFFER, token)
    assert status == 201
    status, _ = call(f"{accounts.admin_url}/api/offers/{created['offer_id']}/cancel", "POST", {}, token)
    assert status == 200
    assert call(f"{accounts.admin_url}/api/credentials", token=token)[0] == 200
    assert call(f"{accounts.admin_url}/api/authorizations", token=token)[0] == 200


def test_a_demotion_counts_at_once_and_a_disabled_accounts_tokens_stop(accounts: RunningIssuer) -> None:
    accounts.service.operators.set_role("ada", "bob", Role.ADMIN)
    token = token_of(accounts, "bob")
    assert call(f"{accounts.admin_url}/api/operators", token=token)[0] == 200
    accounts.service.operators.set_role("ada", "bob", Role.OPERATOR)
    assert call(f"{accounts.admin_url}/api/operators", token=token)[0] == 403
    assert call(f"{accounts.admin_url}/api/offers", token=token)[0] == 200
    accounts.service.operators.set_enabled("ada", "bob", False)
    status, answer = call(f"{accounts.admin_url}/api/offers", token=token)
    assert status == 401 and answer["error"] == "invalid_token"
    accounts.service.operators.set_enabled("ada", "bob", True)
    assert call(f"{accounts.admin_url}/api/offers", token=token)[0] == 200  # the token had not expired


def test_an_admins_token_manages_the_accounts_under_its_own_name(accounts: RunningIssuer) -> None:
    token, api = token_of(accounts, "ada"), f"{accounts.admin_url}/api/operators"
    status, added = call(api, "POST", {"name": "cy", "role": "operator", "password": OTHER, "operator": "bob"}, token)
    assert status == 201 and added["must_change_password"] and added["role"] == "operator"
    assert call(f"{api}/cy/disable", "POST", {}, token)[1]["enabled"] is False
    assert call(f"{api}/cy/enable", "POST", {}, token)[1]["enabled"] is True
    assert call(f"{api}/cy/role", "POST", {"role": "admin"}, token)[1]["role"] == "admin"
    assert call(f"{api}/cy/reset-password", "POST", {"password": PASSWORD}, token)[0] == 200
    status, listed = call(api, token=token)
    assert [(a["name"], a["role"], a["enabled"]) for a in listed["operators"]] == [
        ("ada", "admin", True),
        ("bob", "operator", True),
        ("cy", "admin", True),
    ]
    changes = [e for e in accounts.service.desk.audit_log() if e["subject"] == "cy"]
    assert {e["operator"] for e in changes} == {"ada"} and len(changes) == 5
    status, refused = call(f"{api}/ada/disable", "POST", {}, token)
    assert status == 200  # cy is an admin too
    status, refused = call(f"{api}/cy/role", "POST", {"role": "operator"}, token_of(accounts, "cy"))
    assert status == 403 and "must choose a new password first" in refused["error_description"]


def test_the_last_admin_and_bad_bodies_are_json_errors(accounts: RunningIssuer) -> None:
    token, api = token_of(accounts, "ada"), f"{accounts.admin_url}/api/operators"
    for path, body, status, text in [
        ("/ada/disable", {}, 409, "last enabled admin"),
        ("/ada/role", {"role": "operator"}, 409, "last enabled admin"),
        ("/ada/role", {"role": "root"}, 400, "a role is admin or operator"),
        ("/zed/enable", {}, 404, "no operator named 'zed'"),
        ("", {"name": "cy", "role": "operator", "password": "short"}, 400, "at least 10"),
        ("", {"name": "cy", "role": "operator"}, 400, "password is required"),
        ("", {"name": "cy", "role": "operator", "password": OTHER, "admin": True}, 400, "unknown field"),
        ("/bob/reset-password", {"password": 12345678901}, 400, "password is required"),
    ]:
        got, answer = call(api + path, "POST", body, token)
        assert (got, answer["error"] != "") == (status, True) and text in answer["error_description"], answer


def test_the_admin_token_acts_as_an_admin_for_the_operator_it_names(accounts: RunningIssuer) -> None:
    api, token = f"{accounts.admin_url}/api/operators", accounts.admin_token
    status, _ = call(api, "POST", {"name": "cy", "role": "operator", "password": OTHER, "operator": "bob"}, token)
    assert status == 201  # the admin token is an admin whoever it names
    assert accounts.service.desk.audit_log(limit=1)[0]["operator"] == "bob"
    status, refused = call(api + "/cy/disable", "POST", {"operator": "zed"}, token)
    assert status == 400 and "'zed' does not exist" in refused["error_description"]
    accounts.service.operators.set_enabled("ada", "bob", False)
    status, refused = call(f"{accounts.admin_url}/api/offers", "POST", {**OFFER, "operator": "bob"}, token)
    assert status == 400 and "'bob' is disabled" in refused["error_description"]


def test_a_password_set_by_an_admin_opens_only_its_change(accounts: RunningIssuer) -> None:
    accounts.service.operators.reset_password("ada", "bob", OTHER)
    status, answer = call(f"{accounts.admin_url}/api/login", "POST", {"operator": "bob", "password": OTHER})
    assert status == 200 and answer["must_change_password"] is True
    token = answer["token"]
    status, refused = call(f"{accounts.admin_url}/api/offers", token=token)
    assert status == 403 and "must choose a new password first" in refused["error_description"]
    status, refused = call(
        f"{accounts.admin_url}/api/password", "POST", {"current": "wrong one!", "new": PASSWORD}, token
    )
    assert status == 401
    status, changed = call(f"{accounts.admin_url}/api/password", "POST", {"current": OTHER, "new": PASSWORD}, token)
    assert status == 200 and changed["must_change_password"] is False
    assert call(f"{accounts.admin_url}/api/offers", token=token)[0] == 200


def test_failed_logins_wait_longer_with_retry_after(accounts: RunningIssuer) -> None:
    login = f"{accounts.admin_url}/api/login"
    for _ in range(FREE_FAILURES - 1):
        assert call(login, "POST", {"operator": "bob", "password": "not it at all"})[0] == 401
    status, answer = call(login, "POST", {"operator": "bob", "password": "not it at all"})
    assert status == 401 and "wait 1 s" in answer["error_description"]
    status, answer = call(login, "POST", {"operator": "bob", "password": PASSWORD})
    assert status == 429 and answer["error"] == "too_many_attempts"
    actions = [e["action"] for e in accounts.service.desk.audit_log() if e["subject"] == "bob"]
    assert actions.count("login_failed") == FREE_FAILURES and "login_throttled" in actions


def test_a_disabled_account_says_so_only_after_the_right_password(accounts: RunningIssuer) -> None:
    accounts.service.operators.set_enabled("ada", "bob", False)
    login = f"{accounts.admin_url}/api/login"
    status, answer = call(login, "POST", {"operator": "bob", "password": "not it at all"})
    assert status == 401 and "disabled" not in answer["error_description"]
    status, answer = call(login, "POST", {"operator": "bob", "password": PASSWORD})
    assert status == 403 and "'bob' is disabled" in answer["error_description"]


@pytest.fixture
def remote_bob(accounts: RunningIssuer) -> Iterator[RemoteIssuer]:
    client = RemoteIssuer(accounts.admin_url)
    assert client.operators.login("bob", PASSWORD).role is Role.OPERATOR
    client.connect()
    try:
        yield client
    finally:
        client.close()


def test_a_remote_desk_of_an_operator_is_refused_the_admin_actions(
    accounts: RunningIssuer, remote_bob: RemoteIssuer
) -> None:
    for refused in (
        lambda: remote_bob.operators.list("bob"),
        lambda: remote_bob.operators.add("bob", "cy", Role.OPERATOR, OTHER),
        lambda: remote_bob.operators.set_role("bob", "bob", Role.ADMIN),
        lambda: remote_bob.admin.rotate_key("bob"),
        lambda: remote_bob.admin.save_settings({"holder_retention_days": 3}, "bob"),
    ):
        with pytest.raises(Forbidden, match="is for admins: 'bob' is an operator"):
            refused()
    created = remote_bob.offers.recent()
    assert created == []


def test_a_remote_admin_desk_manages_accounts_and_its_own_password(accounts: RunningIssuer) -> None:
    remote = RemoteIssuer(accounts.admin_url)
    try:
        remote.operators.login("ada", PASSWORD)
        added = remote.operators.add("ada", "cy", Role.OPERATOR, OTHER)
        assert added.must_change_password and added.role is Role.OPERATOR
        assert not remote.operators.set_enabled("ada", "cy", False).enabled
        assert remote.operators.set_role("ada", "cy", Role.ADMIN).is_admin
        assert remote.operators.reset_password("ada", "cy", PASSWORD).must_change_password
        assert [a.name for a in remote.operators.list("ada")] == ["ada", "bob", "cy"]
        with pytest.raises(Conflict, match="last enabled admin"):
            remote.operators.set_enabled("ada", "ada", False)
        with pytest.raises(Unauthenticated):
            remote.operators.change_password("ada", "not the password", OTHER)
        assert not remote.operators.change_password("ada", PASSWORD, OTHER).must_change_password
        assert remote.admin.save_settings({"lock_after_minutes": 0}, "ada").lock_after_minutes == 0
        remote.operators.record_lock("ada", True)
        assert accounts.service.desk.audit_log(limit=1)[0]["action"] == "locked"
    finally:
        remote.close()
    assert accounts.service.operators.login("ada", OTHER).name == "ada"


def test_an_admin_unlocks_a_remote_desk_and_goes_on_with_a_token_of_their_own(
    accounts: RunningIssuer, remote_bob: RemoteIssuer
) -> None:
    old = remote_bob.connection.token
    remote_bob.operators.record_lock("bob", False)
    with pytest.raises(Unauthenticated):
        remote_bob.operators.unlock("bob", "bob", "not the password")
    assert remote_bob.operators.unlock("bob", "bob", PASSWORD).name == "bob"
    assert remote_bob.connection.token == old
    admin = remote_bob.operators.unlock("bob", "ada", PASSWORD)
    assert admin.name == "ada" and admin.is_admin
    assert remote_bob.connection.token != old and remote_bob.operators.operator == "ada"
    assert [a.name for a in remote_bob.operators.list("ada")] == ["ada", "bob"]
    status, _ = call(f"{accounts.admin_url}/api/offers", token=old)
    assert status == 401  # bob's session ended
    actions = [(e["operator"], e["action"]) for e in accounts.service.desk.audit_log(limit=3)]
    assert actions == [("bob", "logout"), ("ada", "unlocked"), ("ada", "login")]


def test_a_remote_desk_learns_how_long_to_wait(accounts: RunningIssuer) -> None:
    remote = RemoteIssuer(accounts.admin_url)
    for _ in range(FREE_FAILURES - 1):
        with pytest.raises(Unauthenticated) as refused:
            remote.operators.login("bob", "not it at all")
        assert refused.value.retry_after == 0
    with pytest.raises(Unauthenticated) as refused:
        remote.operators.login("bob", "not it at all")
    assert refused.value.retry_after == 1
    with pytest.raises(Throttled, match="try again in 1 s") as throttled:
        remote.operators.login("bob", PASSWORD)
    assert throttled.value.retry_after == 1


def test_a_logged_out_remote_desk_logs_in_again(accounts: RunningIssuer, remote_bob: RemoteIssuer) -> None:
    remote_bob.operators.record_logout("bob")
    with pytest.raises(LoginEnded):
        remote_bob.offers.recent()
    remote_bob.operators.login("bob", PASSWORD)
    assert remote_bob.offers.recent() == []


HOSTILE_BODIES = [
    b"",
    b"[]",
    b"null",
    b'"text"',
    b"{",
    b"\xff\xfe",
    b'{"name": 5, "role": [], "password": {}}',
    b'{"operator": "ada", "password": "' + b"x" * 5000 + b'"}',
    b'{"current": null, "new": true}',
    b'{"role": "admin\\u0000"}',
    b'{"name": "\\ud800", "role": "operator", "password": "staple battery horse"}',
]
HOSTILE_ROUTES = [
    "/api/login",
    "/api/logout",
    "/api/lock",
    "/api/unlock",
    "/api/password",
    "/api/operators",
    "/api/operators/bob/role",
    "/api/operators/bob/reset-password",
    "/api/operators/%2e%2e/disable",
]


@pytest.mark.parametrize("route", HOSTILE_ROUTES)
def test_hostile_bodies_on_the_accounts_routes_are_json_errors(accounts: RunningIssuer, route: str) -> None:
    tokens = {"admin": token_of(accounts, "ada"), "operator": token_of(accounts, "bob")}
    for body in HOSTILE_BODIES:
        for token in (*tokens.values(), accounts.admin_token):
            request = urllib.request.Request(accounts.admin_url + route, data=body, method="POST")
            request.add_header("Content-Type", "application/json")
            request.add_header("Authorization", f"Bearer {token}")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    status, answer = response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                with error:
                    status, answer = error.code, json.loads(error.read())
            assert status < 500 and isinstance(answer, dict), (route, body[:40], status)
            if status >= 400:
                assert answer["error"] and "Traceback" not in json.dumps(answer)
    assert [a.name for a in accounts.service.operators.list("ada")] == ["ada", "bob"]
    ada = accounts.service.operators.get("ada")
    assert ada is not None and ada.enabled and ada.is_admin
