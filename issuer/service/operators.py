"""Operator accounts: logins (slowed down after repeated failures), roles, and their administration.

The first account is made at the first start and is an admin; admins add the others, each with an
initial password the person must change at their first login. Nobody can disable or demote the last
enabled admin. Every change and every failed login is in the audit log: who, what, when.

Password hashing (scrypt, slow by design) runs before any transaction, so wallets are served while
it runs. The part needs only the store and a clock: `frontdesk-issuer operators` uses it on a data
folder without starting an issuer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

from issuer.errors import Conflict, Forbidden, NotFound, Throttled, Unauthenticated
from issuer.records.audit import audit_entry
from issuer.records.operators import (
    MAX_NAME_LENGTH,
    Operator,
    OperatorDirectory,
    Role,
    check_name,
    check_password,
    check_password_rules,
    hash_password,
    role_of,
)
from issuer.service.actors import Acting, require_admin, require_enabled
from issuer.service.login_throttle import LoginThrottle
from issuer.storage.interfaces import Store

WRONG_LOGIN = "wrong operator name or password"


@cache
def _no_account_hash() -> str:
    return hash_password("not a password of anyone")


class Operators:
    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        self._directory = OperatorDirectory(store.operators)
        self.throttle = LoginThrottle(clock)

    # ----- reading -----

    def exists(self) -> bool:
        return self._directory.exists()

    def get(self, name: str) -> Operator | None:
        return self._directory.get(name)

    def list(self, actor: Acting) -> list[Operator]:
        require_admin(self._directory, actor, "listing the operators")
        return self._directory.all()

    def acting(self, name: str | None) -> str | None:
        """The name of an enabled operator, for the timeline and the audit log (`--operator NAME`)."""
        return require_enabled(self._directory, name)

    def require_admin(self, actor: Acting, action: str) -> str | None:
        return require_admin(self._directory, actor, action)

    # ----- logging in -----

    def login(self, name: str, password: str) -> Operator:
        """The account, if the password is right. While a wait runs after repeated failures the try is
        refused (Throttled) before the password is looked at; a disabled account says so only after
        a correct password."""
        shown = name.strip()[:MAX_NAME_LENGTH]
        wait = self.throttle.wait(name)
        if wait > 0:
            raise Throttled(wait)
        account = self._directory.get(name)
        stored = self._directory.password_hash(name) if account else None
        # Hash even for an unknown name, so that timing does not tell which names exist.
        if not check_password(password, stored or _no_account_hash()) or account is None:
            waits = self.throttle.failed(name)
            self._audit(None, "login_failed", shown)
            if waits > 0:
                self._audit(None, "login_throttled", shown, wait_seconds=round(waits))
                raise Unauthenticated(
                    f"{WRONG_LOGIN}: wait {math.ceil(waits)} s before the next try", retry_after=waits
                )
            raise Unauthenticated(WRONG_LOGIN)
        self.throttle.succeeded(name)
        if not account.enabled:
            self._audit(None, "login_refused", account.name, reason="disabled")
            raise Forbidden(f"the account {account.name!r} is disabled: an admin can enable it again")
        self._audit(account.name, "login", account.name)
        return account

    def unlock(self, locked_by: str, name: str, password: str) -> Operator:
        """Unlock a window `locked_by` locked: with that operator's password, or an admin's, whose unlock
        ends the other's session (recorded as their logout); the desk goes on as the admin."""
        account = self.login(name, password)
        if account.name != locked_by and not account.is_admin:
            raise Forbidden(f"only {locked_by} or an admin can unlock this window")
        self._audit(account.name, "unlocked", locked_by)
        if account.name != locked_by:
            self._audit(locked_by, "logout", locked_by, ended_by=account.name)
        return account

    def record_lock(self, name: str, automatic: bool) -> None:
        self._audit(name, "locked", name, automatic=automatic)

    def record_logout(self, name: str) -> None:
        self._audit(name, "logout", name)

    def change_password(self, name: str, current: str, new: str) -> Operator:
        """Everyone's own change: the current password is required (and counts as a login try)."""
        check_password_rules(name, new)
        account = self.login(name, current)
        if new == current:
            raise Conflict("the new password must differ from the current one")
        new_hash = hash_password(new)
        with self._store.transaction():
            changed = self._directory.update(account.name, password_hash=new_hash, must_change_password=False)
            self._audit(account.name, "password_changed", account.name)
        return changed

    # ----- administration (admins, or the admin token) -----

    def create_first(self, name: str, password: str) -> Operator:
        """The first account, made at the first start by nobody: an admin."""
        name = check_name(name)
        check_password_rules(name, password)
        password_hash = hash_password(password)
        with self._store.transaction():
            if self._directory.exists():
                raise Forbidden("there are operators already: an admin adds new ones")
            operator = self._directory.add(Operator(name, int(self._clock()), Role.ADMIN), password_hash)
            self._audit(name, "operator_added", name, role=str(Role.ADMIN), first=True)
        return operator

    def add(self, actor: Acting, name: str, role: Role | str, password: str) -> Operator:
        """A new account whose person must choose their own password at their first login."""
        who = require_admin(self._directory, actor, "adding an operator")
        name, role = check_name(name), role_of(role)
        check_password_rules(name, password)
        if role is not Role.ADMIN and not self._directory.exists():
            raise Conflict("the first operator is an admin: add them with the admin role")
        if self._directory.get(name):
            raise Conflict(f"there is already an operator named {name!r}")
        password_hash = hash_password(password)
        with self._store.transaction():
            operator = Operator(name, int(self._clock()), role, must_change_password=True)
            self._directory.add(operator, password_hash)
            self._audit(who, "operator_added", name, role=str(role))
        return operator

    def set_enabled(self, actor: Acting, name: str, enabled: bool) -> Operator:
        who = require_admin(self._directory, actor, "enabling or disabling an operator")
        with self._store.transaction():
            account = self._account(name)
            if not enabled:
                self._keep_an_admin(account, "disabled")
            changed = self._directory.update(account.name, enabled=enabled)
            if changed != account:
                self._audit(who, "operator_enabled" if enabled else "operator_disabled", account.name)
        return changed

    def set_role(self, actor: Acting, name: str, role: Role | str) -> Operator:
        who = require_admin(self._directory, actor, "changing a role")
        role = role_of(role)
        with self._store.transaction():
            account = self._account(name)
            if role is not Role.ADMIN:
                self._keep_an_admin(account, "made an operator")
            changed = self._directory.update(account.name, role=role)
            if changed.role is not account.role:
                self._audit(who, "operator_role_changed", account.name, role=str(role), was=str(account.role))
        return changed

    def reset_password(self, actor: Acting, name: str, password: str) -> Operator:
        """A new password the person must change at their next login."""
        who = require_admin(self._directory, actor, "resetting a password")
        account = self._account(name)
        check_password_rules(account.name, password)
        password_hash = hash_password(password)
        with self._store.transaction():
            changed = self._directory.update(account.name, password_hash=password_hash, must_change_password=True)
            self._audit(who, "password_reset", account.name)
        self.throttle.succeeded(account.name)
        return changed

    def _account(self, name: str) -> Operator:
        account = self._directory.get(name)
        if account is None:
            raise NotFound(f"no operator named {name.strip()[:MAX_NAME_LENGTH]!r}")
        return account

    def _keep_an_admin(self, account: Operator, change: str) -> None:
        if not (account.is_admin and account.enabled):
            return
        admins = [other for other in self._directory.all() if other.is_admin and other.enabled]
        if len(admins) <= 1:
            raise Conflict(f"{account.name} is the last enabled admin and cannot be {change}: make another admin first")

    def _audit(self, operator: str | None, action: str, subject: str, **detail: Any) -> None:
        self._store.audit.append(audit_entry(int(self._clock()), operator, action, subject, detail))
