"""Issuance throughput and the server's CPU per issuance, with simulated wallets over real HTTP.

A real server runs in its own process (`frontdesk-issuer serve`, ports picked by the
kernel, a fresh data folder). N wallet threads each loop over the whole pre-authorized
flow for S seconds: offer creation (admin API), offer by reference, issuer metadata,
token, nonce, credential with a jwt proof, notification. After a short warm-up, the timed
window starts when every wallet is ready and ends when the last wallet's last flow ends;
the server's CPU time (user + sys, /proc/<pid>/stat) is read at both ends.

`--history N` first writes N past issuances into the data folder's history with the
store's own bulk path; `--compare` runs with 1,000 and 100,000 and prints the ratios. The
cost of one issuance should not grow with the history (DESIGN.md, Persistence).

Run by hand, from the repository root (not in CI):
    .venv/bin/python benchmarks/issuance.py --seconds 10
    .venv/bin/python benchmarks/issuance.py --compare --seconds 20
    .venv/bin/python benchmarks/issuance.py --profile /tmp/profile.txt   # needs py-spy
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from history_fill import default_segment_size, fill_history
from profile_summary import as_json, read_profile, report
from server_process import (
    ServerError,
    ServerProcess,
    interrupt,
    machine,
    machine_busy_seconds,
    positive_int,
    progress,
)
from wallet_flow import STEPS, FlowError, WalletFlow

ROOT = Path(__file__).resolve().parent.parent
SERVER_EXECUTABLE = ROOT / ".venv" / "bin" / "frontdesk-issuer"
PY_SPY = shutil.which("py-spy") or str(ROOT / ".venv" / "bin" / "py-spy")
COMPARE_SIZES = (1_000, 100_000)
WARMUP_SECONDS = 3.0
BARRIER_TIMEOUT = 120.0
PAUSE_AFTER_ERROR = 0.05


@dataclass
class WalletStats:
    """What one wallet thread saw; only that thread writes it."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in (*STEPS, "flow")})
    errors: Counter[str] = field(default_factory=Counter)
    first_tracebacks: dict[str, str] = field(default_factory=dict)
    issuances: int = 0


