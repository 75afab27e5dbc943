"""Every refusal of the Authorization Code flow, over real HTTP, each with its exact error, and the
guarantee that a refused request binds nobody's data (checklist C14, C15, D1-D10, E7, E8)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from jwcrypto import jwk
from jwcrypto.common import base64url_decode, base64url_encode

from issuer.runtime import IssuerRuntime
from issuer.service import OfferRequest
from tests.conftest import RunningIssuer, start_issuer
from tests.e2e.helpers import BADGE_CLAIMS, clock_shifted
from wallet.client import Session
from wallet.code_flow import CLIENT_ID, REDIRECT_URI, Authorization, CodeFlowWallet, token_form
from wallet.keys import make_dpop_proof, new_key
from wallet.transport import WalletError


@pytest.fixture
def wallet() -> Iterator[CodeFlowWallet]:
    with CodeFlowWallet() as client:
        yield client


@pytest.fixture
def session(issuer: RunningIssuer, wallet: CodeFlowWallet) -> Session:
    return wallet.authorization_session(issuer.url, ["employee_badge"])


def approved(issuer: RunningIssuer, wallet: CodeFlowWallet, session: Session, **options: Any) -> Authorization:
    """A wallet-initiated request the desk approved, its browser back at the wallet with a code."""
    authorization = wallet.start(session, config_ids=["employee_badge"], **options)
    (request,) = issuer.service.sign_ins.pending()
    issuer.service.sign_ins.approve(request["authorization_id"], claims=BADGE_CLAIMS)
    wallet.follow(authorization)
    return authorization


def token_error(wallet: CodeFlowWallet, authorization: Authorization, **extra: str) -> dict[str, Any]:
    with pytest.raises(WalletError) as refusal:
        wallet.exchange(authorization, **extra)
    assert refusal.value.status == 400 and refusal.value.headers["cache-control"].startswith("no-store")
    return dict(refusal.value.body)


def authorize_url(session: Session, params: dict[str, str]) -> str:
    return f"{session.as_metadata['authorization_endpoint']}?{urlencode(params)}"


def redirected_error(wallet: CodeFlowWallet, session: Session, params: dict[str, str]) -> dict[str, str]:
    """The browser goes back to the wallet with an error (RFC 6749 §4.1.2.1)."""
    page = wallet.request("GET", authorize_url(session, params))
    assert page.status == 303, page.body
    location = page.headers["location"]
    assert location.startswith(params["redirect_uri"] + "?")
    response = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert response["state"] == params["state"] and response["iss"] == session.as_metadata["issuer"]
    return response


def error_page(wallet: CodeFlowWallet, url: str) -> str:
    """An error shown in the browser, never sent to an untrusted redirect URI."""
    page = wallet.request("GET", url)
    assert page.status == 400 and page.headers["content-type"].startswith("text/html")
    assert "location" not in page.headers
    text = page.body.decode()
    assert "Traceback" not in text and "<h1>This sign-in cannot continue</h1>" in text
    return text


# ----- PKCE and the code (C14, D7) -----


def test_a_wrong_code_verifier_is_invalid_grant_and_spends_the_code(
    issuer: RunningIssuer, wallet: CodeFlowWallet, session: Session
) -> None:
    authorization = approved(issuer, wallet, session)
    assert token_error(wallet, authorization, code_verifier="x" * 43)["error"] == "invalid_grant"
    assert token_error(wallet, authorization)["error"] == "invalid_grant"  # a code is tried once


def test_a_code_used_twice_is_refused_and_its_token_stops_working(
    issuer: RunningIssuer, wallet: CodeFlowWallet, session: Session
) -> None:
    """RFC 6749 §4.1.2: deny the second use and revoke what the first one gave."""
    authorization = approved(issuer, wallet, session)
    wallet.exchange(authorization)
    assert token_error(wallet, authorization)["error"] == "invalid_grant"
    with pytest.raises(WalletError) as refusal:
        wallet.request_credential(session, "employee_badge")
    assert refusal.value.error == "credential_request_denied"


def test_an_expired_code_is_invalid_grant(issuer: RunningIssuer, wallet: CodeFlowWallet, session: Session) -> None:
    authorization = approved(issuer, wallet, session)
    with clock_shifted(issuer.service, issuer.service.settings.authorization_code_ttl + 1):
        assert token_error(wallet, authorization)["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "change",
    [{"client_id": "another-wallet"}, {"redirect_uri": "https://wallet.example/other"}, {"code": "nope.nope"}],
    ids=["other_client", "other_redirect_uri", "unknown_code"],
)
def test_the_code_is_bound_to_client_and_redirect_uri(
    issuer: RunningIssuer, wallet: CodeFlowWallet, session: Session, change: dict[str, str]
) -> None:
    authorization = approved(issuer, wallet, session)
    assert token_error(wallet, authorization, **change)["error"] == "invalid_grant"


@pytest.mark.parametrize("missing", ["code_verifier", "redirect_uri", "client_id"])
def test_missing_token_parameters_are_invalid_request(
    issuer: RunningIssuer, wallet: CodeFlowWallet, session: Session, missing: str
) -> None:
    authorization = approved(issuer, wallet, session)
    form = token_form(authorization)
    del form[missing]
    response = wallet.post_form(session.as_metadata["token_endpoint"], form)
    assert (response.status, response.json()["error"]) == (400, "invalid_request")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"authorization_details": "not json"}, "invalid_authorization_details"),
        ({"authorization_details": json.dumps([{"type": "openid_credential"}])}, "invalid_authorization_details"),
        (
            {"authorization_details": json.dumps([{"type": "openid_credential", "credential_configuration_id": "x"}])},
            "invalid_authorization_details",
        ),
        ({"authorization_details": None, "scope": "bogus"}, "invalid_scope"),
        ({"issuer_state": "0123456789abcdef.forged"}, "invalid_request"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
    ],
    ids=[
        "no_pkce",
        "pkce_plain",
        "bad_challenge",
        "response_type",
        "details_not_json",
        "details_without_id",
        "details_unknown_id",
        "only_unknown_scope",
        "forged_issuer_state",
        "request_object",
    ],
)
def test_bad_requests_go_back_to_the_wallet_with_their_error(
    registered: RunningIssuer, wallet: CodeFlowWallet, change: dict[str, Any], error: str
) -> None:
    """With the wallet and its redirect URI registered (`clients`), an error goes back to it."""
    session = wallet.authorization_session(registered.url, ["employee_badge"])
    params, _ = wallet.authorization_parameters(session, config_ids=["employee_badge"])
    params.update(change)
    params = {k: v for k, v in params.items() if v is not None}
    assert redirected_error(wallet, session, params)["error"] == error
    assert registered.service.sign_ins.pending() == []  # nothing waits at the desk


@pytest.mark.parametrize(
    "change",
    [
        {"response_type": "token"},
        {"code_challenge": None},
        {"code_challenge_method": "plain"},
        {"client_id": None},
        {"authorization_details": "{not json", "scope": None},
        {"authorization_details": None, "scope": "bogus"},
    ],
    ids=["response_type", "no_pkce", "pkce_plain", "no_client", "details_not_json", "only_unknown_scope"],
)
@pytest.mark.parametrize("redirect_uri", ["https://evil.example/phish", "ms-excel:ofe|u|https://evil.example/x"])
def test_with_no_client_list_a_bad_request_is_never_redirected(
    issuer: RunningIssuer, wallet: CodeFlowWallet, session: Session, change: dict[str, Any], redirect_uri: str
) -> None:
    """No `clients` (the default): a request that is not fully valid shows the error page, whatever
    redirect URI it names, so the issuer cannot be used to send a browser anywhere."""
    params, _ = wallet.authorization_parameters(session, config_ids=["employee_badge"], redirect_uri=redirect_uri)
    params = {k: v for k, v in {**params, **change}.items() if v is not None}
    error_page(wallet, authorize_url(session, params))
    assert issuer.service.sign_ins.pending() == []


def test_with_no_client_list_only_https_and_loopback_http_are_redirected_to(
    issuer: RunningIssuer, wallet: CodeFlowWallet, session: Session
) -> None:
    """A valid request naming a wallet's own scheme, with no `clients`, is refused on a page: such a
    redirect URI needs the wallet registered. https and loopback http work as before."""
    for redirect_uri in ("ms-excel:ofe|u|https://evil.example/x", "eudi-openid4ci://authorize"):
        params, _ = wallet.authorization_parameters(session, config_ids=["employee_badge"], redirect_uri=redirect_uri)
        assert "registered" in error_page(wallet, authorize_url(session, params))
    for redirect_uri in ("https://wallet.example/callback", "http://127.0.0.1:4711/cb"):
        assert wallet.start(session, config_ids=["employee_badge"], redirect_uri=redirect_uri).confirmation
    assert len(issuer.service.sign_ins.pending()) == 2


def test_unknown_parameters_are_ignored(issuer: RunningIssuer, wallet: CodeFlowWallet, session: Session) -> None:
    """D5: and extra fields in an openid_credential object never make it invalid (D1)."""
    details = json.dumps([{"type": "openid_credential", "credential_configuration_id": "employee_badge", "x": 1}])
    authorization = wallet.start(session, use_par=False, authorization_details=details, foo="bar")
    assert authorization.confirmation


# ----- clients and redirect URIs -----


@pytest.fixture
def registered(tmp_path: Path) -> Iterator[RunningIssuer]:
    """An issuer that knows one wallet and its redirect URI."""
    runtime = start_issuer(tmp_path / "data", clients={CLIENT_ID: [REDIRECT_URI]})
    yield _running(runtime, tmp_path)
    runtime.stop()


def _running(runtime: IssuerRuntime, tmp_path: Path) -> RunningIssuer:
    assert runtime.service is not None
    return RunningIssuer(runtime.issuer_url, runtime.admin_url, "", tmp_path / "data", runtime.service, runtime)


@pytest.mark.parametrize(
    "change",
    [
        {"client_id": "stranger"},
        {"redirect_uri": "https://evil.example/steal"},
        {"client_id": None},
        {"redirect_uri": None},
    ],
    ids=["unknown_client", "unregistered_redirect", "no_client", "no_redirect"],
)
def test_unknown_clients_and_redirect_uris_see_a_page_not_a_redirect(
    registered: RunningIssuer, wallet: CodeFlowWallet, change: dict[str, Any]
) -> None:
    session = wallet.authorization_session(registered.url, ["employee_badge"])
    params, _ = wallet.authorization_parameters(session, config_ids=["employee_badge"])
    params = {k: v for k, v in {**params, **change}.items() if v is not None}
    error_page(wallet, authorize_url(session, params))
    response = wallet.post_form(session.as_metadata["pushed_authorization_request_endpoint"], params)
    expected = (400, "invalid_client") if change.get("client_id") == "stranger" else (400, "invalid_request")
    assert (response.status, response.json()["error"]) == expected


@pytest.mark.parametrize(
    "redirect_uri",
    ["javascript:alert(1)", "http://wallet.example/cb", "https://wallet.example/cb#fragment", "relative/path"],
)
def test_open_mode_still_refuses_dangerous_redirect_uris(
    issuer: RunningIssuer, wallet: CodeFlowWallet, session: Session, redirect_uri: str
) -> None:
    params, _ = wallet.authorization_parameters(session, config_ids=["employee_badge"], redirect_uri=redirect_uri)
    error_page(wallet, authorize_url(session, params))


def test_a_wallet_scheme_and_loopback_http_are_accepted(tmp_path: Path, wallet: CodeFlowWallet) -> None:
    """Registered for the wallet, its own scheme is a redirect URI like any other."""
    runtime = start_issuer(
        tmp_path / "data", clients={CLIENT_ID: ["eudi-openid4ci://authorize", "http://127.0.0.1:4711/cb"]}
    )
    try:
        session = wallet.authorization_session(runtime.issuer_url, ["employee_badge"])
        for redirect_uri in ("eudi-openid4ci://authorize", "http://127.0.0.1:4711/cb"):
            authorization = wallet.start(session, config_ids=["employee_badge"], redirect_uri=redirect_uri)
            assert authorization.confirmation
    finally:
        runtime.stop()


# ----- PAR (D8) -----


def test_par_answers_201_no_store_and_refuses_a_request_uri_in_the_body(
    issuer: RunningIssuer, wallet: CodeFlowWallet, session: Session
) -> None:
    params, _ = wallet.authorization_parameters(session, config_ids=["employee_badge"])
    url = session.as_metadata["pushed_authorization_request_endpoint"]
    response = wallet.post_form(url, params)
    assert response.status == 201 and response.headers["cache-control"] == "no-cache, no-store"
    body = response.json()
    assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:") and body["expires_in"] == 60
    refused = wallet.post_form(url, {**params, "request_uri": body["request_uri"]})
    assert (refused.status, refused.json()["error"]) == (400, "invalid_request")


@pytest.mark.parametrize("variant", ["reused", "expired", "other_client", "unknown"])
def test_a_request_uri_is_single_use_short_lived_and_bound_to_its_client(
    issuer: RunningIssuer, wallet: CodeFlowWallet, session: Session, variant: str
) -> None:
    params, _ = wallet.authorization_parameters(session, config_ids=["employee_badge"])
    request_uri = wallet.push(session, params)["request_uri"]
    opened = {"client_id": CLIENT_ID, "request_uri": request_uri}
    if variant == "reused":
        assert wallet.request("GET", authorize_url(session, opened)).status == 200
    elif variant == "other_client":
        opened["client_id"] = "another-wallet"
    elif variant == "unknown":
        opened["request_uri"] = request_uri[:-4] + "AAAA"
    if variant == "expired":
        with clock_shifted(issuer.service, 61):
            error_page(wallet, authorize_url(session, opened))
    else:
        error_page(wallet, authorize_url(session, opened))


def test_require_par_refuses_direct_requests(tmp_path: Path, wallet: CodeFlowWallet) -> None:
    runtime = start_issuer(tmp_path / "data", require_par=True)
    try:
        session = wallet.authorization_session(runtime.issuer_url, ["employee_badge"])
        assert session.as_metadata["require_pushed_authorization_requests"] is True
        params, _ = wallet.authorization_parameters(session, config_ids=["employee_badge"])
        assert redirected_error(wallet, session, params)["error"] == "invalid_request"
        assert wallet.start(session, config_ids=["employee_badge"], use_par=True).confirmation
    finally:
        runtime.stop()


# ----- issuer_state (D6) -----


def offer_session(issuer: RunningIssuer, wallet: CodeFlowWallet, **options: Any) -> tuple[Session, str]:
    offer = issuer.service.offers.create(
        OfferRequest(["employee_badge"], BADGE_CLAIMS, grant="authorization_code", **options)
    )
    session = wallet.resolve_offer(offer.offer_uri)
    wallet.fetch_metadata(session)
    wallet.fetch_as_metadata(session)
    return session, offer.offer_id


def test_an_expired_or_used_issuer_state_binds_nothing(issuer: RunningIssuer, wallet: CodeFlowWallet) -> None:
    session, offer_id = offer_session(issuer, wallet)
    with clock_shifted(issuer.service, issuer.service.settings.offer_ttl + 1):
        params, _ = wallet.authorization_parameters(session)
        assert redirected_error(wallet, session, params)["error"] == "invalid_request"
    wallet.start(session)  # the rightful wallet, in time
    params, _ = wallet.authorization_parameters(session)  # an attacker who copied the offer
    assert redirected_error(wallet, session, params)["error"] == "invalid_request"
    (request,) = issuer.service.sign_ins.pending()
    assert request["offer_id"] == offer_id


def test_issuer_state_of_one_offer_cannot_ask_for_more(issuer: RunningIssuer, wallet: CodeFlowWallet) -> None:
    session, _ = offer_session(issuer, wallet)
    params, _ = wallet.authorization_parameters(session, config_ids=["membership_card"])
    assert redirected_error(wallet, session, params)["error"] == "invalid_authorization_details"


def test_the_desk_can_deny(issuer: RunningIssuer, wallet: CodeFlowWallet, session: Session) -> None:
    authorization = wallet.start(session, config_ids=["employee_badge"])
    (request,) = issuer.service.sign_ins.pending()
    issuer.service.sign_ins.deny(request["authorization_id"], operator="alice", reason="not the person")
    response = wallet.follow(authorization)
    assert response["error"] == "access_denied" and "code" not in response
    assert issuer.service.desk.audit_log(limit=1)[0]["action"] == "authorization_denied"


def test_a_request_nobody_confirms_expires(issuer: RunningIssuer, wallet: CodeFlowWallet, session: Session) -> None:
    authorization = wallet.start(session, config_ids=["employee_badge"])
    with clock_shifted(issuer.service, issuer.service.settings.authorization_wait + 1):
        assert issuer.service.sign_ins.pending() == []
        assert wallet.follow(authorization)["error"] == "access_denied"


def test_the_waiting_page_is_accessible_html_without_scripts(
    issuer: RunningIssuer, wallet: CodeFlowWallet, session: Session
) -> None:
    authorization = wallet.start(session, config_ids=["employee_badge"])
    assert authorization.page is not None
    page = authorization.page.body.decode()
    assert '<html lang="en">' in page and "<script" not in page and "<h1>" in page
    assert f'http-equiv="refresh" content="3;url={authorization.wait_url}"'.replace("&", "&amp;") in page
    assert authorization.page.headers["cache-control"].startswith("no-store")
    csp = authorization.page.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp
    assert wallet.request("GET", f"{issuer.url}/pages/style.css").headers["content-type"].startswith("text/css")
    assert error_page(wallet, f"{issuer.url}/authorize/wait?session=forged.session")


# ----- DPoP (C15, E7, E8) -----


def dpop_session(issuer: RunningIssuer, wallet: CodeFlowWallet) -> tuple[Session, Authorization, jwk.JWK]:
    session = wallet.authorization_session(issuer.url, ["employee_badge"])
    session.dpop_key = new_key()
    return session, approved(issuer, wallet, session), session.dpop_key


@pytest.mark.parametrize(
    ("header", "claims"),
    [
        ({"typ": "JWT"}, {}),
        ({"alg": "none"}, {}),
        ({"jwk": None}, {}),
        ({}, {"htm": "GET"}),
        ({}, {"htu": "https://elsewhere.example/token"}),
        ({}, {"iat": int(time.time()) - 3600}),
        ({}, {"iat": int(time.time()) + 3600}),
        ({}, {"jti": None}),
    ],
    ids=["typ", "alg", "no_jwk", "htm", "htu", "old", "future", "no_jti"],
)
def test_bad_dpop_proofs_at_the_token_endpoint(
    issuer: RunningIssuer, wallet: CodeFlowWallet, header: dict[str, Any], claims: dict[str, Any]
) -> None:
    session, authorization, key = dpop_session(issuer, wallet)
    url = session.as_metadata["token_endpoint"]
    proof = make_dpop_proof(key, "POST", url, header={k: v for k, v in header.items() if k != "alg"}, claims=claims)
    if "alg" in header:  # a proof whose header names another algorithm than its signature
        signed_header = json.loads(base64url_decode(proof.split(".")[0]))
        proof = ".".join([base64url_encode(json.dumps({**signed_header, **header})), *proof.split(".")[1:]])
    response = exchange_with_proof(wallet, authorization, proof)
    assert (response.status, response.json()["error"]) == (400, "invalid_dpop_proof")


def exchange_with_proof(wallet: CodeFlowWallet, authorization: Authorization, proof: str):
    form = token_form(authorization)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "DPoP": proof}
    url = authorization.session.as_metadata["token_endpoint"]
    return wallet.request("POST", url, body=urlencode(form).encode(), headers=headers)


def test_a_private_key_a_forged_signature_and_a_replayed_proof_are_refused(
    issuer: RunningIssuer, wallet: CodeFlowWallet
) -> None:
    session, authorization, key = dpop_session(issuer, wallet)
    url = session.as_metadata["token_endpoint"]
    private = make_dpop_proof(key, "POST", url, header={"jwk": key.export(as_dict=True, private_key=True)})
    forged = make_dpop_proof(key, "POST", url, header={"jwk": json.loads(new_key().export_public())})
    for proof in (private, forged):
        assert exchange_with_proof(wallet, authorization, proof).json()["error"] == "invalid_dpop_proof"
    proof = make_dpop_proof(key, "POST", url)
    assert exchange_with_proof(wallet, authorization, proof).status == 200
    replayed = exchange_with_proof(wallet, authorization, proof)
    assert (replayed.status, replayed.json()["error"]) == (400, "invalid_dpop_proof")


def test_a_dpop_token_needs_its_key_at_the_credential_endpoint(issuer: RunningIssuer, wallet: CodeFlowWallet) -> None:
    """E8: as Bearer, with another key's proof, or with a wrong ath: 401 with a DPoP challenge."""
    session, authorization, key = dpop_session(issuer, wallet)
    wallet.exchange(authorization)
    url = session.endpoint("credential")
    token = session.access_token
    attempts = {
        "as_bearer": {"Authorization": f"Bearer {token}"},
        "no_proof": {"Authorization": f"DPoP {token}"},
        "other_key": {
            "Authorization": f"DPoP {token}",
            "DPoP": make_dpop_proof(new_key(), "POST", url, access_token=token),
        },
        "wrong_ath": {
            "Authorization": f"DPoP {token}",
            "DPoP": make_dpop_proof(key, "POST", url, access_token=token + "x"),
        },
    }
    for name, headers in attempts.items():
        response = wallet.request("POST", url, body=b"{}", headers={"Content-Type": "application/json", **headers})
        assert response.status == 401, name
        assert response.headers["www-authenticate"].startswith("DPoP error="), name
    received = wallet.request_credential(session, "employee_badge")  # with the right proof
    assert not isinstance(received, str) and received.credentials


