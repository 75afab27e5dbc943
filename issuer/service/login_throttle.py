"""Failed logins slow down: after `FREE_FAILURES` failures for a name, each further try waits longer.

The waits double (1, 2, 4 … seconds) up to `MAX_WAIT`; a correct password clears the count. The
state lives in this process's memory, keyed by the name as typed (case and surrounding spaces do
not matter), for names that exist and names that do not alike, so that the waits tell nothing
about which accounts there are. The audit log keeps the failures and the lockouts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

FREE_FAILURES = 5
FIRST_WAIT = 1.0
MAX_WAIT = 300.0
MAX_TRACKED = 10_000  # names remembered at most; the oldest are forgotten first


@dataclass
class _Failures:
    count: int = 0
    until: float = 0.0  # no try before this time


class LoginThrottle:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._failures: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def wait(self, name: str) -> float:
        """Seconds before `name` may try again; 0 when it may try now."""
        with self._lock:
            failures = self._failures.get(_key(name))
            return max(0.0, failures.until - self._clock()) if failures else 0.0

    def failed(self, name: str) -> float:
        """Count a failure; the wait it starts (0 while the free failures last)."""
        with self._lock:
            key = _key(name)
            failures = self._failures.pop(key, None) or _Failures()
            self._failures[key] = failures  # the most recent last, for forgetting the oldest
            failures.count += 1
            wait = delay_after(failures.count)
            failures.until = self._clock() + wait
            while len(self._failures) > MAX_TRACKED:
                del self._failures[next(iter(self._failures))]
            return wait

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(_key(name), None)


def delay_after(failures: int) -> float:
    """The wait after `failures` failures in a row: none for the first few, then doubling, capped."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(MAX_WAIT, FIRST_WAIT * float(2 ** min(failures - FREE_FAILURES, 20)))


def _key(name: str) -> str:
    return name.strip().casefold()[:256]