@dataclass
class Window:
    """Readings at both ends of the timed window, taken by the barrier actions."""

    seconds: float
    profile: Path | None
    started: float = 0.0
    deadline: float = 0.0
    ended: float = 0.0
    readings: dict[str, tuple[float, ...]] = field(default_factory=dict)
    profiler: subprocess.Popen[bytes] | None = None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.profile is not None and not Path(PY_SPY).exists():
        print("benchmark: --profile needs py-spy (.venv/bin/pip install py-spy, for local use)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, interrupt)
    try:
        if args.compare:
            sizes = (COMPARE_SIZES[0], args.history or COMPARE_SIZES[1])
            runs = [run(size, args.wallets, args.seconds, args.profile) for size in sizes]
        else:
            runs = [run(args.history, args.wallets, args.seconds, args.profile)]
    except KeyboardInterrupt:
        print("interrupted; the server was stopped", file=sys.stderr)
        return 130
    except ServerError as error:
        print(f"benchmark: {error}", file=sys.stderr)
        return 2
    summary = {"machine": runs[0].pop("machine"), "runs": runs}
    for other in runs[1:]:
        other.pop("machine")
    if args.compare:
        summary["compare"] = _comparison(runs[0], runs[1])
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(_text(summary))
    return 1 if any(r["errors"] for r in runs) else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wallets", type=positive_int, default=8, help="concurrent simulated wallets (default 8)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the timed window (default 30)")
    parser.add_argument("--history", type=int, default=0, help="past issuances written before the server starts")
    parser.add_argument(
        "--compare", action="store_true", help=f"run with {COMPARE_SIZES[0]:,} and {COMPARE_SIZES[1]:,} past issuances"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON summary")
    parser.add_argument(
        "--profile", type=Path, help="sample the server with py-spy --gil (raw format) into this file, and summarize"
    )
    return parser


def run(history: int, wallets: int, seconds: float, profile: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir(mode=0o700)
        filled, fill_seconds = 0, 0.0
        if history:
            progress(f"writing {history:,} past issuances into the history...")
            began = time.perf_counter()
            filled = fill_history(data_dir, history)
            fill_seconds = time.perf_counter() - began
        profile_path = profile
        if profile is not None and history:
            profile_path = profile.with_name(f"{profile.stem}-{history}{profile.suffix}")
        server = ServerProcess(SERVER_EXECUTABLE, data_dir, Path(tmp) / "server.log")
        with server:
            progress(f"server {server.pid} at {server.issuer_url}, admin {server.admin_url}; {wallets} wallets")
            window, stats = _measure(server, wallets, seconds, profile_path)
            peak_rss = server.peak_rss_mib()
        result = _result(server, window, stats, wallets)
        result.update(
            machine=machine(data_dir),
            history_issuances=history,
            history_records=filled,
            history_fill_seconds=round(fill_seconds, 1),
            segment_size=default_segment_size(),
            server_peak_rss_mib=round(peak_rss, 1),
        )
        if server.exit_code != 0:
            result["errors"][f"server: exit code {server.exit_code}"] += 1
        if server.tracebacks():
            result["errors"]["server: tracebacks in its log"] += server.tracebacks()
            result["server_log_tail"] = server.log_tail(40)
        if profile_path is not None and profile_path.exists():
            profiled = read_profile(profile_path)
            result["profile"] = {"file": str(profile_path), **as_json(profiled)}
            result["profile_text"] = report(profiled, result["server_user_ms_per_issuance"])
        elif profile_path is not None:
            result["profile_text"] = f"profile: py-spy wrote nothing to {profile_path} (try it by hand on the pid)"
        result["errors"] = dict(result["errors"])
        return result


def _measure(
    server: ServerProcess, wallets: int, seconds: float, profile: Path | None
) -> tuple[Window, list[WalletStats]]:
    window = Window(seconds, profile)
    flows = [WalletFlow(server.issuer_url, server.admin_url, server.admin_token()) for _ in range(wallets)]
    warm = [WalletStats() for _ in flows]
    timed = [WalletStats() for _ in flows]
    stop = threading.Event()
    start = threading.Barrier(wallets, action=lambda: _open_window(window, server), timeout=BARRIER_TIMEOUT)
    end = threading.Barrier(wallets, action=lambda: _close_window(window, server), timeout=BARRIER_TIMEOUT)
    warm_until = time.perf_counter() + WARMUP_SECONDS
    threads = [
        threading.Thread(
            target=_wallet, args=(flow, warm[n], timed[n], warm_until, window, start, end, stop), name=f"wallet-{n}"
        )
        for n, flow in enumerate(flows)
    ]
    with _stopping(threads, stop, (start, end)):
        progress(f"warming up for {WARMUP_SECONDS:.0f} s, then measuring for {seconds:g} s...")
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)
    _stop_profiler(window)
    for before, after in zip(warm, timed, strict=True):
        after.errors.update(before.errors)
        for kind, text in before.first_tracebacks.items():
            after.first_tracebacks.setdefault(kind, text)
    return window, timed


@contextmanager
def _stopping(
    threads: list[threading.Thread], stop: threading.Event, barriers: tuple[threading.Barrier, ...]
) -> Iterator[None]:
    """On Ctrl-C or an error: wallets stop after their current request, then the caller stops the server."""
    try:
        yield
    except BaseException:
        stop.set()
        for barrier in barriers:
            barrier.abort()
        for thread in threads:
            if thread.is_alive():
                thread.join()
        raise


def _wallet(
    flow: WalletFlow,
    warm: WalletStats,
    timed: WalletStats,
    warm_until: float,
    window: Window,
    start: threading.Barrier,
    end: threading.Barrier,
    stop: threading.Event,
) -> None:
    try:
        _flows(flow, warm, lambda: warm_until, stop, at_least=1)
        start.wait()
        _flows(flow, timed, lambda: window.deadline, stop)
        end.wait()
    except threading.BrokenBarrierError:
        pass
    finally:
        flow.close()


def _flows(
    flow: WalletFlow, stats: WalletStats, deadline: Callable[[], float], stop: threading.Event, at_least: int = 0
) -> None:
    """Whole issuances until the deadline; a flow that has begun runs to its end."""
    done = 0
    while not stop.is_set() and (done < at_least or time.perf_counter() < deadline()):
        done += 1
        began = time.perf_counter()
        try:
            for step, elapsed in flow.issue():
                stats.latencies[step].append(elapsed)
        except FlowError as error:
            stats.errors[error.kind] += 1
            stop.wait(PAUSE_AFTER_ERROR)
            continue
        except Exception as error:  # a bug in the benchmark or the wallet: count it, show it, go on
            kind = f"{flow.current_step}: {type(error).__name__}"
            stats.errors[kind] += 1
            stats.first_tracebacks.setdefault(kind, traceback.format_exc())
            stop.wait(PAUSE_AFTER_ERROR)
            continue
        stats.latencies["flow"].append(time.perf_counter() - began)
        stats.issuances += 1


def _open_window(window: Window, server: ServerProcess) -> None:
    if window.profile is not None:
        window.profiler = _start_profiler(server.pid, window.profile, window.seconds)
    window.readings["start"] = _readings(server)
    window.started = time.perf_counter()
    window.deadline = window.started + window.seconds


def _close_window(window: Window, server: ServerProcess) -> None:
    window.ended = time.perf_counter()
    window.readings["end"] = _readings(server)


def _readings(server: ServerProcess) -> tuple[float, ...]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return (*server.cpu_times(), own.ru_utime + own.ru_stime, *machine_busy_seconds())


def _start_profiler(pid: int, output: Path, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy sampling only the thread that holds the GIL: where the server's Python CPU goes.

    Without `--gil`, threads blocked in fsync or on the store lock count as busy, which
    measures waiting, not CPU; kernel time (fsync, sockets) is the run's `sys` figure instead.
    """
    command = [PY_SPY, "record", "--pid", str(pid), "--format", "raw", "--gil", "--nonblocking", "--rate", "250"]
    command += ["--duration", str(math.ceil(seconds)), "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop_profiler(window: Window) -> None:
    """py-spy writes its file when its duration ends or on SIGINT."""
    profiler = window.profiler
    if profiler is None:
        return
    if profiler.poll() is None:
        profiler.send_signal(signal.SIGINT)
    try:
        profiler.wait(30)
    except subprocess.TimeoutExpired:
        profiler.kill()
        profiler.wait()


def _result(server: ServerProcess, window: Window, stats: list[WalletStats], wallets: int) -> dict[str, Any]:
    elapsed = window.ended - window.started
    user0, sys0, client0, busy0, total0 = window.readings["start"]
    user1, sys1, client1, busy1, total1 = window.readings["end"]
    server_cpu = (user1 - user0) + (sys1 - sys0)
    issuances = sum(s.issuances for s in stats)
    per = max(issuances, 1)
    errors: Counter[str] = Counter()
    tracebacks: dict[str, str] = {}
    for s in stats:
        errors.update(s.errors)
        for kind, text in s.first_tracebacks.items():
            tracebacks.setdefault(kind, text)
    latencies = {step: _percentiles([value for s in stats for value in s.latencies[step]]) for step in (*STEPS, "flow")}
    return {
        "wallets": wallets,
        "seconds": round(elapsed, 2),
        "issuances": issuances,
        "issuances_per_second": round(issuances / elapsed, 1) if elapsed else 0.0,
        "server_cpu_seconds": round(server_cpu, 2),
        "server_cpu_ms_per_issuance": round(1000 * server_cpu / per, 2),
        "server_user_ms_per_issuance": round(1000 * (user1 - user0) / per, 2),
        "server_sys_ms_per_issuance": round(1000 * (sys1 - sys0) / per, 2),
        "client_cpu_ms_per_issuance": round(1000 * (client1 - client0) / per, 2),
        "machine_busy": round((busy1 - busy0) / max(total1 - total0, 1e-9), 3),
        "latency_ms": latencies,
        "errors": errors,
        "error_tracebacks": tracebacks,
        "profiled": window.profiler is not None,
    }


def _percentiles(values: list[float]) -> dict[str, float | int]:
    """Nearest-rank p50 and p95, in ms."""
    if not values:
        return {"count": 0, "p50": 0.0, "p95": 0.0}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return round(1000 * ordered[max(math.ceil(q * len(ordered)) - 1, 0)], 2)

    return {"count": len(ordered), "p50": rank(0.50), "p95": rank(0.95)}


def _comparison(small: dict[str, Any], large: dict[str, Any]) -> dict[str, Any]:
    def ratio(key: str) -> float:
        return round(large[key] / small[key], 3) if small[key] else 0.0

    return {
        "history": [small["history_issuances"], large["history_issuances"]],
        "server_cpu_ms_per_issuance_ratio": ratio("server_cpu_ms_per_issuance"),
        "issuances_per_second_ratio": ratio("issuances_per_second"),
        "flow_p50_ratio": round(large["latency_ms"]["flow"]["p50"] / small["latency_ms"]["flow"]["p50"], 3)
        if small["latency_ms"]["flow"]["p50"]
        else 0.0,
    }


def _text(summary: dict[str, Any]) -> str:
    m = summary["machine"]
    out = [
        f"machine: {m['cores']} cores, {m['cpu_model']}, {m['python_implementation']} {m['python']}, "
        f"Linux {m['kernel']}, data folder on {m['data_filesystem']}"
    ]
    for r in summary["runs"]:
        out += ["", *_run_text(r)]
    if "compare" in summary:
        c = summary["compare"]
        small, large = c["history"]
        out += [
            "",
            f"history {large:,} vs {small:,} past issuances:",
            f"  server CPU per issuance x{c['server_cpu_ms_per_issuance_ratio']:.3f}",
            f"  issuances/s             x{c['issuances_per_second_ratio']:.3f}",
            f"  flow p50 latency        x{c['flow_p50_ratio']:.3f}",
        ]
    return "\n".join(out)


def _run_text(r: dict[str, Any]) -> list[str]:
    out = [
        f"history: {r['history_issuances']:,} past issuances ({r['history_records']:,} records, "
        f"segments of {r['segment_size']:,}, written in {r['history_fill_seconds']} s)",
        f"wallets: {r['wallets']}, timed window {r['seconds']} s" + (" (py-spy attached)" if r["profiled"] else ""),
        f"issuances: {r['issuances']} = {r['issuances_per_second']} /s",
        f"server CPU: {r['server_cpu_seconds']} s = {r['server_cpu_ms_per_issuance']} ms per issuance "
        f"(user {r['server_user_ms_per_issuance']} + sys {r['server_sys_ms_per_issuance']}; "
        f"peak RSS {r['server_peak_rss_mib']} MiB)",
        f"client CPU: {r['client_cpu_ms_per_issuance']} ms per issuance; machine busy {r['machine_busy']:.0%}",
        f"latency (ms)  {'p50':>8} {'p95':>8} {'count':>7}",
    ]
    for step, p in r["latency_ms"].items():
        out.append(f"  {step:<12}{p['p50']:>8.2f} {p['p95']:>8.2f} {p['count']:>7}")
    if r["errors"]:
        out.append("errors:")
        out += [f"  {count:>6}  {kind}" for kind, count in sorted(r["errors"].items(), key=lambda e: -e[1])]
        out += [f"first traceback of {kind}:\n{text}" for kind, text in r["error_tracebacks"].items()]
        if "server_log_tail" in r:
            out.append(f"server log (tail):\n{r['server_log_tail']}")
    else:
        out.append("errors: none")
    if "profile_text" in r:
        out.append(r["profile_text"])
    return out


if __name__ == "__main__":
    sys.exit(main())
