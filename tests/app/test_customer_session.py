"""One customer at a time on the New offer page: nothing of one person is carried into the next.

The first two tests are the trials that found the problem: an offer for a second person linked to
the first person's holder record, and a replacement that revoked a card with no warning."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtGui import QKeySequence
from pytestqt.qtbot import QtBot

from app import confirm
from app.window import MainWindow
from issuer.records.holders import HolderRequest
from issuer.service.types import FINISHED
from tests.app.helpers import create_offer, settle
from tests.app.test_desk_flow import BADGE, fill
from wallet.client import TestWallet

ALAN = {"given_name": "Alan", "family_name": "Turing", "employee_id": "E-1912"}


class Answers:
    """`confirm.ask` for tests: the questions asked, and the answer given to each."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, answer: bool) -> None:
        self.answer = answer
        self.questions: list[str] = []
        monkeypatch.setattr(confirm, "ask", self.ask)

    def ask(self, _parent: object, _title: str, question: str, yes: str = "Yes") -> bool:
        self.questions.append(question)
        return self.answer


def ada(window: MainWindow) -> dict[str, Any]:
    return window.service.desk.register_holder(HolderRequest("Ada", "Lovelace", "passport", "X-12345678"), "Ada")


def test_trial_a_then_new_customer_then_b_carries_nothing_of_a(qtbot: QtBot, window: MainWindow) -> None:
    compose = window.compose
    compose.use_holder(ada(window))
    fill(window, {"employee_id": "E-1815", "department": "Engines"})
    first = create_offer(qtbot, window)
    assert window.service.offers.status(first.offer_id)["holder_name"] == "Ada Lovelace"

    compose.new_customer_button.click()
    assert [compose.field(n).text() for n in BADGE] == ["", "", "", ""]
    assert not compose.holder_chip.isVisibleTo(compose) and compose.qr.text == "" and compose.link.text() == ""
    assert window.customer_display.idle
    fill(window, ALAN)
    second = create_offer(qtbot, window)
    offer = window.service.offers.get(second.offer_id)
    assert offer is not None and offer.holder_id is None
    assert dict(offer.claims) == {"employee_badge": ALAN}


def unfinished_offers(window: MainWindow) -> list[dict[str, Any]]:
    """Offers a wallet could still take; an issued one stays live while its access token lasts."""
    return [offer for offer in window.service.offers.live() if offer["state"] not in FINISHED]


