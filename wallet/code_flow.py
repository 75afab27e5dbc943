"""The wallet side of the Authorization Code flow (OID4VCI §5, §6; RFC 7636, 9126, 9449), for tests.

`CodeFlowWallet` adds to `TestWallet` what a wallet and its user's browser do: build the
request (PKCE S256, `authorization_details` or `scope`, `issuer_state` from an offer), push it
(PAR) or send it directly, open the issuer's page, read the confirmation code shown for the
desk, follow the page until it sends the browser back, and exchange the code.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from wallet.client import Session, TestWallet
from wallet.keys import make_dpop_proof
from wallet.transport import HttpResponse, ProtocolViolation, WalletError

CLIENT_ID = "frontdesk-test-wallet"
REDIRECT_URI = "https://wallet.example/callback"
CONFIRMATION = re.compile(r'<p class="code"[^>]*>([^<]+)</p>')
CHECK_AGAIN = re.compile(r'<a class="button" href="([^"]+)"')


@dataclass
class Authorization:
    """One authorization request, as far as it went."""

    session: Session
    client_id: str
    redirect_uri: str
    code_verifier: str
    state: str
    page: HttpResponse | None = None
    confirmation: str | None = None
    wait_url: str | None = None
    response: dict[str, str] = field(default_factory=dict)  # the redirect's parameters


def token_form(authorization: Authorization, code: str | None = None) -> dict[str, str]:
    """The token request's parameters for the code the browser brought back (§6.1, RFC 7636 §4.5)."""
    return {
        "grant_type": "authorization_code",
        "code": code or authorization.response["code"],
        "redirect_uri": authorization.redirect_uri,
        "client_id": authorization.client_id,
        "code_verifier": authorization.code_verifier,
    }


def pkce_pair() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636 §4.1, §4.2)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class CodeFlowWallet(TestWallet):
    __test__ = False

    def authorization_session(self, issuer: str, config_ids: list[str], offer: dict[str, Any] | None = None) -> Session:
        """A session for a flow the wallet starts itself (no offer), or for an offer's code grant."""
        session = Session(offer or {"credential_issuer": issuer, "credential_configuration_ids": config_ids})
        self.fetch_metadata(session)
        self.fetch_as_metadata(session)
        return session

    def authorization_parameters(
        self,
        session: Session,
        *,
        config_ids: list[str] | None = None,
        scope: str | None = None,
        client_id: str = CLIENT_ID,
        redirect_uri: str = REDIRECT_URI,
        dpop_jkt: str | None = None,
        **extra: str,
    ) -> tuple[dict[str, str], Authorization]:
        """The request's parameters (§5.1) and what the wallet keeps to finish the flow."""
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(16)
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": state,
        }
        if config_ids:
            details = [{"type": "openid_credential", "credential_configuration_id": c} for c in config_ids]
            params["authorization_details"] = json.dumps(details)
        if scope:
            params["scope"] = scope
        issuer_state = session.grant.get("issuer_state")
        if issuer_state:
            params["issuer_state"] = issuer_state
        if dpop_jkt:
            params["dpop_jkt"] = dpop_jkt
        params.update(extra)
        return params, Authorization(session, client_id, redirect_uri, verifier, state)

    def push(self, session: Session, params: dict[str, str]) -> dict[str, Any]:
        """RFC 9126 §2: POST the request; the `request_uri` and `expires_in` (201)."""
        url = session.as_metadata["pushed_authorization_request_endpoint"]
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        headers.update(self.attestation_headers(session))  # HAIP 1.0 §4.3: authenticated as at the token endpoint
        if session.dpop_key is not None:
            headers["DPoP"] = make_dpop_proof(session.dpop_key, "POST", url)
        response = self.request("POST", url, body=urlencode(params).encode(), headers=headers)
        if response.status != 201:
            raise WalletError("par", response.status, response.headers, response.json())
        body = response.json()
        if not isinstance(body.get("request_uri"), str) or not isinstance(body.get("expires_in"), int):
            raise ProtocolViolation("par", "a PAR response needs request_uri and expires_in", response)
        return dict(body)

    def open_authorization(
        self, session: Session, params: dict[str, str], authorization: Authorization
    ) -> HttpResponse:
        """The browser opens the authorization endpoint; a waiting page is read for its code."""
        url = f"{session.as_metadata['authorization_endpoint']}?{urlencode(params)}"
        page = self.request("GET", url, headers={"Accept": "text/html"})
        self._read_page(page, authorization)
        return page

    def start(self, session: Session, *, use_par: bool = True, **options: Any) -> Authorization:
        """Build, push (or not) and open the request: the browser now waits for the desk."""
        if not session.as_metadata:
            self.fetch_as_metadata(session)
        params, authorization = self.authorization_parameters(session, **options)
        if use_par:
            pushed = self.push(session, params)
            params = {"client_id": params["client_id"], "request_uri": pushed["request_uri"]}
        page = self.open_authorization(session, params, authorization)
        if page.status != 200 or authorization.confirmation is None:
            raise WalletError("authorize", page.status, page.headers, page.body.decode(errors="replace"))
        return authorization

    def follow(self, authorization: Authorization, *, timeout: float = 10.0, interval: float = 0.05) -> dict[str, str]:
        """Follow the waiting page until it sends the browser back to the wallet; the redirect's
        parameters, checked against the request's `state` and the issuer (RFC 9207)."""
        deadline = time.monotonic() + timeout
        while True:
            if authorization.wait_url is None:
                raise ProtocolViolation("authorize", "the page has no way to continue")
            page = self.request("GET", authorization.wait_url, headers={"Accept": "text/html"})
            if page.status in (302, 303):
                return self._redirected(page, authorization)
            self._read_page(page, authorization)
            if page.status != 200 or time.monotonic() > deadline:
                raise WalletError("authorize", page.status, page.headers, page.body.decode(errors="replace"))
            time.sleep(interval)

    def exchange(self, authorization: Authorization, code: str | None = None, **extra: str) -> dict[str, Any]:
        """The token request of the Authorization Code flow (§6.1, RFC 7636 §4.5)."""
        form = {**token_form(authorization, code), **extra}
        with self._timed("token"):
            return self.token_request(authorization.session, {k: v for k, v in form.items() if v is not None})

    def _read_page(self, page: HttpResponse, authorization: Authorization) -> None:
        text = page.body.decode(errors="replace")
        found = CONFIRMATION.search(text)
        link = CHECK_AGAIN.search(text)
        authorization.page = page
        authorization.confirmation = html.unescape(found.group(1)) if found else None
        authorization.wait_url = html.unescape(link.group(1)) if link else None

    def _redirected(self, page: HttpResponse, authorization: Authorization) -> dict[str, str]:
        location = page.headers.get("location", "")
        if not location.startswith(authorization.redirect_uri):
            raise ProtocolViolation("authorize", f"redirected elsewhere than the redirect_uri: {location}", page)
        params = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
        if params.get("state") != authorization.state:
            raise ProtocolViolation("authorize", "the response does not carry the request's state", page)
        if params.get("iss") != authorization.session.as_metadata["issuer"]:
            raise ProtocolViolation("authorize", "the response's iss is not the authorization server", page)
        authorization.response = params
        return params
