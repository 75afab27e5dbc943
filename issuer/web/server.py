"""Waitress on a background thread: start on any port (0 picks a free one), stop cleanly.

Waitress has no stop call. Closing its sockets from another thread can hang while a
keep-alive client is connected, so `stop` asks the server's own loop (through its trigger)
to close every channel, then joins the thread and shuts the worker threads down.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from waitress import utilities, wasyncore
from waitress.server import create_server

# Waitress warns on every queued request under load; the queue depth is not news to an operator.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)
log = logging.getLogger(__name__)

MAX_REQUEST_BODY = 1024 * 1024  # the apps refuse more than 64 KB; Waitress stops reading at 1 MB


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


class IssuerServer:
    """One WSGI app served by Waitress on a bound socket."""

    def __init__(self, app: Callable[..., Any], sock: socket.socket, *, threads: int = 4, name: str = "issuer") -> None:
        self._server = create_server(
            app,
            sockets=[sock],
            threads=threads,
            ident="frontdesk-issuer",
            clear_untrusted_proxy_headers=False,
            max_request_body_size=MAX_REQUEST_BODY,
        )
        self._thread = threading.Thread(target=self._server.run, name=f"waitress-{name}", daemon=True)
        self.host, self.port = sock.getsockname()[:2]

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if not self._thread.is_alive():
            return
        server: Any = self._server  # the stubs lack the loop's socket map and type its trigger as an int
        server_map = server.map if hasattr(server, "map") else server._map
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server_map))
        except OSError:  # the trigger pipe is gone: close from here, the loop then ends on its own
            log.warning("stopping %s: trigger unavailable, closing its connections directly", self._thread.name)
            wasyncore.close_all(server_map)
        self._thread.join(timeout)
        self._server.task_dispatcher.shutdown()


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
