"""Hardening of both apps over real HTTP: rate limits, security headers, host check, exposure."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from issuer.config import Settings, SettingsError
from issuer.runtime import IssuerRuntime, read_admin_token
from issuer.web.admin_app import create_admin_app
from issuer.web.guard import API_CSP, HTML_CSP, Guard, RateLimiter, allowed_hosts
from issuer.web.server import IssuerServer, bind
from tests.conftest import RunningIssuer, start_issuer

SECURITY = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
TOKEN_FORM = {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code", "pre-authorized_code": "x.y"}


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Any]:
    """Start issuers with setting overrides; all are stopped at the end."""
    started: list[IssuerRuntime] = []

    def start(**overrides: object) -> IssuerRuntime:
        runtime = start_issuer(tmp_path / f"data{len(started)}", **overrides)
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        runtime.stop()


def assert_secured(response: requests.Response, csp: str = API_CSP) -> None:
    for name, value in SECURITY.items():
        assert response.headers[name] == value, name
    assert response.headers["Content-Security-Policy"] == csp
    assert "," not in response.headers["X-Content-Type-Options"]  # set once, not twice


# ----- security headers -----


def test_every_wallet_facing_response_carries_the_security_headers(issuer: RunningIssuer) -> None:
    metadata = requests.get(f"{issuer.url}/.well-known/openid-credential-issuer", timeout=5)
    assert metadata.status_code == 200
    assert_secured(metadata)
    assert metadata.headers["Cache-Control"] == "no-cache" and metadata.headers["ETag"]
    assert metadata.headers["Access-Control-Allow-Origin"] == "*"
    again = requests.get(
        f"{issuer.url}/.well-known/openid-credential-issuer",
        headers={"If-None-Match": metadata.headers["ETag"]},
        timeout=5,
    )
    assert again.status_code == 304 and again.content == b""
    assert_secured(again)

    token = requests.post(f"{issuer.url}/token", data=TOKEN_FORM, timeout=5)
    assert token.status_code == 400 and token.json()["error"] == "invalid_grant"
    assert token.headers["Cache-Control"] == "no-store" and token.headers["Pragma"] == "no-cache"
    assert_secured(token)
    nonce = requests.post(f"{issuer.url}/nonce", timeout=5)
    assert nonce.status_code == 200 and nonce.headers["Cache-Control"] == "no-store"
    assert_secured(nonce)
    missing = requests.get(f"{issuer.url}/no-such-page", timeout=5)
    assert missing.status_code == 404 and missing.json() == {"error": "not_found"}
    assert missing.headers["Cache-Control"] == "no-store"
    assert_secured(missing)
    logo = requests.get(f"{issuer.url}/logos/employee_badge.svg", timeout=5)
    assert logo.headers["Cache-Control"] == "public, max-age=86400"  # the view's own policy stays
    assert_secured(logo)
    preflight = requests.options(f"{issuer.url}/credential", timeout=5)
    assert preflight.status_code == 204
    assert_secured(preflight, HTML_CSP)  # Flask labels an empty body text/html: the page policy then


def test_admin_responses_carry_the_security_headers(issuer: RunningIssuer) -> None:
    refused = requests.get(f"{issuer.admin_url}/api/offers", timeout=5)
    assert refused.status_code == 401
    assert_secured(refused)
    listed = requests.get(
        f"{issuer.admin_url}/api/offers", headers={"Authorization": f"Bearer {issuer.admin_token}"}, timeout=5
    )
    assert listed.status_code == 200 and listed.headers["Cache-Control"] == "no-store"
    assert_secured(listed)


def test_html_responses_get_the_strict_policy(tmp_path: Path) -> None:
    """No page is HTML yet: any text/html response gets the page policy, the rest the API one."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        html = environ["PATH_INFO"] == "/page"
        kind = "text/html; charset=utf-8" if html else "application/json"
        start_response("200 OK", [("Content-Type", kind)])
        return [b"<p>hello</p>" if html else b"{}"]

    server = IssuerServer(Guard(app), bind("127.0.0.1", 0), threads=1)
    server.start()
    try:
        page = requests.get(f"http://127.0.0.1:{server.port}/page", timeout=5)
        assert_secured(page, HTML_CSP)
        assert "style-src 'self'" in HTML_CSP and "base-uri 'none'" in HTML_CSP and "form-action 'self'" in HTML_CSP
        assert page.headers["Cache-Control"] == "no-store"
        assert_secured(requests.get(f"http://127.0.0.1:{server.port}/data", timeout=5), API_CSP)
    finally:
        server.stop()


