"""A remote desk whose issuer stops mid-session: the window says so in plain words, what the
operator tries meanwhile is refused with the reason, and when `serve` runs again on the same port
and folder the event stream comes back (Last-Event-ID), the window says so, and the tables catch
up with what changed while the desk was away."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.connection_watch import BACK, LOGIN_ENDED, LOST
from app.window import MainWindow
from issuer.remote import RemoteIssuer
from issuer.service import OfferRequest
from tests.app.helpers import TIMEOUT_MS, create_offer, settle
from tests.app.remote_desk import OPERATOR, ServedIssuer, remote_window, served  # noqa: F401 - fixtures
from tests.app.test_desk_flow import BADGE, fill, row_state
from tests.conftest import running_issuer

RECONNECT_MS = 30_000


def test_the_desk_says_the_issuer_is_gone_and_catches_up_when_it_returns(
    qtbot: QtBot,
    remote_window: MainWindow,  # noqa: F811
    served: ServedIssuer,  # noqa: F811
) -> None:
    window = remote_window
    fill(window, BADGE)
    before = create_offer(qtbot, window)
    qtbot.waitUntil(lambda: row_state(window, before.offer_id) == "created", timeout=TIMEOUT_MS)
    assert not window.connection_watch.lost

    served.stop()
    qtbot.waitUntil(lambda: window.connection_watch.lost, timeout=RECONNECT_MS)
    assert window.connection_watch.label.text() == LOST
    window.compose.new_customer()
    fill(window, BADGE)
    window.compose.create_offer()
    settle(qtbot, window.tasks)
    assert "cannot be reached" in window.compose.error.text()

    # While the desk is away, the folder's issuer makes an offer (as another desk or the command
    # line would): no event of it ever reaches this desk, only the reread after the restart.
    with running_issuer(served.data_dir) as offline:
        made_meanwhile = offline.service.offers.create(
            OfferRequest(["employee_badge"], {**BADGE, "given_name": "Grace"}, operator=OPERATOR)
        )
    served.start()
    qtbot.waitUntil(lambda: not window.connection_watch.lost, timeout=RECONNECT_MS)
    assert window.statusBar().currentMessage() == BACK
    qtbot.waitUntil(lambda: window.offers_model.row_of(made_meanwhile.offer_id) is not None, timeout=TIMEOUT_MS)
    assert row_state(window, before.offer_id) == "created"

    served.admin("POST", f"/api/offers/{before.offer_id}/cancel", {"operator": OPERATOR})
    qtbot.waitUntil(lambda: row_state(window, before.offer_id) == "cancelled", timeout=TIMEOUT_MS)  # live again
    again = create_offer(qtbot, window)  # the login outlived the restart
    assert served.admin("GET", f"/api/offers/{again.offer_id}")["state"] == "created"


def test_a_login_that_ended_while_the_issuer_was_away_says_to_log_in_again(
    qtbot: QtBot,
    remote_window: MainWindow,  # noqa: F811
    served: ServedIssuer,  # noqa: F811
) -> None:
    window = remote_window
    assert isinstance(window.service, RemoteIssuer)
    served.admin_token = window.service.connection.token
    assert served.admin("POST", "/api/logout")["logged_out"] is True  # the desk's login, ended from elsewhere
    served.stop()  # the open stream outlives the logout; the next one is refused
    qtbot.waitUntil(lambda: window.connection_watch.lost, timeout=RECONNECT_MS)
    served.start()
    qtbot.waitUntil(lambda: window.connection_watch.label.text() == LOGIN_ENDED, timeout=RECONNECT_MS)
    fill(window, BADGE)
    window.compose.create_offer()
    settle(qtbot, window.tasks)
    assert "log in again" in window.compose.error.text()
