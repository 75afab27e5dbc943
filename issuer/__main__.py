"""Headless command line: `frontdesk-issuer serve|offer|approve|reject|status`.

`serve` runs the issuer and its admin API until SIGINT or SIGTERM. The other commands talk
to a running server through the admin API, found through `<data>/server.json` and
authenticated with `<data>/admin-token`. Failures print one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import segno

from issuer import __version__
from issuer.config import Settings, SettingsError
from issuer.credential_types import CredentialTypeError
from issuer.runtime import SERVER_FILE, IssuerRuntime, read_admin_token

ADMIN_TIMEOUT = 10.0


class CommandError(Exception):
    """A failure the user can act on; printed as one line."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (CommandError, SettingsError, CredentialTypeError) as error:
        print(f"frontdesk-issuer: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="frontdesk-issuer", description="OpenID4VCI issuer for front desks")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the issuer and its admin API")
    _data_dir(serve)
    serve.add_argument("--host", help="address the issuer listens on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="issuer port; 0 picks a free one (default 8440)")
    serve.add_argument("--public-url", help="Credential Issuer Identifier, the https URL wallets use")
    serve.add_argument("--admin-port", type=int, help="admin API port; 0 picks a free one (default 8441)")
    serve.set_defaults(run=_serve)

    offer = commands.add_parser("offer", help="create a credential offer")
    _data_dir(offer)
    offer.add_argument("--config", action="append", required=True, metavar="ID", help="credential type id")
    offer.add_argument("--claims", required=True, help="claims as a JSON object, or @file with one")
    offer.add_argument("--tx-code", action="store_true", help="protect the offer with a transaction code")
    offer.add_argument("--deferred", action="store_true", help="issue only after an operator approves")
    offer.add_argument("--by-reference", action="store_true", help="put a credential_offer_uri in the link")
    offer.add_argument("--operator", help="who makes the offer, for the timeline")
    offer.add_argument("--json", action="store_true", help="print one JSON object")
    offer.set_defaults(run=_offer)

    for name, verb in (("approve", "approve"), ("reject", "reject")):
        decide = commands.add_parser(name, help=f"{verb} a deferred issuance")
        _data_dir(decide)
        decide.add_argument("offer_id")
        decide.set_defaults(run=_decide, action=name)

    status = commands.add_parser("status", help="an offer's state and timeline")
    _data_dir(status)
    status.add_argument("offer_id")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(run=_status)
    return parser


def _data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="data folder (default: the user data folder)")


def _serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.load(
        args.data_dir, host=args.host, port=args.port, public_url=args.public_url, admin_port=args.admin_port
    )
    runtime = IssuerRuntime(settings)
    try:
        runtime.start()
    except OSError as error:
        raise CommandError(f"cannot listen: {error.strerror or error}") from error
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"issuer: {runtime.issuer_url}", flush=True)
    print(f"admin: {runtime.admin_url}", flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        runtime.stop()
    return 0


def _offer(args: argparse.Namespace) -> int:
    body = {
        "credential_configuration_ids": args.config,
        "claims": _claims(args.claims),
        "tx_code": args.tx_code,
        "deferred": args.deferred,
        "by_reference": args.by_reference,
        "operator": args.operator,
    }
    created = _admin(args.data_dir, "POST", "/api/offers", body)
    if args.json:
        print(json.dumps({k: created[k] for k in ("offer_id", "offer_uri", "tx_code", "expires_at")}))
        return 0
    print(f"offer: {created['offer_id']}")
    print(created["offer_uri"])
    if created["tx_code"]:
        print(f"transaction code (shown once): {created['tx_code']}")
    if sys.stdout.isatty():
        segno.make(created["offer_uri"], error="m").terminal(compact=True)
    return 0


def _decide(args: argparse.Namespace) -> int:
    result = _admin(args.data_dir, "POST", f"/api/offers/{_offer_id(args.offer_id)}/{args.action}", {})
    print(f"{result['offer_id']}: {result['decision']}")
    return 0


def _status(args: argparse.Namespace) -> int:
    status = _admin(args.data_dir, "GET", f"/api/offers/{_offer_id(args.offer_id)}")
    if args.json:
        print(json.dumps(status))
        return 0
    print(f"{status['offer_id']}: {status['state']} ({', '.join(status['credential_configuration_ids'])})")
    for step in status["timeline"]:
        when = datetime.fromtimestamp(step["at"]).isoformat(sep=" ", timespec="seconds")
        detail = " ".join(f"{k}={v}" for k, v in step.get("detail", {}).items() if v is not None)
        print(f"  {when}  {step['event']}  {detail}".rstrip())
    return 0


def _claims(value: str) -> dict[str, Any]:
    try:
        text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
        claims = json.loads(text)
    except OSError as error:
        raise CommandError(f"cannot read claims file: {error.strerror}") from error
    except ValueError as error:
        raise CommandError(f"--claims is not valid JSON: {error}") from error
    if not isinstance(claims, dict):
        raise CommandError("--claims must be a JSON object of claim names and values")
    return claims


def _offer_id(value: str) -> str:
    if not value.replace("-", "").replace("_", "").isalnum() or len(value) > 64:
        raise CommandError(f"{value!r} is not an offer id")
    return value


def _admin(data_dir: Path | None, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call the running server's admin API; every failure becomes a CommandError."""
    folder = Settings.load(data_dir).data_dir
    try:
        server = json.loads((folder / SERVER_FILE).read_text())
        token = read_admin_token(folder)
    except (OSError, ValueError) as error:
        raise CommandError(f"no running issuer found in {folder} (start it with 'frontdesk-issuer serve')") from error
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        server["admin_url"] + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=ADMIN_TIMEOUT) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise CommandError(_error_message(error)) from error
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise CommandError(f"the issuer at {server['admin_url']} is not reachable: {reason}") from error


def _error_message(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read())
        return body.get("error_description") or body.get("error") or f"HTTP {error.code}"
    except ValueError:
        return f"HTTP {error.code}"


if __name__ == "__main__":
    sys.exit(main())