# ----- rate limits -----


def test_token_endpoint_is_rate_limited_per_client(running: Any) -> None:
    runtime = running(token_rate_limit=3, wallet_rate_limit=5, rate_limit_window=60, rate_limit_exempt=[])
    url = runtime.issuer_url
    statuses = [requests.post(f"{url}/token", data=TOKEN_FORM, timeout=5).status_code for _ in range(3)]
    assert statuses == [400, 400, 400]  # wrong codes, answered as usual
    limited = requests.post(f"{url}/token", data=TOKEN_FORM, timeout=5)
    assert limited.status_code == 429
    assert limited.json() == {"error": "invalid_request", "error_description": "too many requests, retry later"}
    assert limited.headers["Content-Type"] == "application/json"
    assert limited.headers["Cache-Control"] == "no-store" and limited.headers["Pragma"] == "no-cache"
    assert 1 <= int(limited.headers["Retry-After"]) <= 20  # one request's worth of a 60 s window for 3
    assert limited.headers["Access-Control-Allow-Origin"] == "*"  # a browser wallet can read it
    assert_secured(limited)
    # The other wallet-facing POST endpoints have their own, looser budget; GETs have none.
    assert [requests.post(f"{url}/nonce", timeout=5).status_code for _ in range(5)] == [200] * 5
    assert requests.post(f"{url}/nonce", timeout=5).status_code == 429
    assert requests.post(f"{url}/credential", json={}, timeout=5).status_code == 429
    assert requests.get(f"{url}/jwks", timeout=5).status_code == 200


def test_the_bucket_refills(running: Any) -> None:
    runtime = running(token_rate_limit=2, rate_limit_window=1, rate_limit_exempt=[])
    url = f"{runtime.issuer_url}/token"
    assert [requests.post(url, data=TOKEN_FORM, timeout=5).status_code for _ in range(2)] == [400, 400]
    limited = requests.post(url, data=TOKEN_FORM, timeout=5)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    threading.Event().wait(float(limited.headers["Retry-After"]))
    assert requests.post(url, data=TOKEN_FORM, timeout=5).status_code == 400


def test_the_client_is_the_forwarded_address_only_behind_a_trusted_proxy(running: Any) -> None:
    proxied = running(token_rate_limit=2, rate_limit_window=60, rate_limit_exempt=[], trusted_proxies=["127.0.0.1"])

    def post(runtime: IssuerRuntime, client: str) -> int:
        headers = {"X-Forwarded-For": client}
        return requests.post(f"{runtime.issuer_url}/token", data=TOKEN_FORM, headers=headers, timeout=5).status_code

    assert [post(proxied, "203.0.113.1") for _ in range(3)] == [400, 400, 429]
    assert [post(proxied, "203.0.113.2") for _ in range(2)] == [400, 400]  # another wallet, its own budget
    # Without a trusted proxy the header is the client's word: ignored, the peer address counts.
    direct = running(token_rate_limit=2, rate_limit_window=60, rate_limit_exempt=[])
    assert [post(direct, f"203.0.113.{n}") for n in range(3)] == [400, 400, 429]


def test_loopback_clients_are_exempt_by_default(issuer: RunningIssuer) -> None:
    """The desk machine itself (the app, local tools, benchmarks); a local proxy must be a trusted one."""
    settings = issuer.runtime.settings
    assert settings.token_rate_limit == 30 and settings.rate_limit_window == 10
    assert settings.rate_limit_exempt == ("127.0.0.1", "::1")
    statuses = {requests.post(f"{issuer.url}/token", data=TOKEN_FORM, timeout=5).status_code for _ in range(40)}
    assert statuses == {400}


def test_concurrent_requests_never_exceed_the_limit(running: Any) -> None:
    runtime = running(token_rate_limit=10, rate_limit_window=3600, rate_limit_exempt=[], threads=4)

    def post(_: int) -> int:
        return requests.post(f"{runtime.issuer_url}/token", data=TOKEN_FORM, timeout=10).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(post, range(64)))
    assert statuses.count(400) == 10 and statuses.count(429) == 54


