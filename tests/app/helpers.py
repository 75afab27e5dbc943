"""Waiting for the window's work: every service call of the app runs on its task thread."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.tasks import Tasks
from app.window import MainWindow
from issuer.service import CreatedOffer

TIMEOUT_MS = 10_000


def settle(qtbot: QtBot, tasks: Tasks) -> None:
    """Wait until every task asked for so far (and any its result asked for) has been handled."""
    qtbot.waitUntil(tasks.is_idle, timeout=TIMEOUT_MS)


def create_offer(qtbot: QtBot, window: MainWindow) -> CreatedOffer:
    """Press "Create offer" and wait for the offer the form made."""
    with qtbot.waitSignal(window.compose.offer_created, timeout=TIMEOUT_MS) as created:
        window.compose.create_button.click()
    offer: CreatedOffer = created.args[0]
    return offer
