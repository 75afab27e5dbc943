"""Waitress on a background thread: start on any port (0 picks a free one), stop cleanly, and share
its connections fairly between clients.

Waitress has no stop call. Closing its sockets from another thread can hang while a
keep-alive client is connected, so `stop` first lets the worker threads finish the requests
they serve (each wakes the loop through its trigger when done, which must still be open), then
asks the server's own loop, through that trigger, to close every channel, and joins its thread.

Waitress serves at most `connection_limit` connections and stops accepting beyond that, so one
client that opens that many and sends nothing blocks every other. Here each client address
(an IPv6 one by its /64) holds at most `per_client` connections, a connection beyond that is
closed as it is accepted, and a connection whose request is not complete `request_timeout`
seconds after it began (or after the connection opened, for the first) is closed, however
slowly it keeps sending. Connections from a trusted proxy are not capped: they carry many
clients. Polling replaces select(), which fails beyond 1,024 file descriptors.

With one thread (`inline`), a request is served on the server's own loop thread as soon as it
has arrived whole, instead of being handed to a worker thread and its answer handed back: no
queue, no wake-up of another thread, no trigger byte through a pipe per request. The store's
lock serializes the requests that write anyway; what is lost is reading other connections while
a request waits for its fsync, which costs latency under load, not CPU.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from waitress import utilities, wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

from issuer.web.guard import client_key

# Waitress warns on every queued request under load; the queue depth is not news to an operator.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)
log = logging.getLogger(__name__)

MAX_REQUEST_BODY = 1024 * 1024  # the apps refuse more than 64 KB; Waitress stops reading at 1 MB
CLEANUP_INTERVAL = 1  # seconds between Waitress's checks for connections to close


def _json_error_response(self: utilities.Error, ident: str | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
    """Waitress answers what it cannot parse (a malformed request line, headers or body over its
    limits) before any app sees the request; its plain-text page becomes the same JSON error
    the apps give, so a client never meets another format."""
    error = "server_error" if self.code >= 500 else "invalid_request"
    body = json.dumps({"error": error, "error_description": self.reason.lower()}).encode()
    headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
    return f"{self.code} {self.reason}", headers, body


# Waitress's stubs type the body as text; Waitress itself returns, and sends, bytes.
utilities.Error.to_response = _json_error_response  # type: ignore[method-assign, assignment]


@dataclass(frozen=True)
class ConnectionLimits:
    """How many connections the server holds, in all and per client address, and how long a request
    may take to arrive (issuer.config: max_connections, max_connections_per_client, request_timeout)."""

    total: int = 250
    per_client: int = 40
    request_timeout: float = 10.0
    uncapped: Collection[str] = ()  # addresses with no cap of their own: trusted proxies


class _Channel(HTTPChannel):
    """A connection whose every request must arrive whole within the server's request timeout."""

    server: _Server

    def __init__(self, server: _Server, sock: socket.socket, addr: Any, adj: Adjustments, map: Any = None) -> None:
        self.client = client_key(str(addr[0]))
        self.request_began: float | None = time.time()  # the request being received began; None between requests
        super().__init__(server, sock, addr, adj, map)

    def received(self, data: bytes) -> bool:
        if self.request_began is None and data:
            self.request_began = time.time()
        handled = super().received(data)
        if self.request is None:  # nothing partly received: the next request's time starts with its first byte
            self.request_began = None
        return handled

    def del_channel(self, map: Any = None) -> None:
        self.server.released(self)
        super().del_channel(map)

    def handle_read(self) -> None:
        super().handle_read()
        self.server.serve_arrived()

    def _flush_outbufs_below_high_watermark(self) -> None:
        """Served on the loop thread, an answer cannot wait for the loop to send what is buffered:
        what can be sent now is, and the loop sends the rest."""
        if not self.server.inline:
            super()._flush_outbufs_below_high_watermark()  # type: ignore[misc]  # private in the stubs
        elif self.total_outbufs_len > self.adj.outbuf_high_watermark:
            self._flush_exception(self._flush_some, do_close=False)  # type: ignore[attr-defined]


class _InlineDispatcher:
    """Waitress's task dispatcher for `inline` serving: a channel whose request has arrived is noted
    while Waitress holds the channel's lock, and served once the read that completed it returns."""

    def __init__(self) -> None:
        self.arrived: deque[Any] = deque()

    def add_task(self, channel: Any) -> None:
        self.arrived.append(channel)

    def set_thread_count(self, count: int) -> None:
        """No threads: requests are served on the loop's."""

    def shutdown(self, cancel_pending: bool = True, timeout: int = 5) -> bool:
        self.arrived.clear()
        return True


