"""The issuer's events as Server-Sent Events (HTML Living Standard §9.2) for remote desks.

A bounded ring keeps the latest events with ids `<run>-<n>`: `run` names this process's run, `n`
counts up. A desk that reconnects with `Last-Event-ID` gets what it missed while the ring still
holds it; an id of another run (the process restarted, or a balancer sent the desk to another
process) or one already dropped from the ring gets a `reset` event first, telling the desk to
read its lists again.

A stream holds one Waitress thread for as long as the desk is connected, so a process serves at
most `max_streams` at once (a desk beyond that gets 503 and retries); a comment line every
`heartbeat` seconds lets Waitress notice a desk that went away, and ends the stream when the
feed closes (the server stopping).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

from issuer.errors import ServiceError
from issuer.events import Event, EventBus

RING_SIZE = 1000
HEARTBEAT = 15.0
RETRY_MS = 2000


class TooManyStreams(ServiceError):
    status = 503
    code = "temporarily_unavailable"


class EventFeed:
    def __init__(
        self, bus: EventBus, *, max_streams: int = 4, ring_size: int = RING_SIZE, heartbeat: float = HEARTBEAT
    ) -> None:
        self.run = secrets.token_hex(4)
        self.max_streams = max_streams
        self.heartbeat = heartbeat
        self._ring: deque[tuple[int, str]] = deque(maxlen=ring_size)
        self._next = 1
        self._changed = threading.Condition()
        self._streams = 0
        self._closed = False
        self._unsubscribe = bus.subscribe(self._append)

    def _append(self, event: Event) -> None:
        body = json.dumps(
            {"kind": event.kind, "offer_id": event.offer_id, "detail": event.detail, "at": event.at},
            default=str,
            separators=(",", ":"),
        )
        with self._changed:
            self._ring.append((self._next, body))
            self._next += 1
            self._changed.notify_all()

    def close(self) -> None:
        """End every stream at its next wake-up, and take no more events."""
        self._unsubscribe()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def streams(self) -> int:
        with self._changed:
            return self._streams

    def open_stream(self, last_event_id: str | None) -> Iterator[bytes]:
        """A stream, counted against `max_streams` until the desk goes away; raises TooManyStreams."""
        with self._changed:
            if self._closed or self._streams >= self.max_streams:
                raise TooManyStreams(f"this issuer process serves at most {self.max_streams} desks' event streams")
            self._streams += 1
            after, reset = self._resume_point(last_event_id)
        return self._stream(after, reset)

    def _resume_point(self, last_event_id: str | None) -> tuple[int, bool]:
        """Where a stream starts (the last id it has seen), and whether the desk must read its lists again."""
        newest = self._next - 1
        if not last_event_id:
            return newest, False
        run, _, number = last_event_id.partition("-")
        if run != self.run or not number.isdigit():
            return newest, True
        seen = int(number)
        oldest = self._ring[0][0] if self._ring else self._next
        if seen > newest or seen < oldest - 1:
            return newest, True
        return seen, False

    def _stream(self, after: int, reset: bool) -> Iterator[bytes]:
        try:
            # The id names where this stream starts, so that a desk that has seen no event yet still
            # resumes from here, or hears that it cannot, after a break (HTML §9.2.6: an id without
            # data sets the last event ID).
            yield f"retry: {RETRY_MS}\nid: {self.run}-{after}\n: connected\n\n".encode()
            if reset:
                yield f"id: {self.run}-{after}\nevent: reset\ndata: {{}}\n\n".encode()
            while True:
                with self._changed:
                    pending = [(n, body) for n, body in self._ring if n > after]
                    if not pending and not self._closed:
                        self._changed.wait(self.heartbeat)
                        pending = [(n, body) for n, body in self._ring if n > after]
                    closed = self._closed
                if closed:
                    return
                if not pending:
                    yield b": heartbeat\n\n"
                for number, body in pending:
                    yield f"id: {self.run}-{number}\nevent: issuer\ndata: {body}\n\n".encode()
                    after = number
        finally:
            with self._changed:
                self._streams -= 1


def stream_headers() -> dict[str, Any]:
    return {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
