"""A TCP load balancer for the tests, as a deployment puts one in front of several issuer processes:
each new connection goes to the next backend in turn (or to the one a test pins), and to the
other when that one no longer accepts connections."""

from __future__ import annotations

import socket
import threading
from collections import Counter

CHUNK = 65536


class Balancer:
    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.pinned: int | None = None  # a backend index every new connection goes to
        self.connections: Counter[int] = Counter()  # by backend index
        self._next = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="balancer", daemon=True)

    def __enter__(self) -> Balancer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._closed = True
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() a close alone would leave waiting
        except OSError:
            pass
        self._listener.close()
        self._thread.join(5)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        backend = self._connect()
        if backend is None:
            client.close()
            return
        for source, target in ((client, backend), (backend, client)):
            threading.Thread(target=_pump, args=(source, target), daemon=True).start()

    def _connect(self) -> socket.socket | None:
        with self._lock:
            first = self.pinned if self.pinned is not None else self._next
            self._next = (self._next + 1) % len(self.backends)
        for offset in range(len(self.backends)):
            index = (first + offset) % len(self.backends)
            try:
                backend = socket.create_connection(("127.0.0.1", self.backends[index]), timeout=5)
            except OSError:
                continue
            backend.settimeout(None)
            with self._lock:
                self.connections[index] += 1
            return backend
        return None


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(CHUNK):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()
