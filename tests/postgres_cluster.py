"""A throw-away PostgreSQL cluster for the tests: initdb and pg_ctl from Debian's `postgresql`
package, in a temporary folder, on a free port of 127.0.0.1.

PostgreSQL refuses to run as root, so under root (CI) the cluster belongs to `nobody` and its
commands run through `runuser`. For the tests the cluster trades durability for speed (fsync
off): they kill issuer processes, never the database server; the benchmarks run it durable.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

SUPERUSER = "frontdesk"
RUN_AS = "nobody"


class ClusterUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (Debian: apt-get install postgresql)."""


def server_binaries() -> Path:
    """The folder of initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    if not versions:
        raise ClusterUnavailable("initdb and pg_ctl are missing: apt-get install postgresql")
    return Path(versions[-1]).parent


class Cluster:
    def __init__(self, *, durable: bool = False, settings: tuple[str, ...] = ()) -> None:
        """`durable`: fsync and synchronous commits as a production server has them (benchmarks);
        `settings`: more server settings, `name=value` each (pg_stat_statements for a benchmark)."""
        self.durable = durable
        self.settings = settings
        self.bin = server_binaries()
        self.folder = Path(tempfile.mkdtemp(prefix="frontdesk-postgres-"))
        self.data = self.folder / "data"
        self.password = secrets.token_urlsafe(16)
        self.port = _free_port()
        self._count = 0
        self._owner = pwd.getpwnam(RUN_AS) if os.geteuid() == 0 else None

    def start(self) -> None:
        password_file = self.folder / "password"
        password_file.write_text(self.password + "\n")
        if self._owner is not None:
            for path in (self.folder, password_file):
                os.chown(path, self._owner.pw_uid, self._owner.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, f"--pwfile={password_file}",
            "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} "
            "-c max_connections=300"
        )
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        options += "".join(f" -c {setting}" for setting in self.settings)
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "-o", options, "start")

    def server_pids(self) -> list[int]:
        """The postmaster and every backend it forked (for the CPU the database spends)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(stat.parent.name))
        return [postmaster, *children]

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """A URL without the password, as the issuer wants it."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url(database), password=self.password, autocommit=True)

    def create_database(self, template: str = "template1") -> str:
        """A fresh database, a copy of `template`; its URL."""
        self._count += 1
        name = f"test_{self._count}"
        with self.connect() as connection:
            connection.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        return self.url(name)

    def create_template(self, name: str, prepare: Callable[[psycopg.Connection[tuple[object, ...]]], object]) -> None:
        """A database prepared once (a schema), which `create_database(name)` copies."""
        with self.connect() as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        with self.connect(name) as connection:
            prepare(connection)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self.connect() as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self._owner is not None:
            command = ["runuser", "-u", RUN_AS, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.folder, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed: {result.stderr.strip() or result.stdout.strip()}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
