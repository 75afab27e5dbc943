"""Server CPU per issuance on a PostgreSQL store against the data folder's TinyDB journals, and
throughput with one and two issuer processes on one store.

Each configuration runs real `frontdesk-issuer serve` processes (a fresh data folder each) and N
wallet threads looping over the whole pre-authorized flow (`wallet_flow`), split evenly over the
processes. The processes share one public URL, as behind a load balancer; each wallet sends its
requests straight to its own process, so no balancer's CPU is in the figures. After a warm-up,
the timed window is read at both ends: issuances completed, the issuer processes' CPU and, for
PostgreSQL, the database server's CPU (the postmaster and its backends, /proc), the statements the
issuers ran by kind (pg_stat_statements), the transactions committed (pg_stat_database), and the
connections the issuers hold at the end. pg_stat_statements misses BEGIN and COMMIT once the driver
has prepared them, so the round trips are then counted whole in a few more seconds under the same
load with the server logging every statement (not in the CPU window: logging costs CPU).

The cluster is a throw-away one (initdb, pg_ctl) with PostgreSQL's durable defaults (fsync on,
synchronous commit), as the journals fsync every answered change.

Run by hand, from the repository root (not in CI; as root the cluster runs as `nobody`):
    .venv/bin/python benchmarks/shared_store.py --seconds 20
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server_process import ServerError, ServerProcess, machine, positive_int, process_cpu_times, progress  # noqa: E402
from wallet_flow import FlowError, WalletFlow  # noqa: E402

from tests.postgres_cluster import Cluster  # noqa: E402
from wallet.client import TestWallet  # noqa: E402

SERVER_EXECUTABLE = ROOT / ".venv" / "bin" / "frontdesk-issuer"
PUBLIC_URL = "http://127.0.0.1:8440"  # the address the wallets are told; each reaches its own process
KEY_PASSPHRASE = "a passphrase for the benchmark's keys"
WARMUP_SECONDS = 3.0
CONFIGURATIONS = (("tinydb", 1), ("postgres", 1), ("postgres", 2))
STATEMENT_COUNTING = (
    "shared_preload_libraries=pg_stat_statements",
    "pg_stat_statements.track=all",
)
LOGGING_SECONDS = 5.0
TOP_STATEMENTS = 12


class RoutedWallet(TestWallet):
    """A wallet whose requests for the public URL go to one process, as a balancer would send them."""

    def __init__(self, local_url: str) -> None:
        super().__init__()
        self._local_url = local_url

    def request(self, method: str, url: str, **options: Any) -> Any:
        if url.startswith(PUBLIC_URL):
            url = self._local_url + url[len(PUBLIC_URL) :]
        return super().request(method, url, **options)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wallets", type=positive_int, default=8, help="concurrent simulated wallets (default 8)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each timed window (default 20)")
    parser.add_argument("--json", action="store_true", help="print one JSON summary")
    args = parser.parse_args(argv)
    cluster = Cluster(durable=True, settings=STATEMENT_COUNTING)
    cluster.start()
    with cluster.connect() as connection:
        connection.execute("CREATE EXTENSION pg_stat_statements")
    runs = []
    try:
        for backend, processes in CONFIGURATIONS:
            runs.append(run(backend, processes, args.wallets, args.seconds, cluster))
    except ServerError as error:
        print(f"benchmark: {error}", file=sys.stderr)
        return 2
    finally:
        cluster.stop()
    summary = {"machine": machine(Path(tempfile.gettempdir())), "runs": runs}
    print(json.dumps(summary, indent=2) if args.json else _text(runs))
    return 1 if any(run["errors"] for run in runs) else 0


def run(backend: str, processes: int, wallets: int, seconds: float, cluster: Cluster) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp:
        options = ["--public-url", PUBLIC_URL]
        environment: Mapping[str, str] = dict(os.environ)
        if backend == "postgres":
            url = cluster.create_database()
            options += ["--store-url", url]
            environment = {
                **environment,
                "FRONTDESK_STORE_PASSWORD": cluster.password,
                "FRONTDESK_KEY_PASSPHRASE": KEY_PASSPHRASE,
            }
        ports = [_free_port() for _ in range(processes)]
        servers = [
            ServerProcess(
                SERVER_EXECUTABLE, Path(tmp) / f"data-{n}", Path(tmp) / f"server-{n}.log",
                options=[*options, "--port", str(port)], environment=environment,
            )
            for n, port in enumerate(ports)
        ]  # fmt: skip
        for server in servers:
            server.data_dir.mkdir(mode=0o700)
            server.start()
        try:
            progress(f"{backend}, {processes} process(es), {wallets} wallets: warming up, then {seconds:g} s...")
            local_urls = [f"http://127.0.0.1:{port}" for port in ports]
            database = Statements(cluster, url.rsplit("/", 1)[1]) if backend == "postgres" else None
            result = _measure(
                servers, local_urls, wallets, seconds, cluster if backend == "postgres" else None, database
            )
        finally:
            for server in servers:
                server.stop()
        tracebacks = sum(server.tracebacks() for server in servers)
        if tracebacks:
            result["errors"]["server: tracebacks in its log"] = tracebacks
        return {"backend": backend, "processes": processes, "wallets": wallets, **result}


class Statements:
    """What the issuers asked of one database: statements by text, transactions, connections."""

    def __init__(self, cluster: Cluster, name: str) -> None:
        self._cluster, self.name = cluster, name
        self._size_before = 0

    def reset(self) -> int:
        """Start counting statements afresh; the transactions committed so far."""
        with self._cluster.connect() as connection:
            connection.execute("SELECT pg_stat_statements_reset()")
            self._size_before = self._size(connection)
            return self._commits(connection)

    def read(self, commits_before: int, issuances: int) -> dict[str, Any]:
        per = max(issuances, 1)
        with self._cluster.connect() as connection:
            rows = connection.execute(
                "SELECT query, calls FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = %s) ORDER BY calls DESC",
                (self.name,),
            ).fetchall()
            commits = self._commits(connection) - commits_before
            grown = self._size(connection) - self._size_before
            [(connections,)] = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = 'frontdesk-issuer'",
                (self.name,),
            ).fetchall()
        calls = sum(int(str(count)) for _, count in rows)
        return {
            "statements_per_issuance": round(calls / per, 1),
            "transactions_per_issuance": round(commits / per, 1),
            "connections_at_end": connections,
            "database_bytes_per_issuance": round(grown / per),
            "top_statements": [
                {"per_issuance": round(int(str(count)) / per, 2), "query": " ".join(str(query).split())[:160]}
                for query, count in rows[:TOP_STATEMENTS]
            ],
        }

    def logged(self, seconds: float, issued: Callable[[], int]) -> dict[str, Any]:
        """Every statement the issuers send for `seconds` (BEGIN and COMMIT too), from the server's log."""
        log = self._cluster.folder / "server.log"
        self._log_statements(True)
        start, before = log.stat().st_size, issued()
        time.sleep(seconds)
        end, after = log.stat().st_size, issued()
        self._log_statements(False)
        with log.open("rb") as stream:
            stream.seek(start)
            lines = stream.read(end - start).decode(errors="replace").splitlines()
        mine = [line for line in lines if f"] {self.name} LOG:  " in line]
        sent = [line.split("LOG:  ", 1)[1] for line in mine if re.search(r"LOG:  (statement|execute [^:]*):", line)]
        texts = [text.split(": ", 1)[1].strip() for text in sent]
        per = max(after - before, 1)
        return {
            "round_trips_per_issuance": round(len(texts) / per, 1),
            "begin_commit_per_issuance": round(sum(t in ("BEGIN", "COMMIT") for t in texts) / per, 1),
            "logged_issuances": after - before,
        }

    def _log_statements(self, on: bool) -> None:
        with self._cluster.connect() as connection:
            if on:
                connection.execute("ALTER SYSTEM SET log_statement = 'all'")
                connection.execute("ALTER SYSTEM SET log_line_prefix = '%m [%p] %d '")
            else:
                connection.execute("ALTER SYSTEM RESET log_statement")
                connection.execute("ALTER SYSTEM RESET log_line_prefix")
            connection.execute("SELECT pg_reload_conf()")
        time.sleep(0.5)  # each backend reads the new settings between two statements

    def _size(self, connection: Any) -> int:
        [(size,)] = connection.execute("SELECT pg_database_size(%s)", (self.name,)).fetchall()
        return int(size)

    def _commits(self, connection: Any) -> int:
        [(commits,)] = connection.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (self.name,)
        ).fetchall()
        return int(commits)


