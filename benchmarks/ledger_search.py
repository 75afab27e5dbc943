"""How long the desk waits for a ledger search, as the history grows.

Fills a data folder with past issuances (`history_fill`), opens the service on it and times
the searches the ledger page makes: the newest page, a holder name that matches nothing, each
state, a type and operator, dates, a ledger id. The first search builds the store's index of
the ledger (a segment at a time); its time and the memory it takes (resident size before and
after, and with `--trace-memory`, Python's allocations by tracemalloc) are printed first. Milliseconds per search.

    .venv/bin/python benchmarks/ledger_search.py [--issuances 100000]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.history_fill import fill_history  # noqa: E402
from issuer.config import Settings  # noqa: E402
from issuer.records.ledger import LedgerQuery  # noqa: E402
from issuer.service import IssuerService  # noqa: E402


def timed(service: IssuerService, query: LedgerQuery, repeat: int = 3) -> tuple[float, int]:
    times, found = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        found = len(service.ledger.find(query))
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, found


def resident_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issuances", type=int, default=100_000)
    parser.add_argument("--trace-memory", action="store_true", help="count the index's allocations (slow)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        data_dir.mkdir()
        started = time.perf_counter()
        fill_history(data_dir, args.issuances)
        print(f"history: {args.issuances:,} past issuances written in {time.perf_counter() - started:.1f} s")
        service = IssuerService(Settings.load(data_dir, port=0, admin_port=0), "https://desk.example")
        try:
            gc.collect()
            rss_before = resident_mib()
            if args.trace_memory:
                tracemalloc.start()
            started = time.perf_counter()
            newest = service.ledger.find(LedgerQuery(limit=1))[0]["id"]
            built = time.perf_counter() - started
            gc.collect()
            traced = f"; index allocations {tracemalloc.get_traced_memory()[0] / 2**20:.1f} MiB (tracemalloc)"
            tracemalloc.stop()
            print(
                f"index built at the first search in {built * 1000:.0f} ms;"
                f" resident {rss_before:.0f} -> {resident_mib():.0f} MiB{traced if args.trace_memory else ''}"
            )
            day = 86400
            newest_at = service.ledger.record(newest)["issued_at"]
            queries = {
                "newest 200": LedgerQuery(limit=200),
                "holder name, no match (whole ledger)": LedgerQuery(text="nobody-by-this-name", limit=200),
                "holder name, two words": LedgerQuery(text="ada lovelace", limit=200),
                "part of an id, no match": LedgerQuery(text="zzzzzz", limit=200),
                "state valid, 200": LedgerQuery(state="valid", limit=200),
                "state expired, 200": LedgerQuery(state="expired", limit=200),
                "state revoked": LedgerQuery(state="revoked", limit=200),
                "state suspended": LedgerQuery(state="suspended", limit=200),
                "one type and operator, 200": LedgerQuery(config_id="employee_badge", operator="desk-1", limit=200),
                "operator, no match": LedgerQuery(operator="nobody", limit=200),
                "type and operator, no match": LedgerQuery(config_id="membership_card", operator="nobody", limit=200),
                "dates, one day a year ago": LedgerQuery(
                    issued_from=newest_at - 366 * day, issued_until=newest_at - 365 * day, limit=200
                ),
                "dates, before all": LedgerQuery(issued_until=0, limit=200),
                "a ledger id": LedgerQuery(text=newest),
            }
            for name, query in queries.items():
                milliseconds, found = timed(service, query)
                print(f"{name:40s} {milliseconds:9.1f} ms  ({found} found)")
        finally:
            service.close()


if __name__ == "__main__":
    main()