def test_a_bearer_token_is_not_accepted_with_the_dpop_scheme(
    issuer: RunningIssuer, wallet: CodeFlowWallet, session: Session
) -> None:
    approved_request = approved(issuer, wallet, session)
    wallet.exchange(approved_request)
    url = session.endpoint("credential")
    proof = make_dpop_proof(new_key(), "POST", url, access_token=session.access_token)
    headers = {"Content-Type": "application/json", "Authorization": f"DPoP {session.access_token}", "DPoP": proof}
    response = wallet.request("POST", url, body=b"{}", headers=headers)
    assert response.status == 401 and 'error="invalid_token"' in response.headers["www-authenticate"]


def test_dpop_jkt_binds_the_code_to_a_key(issuer: RunningIssuer, wallet: CodeFlowWallet) -> None:
    """RFC 9449 §10: a code asked for with dpop_jkt is redeemed only with that key."""
    session = wallet.authorization_session(issuer.url, ["employee_badge"])
    bound_key = new_key()
    authorization = approved(issuer, wallet, session, dpop_jkt=bound_key.thumbprint())
    session.dpop_key = new_key()
    assert token_error(wallet, authorization)["error"] == "invalid_grant"


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[RunningIssuer]:
    runtime = start_issuer(tmp_path / "data", require_dpop=True, require_dpop_nonce=True)
    yield _running(runtime, tmp_path)
    runtime.stop()


