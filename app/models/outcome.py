"""Where the offer on the desk stands, in words for the operator and for the customer.

One function reads an offer's status (as `offers.status` gives it) and the time, and says what
both screens show: the QR panel on the operator's side, the customer display on the other. Both
show the same outcome, so expiry and cancellation read the same way on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from issuer.service import OfferState


class Stage(StrEnum):
    WAITING = "waiting"  # the QR code is there to scan
    SCANNED = "scanned"
    APPROVAL = "approval"
    RETRY = "retry"  # something went wrong; the same offer can still work
    RECEIVED = "received"
    FAILED = "failed"  # finished without a credential in the wallet
    EXPIRED = "expired"
    CANCELLED = "cancelled"


FINAL_STAGES = frozenset({Stage.RECEIVED, Stage.FAILED, Stage.EXPIRED, Stage.CANCELLED})
ANOTHER = "make a new one with Another credential for this person"
EXPIRED_TEXT = "This offer has expired. Please ask the desk for a new one."


@dataclass(frozen=True)
class Outcome:
    stage: Stage
    desk: str  # for the operator, with what to do when something went wrong
    customer: str  # for the person at the desk, never a code or an id

    @property
    def final(self) -> bool:
        return self.stage in FINAL_STAGES

    @property
    def shows_code(self) -> bool:
        """Whether the QR code is still worth showing: the wallet has not finished with it."""
        return self.stage in (Stage.WAITING, Stage.SCANNED, Stage.RETRY)


def outcome_of(status: dict[str, Any], now: float) -> Outcome:
    state = OfferState(status["state"])
    timeline = status["timeline"]
    if state == OfferState.ISSUED:
        return _received(status)
    if state == OfferState.CANCELLED:
        at = _clock(timeline[-1]["at"]) if timeline else ""
        return Outcome(
            Stage.CANCELLED,
            f"Cancelled at {at}: its QR code no longer works.",
            "This offer was cancelled. Please ask the desk.",
        )
    if state == OfferState.EXPIRED or (
        state in (OfferState.CREATED, OfferState.FETCHED) and status["expires_at"] < now
    ):
        return Outcome(
            Stage.EXPIRED,
            f"This offer expired at {_clock(status['expires_at'])} before the wallet took it: {ANOTHER}.",
            EXPIRED_TEXT,
        )
    if state == OfferState.BURNED:
        return Outcome(
            Stage.FAILED,
            f"Blocked: its code was mistyped too often or used twice, so it no longer works; {ANOTHER}.",
            "This code no longer works. Please ask the desk for a new one.",
        )
    if state in (OfferState.REJECTED, OfferState.DENIED):
        return Outcome(
            Stage.FAILED, "Rejected at the desk: nothing was issued.", "The desk did not issue this credential."
        )
    if state == OfferState.PENDING:
        return Outcome(
            Stage.APPROVAL,
            "The wallet waits for approval: approve or reject it on the Offers page.",
            "Almost done: the desk is checking your request.",
        )
    last: dict[str, Any] = timeline[-1] if timeline else {"event": ""}
    detail: dict[str, Any] = last.get("detail") or {}
    if last["event"] == "credential_failed":
        reason = detail.get("reason") or detail.get("error") or "no reason given"
        return Outcome(
            Stage.RETRY,
            f"The wallet's request was refused ({reason}). Ask the person to scan the code again; "
            f"if it fails again, {ANOTHER}.",
            "Something went wrong. Please try again or ask the desk.",
        )
    if last["event"] == "token_failed":
        left = detail.get("attempts_left")
        return Outcome(
            Stage.RETRY,
            f"Wrong transaction code, {left} attempt{'s' if left != 1 else ''} left: read the code out again.",
            "That code is not right. Please check the code the desk gave you.",
        )
    if state == OfferState.CREATED:
        return Outcome(Stage.WAITING, "Waiting for the wallet to scan the code.", "Scan with your wallet")
    return Outcome(Stage.SCANNED, "Scanned: the wallet is taking the credential…", "Follow the steps in your wallet")


def _received(status: dict[str, Any]) -> Outcome:
    at = _clock(status["issued"][-1]["at"]) if status["issued"] else ""
    reports = [step["detail"]["event"] for step in status["timeline"] if step["event"] == "notification_received"]
    if reports and reports[-1] in ("credential_failure", "credential_deleted"):
        return Outcome(
            Stage.FAILED,
            f"Sent to the wallet at {at}, but the wallet reports it did not keep it: {ANOTHER}.",
            "Your wallet did not keep the credential. Please ask the desk.",
        )
    return Outcome(Stage.RECEIVED, f"Received by the wallet at {at} ✓", "Done, you can put your phone away")


def _clock(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%H:%M")
