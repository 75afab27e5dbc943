"""Login tokens: a remote desk's operator signs in once and sends a short-lived bearer token.

The token is a random secret given once; the store keeps only its keyed hash (the secret hasher's
key is shared through the store's key files, so every process on one PostgreSQL store accepts a
token another process gave). A token names its operator and role, ends at `expires_at`, and
ends at once on logout. Actions made with it are recorded under its operator.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from issuer.errors import InvalidInput
from issuer.records.operators import Operator
from issuer.service.context import Context
from issuer.service.desk import Desk

LOGIN_TTL = 8 * 3600  # one working day at the desk
TOKEN_PREFIX = "fdl_"  # tells a login token from the folder's admin token at a glance


def role_of(operator: Operator) -> str:
    """The operator's role; accounts without one are administrators, as every account was before roles."""
    return str(getattr(operator, "role", "admin"))


@dataclass(frozen=True)
class LoginSession:
    operator: str
    role: str
    expires_at: int


class Logins:
    def __init__(self, ctx: Context, desk: Desk, ttl: int = LOGIN_TTL) -> None:
        self._ctx = ctx
        self._desk = desk
        self._table = ctx.store.logins
        self.ttl = ttl

    def open(self, name: Any, password: Any) -> dict[str, Any]:
        """Check the password (audited by the desk) and give a new token, shown only in this answer."""
        if not isinstance(name, str) or not isinstance(password, str) or not name or not password:
            raise InvalidInput("operator and password must be given as text")
        operator = self._desk.login(name[:100], password[:1000])
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires_at = self._ctx.now() + self.ttl
        role = role_of(operator)
        digest = self._ctx.hasher.digest(token)
        self._table.insert(
            digest, {"token_hash": digest, "operator": operator.name, "role": role, "expires_at": expires_at}
        )
        return {
            "token": token,
            "operator": operator.name,
            "role": role,
            "expires_at": expires_at,
            "expires_in": self.ttl,
        }

    def check(self, token: str) -> LoginSession | None:
        """The session a token opened, or None when it is unknown, ended or expired."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        row = self._table.get(self._ctx.hasher.digest(token))
        if row is None or row["expires_at"] <= self._ctx.now():
            return None
        return LoginSession(row["operator"], row["role"], row["expires_at"])

    def close(self, token: str) -> bool:
        """End a token now; whether it was still open."""
        digest = self._ctx.hasher.digest(token)
        row = self._table.get(digest)
        if row is None:
            return False
        self._table.delete(digest)
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
