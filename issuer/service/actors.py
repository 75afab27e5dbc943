"""Who asks for a change, and whether they may: the role check of the admin-only calls.

An admin-only call of the service (settings, keys, certificates, backup and restore, revocation,
the operator accounts) takes the one who acts, `Acting`:
- an operator's name, as the desk passes it: the account must be enabled and an admin (read again
  on every call, so a role taken away counts at once). While no account exists at all (a headless
  issuer run through its admin API only) a name is only a label;
- an `Actor` from the admin API: the folder's admin token counts as admin, and its `name` (from
  `--operator`) must name an enabled operator (or is a label while no account exists);
- None: the issuer itself, or the admin token without a name.
"""

from __future__ import annotations

from dataclasses import dataclass

from issuer.errors import Forbidden, InvalidInput
from issuer.records.operators import MAX_NAME_LENGTH, OperatorDirectory


@dataclass(frozen=True)
class Actor:
    """The admin API's caller: it holds the admin token, and acts for `name` in the audit log."""

    name: str | None = None
    token: bool = True


Acting = Actor | str | None


def name_of(who: Acting) -> str | None:
    return who.name if isinstance(who, Actor) else who


def require_enabled(directory: OperatorDirectory, name: str | None) -> str | None:
    """`name` if it names an enabled operator (None stays None); InvalidInput otherwise. While no account
    exists at all (a headless issuer driven by its command line only) a name is only a label."""
    if name is None:
        return None
    account = directory.get(name)
    if account is None and not directory.exists():
        return name.strip()[:MAX_NAME_LENGTH] or None
    if account is None or not account.enabled:
        shown = name.strip()[:MAX_NAME_LENGTH]
        state = "is disabled" if account else "does not exist"
        raise InvalidInput(f"the operator {shown!r} {state}: name an enabled operator (see 'operators list')")
    return account.name


def require_admin(directory: OperatorDirectory, who: Acting, action: str) -> str | None:
    """The name to record for an admin-only `action`, or Forbidden naming why it is refused."""
    if isinstance(who, Actor) and who.token:
        return require_enabled(directory, who.name)
    name = name_of(who)
    if name is None:
        return None
    account = directory.get(name)
    if account is None:
        if directory.exists():
            raise Forbidden(f"{action}: {name.strip()[:MAX_NAME_LENGTH]!r} is not an operator of this issuer")
        return name
    if not account.enabled:
        raise Forbidden(f"{action}: the account {account.name!r} is disabled")
    if not account.is_admin:
        raise Forbidden(f"{action} is for admins: {account.name!r} is an operator")
    return account.name
