"""Live events over Server-Sent Events (`GET /api/events`): events arrive as they happen, a desk that
reconnects with Last-Event-ID gets what it missed, an unknown id asks it to read its lists again,
streams are capped per process, and the remote client feeds them into its own event bus."""

from __future__ import annotations

import json
import queue
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import IO, Any

import pytest

from issuer import events
from issuer.config import Settings
from issuer.events import Event
from issuer.remote import RemoteIssuer
from issuer.remote.events import DESK_OFFLINE, DESK_ONLINE, DESK_RESYNC
from issuer.runtime import IssuerRuntime
from tests.conftest import KEY_PASSPHRASE, RunningIssuer
from tests.e2e.helpers import BADGE_CLAIMS
from tests.e2e.test_desk_login import PASSWORD, call

OFFER = {"credential_configuration_ids": ["employee_badge"], "claims": BADGE_CLAIMS}


def open_stream(issuer: RunningIssuer, last_event_id: str | None = None) -> IO[bytes]:
    request = urllib.request.Request(f"{issuer.admin_url}/api/events")
    request.add_header("Authorization", f"Bearer {issuer.admin_token}")
    if last_event_id:
        request.add_header("Last-Event-ID", last_event_id)
    response: IO[bytes] = urllib.request.urlopen(request, timeout=10)
    return response


def messages(stream: IO[bytes]) -> Iterator[dict[str, str]]:
    fields: dict[str, str] = {}
    for raw in stream:
        line = raw.decode().rstrip("\n")
        if not line:
            if fields:
                yield fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = value


