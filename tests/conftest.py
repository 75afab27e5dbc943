"""Shared fixtures: a real issuer (Waitress on 127.0.0.1, ephemeral ports, data in tmp_path)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from issuer.config import Settings
from issuer.runtime import IssuerRuntime, read_admin_token
from issuer.service import IssuerService


@dataclass(frozen=True)
class RunningIssuer:
    url: str
    admin_url: str
    admin_token: str
    data_dir: Path
    service: IssuerService
    runtime: IssuerRuntime


def start_issuer(data_dir: Path, **overrides: object) -> IssuerRuntime:
    settings = Settings.load(data_dir=data_dir, port=0, admin_port=0, **overrides)
    runtime = IssuerRuntime(settings)
    runtime.start()
    return runtime


@pytest.fixture
def issuer(tmp_path: Path) -> Iterator[RunningIssuer]:
    data_dir = tmp_path / "data"
    runtime = start_issuer(data_dir)
    assert runtime.service is not None
    try:
        yield RunningIssuer(
            runtime.issuer_url, runtime.admin_url, read_admin_token(data_dir), data_dir, runtime.service, runtime
        )
    finally:
        runtime.stop()
