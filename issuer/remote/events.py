"""The issuer's event stream (`GET /api/events`, Server-Sent Events) fed into a local EventBus.

A background thread reads the stream and publishes each event on the bus, as the embedded issuer
does on its own threads, so the app's bridge works unchanged. When the stream breaks it reconnects
with `Last-Event-ID`, after the delay the server asked for; a `reset` (the server could not
replay what was missed) is published as DESK_RESYNC for the pages to read their lists again.
A stream that breaks is published as DESK_OFFLINE (again at each failed attempt; with the issuer's
`reason` when it answered and refused, such as a process serving all the desks it may), and its return
as DESK_ONLINE, so that the window can say the issuer cannot be reached while it cannot. A stream
refused because the login ended (expired, logged out) is published as DESK_LOGIN_ENDED and not
tried again.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading

from issuer.errors import ServiceError
from issuer.events import Event, EventBus
from issuer.remote.connection import AdminConnection, LoginEnded

log = logging.getLogger(__name__)

DESK_RESYNC = "desk_resync"
DESK_OFFLINE = "desk_offline"
DESK_ONLINE = "desk_online"
DESK_LOGIN_ENDED = "desk_login_ended"
READ_TIMEOUT = 45.0  # three heartbeats: a silent stream is a dead one
RETRY_DEFAULT = 2.0


class EventStream:
    def __init__(self, connection: AdminConnection, bus: EventBus) -> None:
        self._connection = connection
        self._bus = bus
        self._stopped = threading.Event()
        self._connected = threading.Event()
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self.last_event_id: str | None = None
        self._retry = RETRY_DEFAULT
        self._offline = False
        self._thread = threading.Thread(target=self._run, name="issuer-events", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            sock = self._socket
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the reader at once
            except OSError:
                pass
        self._thread.join(2)

    def _run(self) -> None:
        while not self._stopped.is_set():
            refusal = ""  # what the issuer said when it refused the stream, if it did
            try:
                self._read_once()
            except LoginEnded:
                self._bus.publish(Event(DESK_LOGIN_ENDED, "", remote=True))
                return
            except ServiceError as error:  # the issuer answered, and refused: say why
                refusal = error.message
            except (OSError, ValueError, http.client.HTTPException) as error:
                if not self._stopped.is_set():
                    log.info("the issuer's event stream broke (%s); reconnecting", error)
            self._connected.clear()
            if not self._stopped.is_set():  # at every failed attempt: a listener may have come since
                self._offline = True
                detail = {"reason": refusal} if refusal else {}
                self._bus.publish(Event(DESK_OFFLINE, "", detail, remote=True))
            self._stopped.wait(self._retry)

    def _read_once(self) -> None:
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        sock, response = self._connection.open_stream("/api/events", headers, READ_TIMEOUT)
        with self._lock:
            self._socket = sock
        try:
            self._connected.set()
            if self._offline:
                self._offline = False
                self._bus.publish(Event(DESK_ONLINE, "", remote=True))
            fields: dict[str, str] = {}
            for raw in response:
                if self._stopped.is_set():
                    return
                line = raw.decode("utf-8").rstrip("\r\n")
                if line:
                    name, _, value = line.partition(":")
                    if name:  # a line starting with ':' is a comment (the heartbeat)
                        fields[name] = fields.get(name, "") + value.removeprefix(" ")
                    continue
                self._dispatch(fields)
                fields = {}
        finally:
            with self._lock:
                self._socket = None
            response.close()
            sock.close()

    def _dispatch(self, fields: dict[str, str]) -> None:
        """One event, at its blank line (HTML §9.2.6)."""
        if "retry" in fields and fields["retry"].isdigit():
            self._retry = int(fields["retry"]) / 1000
        if "id" in fields:
            self.last_event_id = fields["id"]
        kind = fields.get("event")
        if kind == "reset":
            self._bus.publish(Event(DESK_RESYNC, "", remote=True))
        elif kind == "issuer" and "data" in fields:
            data = json.loads(fields["data"])
            self._bus.publish(Event(data["kind"], data["offer_id"], data.get("detail") or {}, data["at"], remote=True))
