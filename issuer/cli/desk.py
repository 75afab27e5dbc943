"""The desk's commands, through the running issuer's admin API: offers, decisions, sign-ins, the ledger."""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from typing import Any

import segno

from issuer.cli.admin_client import admin_call
from issuer.cli.common import (
    Commands,
    claims_argument,
    data_dir_option,
    offer_id_argument,
    record_id_argument,
)
from issuer.records.ledger import STATES
from issuer.service.types import STATE_WORDS, OfferGrant, OfferState

TERMINAL_COLUMNS = 80
QR_BORDER = 2  # modules of quiet zone on a terminal, whose background is light or dark anyway


def register(commands: Commands) -> None:
    offer = commands.add_parser("offer", help="create a credential offer")
    data_dir_option(offer)
    offer.add_argument("--config", action="append", required=True, metavar="ID", help="credential type id")
    offer.add_argument("--claims", required=True, help="claims as a JSON object, or @file with one")
    offer.add_argument("--tx-code", action="store_true", help="protect the offer with a transaction code")
    offer.add_argument("--deferred", action="store_true", help="issue only after an operator approves")
    offer.add_argument(
        "--grant",
        choices=tuple(OfferGrant),
        default=OfferGrant.PRE_AUTHORIZED,
        help="pre-authorized_code (default), or authorization_code: the wallet signs in and the desk confirms",
    )
    reference = offer.add_mutually_exclusive_group()
    reference.add_argument(
        "--by-reference",
        action="store_true",
        default=None,
        help="put a credential_offer_uri in the link (the default on a terminal: its QR code fits 80 columns)",
    )
    reference.add_argument(
        "--by-value", dest="by_reference", action="store_false", help="put the whole offer in the link"
    )
    offer.add_argument("--operator", help="who makes the offer, for the timeline")
    offer.add_argument(
        "--replaces", action="append", default=[], metavar="CREDENTIAL", help="revoke this credential now: a re-issue"
    )
    offer.add_argument("--json", action="store_true", help="print one JSON object")
    offer.set_defaults(run=_offer)

    for name in ("revoke", "suspend", "unsuspend"):
        change = commands.add_parser(name, help=f"{name} an issued credential (its id is in 'credentials')")
        data_dir_option(change)
        change.add_argument("credential_id")
        change.add_argument("--reason", default="", help="why, for the audit log")
        change.add_argument("--operator", help="who does it, for the audit log")
        change.set_defaults(run=_change_status, action=name)

    sign_ins = commands.add_parser("sign-ins", help="wallets waiting at the desk (Authorization Code flow)")
    data_dir_option(sign_ins)
    sign_ins.add_argument("--json", action="store_true", help="print one JSON object")
    sign_ins.set_defaults(run=_sign_ins)

    confirm = commands.add_parser("confirm", help="confirm a waiting wallet's sign-in by its code's request id")
    data_dir_option(confirm)
    confirm.add_argument("authorization_id")
    confirm.add_argument("--claims", help="the holder's claims (JSON or @file), for a sign-in without an offer")
    confirm.add_argument("--operator", help="who confirms, for the audit log")
    confirm.set_defaults(run=_confirm)

    deny = commands.add_parser("deny", help="turn a waiting wallet's sign-in down")
    data_dir_option(deny)
    deny.add_argument("authorization_id")
    deny.add_argument("--reason", default="", help="why, for the audit log")
    deny.add_argument("--operator", help="who denies, for the audit log")
    deny.set_defaults(run=_deny)

    ledger = commands.add_parser("credentials", help="find issued credentials in the ledger")
    data_dir_option(ledger)
    ledger.add_argument("query", nargs="?", default="", help="holder name, or a credential or offer id")
    ledger.add_argument("--type", help="credential type id")
    ledger.add_argument("--state", choices=STATES, help="current state")
    ledger.add_argument("--operator", help="issued by this operator")
    ledger.add_argument("--limit", type=int, default=50, help="at most this many, newest first (default 50)")
    ledger.add_argument("--json", action="store_true", help="print one JSON object")
    ledger.set_defaults(run=_credentials)

    for name, verb in (("approve", "approve"), ("reject", "reject")):
        decide = commands.add_parser(name, help=f"{verb} a deferred issuance")
        data_dir_option(decide)
        decide.add_argument("offer_id")
        decide.set_defaults(run=_decide, action=name)

    cancel = commands.add_parser("cancel", help="cancel a live offer: its codes and tokens stop working now")
    data_dir_option(cancel)
    cancel.add_argument("offer_id")
    cancel.add_argument("--operator", help="who cancels it, for the audit log")
    cancel.set_defaults(run=_cancel)

    status = commands.add_parser("status", help="an offer's state and timeline")
    data_dir_option(status)
    status.add_argument("offer_id")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(run=_status)


