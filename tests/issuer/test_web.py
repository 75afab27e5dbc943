"""HTTP behaviour shared by every route: JSON errors, limits, CORS, proxies, issuer paths."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import requests
from flask import Flask

from issuer.storage.interfaces import StorageUnavailable
from issuer.web.common import install_error_handlers
from tests.conftest import RunningIssuer, start_issuer


def test_unknown_route_and_method_are_json_errors(issuer: RunningIssuer) -> None:
    missing = requests.get(f"{issuer.url}/no/such/route", timeout=5)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/json"
    assert missing.json() == {"error": "not_found"}
    wrong_method = requests.get(f"{issuer.url}/token", timeout=5)
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"error": "method_not_allowed"}


def test_oversized_body_is_413_json_and_the_server_keeps_serving(issuer: RunningIssuer) -> None:
    response = requests.post(
        f"{issuer.url}/credential",
        data=b"{" + b" " * 200_000 + b"}",
        headers={"Content-Type": "application/json", "Authorization": "Bearer x"},
        timeout=5,
    )
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"
    assert requests.post(f"{issuer.url}/nonce", timeout=5).status_code == 200


def test_cors_preflight_and_headers_for_browser_wallets(issuer: RunningIssuer) -> None:
    preflight = requests.options(
        f"{issuer.url}/credential",
        headers={"Origin": "https://wallet.example", "Access-Control-Request-Method": "POST"},
        timeout=5,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    nonce = requests.post(f"{issuer.url}/nonce", timeout=5)
    assert nonce.headers["Access-Control-Allow-Origin"] == "*"
    assert nonce.headers["X-Content-Type-Options"] == "nosniff"


def test_logo_route_serves_shipped_logos_only(issuer: RunningIssuer) -> None:
    logo = requests.get(f"{issuer.url}/logos/employee_badge.svg", timeout=5)
    assert logo.status_code == 200 and logo.headers["Content-Type"].startswith("image/svg+xml")
    assert logo.content.startswith(b"<svg")
    for name in ("..%2F__init__.py", ".hidden", "nothing.svg"):
        assert requests.get(f"{issuer.url}/logos/{name}", timeout=5).status_code == 404


@pytest.fixture
def issuer_with_path(tmp_path: Path):
    runtime = start_issuer(tmp_path / "data", public_url="http://127.0.0.1:1/desk")
    try:
        yield runtime
    finally:
        runtime.stop()


def test_issuer_identifier_with_a_path(issuer_with_path) -> None:
    """OID4VCI §12.2.2: the well-known segment goes between host and path; the rest keeps the path."""
    local = f"http://127.0.0.1:{issuer_with_path.settings.port}"
    metadata = requests.get(f"{local}/.well-known/openid-credential-issuer/desk", timeout=5)
    assert metadata.status_code == 200
    assert metadata.json()["credential_issuer"] == "http://127.0.0.1:1/desk"
    assert metadata.json()["credential_endpoint"] == "http://127.0.0.1:1/desk/credential"
    as_metadata = requests.get(f"{local}/.well-known/oauth-authorization-server/desk", timeout=5)
    assert as_metadata.json()["token_endpoint"] == "http://127.0.0.1:1/desk/token"
    assert requests.post(f"{local}/desk/nonce", timeout=5).status_code == 200
    assert requests.get(f"{local}/.well-known/openid-credential-issuer", timeout=5).status_code == 404


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (StorageUnavailable("disk full"), (503, "temporarily_unavailable")),
        (OSError(errno.ENOSPC, "No space left on device"), (503, "temporarily_unavailable")),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), (503, "temporarily_unavailable")),
        (OSError(errno.EACCES, "Permission denied"), (500, "server_error")),
    ],
    ids=["store", "no space", "quota", "other"],
)
def test_a_write_that_finds_no_room_is_503_with_retry_after(failure: Exception, expected: tuple[int, str]) -> None:
    """The store's failure, or a full disk met writing anything else (a key file, a backup's copy)."""
    app = Flask(__name__)
    install_error_handlers(app)

    @app.post("/write")
    def write() -> str:
        raise failure

    response = app.test_client().post("/write")
    assert (response.status_code, response.get_json()["error"]) == expected
    if response.status_code == 503:
        assert int(response.headers["Retry-After"]) > 0 and response.headers["Cache-Control"] == "no-store"
        assert "cannot save now" in response.get_json()["error_description"]
