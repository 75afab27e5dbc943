"""Operator accounts for the front desk: names, roles and slow password hashes (scrypt, RFC 7914).

The desktop app asks for an operator login; every operator action is then recorded in the
audit log under that name. The hash parameters are stored with each hash so that they can
be raised later without locking anyone out. Records written before roles existed have no
`role`, `enabled` or `must_change_password`: they read as enabled admins who keep their password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from issuer.errors import Conflict, InvalidInput, NotFound
from issuer.storage.interfaces import KeyExists, LiveTable

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
MAX_NAME_LENGTH = 64


class Role(StrEnum):
    ADMIN = "admin"  # everything, plus operators, settings, keys, backup and restore, revocation
    OPERATOR = "operator"  # customers, offers, approvals, sign-ins, ledger search


@dataclass(frozen=True)
class Operator:
    name: str
    created_at: int
    role: Role = Role.ADMIN
    enabled: bool = True
    must_change_password: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": str(self.role),
            "enabled": self.enabled,
            "must_change_password": self.must_change_password,
            "created_at": self.created_at,
        }


def role_of(value: object) -> Role:
    try:
        return Role(str(value))
    except ValueError:
        raise InvalidInput(f"a role is {' or '.join(Role)}, not {str(value)[:40]!r}") from None


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise InvalidInput(f"an operator name has 1 to {MAX_NAME_LENGTH} printable characters")
    return name


def password_problem(name: str, password: str) -> str | None:
    """Why `password` is refused for the operator `name`, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password has at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"a password has at most {MAX_PASSWORD_LENGTH} characters"
    folded, own = password.casefold(), name.strip().casefold()
    if own and (own in folded or folded == own[::-1]):
        return "a password must not contain the operator's name, nor be the name reversed"
    return None


def check_password_rules(name: str, password: str) -> None:
    problem = password_problem(name, password)
    if problem:
        raise InvalidInput(problem)


def hash_password(
    password: str, *, salt: bytes | None = None, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P
) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=64 * 1024 * 1024)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hash_password(password, salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(candidate.rsplit("$", 1)[1], digest)


def operator_of(row: dict[str, Any]) -> Operator:
    """The typed account of a stored row; a row from before roles is an enabled admin."""
    role = row.get("role", Role.ADMIN)
    return Operator(
        name=row["name"],
        created_at=int(row.get("created_at", 0)),
        role=Role(role) if role in tuple(Role) else Role.ADMIN,
        enabled=bool(row.get("enabled", True)),
        must_change_password=bool(row.get("must_change_password", False)),
    )


class OperatorDirectory:
    """Operator accounts in the store's operators table. Password hashing is slow by design: callers
    hash before they change anything, so no transaction waits for it."""

    def __init__(self, table: LiveTable) -> None:
        self._table = table

    def exists(self) -> bool:
        return len(self._table) > 0

    def names(self) -> list[str]:
        return sorted(row["name"] for row in self._table.all())

    def all(self) -> list[Operator]:
        return sorted((operator_of(row) for row in self._table.all()), key=lambda o: o.name.casefold())

    def get(self, name: str) -> Operator | None:
        row = self._table.get(name.strip())
        return operator_of(row) if row else None

    def password_hash(self, name: str) -> str | None:
        row = self._table.get(name.strip())
        return str(row["password"]) if row else None

    def add(self, operator: Operator, password_hash: str) -> Operator:
        row: dict[str, Any] = {**operator.to_json(), "password": password_hash}
        try:
            self._table.insert(operator.name, row)
        except KeyExists as error:
            raise Conflict(f"there is already an operator named {operator.name!r}") from error
        return operator

    def update(self, name: str, *, password_hash: str | None = None, **changes: Any) -> Operator:
        """Change an account's role, enabled flag, `must_change_password` or password hash (call it in a
        transaction: the compare-and-set then never loses to another writer)."""
        row = self._table.get(name.strip())
        if row is None:
            raise NotFound(f"no operator named {name.strip()[:MAX_NAME_LENGTH]!r}")
        changed = replace(operator_of(row), **changes)
        document = {**row, **changed.to_json()}
        document.pop("version", None)
        if password_hash is not None:
            document["password"] = password_hash
        if not self._table.replace(changed.name, document, version=row["version"]):
            raise Conflict(f"the account {changed.name!r} changed meanwhile: try again")
        return changed
