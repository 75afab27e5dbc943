"""An IssuerService without servers, on a fresh data folder, with a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from issuer.config import Settings
from issuer.service import IssuerService


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(tmp_path: Path, clock: Clock) -> Iterator[IssuerService]:
    settings = Settings.load(tmp_path / "data", port=0, admin_port=0)
    settings.data_dir.mkdir()
    svc = IssuerService(settings, "https://desk.example", clock=clock)
    yield svc
    svc.close()