def test_limiter_is_thread_safe_and_memory_bounded() -> None:
    now = [0.0]
    limiter = RateLimiter(50, 10, max_clients=100, clock=lambda: now[0])
    allowed = []
    lock = threading.Lock()

    def hammer() -> None:
        passed = sum(1 for _ in range(100) if limiter.acquire("198.51.100.7") == 0)
        with lock:
            allowed.append(passed)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 50
    assert limiter.acquire("198.51.100.7") == pytest.approx(0.2)  # 1 request per 0.2 s
    for n in range(1000):
        limiter.acquire(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter) == 100  # the least recently seen addresses were forgotten
    now[0] = 10.0
    limiter.acquire("192.0.2.1")
    assert len(limiter) == 1  # idle for a whole window: full again, so forgotten
    # IPv6 clients count per /64: rotating the interface id buys nothing.
    v6 = RateLimiter(2, 10, clock=lambda: now[0])
    assert [v6.acquire(f"2001:db8:1:2::{n:x}") == 0 for n in range(3)] == [True, True, False]
    assert v6.acquire("2001:db8:1:3::1") == 0
    # An IPv4 client on a dual-stack socket is itself, not the whole IPv4-mapped block.
    assert [v6.acquire(f"::ffff:192.0.2.{n}") == 0 for n in range(3)] == [True, True, True]
    assert v6.acquire("::ffff:192.0.2.0") == 0 and v6.acquire("::ffff:192.0.2.0") != 0


def test_rate_limit_settings_are_checked(tmp_path: Path) -> None:
    for bad in (
        {"token_rate_limit": -1},
        {"rate_limit_window": 0},
        {"wallet_rate_limit": "many"},
        {"rate_limit_exempt": "127.0.0.1"},
        {"allowed_hosts": [1]},
        {"check_host": "no"},
    ):
        with pytest.raises(SettingsError):
            Settings.load(tmp_path, **bad)
    off = Settings.load(tmp_path, token_rate_limit=0, wallet_rate_limit=0)
    assert off.token_rate_limit == 0


def test_limits_can_be_turned_off(running: Any) -> None:
    runtime = running(token_rate_limit=0, wallet_rate_limit=0, rate_limit_exempt=[])
    statuses = {requests.post(f"{runtime.issuer_url}/token", data=TOKEN_FORM, timeout=5).status_code for _ in range(40)}
    assert statuses == {400}


# ----- host check -----


def get_jwks(runtime: IssuerRuntime, **headers: str) -> requests.Response:
    return requests.get(f"http://127.0.0.1:{runtime.settings.port}/jwks", headers=headers, timeout=5)


def test_unknown_hosts_are_refused(issuer: RunningIssuer) -> None:
    port = issuer.runtime.settings.port
    refused = get_jwks(issuer.runtime, Host="evil.example")
    assert refused.status_code == 400
    assert refused.json() == {"error": "invalid_request", "error_description": "unknown host"}
    assert refused.headers["Cache-Control"] == "no-store"
    assert_secured(refused)
    assert get_jwks(issuer.runtime, Host=f"evil.example:{port}").status_code == 400
    assert get_jwks(issuer.runtime, Host="127.0.0.1:1").status_code == 400  # the right name, another port
    # The derived (loopback) issuer URL, and its loopback aliases.
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):
        assert get_jwks(issuer.runtime, Host=host).status_code == 200, host
    # A refused host never reaches the rate limiter or the endpoints.
    refused = requests.post(f"{issuer.url}/token", data=TOKEN_FORM, headers={"Host": "evil.example"}, timeout=5)
    assert refused.json()["error_description"] == "unknown host"


def test_the_public_host_and_the_listening_address_are_accepted(running: Any) -> None:
    runtime = running(public_url="https://desk.example.org/desk", allowed_hosts=["desk-alias.example.org"])
    port = runtime.settings.port
    for host in ("desk.example.org", "desk.example.org:443", "DESK.example.org", "desk-alias.example.org"):
        assert get_jwks(runtime, Host=host).status_code == 200, host
    # What a reverse proxy on this machine sends by default (nginx: the upstream address).
    assert get_jwks(runtime, Host=f"127.0.0.1:{port}").status_code == 200
    for host in ("desk.example.org:8443", "example.org", "desk.example.org.evil.example", "other.example"):
        assert get_jwks(runtime, Host=host).status_code == 400, host


