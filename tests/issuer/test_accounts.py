"""The accounts in the service: roles checked by the service itself, the account changes and their
rules, one's own password, failed logins slowed down, lock and unlock, all in the audit log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from issuer.config import Settings, SettingsError
from issuer.errors import Conflict, Forbidden, InvalidInput, NotFound, Throttled, Unauthenticated
from issuer.records.ledger import LedgerQuery
from issuer.records.operators import Role
from issuer.service import IssuerService
from issuer.service.actors import Actor
from issuer.service.login_throttle import FREE_FAILURES, MAX_WAIT, delay_after
from tests.issuer.conftest import Clock
from tests.issuer.test_ledger import issue

PASSWORD = "correct horse battery"
OTHER = "staple battery horse"


def accounts(service: IssuerService) -> None:
    """Ada (the first, an admin) and Bob (an operator)."""
    service.operators.create_first("Ada", PASSWORD)
    service.operators.add("Ada", "Bob", Role.OPERATOR, PASSWORD)


def audit(service: IssuerService) -> list[tuple[Any, str, str]]:
    """(who, what, subject) of every entry, oldest first."""
    return [(e["operator"], e["action"], e["subject"]) for e in reversed(service.desk.audit_log(limit=1000))]


def test_the_first_operator_is_an_admin_and_made_once(service: IssuerService, clock: Clock) -> None:
    assert not service.operators.exists()
    first = service.operators.create_first("Ada", PASSWORD)
    assert (first.role, first.enabled, first.must_change_password) == (Role.ADMIN, True, False)
    with pytest.raises(Forbidden, match="an admin adds new ones"):
        service.operators.create_first("Eve", PASSWORD)
    entry = {k: v for k, v in service.desk.audit_log(limit=1)[0].items() if k not in ("id", "key")}
    assert entry == {
        "at": int(clock.now),
        "operator": "Ada",
        "action": "operator_added",
        "subject": "Ada",
        "detail": {"role": "admin", "first": True},
    }


def test_the_first_account_added_through_the_admin_token_must_be_an_admin(service: IssuerService) -> None:
    with pytest.raises(Conflict, match="first operator is an admin"):
        service.operators.add(Actor(), "Bob", Role.OPERATOR, PASSWORD)
    assert service.operators.add(Actor(), "Ada", Role.ADMIN, PASSWORD).is_admin


def test_an_admin_adds_disables_enables_resets_and_changes_roles(service: IssuerService, clock: Clock) -> None:
    accounts(service)
    bob = service.operators.get("Bob")
    assert bob is not None and (bob.role, bob.must_change_password) == (Role.OPERATOR, True)
    clock.now += 60
    assert not service.operators.set_enabled("Ada", "Bob", False).enabled
    assert service.operators.set_enabled("Ada", "Bob", True).enabled
    assert service.operators.set_role("Ada", "Bob", Role.ADMIN).is_admin
    assert service.operators.set_role("Ada", "Bob", "operator").role is Role.OPERATOR
    assert service.operators.reset_password("Ada", "Bob", OTHER).must_change_password
    assert [a.name for a in service.operators.list("Ada")] == ["Ada", "Bob"]
    assert audit(service)[1:] == [
        ("Ada", "operator_added", "Bob"),
        ("Ada", "operator_disabled", "Bob"),
        ("Ada", "operator_enabled", "Bob"),
        ("Ada", "operator_role_changed", "Bob"),
        ("Ada", "operator_role_changed", "Bob"),
        ("Ada", "password_reset", "Bob"),
    ]
    changed = [e for e in service.desk.audit_log() if e["action"] == "operator_role_changed"]
    assert changed[0]["detail"] == {"role": "operator", "was": "admin"} and changed[0]["at"] == int(clock.now)
    assert "staple" not in str(service.desk.audit_log())  # no password in the log


def test_names_roles_and_missing_accounts_are_checked(service: IssuerService) -> None:
    accounts(service)
    with pytest.raises(Conflict, match="already an operator named"):
        service.operators.add("Ada", " Bob ", Role.OPERATOR, OTHER)
    with pytest.raises(InvalidInput, match="a role is admin or operator"):
        service.operators.add("Ada", "Cy", "root", OTHER)
    with pytest.raises(NotFound, match="no operator named 'Zed'"):
        service.operators.set_enabled("Ada", "Zed", False)


ADMIN_ACTIONS: dict[str, Callable[[IssuerService, Any, Path], object]] = {
    "list operators": lambda s, who, _: s.operators.list(who),
    "add an operator": lambda s, who, _: s.operators.add(who, "Cy", Role.OPERATOR, OTHER),
    "disable": lambda s, who, _: s.operators.set_enabled(who, "Ada", False),
    "change a role": lambda s, who, _: s.operators.set_role(who, "Bob", Role.ADMIN),
    "reset a password": lambda s, who, _: s.operators.reset_password(who, "Ada", OTHER),
    "settings": lambda s, who, _: s.admin.save_settings({"holder_retention_days": 3}, who),
    "rotate the key": lambda s, who, _: s.admin.rotate_key(who),
    "make a CA": lambda s, who, _: s.admin.create_issuing_ca("DE", who),
    "reload the types": lambda s, who, _: s.admin.reload_credential_types(who),
    "backup": lambda s, who, tmp: s.admin.backup(tmp / "backup.tar.gz", who),
    "restore": lambda s, who, tmp: s.admin.restore_at_next_start(tmp / "backup.tar.gz", who),
    "revoke": lambda s, who, _: s.ledger.change_status(issue(s), "revoke", who, "lost"),
    "suspend": lambda s, who, _: s.ledger.change_status(issue(s), "suspend", who),
}


@pytest.mark.parametrize("action", ADMIN_ACTIONS)
def test_the_service_refuses_an_operator_the_admin_actions(service: IssuerService, tmp_path: Path, action: str) -> None:
    accounts(service)
    before = len(service.desk.audit_log(limit=1000))
    with pytest.raises(Forbidden, match="is for admins: 'Bob' is an operator"):
        ADMIN_ACTIONS[action](service, "Bob", tmp_path)
    assert len(service.desk.audit_log(limit=1000)) == before + (action in ("revoke", "suspend"))  # the issuance
    assert service.settings.holder_retention_days != 3


def test_an_operator_does_the_desk_work(service: IssuerService) -> None:
    accounts(service)
    record = issue(service, operator="Bob")
    assert service.ledger.record(record)["state"] == "valid"
    assert service.ledger.find(LedgerQuery(operator="Bob"))


def test_a_role_taken_away_counts_at_once_and_a_disabled_admin_is_refused(service: IssuerService) -> None:
    accounts(service)
    service.operators.set_role("Ada", "Bob", Role.ADMIN)
    service.admin.rotate_key("Bob")
    service.operators.set_role("Ada", "Bob", Role.OPERATOR)
    with pytest.raises(Forbidden, match="is for admins"):
        service.admin.rotate_key("Bob")
    service.operators.set_role("Ada", "Bob", Role.ADMIN)
    service.operators.set_enabled("Bob", "Ada", False)
    with pytest.raises(Forbidden, match="'Ada' is disabled"):
        service.admin.rotate_key("Ada")
    with pytest.raises(Forbidden, match="not an operator of this issuer"):
        service.admin.rotate_key("Mallory")


def test_nobody_disables_or_demotes_the_last_enabled_admin(service: IssuerService) -> None:
    accounts(service)
    for change in (
        lambda: service.operators.set_enabled("Ada", "Ada", False),
        lambda: service.operators.set_role("Ada", "Ada", Role.OPERATOR),
        lambda: service.operators.set_enabled(Actor(), "Ada", False),
    ):
        with pytest.raises(Conflict, match="Ada is the last enabled admin"):
            change()
    ada = service.operators.get("Ada")
    assert ada is not None and ada.enabled and ada.is_admin
    service.operators.set_role("Ada", "Bob", Role.ADMIN)
    service.operators.set_role("Bob", "Ada", Role.OPERATOR)  # two admins: one may go
    with pytest.raises(Conflict, match="Bob is the last enabled admin"):
        service.operators.set_enabled("Bob", "Bob", False)
    service.operators.set_enabled("Bob", "Ada", False)  # a disabled operator is no admin to keep


def test_ones_own_password_needs_the_current_one_and_follows_the_rules(service: IssuerService) -> None:
    accounts(service)
    with pytest.raises(Unauthenticated, match="wrong operator name or password"):
        service.operators.change_password("Bob", "not the password", OTHER)
    for refused, problem in (("short one", "at least 10"), ("my bob password", "name"), ("bobbobbobX"[::-1], "name")):
        with pytest.raises(InvalidInput, match=problem):
            service.operators.change_password("Bob", PASSWORD, refused)
    with pytest.raises(Conflict, match="must differ"):
        service.operators.change_password("Bob", PASSWORD, PASSWORD)
    changed = service.operators.change_password("Bob", PASSWORD, OTHER)
    assert not changed.must_change_password
    assert service.operators.login("Bob", OTHER).name == "Bob"
    with pytest.raises(Unauthenticated):
        service.operators.login("Bob", PASSWORD)
    actions = [action for _, action, subject in audit(service) if subject == "Bob"]
    assert actions[-4:] == ["login", "password_changed", "login", "login_failed"]
    assert "login_failed" in actions[:3]


def test_an_admin_set_password_must_be_changed_and_an_initial_one_follows_the_rules(service: IssuerService) -> None:
    accounts(service)
    assert service.operators.login("Bob", PASSWORD).must_change_password
    with pytest.raises(InvalidInput, match="at least 10"):
        service.operators.add("Ada", "Cy", Role.OPERATOR, "short")
    with pytest.raises(InvalidInput, match="name"):
        service.operators.reset_password("Ada", "Bob", "xbobxbobxbob")
    service.operators.change_password("Bob", PASSWORD, OTHER)
    bob = service.operators.get("Bob")
    assert bob is not None and not bob.must_change_password
    service.operators.reset_password("Ada", "Bob", PASSWORD)
    assert service.operators.login("Bob", PASSWORD).must_change_password


def test_a_disabled_account_says_so_only_after_the_right_password(service: IssuerService) -> None:
    accounts(service)
    service.operators.set_enabled("Ada", "Bob", False)
    with pytest.raises(Unauthenticated, match="^wrong operator name or password$"):
        service.operators.login("Bob", "not the password")
    with pytest.raises(Forbidden, match="'Bob' is disabled"):
        service.operators.login("Bob", PASSWORD)
    assert audit(service)[-2:] == [(None, "login_failed", "Bob"), (None, "login_refused", "Bob")]


def test_after_five_failures_each_try_waits_longer_up_to_five_minutes() -> None:
    assert [delay_after(n) for n in range(1, FREE_FAILURES)] == [0.0] * (FREE_FAILURES - 1)
    waits = [delay_after(n) for n in range(FREE_FAILURES, FREE_FAILURES + 12)]
    assert waits[:5] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert all(later >= earlier for earlier, later in zip(waits, waits[1:], strict=False))
    assert max(waits) == MAX_WAIT == 300.0 and delay_after(10_000) == MAX_WAIT


def fail(service: IssuerService, name: str = "Ada") -> Unauthenticated:
    with pytest.raises(Unauthenticated) as refused:
        service.operators.login(name, "not the password")
    return refused.value


def test_failed_logins_are_slowed_down_audited_and_cleared_by_success(service: IssuerService, clock: Clock) -> None:
    accounts(service)
    for _ in range(FREE_FAILURES - 1):
        assert fail(service).retry_after == 0
    fifth = fail(service)
    assert fifth.retry_after == 1.0 and "wait 1 s" in fifth.message
    with pytest.raises(Throttled, match="try again in 1 s") as early:
        service.operators.login("Ada", PASSWORD)  # even the right password waits
    assert early.value.retry_after == pytest.approx(1.0) and early.value.status == 429
    clock.now += 1
    assert fail(service).retry_after == 2.0
    clock.now += 1.5
    with pytest.raises(Throttled, match="try again in 1 s"):
        service.operators.login("Ada", PASSWORD)
    clock.now += 0.5
    assert fail(service).retry_after == 4.0
    entries = [(e["action"], e["detail"]) for e in service.desk.audit_log(limit=100) if e["subject"] == "Ada"]
    assert entries.count(("login_failed", {})) == FREE_FAILURES + 2
    assert [d for a, d in entries if a == "login_throttled"] == [
        {"wait_seconds": 4},
        {"wait_seconds": 2},
        {"wait_seconds": 1},
    ]
    clock.now += 4
    assert service.operators.login("Ada", PASSWORD).name == "Ada"  # the count starts again
    assert fail(service).retry_after == 0
    for _ in range(30):
        clock.now += MAX_WAIT
        last = fail(service)
    assert last.retry_after == MAX_WAIT


def test_unknown_names_are_slowed_down_alike_and_other_names_are_not(service: IssuerService) -> None:
    accounts(service)
    for _ in range(FREE_FAILURES):
        fail(service, "nobody")
    with pytest.raises(Throttled):
        service.operators.login(" NOBODY ", "whatever it is")
    assert service.operators.login("Bob", PASSWORD).name == "Bob"


def test_lock_and_unlock_by_the_same_operator_or_an_admin(service: IssuerService) -> None:
    accounts(service)
    service.operators.set_role("Ada", "Bob", Role.ADMIN)
    service.operators.add("Ada", "Cy", Role.OPERATOR, PASSWORD)
    service.operators.record_lock("Cy", automatic=True)
    with pytest.raises(Unauthenticated):
        service.operators.unlock("Cy", "Cy", "not the password")
    assert service.operators.unlock("Cy", "Cy", PASSWORD).name == "Cy"
    service.operators.set_role("Ada", "Bob", Role.OPERATOR)
    with pytest.raises(Forbidden, match="only Cy or an admin"):
        service.operators.unlock("Cy", "Bob", PASSWORD)
    assert service.operators.unlock("Cy", "Ada", PASSWORD).name == "Ada"
    assert [entry for entry in audit(service) if entry[1] in ("locked", "unlocked", "logout")] == [
        ("Cy", "locked", "Cy"),
        ("Cy", "unlocked", "Cy"),
        ("Ada", "unlocked", "Cy"),
        ("Cy", "logout", "Cy"),
    ]
    assert service.desk.audit_log(limit=1)[0]["detail"] == {"ended_by": "Ada"}


def test_operator_must_name_an_enabled_operator(service: IssuerService) -> None:
    assert service.operators.acting("anyone") == "anyone"  # no accounts: a name is a label
    accounts(service)
    assert service.operators.acting(" Bob ") == "Bob"
    with pytest.raises(InvalidInput, match="'Zed' does not exist"):
        service.operators.acting("Zed")
    service.operators.set_enabled("Ada", "Bob", False)
    with pytest.raises(InvalidInput, match="'Bob' is disabled"):
        service.operators.acting("Bob")
    with pytest.raises(InvalidInput, match="'Bob' is disabled"):
        service.admin.rotate_key(Actor("Bob"))
    assert service.admin.rotate_key(Actor("Ada"))["active"]


@pytest.mark.parametrize(
    ("value", "ok"), [(0, True), (10, True), (1440, True), (-1, False), (1441, False), (True, False)]
)
def test_lock_after_minutes_is_from_0_to_a_day(tmp_path: Path, value: object, ok: bool) -> None:
    if ok:
        assert Settings.load(tmp_path, lock_after_minutes=value).lock_after_minutes == value
    else:
        with pytest.raises(SettingsError, match="lock_after_minutes"):
            Settings.load(tmp_path, lock_after_minutes=value)
    assert Settings.load(tmp_path).lock_after_minutes == 10
