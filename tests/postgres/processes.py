"""`frontdesk-issuer serve` processes on one PostgreSQL store, behind a balancer."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import KEY_PASSPHRASE, PostgresDatabase

START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServeProcess:
    def __init__(
        self,
        data_dir: Path,
        database: PostgresDatabase,
        port: int,
        public_url: str,
        settings: dict[str, Any] | None = None,
    ) -> None:
        """`settings`: written to the data folder's settings.json before the start."""
        self.data_dir = data_dir
        if settings is not None:
            data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            (data_dir / "settings.json").write_text(json.dumps(settings))
        self.port = port
        self.public_url = public_url
        self.url = f"http://127.0.0.1:{port}"
        self.admin_url = ""
        environment = {
            **os.environ,
            "FRONTDESK_STORE_URL": database.url,
            "FRONTDESK_STORE_PASSWORD": database.password,
            "FRONTDESK_KEY_PASSPHRASE": KEY_PASSPHRASE.decode(),
        }
        command = [sys.executable, "-m", "issuer", "serve", "--data-dir", str(data_dir), "--port", str(port)]
        command += ["--admin-port", "0", "--public-url", public_url]
        self._log = (data_dir.parent / f"{data_dir.name}.log").open("a")
        self.process = subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=Path.cwd()
        )
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(self._two_lines()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        started = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in lines if ": " in line}
        if "admin" not in started:
            self.stop()
            raise RuntimeError(f"the issuer did not start: {(data_dir.parent / f'{data_dir.name}.log').read_text()}")
        self.admin_url = started["admin"]
        self.admin_token = (data_dir / "admin-token").read_text().strip()

    def _two_lines(self) -> list[str]:
        assert self.process.stdout is not None
        return [self.process.stdout.readline().strip() for _ in range(2)]

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            self.admin_url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Bearer {self.admin_token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