class _Server(TcpWSGIServer):
    """Waitress's TCP server with a cap per client address and a deadline for each request."""

    channel_class = _Channel

    def __init__(
        self,
        app: Callable[..., Any],
        sock: socket.socket,
        adj: Adjustments,
        limits: ConnectionLimits,
        *,
        inline: bool = False,
    ) -> None:
        self.limits = limits
        self.inline = inline
        self._open: Counter[str] = Counter()
        self._counted: set[int] = set()
        self._count_lock = threading.Lock()
        self._loop_thread: int | None = None
        dispatcher: Any = _InlineDispatcher() if inline else ThreadedTaskDispatcher()
        dispatcher.set_thread_count(adj.threads)
        sockinfo = (sock.family, sock.type, sock.proto, sock.getsockname())
        self.socket_map: dict[int, Any] = {}
        super().__init__(app, self.socket_map, True, sock, dispatcher, adj, sockinfo, bind_socket=False)

    def run(self) -> None:
        self._loop_thread = threading.get_ident()
        super().run()

    def serve_arrived(self) -> None:
        """Serve the requests that have arrived whole (`inline`); a pipelined one follows its predecessor."""
        if self.inline:
            arrived = self.task_dispatcher.arrived  # type: ignore[attr-defined]
            while arrived:
                arrived.popleft().service()

    def pull_trigger(self) -> None:
        """The loop is woken from other threads; on its own thread it is awake already."""
        if not (self.inline and threading.get_ident() == self._loop_thread):
            super().pull_trigger()

    def handle_accept(self) -> None:
        try:
            accepted = self.accept()
            if accepted is None:
                return
            conn, addr = accepted
            self.set_socket_options(conn)
        except OSError:  # the peer went away before it was accepted (see Waitress's own handle_accept)
            return
        client = client_key(str(addr[0]))
        with self._count_lock:
            capped = addr[0] not in self.limits.uncapped
            if capped and self._open[client] >= self.limits.per_client:
                conn.close()
                return
            self._open[client] += 1
        channel = self.channel_class(self, conn, addr, self.adj, map=self.socket_map)
        with self._count_lock:
            self._counted.add(id(channel))

    def released(self, channel: _Channel) -> None:
        """A channel closes: its client may open another."""
        with self._count_lock:
            if id(channel) in self._counted:
                self._counted.discard(id(channel))
                self._open[channel.client] -= 1
                if self._open[channel.client] <= 0:
                    del self._open[channel.client]

    def maintenance(self, now: float) -> None:
        """Waitress's idle timeout, and the request timeout: a request still incomplete is cut off."""
        super().maintenance(now)  # type: ignore[arg-type]  # the stubs type the time as an int; it is time.time()
        cutoff = now - self.limits.request_timeout
        channels: dict[int, Any] = self.active_channels  # type: ignore[assignment]  # the stubs type it as one channel
        for channel in list(channels.values()):
            began = getattr(channel, "request_began", None)
            if not channel.requests and began is not None and began < cutoff:
                channel.will_close = True


class IssuerServer:
    """One WSGI app served by Waitress on a bound socket."""

    def __init__(
        self,
        app: Callable[..., Any],
        sock: socket.socket,
        *,
        threads: int = 4,
        name: str = "issuer",
        limits: ConnectionLimits | None = None,
        inline: bool = False,
    ) -> None:
        """`inline`: requests served on the server's loop thread (`threads` is then not used)."""
        limits = limits or ConnectionLimits()
        adj = Adjustments(
            sockets=[sock],
            threads=threads,
            ident="frontdesk-issuer",
            clear_untrusted_proxy_headers=False,
            max_request_body_size=MAX_REQUEST_BODY,
            connection_limit=limits.total,
            cleanup_interval=CLEANUP_INTERVAL,
            asyncore_use_poll=True,
        )
        self._server = _Server(app, sock, adj, limits, inline=inline)
        self._thread = threading.Thread(target=self._server.run, name=f"waitress-{name}", daemon=True)
        self.host, self.port = sock.getsockname()[:2]

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if not self._thread.is_alive():
            return
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=int(timeout))
        server_map = self._server.socket_map
        trigger: Any = self._server.trigger  # the stubs type the trigger as an int
        try:
            trigger.pull_trigger(lambda: wasyncore.close_all(server_map))
        except OSError:  # the trigger pipe is gone: close from here, the loop then ends on its own
            log.warning("stopping %s: trigger unavailable, closing its connections directly", self._thread.name)
            wasyncore.close_all(server_map)
        self._thread.join(timeout)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; the port is known before the app that needs it is built."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(1024)
    return sock
