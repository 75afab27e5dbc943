"""Load: many wallets at once against a real server process; nothing lost, nothing doubled, memory flat.

A real server runs in its own process (`frontdesk-issuer serve`, ports picked by the kernel, a
fresh data folder). W wallet threads (default 32) each loop over whole pre-authorized issuances
for S seconds (default 60): an offer through the admin API (by value or by reference, with or
without a transaction code, at random), the offer, issuer and AS metadata, token, nonce,
credential with a jwt proof, notification. Every eighth issuance of a wallet also sends two
requests that must fail: its pre-authorized code again (invalid_grant) and its spent nonce again
(invalid_nonce). Those are the expected errors; any other answer is an unexpected one.

When the time is up, each wallet finishes the issuance at hand; then the server is stopped and
its data folder read. Every notification_id a wallet received must be the id of a credential
record of that offer in the ledger (the history, kind "credential"), bound to the wallet's key;
no two wallets may have received the same one; the ledger may hold no credential that no wallet
received, none twice for one offer, and no status-list entry twice. The server's resident memory
(VmRSS) is read every second: its peak, its course, and its growth after the warm-up are printed.

Run by hand, from the repository root (not in CI):
    .venv/bin/python benchmarks/load.py                          # 32 wallets, 60 s
    .venv/bin/python benchmarks/load.py --wallets 8 --seconds 10 --json
Exit code 0 when every check holds, 1 when one does not, 2 when the server does not start.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server_process import (
    ServerError,
    ServerProcess,
    interrupt,
    machine,
    positive_int,
    process_cpu_times,
    progress,
)

from issuer.storage.history import History
from wallet.client import PRE_AUTHORIZED_GRANT, TestWallet
from wallet.keys import make_proof, new_key
from wallet.transport import ConnectionLost, ProtocolViolation, WalletError

ROOT = Path(__file__).resolve().parent.parent
SERVER_EXECUTABLE = ROOT / ".venv" / "bin" / "frontdesk-issuer"
STEPS = ("admin_offer", "offer", "metadata", "as_metadata", "token", "nonce", "credential", "notification")
CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}
PROBE_EVERY = 8
KEYS_PER_WALLET = 16  # key generation is the wallet's cost, not the issuer's: made before the run
SAMPLE_EVERY = 1.0
PAUSE_AFTER_ERROR = 0.05
WALLET_TIMEOUT = 30.0
# Memory counts as steady when, after the warm-up, it grows by no more than this in all, or no
# faster than this over the last third of the run. Consumed nonces are remembered until they
# expire (nonce_ttl, 300 s by default), so RSS rises for that long under load and then levels off.
GROWTH_LIMIT_MIB = 8.0
GROWTH_LIMIT_SHARE = 0.10
FINAL_SLOPE_LIMIT = 1.0  # MiB per minute


class Unexpected(Exception):
    """An answer the flow did not expect; `kind` names the step and what came back."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass
class Issued:
    offer_id: str
    notification_id: str
    holder_jkt: str
    credential: str