def _measure(
    servers: list[ServerProcess],
    local_urls: list[str],
    wallets: int,
    seconds: float,
    cluster: Cluster | None,
    database: Statements | None,
) -> dict[str, Any]:
    done = [0] * wallets
    errors: dict[str, int] = {}
    stop = threading.Event()
    lock = threading.Lock()

    def wallet(n: int) -> None:
        server, local_url = servers[n % len(servers)], local_urls[n % len(servers)]
        flow = WalletFlow(PUBLIC_URL, server.admin_url, server.admin_token(), RoutedWallet(local_url))
        try:
            while not stop.is_set():
                try:
                    for _ in flow.issue():
                        pass
                except FlowError as error:
                    with lock:
                        errors[error.kind] = errors.get(error.kind, 0) + 1
                    continue
                done[n] += 1
        finally:
            flow.close()

    threads = [threading.Thread(target=wallet, args=(n,), daemon=True) for n in range(wallets)]
    for thread in threads:
        thread.start()
    time.sleep(WARMUP_SECONDS)
    commits_before = database.reset() if database is not None else 0
    start = _reading(servers, cluster, done)
    time.sleep(seconds)
    end = _reading(servers, cluster, done)
    counted = database.read(commits_before, end[3] - start[3]) if database is not None else {}
    if database is not None:
        counted |= database.logged(LOGGING_SECONDS, lambda: sum(done))
    stop.set()
    for thread in threads:
        thread.join(30)
    elapsed, issuances = end[0] - start[0], end[3] - start[3]
    issuer_cpu, database_cpu = end[1] - start[1], end[2] - start[2]
    per = max(issuances, 1)
    return {
        "seconds": round(elapsed, 2),
        "issuances": issuances,
        "issuances_per_second": round(issuances / elapsed, 1),
        "issuer_cpu_ms_per_issuance": round(1000 * issuer_cpu / per, 2),
        "database_cpu_ms_per_issuance": round(1000 * database_cpu / per, 2),
        "server_cpu_ms_per_issuance": round(1000 * (issuer_cpu + database_cpu) / per, 2),
        **counted,
        "errors": errors,
    }


