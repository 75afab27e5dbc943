"""The hardening tests count the requests they send; the counts are printed at the end of the session."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

CASES: Counter[str] = Counter()


@pytest.fixture(scope="session")
def cases() -> Counter[str]:
    """Requests sent, by test: `cases[name] += 1` for each one."""
    return CASES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not CASES:
        return
    terminalreporter.write_sep("-", "hardening: requests sent")
    for name, count in sorted(CASES.items()):
        terminalreporter.write_line(f"{count:>7}  {name}")
    terminalreporter.write_line(f"{sum(CASES.values()):>7}  in all")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so a fixture can tell whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
