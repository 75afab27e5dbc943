"""Operator accounts for the front desk: names and slow password hashes (scrypt, RFC 7914).

The desktop app asks for an operator login; every operator action is then recorded in the
audit log under that name. The hash parameters are stored with each hash so that they can
be raised later without locking anyone out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from issuer.errors import Conflict, InvalidInput, Unauthenticated
from issuer.storage.interfaces import KeyExists, LiveTable

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_LENGTH = 8
MAX_NAME_LENGTH = 64


@dataclass(frozen=True)
class Operator:
    name: str
    created_at: int


def hash_password(
    password: str, *, salt: bytes | None = None, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P
) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
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


class OperatorDirectory:
    """Operator accounts in the store's operators table. Password hashing is slow by design, and
    runs outside any transaction: only the reads and the insert take the store."""

    def __init__(self, table: LiveTable) -> None:
        self._table = table

    def exists(self) -> bool:
        return len(self._table) > 0

    def names(self) -> list[str]:
        return sorted(row["name"] for row in self._table.all())

    def create(self, name: str, password: str) -> Operator:
        name = name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            raise InvalidInput(f"an operator name has 1 to {MAX_NAME_LENGTH} characters")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInput(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
        if self._table.get(name):
            raise Conflict(f"there is already an operator named {name!r}")
        row: dict[str, Any] = {"name": name, "password": hash_password(password), "created_at": int(time.time())}
        try:
            self._table.insert(name, row)
        except KeyExists as error:
            raise Conflict(f"there is already an operator named {name!r}") from error
        return Operator(name, row["created_at"])

    def authenticate(self, name: str, password: str) -> Operator:
        row = self._table.get(name.strip())
        # Hash even for an unknown name, so that timing does not tell which names exist.
        stored = row["password"] if row else hash_password("not a password")
        if not check_password(password, stored) or row is None:
            raise Unauthenticated("wrong operator name or password")
        return Operator(row["name"], row["created_at"])