def next_events(stream: IO[bytes], count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for message in messages(stream):
        if message.get("event") == "issuer":
            found.append({"id": message["id"], **json.loads(message["data"])})
        elif message.get("event") == "reset":
            found.append({"id": message["id"], "kind": "reset"})
        if len(found) == count:
            return found
    raise AssertionError("the stream ended")


def test_events_arrive_as_they_happen(issuer: RunningIssuer) -> None:
    with open_stream(issuer) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        _, made = call(f"{issuer.admin_url}/api/offers", "POST", OFFER, issuer.admin_token)
        call(f"{issuer.admin_url}/api/offers/{made['offer_id']}/cancel", "POST", {}, issuer.admin_token)
        first, second = next_events(stream, 2)
    assert (first["kind"], first["offer_id"]) == (events.OFFER_CREATED, made["offer_id"])
    assert (second["kind"], second["offer_id"]) == (events.OFFER_CANCELLED, made["offer_id"])
    run, number = first["id"].split("-")
    assert second["id"] == f"{run}-{int(number) + 1}"


def test_a_desk_that_reconnects_gets_the_events_it_missed(issuer: RunningIssuer) -> None:
    bus = issuer.service.events
    with open_stream(issuer) as stream:
        bus.publish(Event(events.OFFER_FETCHED, "first"))
        [seen] = next_events(stream, 1)
    for offer_id in ("missed-1", "missed-2"):  # while the desk is away
        bus.publish(Event(events.OFFER_FETCHED, offer_id))
    with open_stream(issuer, seen["id"]) as stream:
        resumed = next_events(stream, 2)
    assert [event["offer_id"] for event in resumed] == ["missed-1", "missed-2"]


@pytest.mark.parametrize("last_event_id", ["00000000-1", "garbage", "-5"])
def test_an_id_the_process_cannot_resume_from_asks_for_a_reread(issuer: RunningIssuer, last_event_id: str) -> None:
    issuer.service.events.publish(Event(events.OFFER_FETCHED, "before"))
    with open_stream(issuer, last_event_id) as stream:
        [reset] = next_events(stream, 1)
        issuer.service.events.publish(Event(events.OFFER_FETCHED, "after"))
        [after] = next_events(stream, 1)
    assert reset["kind"] == "reset"
    assert after["offer_id"] == "after"


def test_the_stream_needs_a_token(issuer: RunningIssuer) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{issuer.admin_url}/api/events", timeout=5)
    assert refused.value.code == 401
    assert json.loads(refused.value.read())["error"] == "invalid_token"


def test_streams_beyond_the_limit_are_told_to_come_back(issuer: RunningIssuer) -> None:
    limit = issuer.service.settings.desk_streams
    streams = [open_stream(issuer) for _ in range(limit)]
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            open_stream(issuer)
        assert refused.value.code == 503
        assert json.loads(refused.value.read())["error"] == "temporarily_unavailable"
        call_status = urllib.request.urlopen(  # other admin routes still answer
            urllib.request.Request(
                f"{issuer.admin_url}/api/offers", headers={"Authorization": f"Bearer {issuer.admin_token}"}
            ),
            timeout=5,
        ).status
        assert call_status == 200
    finally:
        for stream in streams:
            stream.close()


def test_a_desk_turned_away_is_told_why(issuer: RunningIssuer) -> None:
    """A desk beyond `desk_streams` hears the issuer's reason with its DESK_OFFLINE, not only "lost"."""
    issuer.service.operators.create_first("ada", PASSWORD)
    limit = issuer.service.settings.desk_streams
    streams = [open_stream(issuer) for _ in range(limit)]
    remote = RemoteIssuer(issuer.admin_url)
    remote.operators.login("ada", PASSWORD)
    received: queue.Queue[Event] = queue.Queue()
    remote.events.subscribe(received.put)
    try:
        remote.connect()
        event = received.get(timeout=10)
        assert event.kind == DESK_OFFLINE
        assert f"serves at most {limit} desks' event streams" in event.detail["reason"]
    finally:
        remote.close()
        for stream in streams:
            stream.close()


def test_the_remote_client_publishes_the_issuers_events_on_its_bus(issuer: RunningIssuer) -> None:
    issuer.service.operators.create_first("ada", PASSWORD)
    remote = RemoteIssuer(issuer.admin_url)
    remote.operators.login("ada", PASSWORD)
    remote.connect()
    received: queue.Queue[Event] = queue.Queue()
    remote.events.subscribe(received.put)
    try:
        issuer.service.events.publish(Event(events.CREDENTIAL_ISSUED, "offer-1", {"count": 1}))
        event = received.get(timeout=10)
        assert (event.kind, event.offer_id, event.detail, event.remote) == (
            events.CREDENTIAL_ISSUED,
            "offer-1",
            {"count": 1},
            True,
        )
    finally:
        remote.close()


def test_a_broken_stream_is_published_at_every_attempt_and_its_return_once(issuer: RunningIssuer) -> None:
    issuer.service.operators.create_first("ada", PASSWORD)
    remote = RemoteIssuer(issuer.admin_url)
    remote.operators.login("ada", PASSWORD)
    remote.connect()
    admin_port = int(issuer.admin_url.rsplit(":", 1)[1])
    issuer.runtime.stop()
    try:
        late: queue.Queue[Event] = queue.Queue()
        time.sleep(0.5)  # the first DESK_OFFLINE is published before this listener exists
        remote.events.subscribe(late.put)
        offline = late.get(timeout=10)  # the next failed attempt says it again
        assert offline.kind == DESK_OFFLINE and offline.detail == {}  # nobody answered: no reason to give
        shared = issuer.service.settings  # on PostgreSQL, the same store
        again = IssuerRuntime(
            Settings.load(
                data_dir=issuer.data_dir,
                port=0,
                admin_port=admin_port,
                store_url=shared.store_url,
                store_password_file=shared.store_password_file,
            ),
            key_passphrase=KEY_PASSPHRASE if shared.store_url else None,
        )
        again.start()  # the same folder and admin port: another run, which cannot replay
        assert again.service is not None
        try:
            kinds = [late.get(timeout=10).kind]
            while kinds[-1] != DESK_RESYNC:
                kinds.append(late.get(timeout=10).kind)
            assert set(kinds[:-2]) <= {DESK_OFFLINE} and kinds[-2:] == [DESK_ONLINE, DESK_RESYNC]
            again.service.events.publish(Event(events.OFFER_CREATED, "offer-2"))
            assert late.get(timeout=10).offer_id == "offer-2"
        finally:
            again.stop()
    finally:
        remote.close()