@dataclass
class WalletStats:
    """What one wallet thread saw; only that thread writes it."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in (*STEPS, "flow")})
    expected: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)
    offers: list[str] = field(default_factory=list)
    issued: list[Issued] = field(default_factory=list)


class Wallet:
    """One simulated wallet, with its own keep-alive connections and prepared keys."""

    def __init__(self, index: int, server: ServerProcess, admin_token: str) -> None:
        self.server = server
        self.headers = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
        self.random = random.Random(index)
        self.keys = [new_key() for _ in range(KEYS_PER_WALLET)]
        self.thumbprints = [key.thumbprint() for key in self.keys]
        self.wallet = TestWallet(timeout=WALLET_TIMEOUT)
        self.stats = WalletStats()
        self.count = 0

    def run(self, start: threading.Barrier, deadline: list[float]) -> None:
        start.wait()
        try:
            while time.monotonic() < deadline[0]:
                self.count += 1
                began = time.perf_counter()
                try:
                    self.issue(probe=self.count % PROBE_EVERY == 0)
                    self.stats.latencies["flow"].append(time.perf_counter() - began)
                except Unexpected as error:
                    self.stats.unexpected[error.kind] += 1
                    time.sleep(PAUSE_AFTER_ERROR)
        finally:
            self.wallet.close()

    def issue(self, *, probe: bool) -> None:
        wallet, stats = self.wallet, self.stats
        options = {"tx_code": self.random.random() < 0.5, "by_reference": self.random.random() < 0.5}
        body = json.dumps({"credential_configuration_ids": ["employee_badge"], "claims": CLAIMS, **options}).encode()
        step = "admin_offer"
        try:
            began = time.perf_counter()
            response = wallet.request("POST", f"{self.server.admin_url}/api/offers", body=body, headers=self.headers)
            if response.status != 201:
                raise Unexpected(f"admin_offer: HTTP {response.status}")
            stats.latencies["admin_offer"].append(time.perf_counter() - began)
            created = response.json()
            stats.offers.append(created["offer_id"])
            step = "offer"
            session = wallet.resolve_offer(created["offer_uri"])
            step = "metadata"
            wallet.fetch_metadata(session)
            step = "as_metadata"
            wallet.fetch_as_metadata(session)
            step = "token"
            wallet.token(session, created["tx_code"])
            if probe:
                form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": session.grant["pre-authorized_code"]}
                if created["tx_code"]:
                    form["tx_code"] = created["tx_code"]
                self.expect(wallet.post_form(session.as_metadata["token_endpoint"], form), "token", "invalid_grant")
            step = "nonce"
            nonce = wallet.nonce(session)
            step = "credential"
            index = self.count % KEYS_PER_WALLET
            received = wallet.request_credential(session, "employee_badge", nonce=nonce, holder_keys=[self.keys[index]])
            if isinstance(received, str) or not received.notification_id or len(received.credentials) != 1:
                raise Unexpected("credential: no single credential with a notification id")
            if probe:
                proof = make_proof(self.keys[(index + 1) % KEYS_PER_WALLET], session.issuer, nonce)
                request = {"credential_configuration_id": "employee_badge", "proofs": {"jwt": [proof]}}
                replay = wallet.post_json(session.endpoint("credential"), request, session.access_token)
                self.expect(replay, "credential", "invalid_nonce")
            step = "notification"
            wallet.notify(session, received.notification_id)
        except ConnectionLost as error:  # the wallet reconnects for the next request
            raise Unexpected(f"{step}: {type(error.__cause__).__name__}") from error
        except ProtocolViolation as error:
            raise Unexpected(f"{error.step}: protocol violation: {error.reason}") from error
        except WalletError as error:
            raise Unexpected(f"{error.step}: HTTP {error.status} {error.error}") from error
        except OSError as error:
            raise Unexpected(f"{step}: {type(error).__name__}") from error
        for name in STEPS[1:]:
            if name != "offer" or options["by_reference"]:  # an offer by value is no request
                stats.latencies[name].append(wallet.timings[name])
        credential = str(received.credentials[0])
        stats.issued.append(Issued(created["offer_id"], received.notification_id, self.thumbprints[index], credential))

    def expect(self, response: Any, step: str, error: str) -> None:
        body = response.json() if response.headers.get("content-type") == "application/json" else {}
        if response.status == 400 and body.get("error") == error:
            self.stats.expected[f"{step}: 400 {error}"] += 1
        else:
            raise Unexpected(f"{step} replay: HTTP {response.status} {body.get('error')} instead of {error}")


class MemorySampler(threading.Thread):
    """The server's VmRSS every second, as (seconds since start, MiB)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, float]] = []
        self.stopped = threading.Event()
        self.started_at = time.monotonic()

    def run(self) -> None:
        while True:
            rss = _status_mib(self.pid, "VmRSS")
            if rss:
                self.samples.append((time.monotonic() - self.started_at, rss))
            if self.stopped.wait(SAMPLE_EVERY):
                return


