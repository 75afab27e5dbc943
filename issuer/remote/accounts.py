"""The accounts part over the admin API: a remote desk's login, lock and own password, and the
operator accounts for an admin (issuer.desk_api.DeskOperators).

The login token decides who acts: the `actor` and `name` the pages pass are the token's operator,
and the issuer reads that account's role on every request, so a remote desk meets the same
refusals as the desk of the embedded issuer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from issuer.records.operators import Operator, Role, operator_of
from issuer.remote.connection import AdminConnection
from issuer.remote.parts import on_the_issuer


def _account(answer: dict[str, Any]) -> Operator:
    return operator_of({**answer, "name": answer.get("name") or answer["operator"]})


class RemoteOperators:
    def __init__(self, connection: AdminConnection) -> None:
        self._c = connection
        self.operator: str | None = None  # whose login token the desk holds

    def exists(self) -> bool:
        """A running issuer has its operators: a desk logs in, it never creates the first one."""
        return True

    def create_first(self, name: str, password: str) -> Operator:
        raise on_the_issuer("Creating the first operator", "operators add")

    def login(self, name: str, password: str) -> Operator:
        """A login token for this desk; every later call carries it."""
        answer = self._c.request("POST", "/api/login", {"operator": name, "password": password})
        self._c.token, self.operator = answer["token"], answer["operator"]
        return _account(answer)

    def logout(self) -> None:
        if self._c.token:
            try:
                self._c.request("POST", "/api/logout")
            finally:
                self._c.token, self.operator = None, None

    def unlock(self, locked_by: str, name: str, password: str) -> Operator:
        """An admin's unlock hands the desk a login token of the admin's (the other one has ended)."""
        answer = self._c.request("POST", "/api/unlock", {"operator": name, "password": password})
        if answer.get("token"):
            self._c.token, self.operator = answer["token"], answer["name"]
        return _account(answer)

    def record_lock(self, name: str, automatic: bool) -> None:
        self._c.request("POST", "/api/lock", {"automatic": automatic})

    def record_logout(self, name: str) -> None:
        self.logout()

    def change_password(self, name: str, current: str, new: str) -> Operator:
        return _account(self._c.request("POST", "/api/password", {"current": current, "new": new}))

    def list(self, actor: str | None) -> list[Operator]:
        return [_account(row) for row in self._c.request("GET", "/api/operators")["operators"]]

    def add(self, actor: str | None, name: str, role: Role | str, password: str) -> Operator:
        body = {"name": name, "role": str(role), "password": password}
        return _account(self._c.request("POST", "/api/operators", body))

    def set_enabled(self, actor: str | None, name: str, enabled: bool) -> Operator:
        action = "enable" if enabled else "disable"
        return _account(self._c.request("POST", f"/api/operators/{quote(name, safe='')}/{action}", {}))

    def set_role(self, actor: str | None, name: str, role: Role | str) -> Operator:
        return _account(self._c.request("POST", f"/api/operators/{quote(name, safe='')}/role", {"role": str(role)}))

    def reset_password(self, actor: str | None, name: str, password: str) -> Operator:
        path = f"/api/operators/{quote(name, safe='')}/reset-password"
        return _account(self._c.request("POST", path, {"password": password}))