def _offer(args: argparse.Namespace) -> int:
    on_terminal = sys.stdout.isatty() and not args.json
    by_reference = args.by_reference if args.by_reference is not None else on_terminal
    body = {
        "credential_configuration_ids": args.config,
        "claims": claims_argument(args.claims),
        "tx_code": args.tx_code,
        "deferred": args.deferred,
        "by_reference": by_reference,
        "grant": args.grant,
        "operator": args.operator,
        "replaces": [record_id_argument(value) for value in args.replaces],
    }
    created = admin_call(args.data_dir, "POST", "/api/offers", body)
    if args.json:
        print(json.dumps({k: created[k] for k in ("offer_id", "offer_uri", "tx_code", "expires_at")}))
        return 0
    print(f"offer: {created['offer_id']}")
    print(created["offer_uri"])
    if created["tx_code"]:
        print(f"transaction code (shown once): {created['tx_code']}")
    if on_terminal:
        columns = shutil.get_terminal_size().columns
        print(terminal_qr(created["offer_uri"], columns) or _too_wide(created["offer_uri"], columns), end="")
    return 0


def terminal_qr(text: str, columns: int = TERMINAL_COLUMNS) -> str | None:
    """The QR code of `text` in half-block characters (two rows of modules per line), or None
    when it is wider than `columns`; a by-reference link always fits 80 columns."""
    qr = segno.make(text, error="m")
    if qr.symbol_size(border=QR_BORDER)[0] > columns:
        return None
    out = io.StringIO()
    qr.terminal(out, compact=True, border=QR_BORDER)
    return out.getvalue()


def _too_wide(text: str, columns: int) -> str:
    width = segno.make(text, error="m").symbol_size(border=QR_BORDER)[0]
    return (
        f"(the QR code is {width} columns wide, this terminal has {columns}: "
        "use --by-reference for a smaller one, or open the link above)\n"
    )


def _cancel(args: argparse.Namespace) -> int:
    body = {"operator": args.operator} if args.operator else {}
    result = admin_call(args.data_dir, "POST", f"/api/offers/{offer_id_argument(args.offer_id)}/cancel", body)
    print(f"{result['offer_id']}: {result['state']}")
    return 0


def _decide(args: argparse.Namespace) -> int:
    result = admin_call(args.data_dir, "POST", f"/api/offers/{offer_id_argument(args.offer_id)}/{args.action}", {})
    print(f"{result['offer_id']}: {result['decision']}")
    return 0


def _status(args: argparse.Namespace) -> int:
    status = admin_call(args.data_dir, "GET", f"/api/offers/{offer_id_argument(args.offer_id)}")
    if args.json:
        print(json.dumps(status))
        return 0
    state = status["state"]
    words = STATE_WORDS.get(OfferState(state), state) if state in tuple(OfferState) else state
    shown = state if words == state else f"{state} ({words})"
    holder = f", for {status['holder_name']}" if status.get("holder_name") else ""
    print(f"{status['offer_id']}: {shown}  {', '.join(status['credential_configuration_ids'])}{holder}")
    for step in status["timeline"]:
        when = datetime.fromtimestamp(step["at"]).isoformat(sep=" ", timespec="seconds")
        detail = " ".join(f"{k}={v}" for k, v in step.get("detail", {}).items() if v is not None)
        print(f"  {when}  {step['event']}  {detail}".rstrip())
    return 0


def _sign_ins(args: argparse.Namespace) -> int:
    waiting = admin_call(args.data_dir, "GET", "/api/authorizations")["authorizations"]
    if args.json:
        print(json.dumps({"authorizations": waiting}))
        return 0
    for request in waiting:
        offer = f"offer {request['offer_id']}" if request["offer_id"] else "no offer: needs --claims"
        if request.get("holder_name"):
            offer = f"for {request['holder_name']}, {offer}"
        types = ", ".join(request["credential_configuration_ids"])
        print(f"{request['authorization_id']}  code {request['confirmation']}  {types}  ({offer})")
    if not waiting:
        print("no wallet is waiting")
    return 0


def _confirm(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"operator": args.operator}
    if args.claims:
        body["claims"] = claims_argument(args.claims)
    result = admin_call(args.data_dir, "POST", f"/api/authorizations/{_sign_in_id(args)}/approve", body)
    print(f"{result['authorization_id']}: confirmed (code {result['confirmation']})")
    return 0


def _deny(args: argparse.Namespace) -> int:
    body = {"operator": args.operator, "reason": args.reason}
    result = admin_call(args.data_dir, "POST", f"/api/authorizations/{_sign_in_id(args)}/deny", body)
    print(f"{result['authorization_id']}: denied")
    return 0


def _sign_in_id(args: argparse.Namespace) -> str:
    return offer_id_argument(args.authorization_id, "a sign-in request")


def _change_status(args: argparse.Namespace) -> int:
    body = {"reason": args.reason, "operator": args.operator}
    record = admin_call(
        args.data_dir, "POST", f"/api/credentials/{record_id_argument(args.credential_id)}/{args.action}", body
    )
    print(f"{record['id']}: {record['state']}")
    return 0


def _credentials(args: argparse.Namespace) -> int:
    query = {"q": args.query, "type": args.type, "state": args.state, "operator": args.operator, "limit": args.limit}
    found = admin_call(
        args.data_dir, "GET", "/api/credentials?" + urllib.parse.urlencode({k: v for k, v in query.items() if v})
    )["credentials"]
    if args.json:
        print(json.dumps({"credentials": found}))
        return 0
    for record in found:
        when = datetime.fromtimestamp(record["issued_at"]).isoformat(sep=" ", timespec="minutes")
        print(f"{record['id']}  {when}  {record['config_id']}  {record['state']}  {record.get('operator') or '-'}")
    if not found:
        print("no credentials found")
    return 0