def test_forwarded_host_counts_only_behind_a_trusted_proxy(running: Any) -> None:
    trusted = running(public_url="https://desk.example.org", trusted_proxies=["127.0.0.1"])
    ok = get_jwks(trusted, Host="internal:1", **{"X-Forwarded-Host": "desk.example.org", "X-Forwarded-Proto": "https"})
    assert ok.status_code == 200
    assert get_jwks(trusted, **{"X-Forwarded-Host": "evil.example"}).status_code == 400
    untrusted = running(public_url="https://desk.example.org")
    assert get_jwks(untrusted, Host="evil.example", **{"X-Forwarded-Host": "desk.example.org"}).status_code == 400
    assert get_jwks(untrusted, **{"X-Forwarded-Host": "evil.example"}).status_code == 200  # ignored


def test_host_check_can_be_turned_off(running: Any) -> None:
    runtime = running(public_url="https://desk.example.org", check_host=False)
    assert get_jwks(runtime, Host="evil.example").status_code == 200


def test_admin_api_on_loopback_answers_loopback_names_only(issuer: RunningIssuer) -> None:
    auth = {"Authorization": f"Bearer {issuer.admin_token}"}
    port = issuer.runtime.settings.admin_port
    url = f"http://127.0.0.1:{port}/api/offers"
    assert requests.get(url, headers={**auth, "Host": f"localhost:{port}"}, timeout=5).status_code == 200
    rebound = requests.get(url, headers={**auth, "Host": "evil.example"}, timeout=5)  # DNS rebinding
    assert rebound.status_code == 400 and rebound.json()["error_description"] == "unknown host"


def test_allowed_hosts_list() -> None:
    hosts = allowed_hosts("http://127.0.0.1:8440", "127.0.0.1", 8440)
    assert hosts == {"127.0.0.1:8440", "localhost:8440", "[::1]:8440"}
    hosts = allowed_hosts("https://desk.example.org", "0.0.0.0", 8440)
    assert {"desk.example.org", "desk.example.org:443", "127.0.0.1:8440"} <= hosts
    assert not any(h.startswith("localhost:443") for h in hosts)
    assert allowed_hosts("http://192.0.2.5:80", "192.0.2.5", 80) == {"192.0.2.5", "192.0.2.5:80"}


# ----- exposure -----


def test_no_admin_route_answers_on_the_wallet_port(issuer: RunningIssuer) -> None:
    admin_app = create_admin_app(issuer.service, issuer.admin_token)
    auth = {"Authorization": f"Bearer {issuer.admin_token}"}
    checked = 0
    for rule in admin_app.url_map.iter_rules():
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", "x").replace(f"<string:{argument}>", "x")
        path = path.split("<any(")[0] + ("revoke" if "<any(" in path else "")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = requests.request(method, f"{issuer.url}{path}", headers=auth, json={}, timeout=5)
            assert response.status_code == 404, (method, path)
            assert response.json() == {"error": "not_found"}
            checked += 1
    assert checked >= 10
    assert requests.options(f"{issuer.url}/api/offers", timeout=5).status_code == 404


def test_admin_api_binds_loopback_by_default_and_always_needs_the_token(running: Any, tmp_path: Path) -> None:
    assert Settings.load(tmp_path / "defaults").admin_host == "127.0.0.1"
    exposed = running(admin_host="0.0.0.0")
    port = exposed.settings.admin_port
    assert requests.get(f"http://127.0.0.1:{port}/api/offers", timeout=5).status_code == 401
    token = read_admin_token(exposed.settings.data_dir)
    wrong = requests.get(f"http://127.0.0.1:{port}/api/offers", headers={"Authorization": "Bearer x"}, timeout=5)
    assert wrong.status_code == 401
    right = requests.get(f"http://127.0.0.1:{port}/api/offers", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert right.status_code == 200


def test_an_empty_or_short_admin_token_refuses_to_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    for content in ("", "short\n"):
        (data_dir / "admin-token").write_text(content)
        (data_dir / "admin-token").chmod(0o600)
        with pytest.raises(SettingsError, match="shorter than 16"):
            start_issuer(data_dir, admin_host="0.0.0.0")


def test_key_files_readable_by_others_refuse_to_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    start_issuer(data_dir).stop()
    [pem] = (data_dir / "keys").glob("*.pem")
    pem.chmod(0o640)
    with pytest.raises(SettingsError, match="open to other users"):
        start_issuer(data_dir)
    pem.chmod(0o600)
    (data_dir / "keys" / "secret-hash.key").chmod(0o604)
    with pytest.raises(SettingsError, match="secret-hash.key is open to other users"):
        start_issuer(data_dir)
