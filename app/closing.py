"""What closing the window stops, in plain words: the live offers and the approvals waiting.

The counts come from the offers table the window already holds (no service call while closing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QCoreApplication

from issuer.service import FINISHED, OfferState

UNREDEEMED = (OfferState.CREATED, OfferState.FETCHED)


def tr(text: str) -> str:
    return QCoreApplication.translate("Closing", text)


def counted(n: int, one: str, many: str) -> str:
    """`one` for a single thing, `many` (with {n}) otherwise: the words an operator reads."""
    return tr(one) if n == 1 else tr(many).format(n=n)


def counts(rows: Iterable[dict[str, Any]], now: float) -> tuple[int, int]:
    """(live offers, offers waiting for approval): an unscanned offer past its expiry is not live."""
    live = waiting = 0
    for row in rows:
        state = OfferState(row["state"])
        if state in FINISHED or (state in UNREDEEMED and row["expires_at"] <= now):
            continue
        live += 1
        waiting += state == OfferState.PENDING
    return live, waiting


def close_question(live: int, waiting: int, sign_ins: int = 0) -> str | None:
    """The question to ask before closing, or None when closing stops nothing."""
    if not (live or waiting or sign_ins):
        return None
    parts = []
    if live:
        parts.append(
            counted(
                live,
                "1 offer still live: wallets cannot scan or redeem it",
                "{n} offers still live: wallets cannot scan or redeem them",
            )
        )
    if waiting:
        parts.append(
            counted(waiting, "1 credential waiting for your approval", "{n} credentials waiting for your approval")
        )
    if sign_ins:
        parts.append(
            counted(sign_ins, "1 wallet sign-in waiting at the desk", "{n} wallet sign-ins waiting at the desk")
        )
    return tr("Closing stops the issuer until the app is started again:\n\n• {items}\n\nClose anyway?").format(
        items="\n• ".join(parts)
    )
