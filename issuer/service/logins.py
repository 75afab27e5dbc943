"""Login tokens: a remote desk's operator signs in once and sends a short-lived bearer token.

The token is a random secret given once; the store keeps only its keyed hash (the secret hasher's
key is shared through the store's key files, so every process on one PostgreSQL store accepts a
token another process gave). A token names its operator, ends at `expires_at`, and ends at once on
logout. Actions made with it are recorded under its operator, with the role the account has at
the time of each request (read again every time): a demoted operator loses the admin actions at
once, and a disabled operator's tokens stop working. While the account must choose a new password
(an admin set it), the token serves only that change and the logout.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from issuer.errors import InvalidInput
from issuer.records.operators import Operator
from issuer.service.context import Context
from issuer.service.operators import Operators

LOGIN_TTL = 8 * 3600  # one working day at the desk
TOKEN_PREFIX = "fdl_"  # tells a login token from the folder's admin token at a glance


@dataclass(frozen=True)
class LoginSession:
    """A login token's operator as the account stands now."""

    operator: str
    role: str
    expires_at: int
    must_change_password: bool = False


class Logins:
    def __init__(self, ctx: Context, operators: Operators, ttl: int = LOGIN_TTL) -> None:
        self._ctx = ctx
        self._operators = operators
        self._table = ctx.store.logins
        self.ttl = ttl

    def open(self, name: Any, password: Any) -> dict[str, Any]:
        """Check the password (audited, slowed down after failures) and give a new token, shown only in
        this answer."""
        if not isinstance(name, str) or not isinstance(password, str) or not name or not password:
            raise InvalidInput("operator and password must be given as text")
        return self.issue(self._operators.login(name[:100], password[:1000]))

    def issue(self, account: Operator) -> dict[str, Any]:
        """A new token for an account whose password was just checked."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires_at = self._ctx.now() + self.ttl
        digest = self._ctx.hasher.digest(token)
        self._table.insert(digest, {"token_hash": digest, "operator": account.name, "expires_at": expires_at})
        return {
            "token": token,
            "operator": account.name,
            "role": str(account.role),
            "must_change_password": account.must_change_password,
            "expires_at": expires_at,
            "expires_in": self.ttl,
        }

    def check(self, token: str) -> LoginSession | None:
        """The session a token opened, or None when it is unknown, ended or expired, or its account is
        disabled or gone."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        row = self._table.get(self._ctx.hasher.digest(token))
        if row is None or row["expires_at"] <= self._ctx.now():
            return None
        account = self._operators.get(row["operator"])
        if account is None or not account.enabled:
            return None
        return LoginSession(account.name, str(account.role), row["expires_at"], account.must_change_password)

    def close(self, token: str, *, audited: bool = True) -> bool:
        """End a token now; whether it was still open. `audited`: write the logout in the audit log
        (not when the caller already recorded how the session ended)."""
        digest = self._ctx.hasher.digest(token)
        row = self._table.get(digest)
        if row is None:
            return False
        self._table.delete(digest)
        if audited:
            self._ctx.audit(row["operator"], "logout", row["operator"])
        return bool(row["expires_at"] > self._ctx.now())

    def purge(self) -> int:
        """Drop expired tokens (run with the expiry sweep)."""
        now = self._ctx.now()
        gone = 0
        for row in self._table.all():
            if row["expires_at"] <= now and self._table.delete(row["token_hash"]):
                gone += 1
        return gone
