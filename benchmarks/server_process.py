"""The issuer under test in its own process, and what the kernel says about it and the machine.

CPU time is read from `/proc/<pid>/stat` (utime + stime of all the server's threads), so
the benchmark can take it before and after its timed window while the server runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


class ServerError(RuntimeError):
    """The server did not start, or did not stop cleanly."""


class ServerProcess:
    """`frontdesk-issuer serve` on ports chosen by the kernel; a context manager that always stops it."""

    def __init__(
        self,
        executable: Path,
        data_dir: Path,
        log_path: Path,
        *,
        options: Sequence[str] = (),
        environment: Mapping[str, str] | None = None,
    ) -> None:
        """`options` are added to `serve`'s (a later one wins); `environment` replaces the process's."""
        self.executable = executable
        self.data_dir = data_dir
        self.log_path = log_path
        self.options = list(options)
        self.environment = dict(environment) if environment is not None else None
        self.issuer_url = ""
        self.admin_url = ""
        self.exit_code: int | None = None
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise ServerError("the server is not running")
        return self._process.pid

    def start(self) -> None:
        command = [str(self.executable), "serve", "--data-dir", str(self.data_dir), "--port", "0", "--admin-port", "0"]
        command += self.options
        self._log = self.log_path.open("wb")
        # Its own session: a Ctrl-C in the terminal reaches the benchmark only, which then
        # stops the server itself (SIGTERM, wait) instead of racing it.
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            env=self.environment,
        )
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_drain, args=(self._process.stdout, lines), daemon=True).start()
        urls: dict[str, str] = {}
        while "issuer" not in urls or "admin" not in urls:
            try:
                line = lines.get(timeout=START_TIMEOUT)
            except queue.Empty:
                raise ServerError(f"the server printed no URLs within {START_TIMEOUT:.0f} s") from None
            if line is None:
                raise ServerError(f"the server exited at start-up:\n{self.log_tail()}")
            name, _, url = line.partition(": ")
            if name in ("issuer", "admin"):
                urls[name] = url.strip()
        self.issuer_url, self.admin_url = urls["issuer"], urls["admin"]

    def admin_token(self) -> str:
        return (self.data_dir / "admin-token").read_text(encoding="ascii").strip()

    def cpu_times(self) -> tuple[float, float]:
        """(user, system) CPU seconds the server has used so far, all threads."""
        return process_cpu_times(self.pid)

    def peak_rss_mib(self) -> float:
        """The server's peak resident memory (VmHWM)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> int | None:
        """SIGTERM, then wait; SIGKILL if it does not exit in time. Safe to call twice."""
        process = self._process
        if process is not None and self.exit_code is None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                self.exit_code = process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                self.exit_code = process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.exit_code

    def log_tail(self, lines: int = 20) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def tracebacks(self) -> int:
        """How many tracebacks the server logged (each one an unexpected error)."""
        if not self.log_path.exists():
            return 0
        return self.log_path.read_text(errors="replace").count("Traceback (most recent call last)")

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _drain(stream: IO[str] | None, lines: queue.Queue[str | None]) -> None:
    """Read the server's stdout to its end, so that it never blocks on a full pipe."""
    if stream is not None:
        for line in stream:
            lines.put(line)
    lines.put(None)


def process_cpu_times(pid: int) -> tuple[float, float]:
    """(utime, stime): fields 14 and 15 of /proc/<pid>/stat, in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def machine(data_dir: Path) -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "kernel": platform.release(),
        "data_filesystem": _filesystem(data_dir),
        "executable": sys.executable,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _filesystem(path: Path) -> str:
    """The filesystem type under `path` (fsync cost differs between ext4, tmpfs, overlay...)."""
    best, kind = "", "unknown"
    target = str(path.resolve())
    for line in Path("/proc/mounts").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3 and (target == parts[1] or target.startswith(parts[1].rstrip("/") + "/")):
            if len(parts[1]) >= len(best):
                best, kind = parts[1], parts[2]
    return kind


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def interrupt(signum: int, frame: object) -> None:
    """A SIGTERM handler that stops a benchmark as Ctrl+C does, so its server is stopped too."""
    raise KeyboardInterrupt