def test_server_nonces_and_required_dpop(strict: RunningIssuer, wallet: CodeFlowWallet) -> None:
    """C15: without the server's nonce, use_dpop_nonce with a DPoP-Nonce; with it, 200. A token
    request without DPoP is refused when DPoP is required."""
    session = wallet.authorization_session(strict.url, ["employee_badge"])
    authorization = approved(strict, wallet, session)
    refused = wallet.post_form(
        session.as_metadata["token_endpoint"],
        {"grant_type": "authorization_code", "code": authorization.response["code"]},
    )
    assert (refused.status, refused.json()["error"]) == (400, "invalid_dpop_proof")
    key = new_key()
    first = exchange_with_proof(
        wallet, authorization, make_dpop_proof(key, "POST", session.as_metadata["token_endpoint"])
    )
    assert (first.status, first.json()["error"]) == (400, "use_dpop_nonce") and first.headers["dpop-nonce"]
    session.dpop_key = key
    session.dpop_nonce = first.headers["dpop-nonce"]
    assert wallet.exchange(authorization)["token_type"] == "DPoP"
    received = wallet.request_credential(session, "employee_badge")
    assert not isinstance(received, str) and received.credentials


def test_pre_authorized_offers_work_with_dpop_too(issuer: RunningIssuer, wallet: CodeFlowWallet) -> None:
    offer = issuer.service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS))
    session = wallet.resolve_offer(offer.offer_uri)
    session.dpop_key = new_key()
    assert wallet.token(session)["token_type"] == "DPoP"
    received = wallet.request_credential(session, "employee_badge")
    assert not isinstance(received, str) and received.notification_id
    wallet.notify(session, received.notification_id)


def test_metadata_advertises_what_is_enforced(issuer: RunningIssuer, wallet: CodeFlowWallet, session: Session) -> None:
    """B24, B25."""
    metadata = session.as_metadata
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["require_pushed_authorization_requests"] is False
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert "ES256" in metadata["dpop_signing_alg_values_supported"]
    assert metadata["authorization_details_types_supported"] == ["openid_credential"]
    assert {"authorization_code", "urn:ietf:params:oauth:grant-type:pre-authorized_code"} <= set(
        metadata["grant_types_supported"]
    )
    for configuration in session.metadata["credential_configurations_supported"].values():
        assert configuration["scope"] in metadata["scopes_supported"]
