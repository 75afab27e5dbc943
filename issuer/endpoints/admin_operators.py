"""Admin API logic for the operator accounts: strict JSON bodies in, account records out.

Who acts comes from the web layer: a login token's operator (whose role the service reads on every
call), or the folder's admin token acting for the `operator` a body names (an enabled operator).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from issuer.endpoints.admin import known_fields
from issuer.errors import InvalidInput
from issuer.service.actors import Acting
from issuer.service.operators import Operators

ADD_FIELDS = ("name", "role", "password", "operator")
PASSWORD_FIELDS = ("password", "operator")
ROLE_FIELDS = ("role", "operator")
ACTOR_FIELDS = ("operator",)
OWN_PASSWORD_FIELDS = ("current", "new")
UNLOCK_FIELDS = ("operator", "password")


def list_operators(operators: Operators, actor: Acting) -> dict[str, Any]:
    return {"operators": [account.to_json() for account in operators.list(actor)]}


def add_operator(operators: Operators, actor: Acting, body: Mapping[str, Any]) -> dict[str, Any]:
    known_fields(body, ADD_FIELDS)
    name, role, password = (text(body, field) for field in ("name", "role", "password"))
    return operators.add(actor, name, role, password).to_json()


def set_enabled(
    operators: Operators, actor: Acting, name: str, enabled: bool, body: Mapping[str, Any]
) -> dict[str, Any]:
    known_fields(body, ACTOR_FIELDS)
    return operators.set_enabled(actor, name, enabled).to_json()


def reset_password(operators: Operators, actor: Acting, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
    known_fields(body, PASSWORD_FIELDS)
    return operators.reset_password(actor, name, text(body, "password")).to_json()


def set_role(operators: Operators, actor: Acting, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
    known_fields(body, ROLE_FIELDS)
    return operators.set_role(actor, name, text(body, "role")).to_json()


def change_own_password(operators: Operators, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
    known_fields(body, OWN_PASSWORD_FIELDS)
    return operators.change_password(name, text(body, "current"), text(body, "new")).to_json()


def text(body: Mapping[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{field} is required, as a string")
    return value