def _status_mib(pid: int, name: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wallets", type=positive_int, default=32, help="concurrent wallets (default 32)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the wallets run (default 60)")
    parser.add_argument("--json", action="store_true", help="print one JSON summary")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        result = run(args.wallets, args.seconds)
    except KeyboardInterrupt:
        print("interrupted; the server was stopped", file=sys.stderr)
        return 130
    except ServerError as error:
        print(f"load: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else _text(result))
    return 0 if result["verdict"]["ok"] else 1


def run(wallets: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="frontdesk-load-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir(mode=0o700)
        server = ServerProcess(SERVER_EXECUTABLE, data_dir, Path(tmp) / "server.log")
        with server:
            progress(f"server {server.pid} at {server.issuer_url}; preparing {wallets} wallets...")
            sampler = MemorySampler(server.pid)
            sampler.start()
            flows = [Wallet(index, server, server.admin_token()) for index in range(wallets)]
            deadline = [0.0]
            window: dict[str, float] = {}

            def open_window() -> None:
                window["start"] = time.monotonic()
                window["cpu"] = sum(process_cpu_times(server.pid))
                deadline[0] = window["start"] + seconds

            start = threading.Barrier(wallets, action=open_window)
            threads = [threading.Thread(target=flow.run, args=(start, deadline), daemon=True) for flow in flows]
            progress(f"running for {seconds:g} s...")
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - window["start"]
            server_cpu = sum(process_cpu_times(server.pid)) - window["cpu"]
            window_start = window["start"] - sampler.started_at
            peak_rss = server.peak_rss_mib()
            sampler.stopped.set()
            sampler.join()
        result = {
            "machine": machine(data_dir),
            "wallets": wallets,
            "seconds": round(elapsed, 1),
            "server_threads": "1 (the shipped default)",
            **_traffic([flow.stats for flow in flows], elapsed, server_cpu),
            "ledger": _ledger(data_dir, [flow.stats for flow in flows]),
            "memory": _memory(sampler.samples, peak_rss, window_start, elapsed),
            "server": {"exit_code": server.exit_code, "tracebacks": server.tracebacks()},
        }
        if server.tracebacks():
            result["server"]["log_tail"] = server.log_tail(40)
    result["verdict"] = _verdict(result)
    return result


def _traffic(stats: list[WalletStats], elapsed: float, server_cpu: float) -> dict[str, Any]:
    issued = sum(len(s.issued) for s in stats)
    expected: Counter[str] = Counter()
    unexpected: Counter[str] = Counter()
    for s in stats:
        expected.update(s.expected)
        unexpected.update(s.unexpected)
    latencies = {step: _percentiles([v for s in stats for v in s.latencies[step]]) for step in (*STEPS, "flow")}
    # HTTP requests that got an answer the flow expected; offers by value need none.
    requests = sum(p["count"] for step, p in latencies.items() if step != "flow") + sum(expected.values())
    return {
        "issuances": issued,
        "issuances_per_second": round(issued / elapsed, 1) if elapsed else 0.0,
        "requests": requests,
        "server_cpu_seconds": round(server_cpu, 1),
        "server_cpu_ms_per_issuance": round(1000 * server_cpu / max(issued, 1), 2),
        "latency_ms": latencies,
        "expected_errors": dict(expected),
        "unexpected_errors": dict(unexpected),
    }


def _ledger(data_dir: Path, stats: list[WalletStats]) -> dict[str, Any]:
    """What the wallets received against the credential records in the stopped server's data folder."""
    history = History(data_dir / "history")
    try:
        records = {row["id"]: row for row in history.scan("records", lambda row: row.get("kind") == "credential")}
    finally:
        history.close()
    issued = [item for s in stats for item in s.issued]
    received = Counter(item.notification_id for item in issued)
    per_offer = Counter(row["offer_id"] for row in records.values())
    places = Counter(
        (row["status_list"]["list"], row["status_list"]["idx"]) for row in records.values() if "status_list" in row
    )
    lost = [item.notification_id for item in issued if item.notification_id not in records]
    wrong = [
        item.notification_id
        for item in issued
        if item.notification_id in records
        and (
            records[item.notification_id]["offer_id"] != item.offer_id
            or records[item.notification_id]["holder_jkt"] != item.holder_jkt
        )
    ]
    return {
        "offers_created": sum(len(s.offers) for s in stats),
        "credentials_received": len(issued),
        "credential_records": len(records),
        "lost": len(lost),
        "lost_ids": lost[:20],
        "received_twice": sum(1 for count in received.values() if count > 1),
        "recorded_for_another_offer_or_key": len(wrong),
        "recorded_not_received": len(set(records) - set(received)),
        "offers_issued_twice": sum(1 for count in per_offer.values() if count > 1),
        "status_entries_twice": sum(1 for count in places.values() if count > 1),
    }


def _memory(samples: list[tuple[float, float]], peak: float, window_start: float, elapsed: float) -> dict[str, Any]:
    """RSS over the run; growth compares the median after the warm-up with the median at the end."""
    warm_up = window_start + max(5.0, 0.1 * elapsed)
    steady = [(t, rss) for t, rss in samples if t >= warm_up]
    if len(steady) < 4:
        return {
            "peak_rss_mib": round(peak, 1),
            "samples": len(samples),
            "steady": None,
            "note": "run too short to judge",
        }
    fifth = max(len(steady) // 5, 1)
    early = statistics.median(rss for _, rss in steady[:fifth])
    late = statistics.median(rss for _, rss in steady[-fifth:])
    slope = _slope(steady) * 60
    final_slope = _slope(steady[-max(len(steady) // 3, 2) :]) * 60
    every = max(len(samples) // 12, 1)
    points = [*samples[::every], *([samples[-1]] if (len(samples) - 1) % every else [])]
    timeline = [(round(t - window_start, 1) or 0.0, round(rss, 1)) for t, rss in points]
    growth = late - early
    return {
        "peak_rss_mib": round(peak, 1),
        "start_rss_mib": round(samples[0][1], 1),
        "after_warm_up_mib": round(early, 1),
        "at_end_mib": round(late, 1),
        "growth_mib": round(growth, 1),
        "slope_mib_per_minute": round(slope, 2),
        "final_third_slope_mib_per_minute": round(final_slope, 2),
        "warm_up_seconds": round(warm_up - window_start, 1),
        "samples": len(samples),
        "timeline": timeline,  # (seconds since the wallets started, MiB); negative: before
        "steady": growth <= max(GROWTH_LIMIT_MIB, GROWTH_LIMIT_SHARE * early) or final_slope <= FINAL_SLOPE_LIMIT,
    }


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of rss over time (MiB per second)."""
    mean_t = statistics.fmean(t for t, _ in points)
    mean_r = statistics.fmean(r for _, r in points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (r - mean_r) for t, r in points) / spread if spread else 0.0


def _verdict(result: dict[str, Any]) -> dict[str, Any]:
    ledger, memory, server = result["ledger"], result["memory"], result["server"]
    failures = []
    if result["unexpected_errors"]:
        failures.append("unexpected error responses")
    for name in (
        "lost",
        "received_twice",
        "recorded_for_another_offer_or_key",
        "recorded_not_received",
        "offers_issued_twice",
        "status_entries_twice",
    ):
        if ledger[name]:
            failures.append(f"ledger: {name.replace('_', ' ')}")
    if memory.get("steady") is False:
        failures.append("memory: growing")
    if server["exit_code"] != 0:
        failures.append(f"server: exit code {server['exit_code']}")
    if server["tracebacks"]:
        failures.append("server: tracebacks in its log")
    if not result["issuances"]:
        failures.append("no issuance at all")
    return {"ok": not failures, "failures": failures}


def _percentiles(values: list[float]) -> dict[str, float | int]:
    """Nearest-rank p50, p95 and p99, in ms."""
    if not values:
        return {"count": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return round(1000 * ordered[max(math.ceil(q * len(ordered)) - 1, 0)], 1)

    return {"count": len(ordered), "p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99)}


def _text(r: dict[str, Any]) -> str:
    m, ledger, memory = r["machine"], r["ledger"], r["memory"]
    out = [
        f"machine: {m['cores']} cores, {m['cpu_model']}, {m['python_implementation']} {m['python']}, "
        f"Linux {m['kernel']}, data folder on {m['data_filesystem']}",
        f"wallets: {r['wallets']} for {r['seconds']} s; server worker threads: {r['server_threads']}",
        f"issuances: {r['issuances']} = {r['issuances_per_second']} /s; {r['requests']} requests; "
        f"server CPU {r['server_cpu_seconds']} s = {r['server_cpu_ms_per_issuance']} ms per issuance",
        f"latency (ms)  {'p50':>8} {'p95':>8} {'p99':>8} {'count':>7}",
    ]
    for step, p in r["latency_ms"].items():
        out.append(f"  {step:<12}{p['p50']:>8.1f} {p['p95']:>8.1f} {p['p99']:>8.1f} {p['count']:>7}")
    expected = ", ".join(f"{count} x {kind}" for kind, count in sorted(r["expected_errors"].items())) or "none"
    out.append(f"expected errors: {expected}")
    unexpected = r["unexpected_errors"]
    out.append("unexpected errors: " + ("none" if not unexpected else ""))
    out += [f"  {count:>6}  {kind}" for kind, count in sorted(unexpected.items(), key=lambda e: -e[1])]
    out += [
        f"ledger: {ledger['offers_created']} offers, {ledger['credentials_received']} credentials received, "
        f"{ledger['credential_records']} credential records",
        f"  lost {ledger['lost']}, received twice {ledger['received_twice']}, recorded for another offer or key "
        f"{ledger['recorded_for_another_offer_or_key']}, recorded but not received {ledger['recorded_not_received']}, "
        f"offers issued twice {ledger['offers_issued_twice']}, status entries given twice "
        f"{ledger['status_entries_twice']}",
    ]
    if "growth_mib" in memory:
        out += [
            f"server memory: peak RSS {memory['peak_rss_mib']} MiB; {memory['start_rss_mib']} MiB at start, "
            f"{memory['after_warm_up_mib']} after the {memory['warm_up_seconds']} s warm-up, "
            f"{memory['at_end_mib']} at the end: growth {memory['growth_mib']} MiB "
            f"({memory['slope_mib_per_minute']} MiB/min; {memory['final_third_slope_mib_per_minute']} MiB/min over "
            f"the last third) -> {'steady' if memory['steady'] else 'GROWING'}",
            "  RSS over time (s: MiB): " + ", ".join(f"{t:g}: {rss}" for t, rss in memory["timeline"]),
        ]
    else:
        out.append(f"server memory: peak RSS {memory['peak_rss_mib']} MiB ({memory['note']})")
    server = r["server"]
    out.append(f"server: exit code {server['exit_code']}, {server['tracebacks']} tracebacks in its log")
    if "log_tail" in server:
        out.append(server["log_tail"])
    verdict = r["verdict"]
    out.append("verdict: " + ("all checks hold" if verdict["ok"] else "FAILED: " + "; ".join(verdict["failures"])))
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
