"""What the processes sharing a store tell each other, over LISTEN/NOTIFY: events for every desk's
tables, changed status list entries, changed key files.

Each process has an origin id and ignores its own notices, so nothing it published comes back to
it doubled. A notice sent inside a transaction is delivered when it commits, never when it rolls
back. Events are sent by a thread of their own, after the change they tell of has committed, so
a request never waits for them; they serve the desks' tables, and a desk reading the store again
loses nothing if one is lost. When the listening connection breaks, notices may have been missed:
the `missed` callbacks then read again what they cache.
"""

from __future__ import annotations

import json
import logging
import queue
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any

import psycopg
from psycopg import sql

from issuer.events import Event, EventBus
from issuer.storage.postgres.database import CONNECT_TIMEOUT, Database, StoreError

EVENTS_CHANNEL = "frontdesk_events"
STATUS_CHANNEL = "frontdesk_status"
KEYS_CHANNEL = "frontdesk_keys"
CHANNELS = (EVENTS_CHANNEL, STATUS_CHANNEL, KEYS_CHANNEL)
MAX_PAYLOAD = 7900  # PostgreSQL's limit is 8000 bytes
RECONNECT_AFTER = 1.0
WAKE_TIMEOUT = 2
BATCH = 100

Handler = Callable[[Mapping[str, Any]], None]

log = logging.getLogger(__name__)


class Notifications:
    def __init__(self, db: Database) -> None:
        self.origin = secrets.token_hex(8)
        self._db = db
        self._handlers: dict[str, list[Handler]] = {channel: [] for channel in CHANNELS}
        self._missed: list[Callable[[], None]] = []
        self._stopped = threading.Event()
        self._listening = threading.Event()
        self._outbox: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
        self._listener = threading.Thread(target=self._listen, name="store-listener", daemon=True)
        self._sender = threading.Thread(target=self._send, name="store-sender", daemon=True)

    def start(self) -> None:
        self._listener.start()
        self._sender.start()
        if not self._listening.wait(CONNECT_TIMEOUT):
            self.close()
            raise StoreError(f"cannot listen for the other processes' changes at {self._db.url}")

    def on(self, channel: str, handler: Handler) -> None:
        self._handlers[channel].append(handler)

    def on_missed(self, callback: Callable[[], None]) -> None:
        self._missed.append(callback)

    def announce(
        self, connection: psycopg.Connection[tuple[Any, ...]], channel: str, message: Mapping[str, Any]
    ) -> None:
        """A notice sent on `connection`: inside its transaction, delivered at commit."""
        connection.execute("SELECT pg_notify(%s, %s)", (channel, self._payload(message)))

    def relay(self, bus: EventBus) -> None:
        """This process's events to the others, theirs onto `bus`."""

        def outgoing(event: Event) -> None:
            if not event.remote:
                message = {"k": event.kind, "id": event.offer_id, "d": event.detail, "at": event.at}
                self._outbox.put((EVENTS_CHANNEL, self._payload(message)))

        def incoming(message: Mapping[str, Any]) -> None:
            detail = message.get("d") or {}
            bus.publish(Event(str(message["k"]), str(message["id"]), dict(detail), float(message["at"]), remote=True))

        bus.subscribe(outgoing)
        self.on(EVENTS_CHANNEL, incoming)

    def close(self) -> None:
        self._stopped.set()
        self._outbox.put(None)
        if self._sender.is_alive():
            self._sender.join(CONNECT_TIMEOUT)
        if self._listener.is_alive():
            self._wake_listener()
            self._listener.join(CONNECT_TIMEOUT)

    def _wake_listener(self) -> None:
        """A notice of this process's own, which it ignores, so that the listener sees it should stop."""
        try:
            with psycopg.connect(self._db.conninfo, autocommit=True, connect_timeout=WAKE_TIMEOUT) as connection:
                self.announce(connection, KEYS_CHANNEL, {})
        except psycopg.Error:
            pass  # the database is gone: the listener stops at its next timeout

    def _payload(self, message: Mapping[str, Any]) -> str:
        text = json.dumps({**message, "o": self.origin}, separators=(",", ":"), default=str)
        if len(text.encode()) > MAX_PAYLOAD and "d" in message:  # an event's detail is what can grow
            text = json.dumps({**message, "d": {}, "o": self.origin}, separators=(",", ":"), default=str)
        return text

    def _listen(self) -> None:
        connected_before = False
        while not self._stopped.is_set():
            try:
                with self._db.connect() as connection:
                    for channel in CHANNELS:
                        connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    if connected_before:
                        self._call_missed()
                    connected_before = True
                    self._listening.set()
                    while not self._stopped.is_set():
                        for notice in connection.notifies(timeout=0.5):
                            if self._stopped.is_set():
                                break
                            self._dispatch(notice.channel, notice.payload)
            except (psycopg.Error, StoreError) as error:
                log.warning("listening to the store: %s; connecting again", str(error).strip().splitlines()[0])
                self._stopped.wait(RECONNECT_AFTER)

    def _dispatch(self, channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if not isinstance(message, dict) or message.get("o") == self.origin:
            return
        for handler in self._handlers.get(channel, []):
            try:
                handler(message)
            except Exception:
                log.exception("a handler of %s notices failed", channel)

    def _call_missed(self) -> None:
        for callback in self._missed:
            try:
                callback()
            except Exception:
                log.exception("reading the store again after a lost connection failed")

    def _send(self) -> None:
        while True:
            item = self._outbox.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < BATCH:
                try:
                    following = self._outbox.get_nowait()
                except queue.Empty:
                    break
                if following is None:
                    self._outbox.put(None)
                    break
                batch.append(following)
            try:
                with self._db.autonomous() as connection, connection.pipeline():
                    for channel, text in batch:
                        connection.execute("SELECT pg_notify(%s, %s)", (channel, text))
            except (psycopg.Error, StoreError) as error:
                log.warning("%d events were not relayed to the other processes: %s", len(batch), error)
