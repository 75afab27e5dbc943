"""An IssuerService without servers, on a fresh data folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from issuer.config import Settings
from issuer.service import IssuerService


@pytest.fixture
def service(tmp_path: Path) -> Iterator[IssuerService]:
    settings = Settings.load(tmp_path / "data", port=0, admin_port=0)
    settings.data_dir.mkdir()
    svc = IssuerService(settings, "https://desk.example")
    yield svc
    svc.close()
