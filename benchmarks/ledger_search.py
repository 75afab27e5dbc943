"""How long the desk waits for a ledger search, as the history grows.

Fills a data folder with past issuances (`history_fill`), opens the service on it and times
the searches the ledger page makes: the newest page, a holder name that matches nothing
(every segment read), a state filter, and a ledger id. Prints milliseconds per search.

    .venv/bin/python benchmarks/ledger_search.py [--issuances 100000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issuances", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        data_dir.mkdir()
        started = time.perf_counter()
        fill_history(data_dir, args.issuances)
        print(f"history: {args.issuances:,} past issuances written in {time.perf_counter() - started:.1f} s")
        service = IssuerService(Settings.load(data_dir, port=0, admin_port=0), "https://desk.example")
        try:
            newest = service.ledger.find(LedgerQuery(limit=1))[0]["id"]
            queries = {
                "newest 200": LedgerQuery(limit=200),
                "holder name, no match (whole ledger)": LedgerQuery(text="nobody-by-this-name", limit=200),
                "state expired, 200": LedgerQuery(state="expired", limit=200),
                "one type and operator, 200": LedgerQuery(config_id="employee_badge", operator="desk-1", limit=200),
                "a ledger id": LedgerQuery(text=newest),
            }
            for name, query in queries.items():
                milliseconds, found = timed(service, query)
                print(f"{name:40s} {milliseconds:9.1f} ms  ({found} found)")
        finally:
            service.close()


if __name__ == "__main__":
    main()
