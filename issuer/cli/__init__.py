"""Headless command line: `frontdesk-issuer serve|offer|approve|reject|status|credentials|revoke|...`.

Each module adds its commands: `serve` (serve, migrate), `desk` (offers, decisions, sign-ins and the
ledger, through the running issuer's admin API), `folder` (backup, restore, repair, keys,
certificates) and `operators` (the desk's accounts, through the admin API or on the folder). Failures
print one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import sys

from issuer import __version__
from issuer.cli import desk, folder, operators, serve
from issuer.cli.common import CommandError
from issuer.config import SettingsError
from issuer.protocol.credential_types import CredentialTypeError


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (CommandError, SettingsError, CredentialTypeError) as error:
        print(f"frontdesk-issuer: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="frontdesk-issuer", description="OpenID4VCI issuer for front desks")
    root.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = root.add_subparsers(dest="command", required=True)
    for module in (serve, desk, folder, operators):
        module.register(commands)
    return root