def _reading(servers: list[ServerProcess], cluster: Cluster | None, done: list[int]) -> tuple[float, float, float, int]:
    issuer = sum(sum(process_cpu_times(server.pid)) for server in servers)
    database = 0.0
    if cluster is not None:
        for pid in cluster.server_pids():
            try:
                database += sum(process_cpu_times(pid))
            except OSError:
                continue  # a backend that ended meanwhile
    return time.perf_counter(), issuer, database, sum(done)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _text(runs: list[dict[str, Any]]) -> str:
    lines = [
        f"{'backend':<9} {'procs':>5} {'issuances/s':>11} {'issuer ms':>9} {'database ms':>11} {'server ms':>9}  errors"
    ]
    for run in runs:
        lines.append(
            f"{run['backend']:<9} {run['processes']:>5} {run['issuances_per_second']:>11} "
            f"{run['issuer_cpu_ms_per_issuance']:>9} {run['database_cpu_ms_per_issuance']:>11} "
            f"{run['server_cpu_ms_per_issuance']:>9}  {run['errors'] or '-'}"
        )
    lines.append("(CPU per issuance; server = issuer processes + database server)")
    for run in runs:
        if "statements_per_issuance" not in run:
            continue
        lines.append(
            f"\npostgres, {run['processes']} process(es), per issuance: {run['round_trips_per_issuance']} round trips "
            f"(statements sent, {run['begin_commit_per_issuance']} of them BEGIN or COMMIT; from "
            f"{run['logged_issuances']} issuances), {run['transactions_per_issuance']} transactions; "
            f"{run['connections_at_end']} connections held at the end; the database grew "
            f"{run['database_bytes_per_issuance']} bytes. By kind (pg_stat_statements, "
            f"{run['statements_per_issuance']} without BEGIN and COMMIT):"
        )
        lines += [f"  {top['per_issuance']:>6}  {top['query']}" for top in run["top_statements"]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