def test_trial_replace_then_change_person_revokes_nothing_without_the_named_confirmation(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    compose = window.compose
    compose.use_holder(ada(window))
    fill(window, {"employee_id": "E-1815"})
    compose.tx_code.setChecked(False)
    with TestWallet() as wallet:
        (card,) = wallet.receive(create_offer(qtbot, window).offer_uri)
    record_id = card.notification_id
    assert record_id is not None
    record = window.service.ledger.record(record_id)
    holder = window.service.desk.holder(record["holder_id"])
    window.ledger.replace_requested.emit(record, holder)
    assert window.tabs.currentWidget() is compose
    banner = compose.replaces_label.text()
    assert "Ada Lovelace's Employee Badge" in banner and record_id in banner
    assert not compose.type_picker.isEnabled()
    compose.type_picker.setCurrentIndex(compose.type_picker.findData("membership_card"))
    assert compose.type_picker.currentData() == "employee_badge"  # a replacement keeps its type

    assert compose.field("given_name").text() == "Ada"  # filled from her record
    fill(window, ALAN)  # another person's name typed in
    answers = Answers(monkeypatch, answer=False)
    compose.create_button.click()
    settle(qtbot, window.tasks)
    assert len(answers.questions) == 1
    assert "Ada Lovelace's Employee Badge" in answers.questions[0] and record_id in answers.questions[0]
    assert window.service.ledger.record(record_id)["state"] == "valid"
    assert not compose.locked and unfinished_offers(window) == []

    answers.answer = True
    create_offer(qtbot, window)
    assert len(answers.questions) == 2 and window.service.ledger.record(record_id)["state"] == "revoked"


def test_leaving_the_session_drops_the_replace_target(qtbot: QtBot, window: MainWindow) -> None:
    compose = window.compose
    record = {"id": "000001-1-abcdefabcdef", "config_id": "membership_card", "holder_name": "Ada Lovelace"}
    compose.replace_credential(record, None)
    assert compose.replaces_label.isVisibleTo(compose) and compose.type_picker.currentData() == "membership_card"
    compose.new_customer()
    assert compose.replaces_label.text() == "" and compose.type_picker.isEnabled()
    fill(window, {"given_name": "Ada", "family_name": "Lovelace", "member_id": "M-1"})
    created = create_offer(qtbot, window)
    assert window.service.offers.live()[0]["offer_id"] == created.offer_id  # made, and nothing revoked


def test_after_create_the_form_is_read_only_until_the_next_customer(qtbot: QtBot, window: MainWindow) -> None:
    compose = window.compose
    compose.use_holder(ada(window))
    fill(window, {"employee_id": "E-1815"})
    assert compose.new_customer_button.text() == "New customer" and not compose.another_button.isVisibleTo(compose)
    create_offer(qtbot, window)
    assert all(compose.field(n).isReadOnly() for n in BADGE)
    assert not compose.type_picker.isEnabled() and not compose.create_button.isEnabled()
    assert not compose.tx_code.isEnabled() and not compose.unlink_button.isVisibleTo(compose)
    assert compose.new_customer_button.text() == "Next customer" and compose.another_button.isVisibleTo(compose)
    compose.create_offer()  # nothing happens: the offer is made
    settle(qtbot, window.tasks)
    assert len(window.service.offers.live()) == 1

    compose.another_button.click()  # a second credential for Ada: her link and name stay
    assert compose.holder_label.text() == "For: Ada Lovelace" and compose.field("given_name").text() == "Ada"
    assert compose.field("employee_id").text() == "" and not compose.field("given_name").isReadOnly()
    assert compose.qr.text == "" and compose.create_button.isEnabled()
    compose.type_picker.setCurrentIndex(compose.type_picker.findData("membership_card"))
    fill(window, {"member_id": "M-7"})
    second = create_offer(qtbot, window)
    assert window.service.offers.status(second.offer_id)["holder_name"] == "Ada Lovelace"


def test_ctrl_n_is_new_customer_from_any_page(qtbot: QtBot, window: MainWindow) -> None:
    fill(window, ALAN)
    window.tabs.setCurrentWidget(window.ledger)
    assert window.new_customer_action.shortcut() == QKeySequence(QKeySequence.StandardKey.New)
    window.new_customer_action.trigger()
    assert window.tabs.currentWidget() is window.compose and window.compose.field("given_name").text() == ""


def test_choosing_a_holder_fills_every_field_after_asking(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    compose = window.compose
    grace = window.service.desk.register_holder(HolderRequest("Grace", "Hopper", "passport", "P-19061209"), "Ada")
    fill(window, ALAN)
    answers = Answers(monkeypatch, answer=False)
    compose.use_holder(grace)
    assert compose.field("given_name").text() == "Alan" and not compose.holder_chip.isVisibleTo(compose)
    answers.answer = True
    compose.use_holder(grace)
    assert "Grace Hopper" in answers.questions[-1]
    assert [compose.field(n).text() for n in BADGE] == ["Grace", "Hopper", "", ""]  # Alan's number is gone
    assert compose.holder_label.text() == "For: Grace Hopper"
    compose.use_holder(grace)  # filled from the record, nothing typed: no question
    assert len(answers.questions) == 2

    compose.unlink_button.click()  # the chip's ×
    assert not compose.holder_chip.isVisibleTo(compose) and compose.field("given_name").text() == "Grace"
    fill(window, {"employee_id": "E-1906"})
    created = create_offer(qtbot, window)
    assert window.service.offers.status(created.offer_id)["holder_id"] is None


def test_options_keep_their_own_state(window: MainWindow) -> None:
    compose = window.compose
    assert compose.tx_code.isChecked()
    compose.sign_in_grant.setChecked(True)
    assert not compose.tx_code.isEnabled() and not compose.tx_code.isChecked()
    compose.sign_in_grant.setChecked(False)
    assert compose.tx_code.isEnabled() and compose.tx_code.isChecked()
    compose.tx_code.setChecked(False)
    compose.deferred.setChecked(True)
    compose.sign_in_grant.setChecked(True)
    compose.sign_in_grant.setChecked(False)
    assert not compose.tx_code.isChecked() and compose.deferred.isChecked()
    compose.by_reference.setChecked(False)
    compose.new_customer()  # back to the defaults
    assert compose.tx_code.isChecked() and not compose.deferred.isChecked() and compose.by_reference.isChecked()


def test_a_message_clears_when_its_cause_is_fixed(qtbot: QtBot, window: MainWindow) -> None:
    compose = window.compose
    fill(window, {"given_name": "Alan", "family_name": "Turing"})
    compose.create_offer()
    settle(qtbot, window.tasks)
    assert compose.error.text() == "Employee number is required"
    compose.field("department").setText("Codebreaking")  # not the cause
    assert compose.error.text() == "Employee number is required"
    compose.field("employee_id").setText("E-1912")
    assert compose.error.text() == ""
