"""Server CPU per issuance on a PostgreSQL store against the data folder's TinyDB journals, and
throughput with one and two issuer processes on one store.

Each configuration runs real `frontdesk-issuer serve` processes (a fresh data folder each) and N
wallet threads looping over the whole pre-authorized flow (`wallet_flow`), split evenly over the
processes. The processes share one public URL, as behind a load balancer; each wallet sends its
requests straight to its own process, so no balancer's CPU is in the figures. After a warm-up,
the timed window is read at both ends: issuances completed, the issuer processes' CPU and, for
PostgreSQL, the database server's CPU (the postmaster and its backends, /proc).

The cluster is a throw-away one (initdb, pg_ctl) with PostgreSQL's durable defaults (fsync on,
synchronous commit), as the journals fsync every answered change.

Run by hand, from the repository root (not in CI; as root the cluster runs as `nobody`):
    .venv/bin/python benchmarks/shared_store.py --seconds 20
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
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
    cluster = Cluster(durable=True)
    cluster.start()
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
            result = _measure(servers, local_urls, wallets, seconds, cluster if backend == "postgres" else None)
        finally:
            for server in servers:
                server.stop()
        tracebacks = sum(server.tracebacks() for server in servers)
        if tracebacks:
            result["errors"]["server: tracebacks in its log"] = tracebacks
        return {"backend": backend, "processes": processes, "wallets": wallets, **result}


def _measure(
    servers: list[ServerProcess], local_urls: list[str], wallets: int, seconds: float, cluster: Cluster | None
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
    start = _reading(servers, cluster, done)
    time.sleep(seconds)
    end = _reading(servers, cluster, done)
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
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
