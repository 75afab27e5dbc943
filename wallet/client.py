"""A small OID4VCI 1.0 wallet for the built-in self-test, end-to-end tests and the benchmark.

It speaks HTTP with the standard library only (it ships in the product), keeps one keep-alive
connection per origin, and exposes each protocol step as its own method, so that a test can
break one step and a benchmark can time each (`TestWallet.timings`). It follows the
Pre-Authorized Code Flow as a careful wallet does: endpoints come from the published metadata,
the metadata must name the issuer it was fetched for (§12.2.4, RFC 8414 §3.3), and an answer
the protocol does not allow is a `ProtocolViolation`, not something to use.

The verifiers at the end check credentials independently of the issuer's code: signatures
against the published JWKS, SD-JWT disclosure digests (RFC 9901 §7.1), holder binding, expiry.

One wallet per thread: its connections are not shared.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from jwcrypto import jwe, jwk, jws
from jwcrypto.common import JWException, base64url_decode, base64url_encode, json_decode, json_encode

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
VC_CONTEXT_V1 = "https://www.w3.org/2018/credentials/v1"
ASYMMETRIC_ALGS = ("ES256", "ES384", "ES512", "EdDSA", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512")
PUBLIC_MEMBERS = ("kty", "crv", "x", "y", "n", "e")


class WalletError(Exception):
    """The issuer answered with an error: the step, HTTP status, headers and body, for assertions."""

    def __init__(self, step: str, status: int, headers: Mapping[str, str], body: Any) -> None:
        super().__init__(f"{step}: HTTP {status}: {body}")
        self.step = step
        self.status = status
        self.headers = dict(headers)
        self.body = body

    @property
    def error(self) -> str | None:
        return self.body.get("error") if isinstance(self.body, dict) else None

    @property
    def error_description(self) -> str | None:
        return self.body.get("error_description") if isinstance(self.body, dict) else None


class ProtocolViolation(WalletError):
    """The issuer answered, but not as OID4VCI allows; `reason` says what is wrong."""

    def __init__(self, step: str, reason: str, response: HttpResponse | None = None) -> None:
        status, headers, body = (response.status, response.headers, response.body) if response else (0, {}, b"")
        super().__init__(step, status, headers, body)
        self.reason = reason
        self.args = (f"{step}: {reason}",)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def content_type(self) -> str:
        """The media type without parameters, in lower case."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Received:
    """The credentials of one (Deferred) Credential Response, with the keys they are bound to."""

    configuration_id: str
    credentials: list[str]
    holder_keys: list[jwk.JWK]
    notification_id: str | None


@dataclass
class Pending:
    """A deferred issuance (§8.3): what the wallet keeps to poll for it (§9)."""

    transaction_id: str
    interval: float
    configuration_id: str
    holder_keys: list[jwk.JWK]


@dataclass
class Session:
    """What the wallet learned along one flow."""

    offer: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    as_metadata: dict[str, Any] = field(default_factory=dict)
    access_token: str = ""
    token_response: dict[str, Any] = field(default_factory=dict)
    pending: dict[str, Pending] = field(default_factory=dict)
    dpop_key: jwk.JWK | None = None  # set before the token request to get a DPoP-bound token (RFC 9449)
    dpop_nonce: str | None = None  # the last DPoP-Nonce the server sent

    @property
    def issuer(self) -> str:
        return str(self.offer["credential_issuer"])

    @property
    def grant(self) -> dict[str, Any]:
        """The offer's pre-authorized code grant, else its authorization code grant, else none."""
        grants = self.offer.get("grants") or {}
        return dict(grants.get(PRE_AUTHORIZED_GRANT) or grants.get("authorization_code") or {})

    @property
    def tx_code_required(self) -> bool:
        """§4.1.1: a `tx_code` object, even an empty one, means the token request needs the code."""
        return "tx_code" in self.grant

    def endpoint(self, name: str) -> str:
        """An endpoint advertised in the issuer metadata, e.g. `endpoint("credential")`."""
        url = self.metadata.get(f"{name}_endpoint")
        if not isinstance(url, str) or not url:
            raise ProtocolViolation("metadata", f"the issuer metadata has no {name}_endpoint")
        return url


class TestWallet:
    """The wallet side of the Pre-Authorized Code Flow, one method per protocol step."""

    __test__ = False  # not a pytest test class

    def __init__(self, timeout: float = 10.0, *, require_https: bool = False) -> None:
        """`require_https`: refuse plain-HTTP issuers except on loopback (§13.9); the test profile is HTTP."""
        self._timeout = timeout
        self._require_https = require_https
        self._connections: dict[str, http.client.HTTPConnection] = {}
        self._used: set[str] = set()  # origins whose connection already carried a request
        self._as_metadata: dict[str, dict[str, Any]] = {}  # by server, for token() without fetch_as_metadata()
        self.timings: dict[str, float] = {}

    def __enter__(self) -> TestWallet:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # HTTP

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        """One HTTP exchange over the keep-alive connection to the URL's origin."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        while True:
            reused = origin in self._used
            connection = self._connection(origin)
            try:
                connection.request(method, target, body=body, headers=dict(headers or {}))
                response = connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._drop(origin)
                if not reused:
                    raise
                continue  # the server closed an idle keep-alive connection: the request never arrived
            self._used.add(origin)
            if response.will_close:
                self._drop(origin)
            return HttpResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, data)

    def post_form(self, url: str, form: Mapping[str, str]) -> HttpResponse:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        return self.request("POST", url, body=urlencode(form).encode(), headers=headers)

    def post_json(self, url: str, body: Any, access_token: str | None = None) -> HttpResponse:
        headers = {"Content-Type": "application/json"}
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        return self.request("POST", url, body=json.dumps(body).encode(), headers=headers)

    def close(self) -> None:
        for origin in list(self._connections):
            self._drop(origin)

    def _connection(self, origin: str) -> http.client.HTTPConnection:
        connection = self._connections.get(origin)
        if connection is None:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https"):
                raise ValueError(f"not an HTTP URL: {origin}")
            cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            connection = cls(parts.hostname or "", parts.port, timeout=self._timeout)
            self._connections[origin] = connection
        return connection

    def _drop(self, origin: str) -> None:
        connection = self._connections.pop(origin, None)
        self._used.discard(origin)
        if connection is not None:
            connection.close()

    def _check_url(self, step: str, url: str) -> None:
        parts = urlsplit(url)
        secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
        if parts.scheme not in ("http", "https") or (self._require_https and not secure):
            raise ProtocolViolation(step, f"{url} is not an https URL")

    def _timed(self, step: str) -> _Stopwatch:
        return _Stopwatch(self.timings, step)

    # Credential Offer (§4)

    def resolve_offer(self, offer_uri: str) -> Session:
        """The Credential Offer from a link, by value or fetched by reference (§4.1, §4.1.3)."""
        with self._timed("offer"):
            name, value = parse_offer_uri(offer_uri)
            if name == "credential_offer":
                offer = value
            else:
                self._check_url("offer", value)
                response = self.request("GET", value, headers={"Accept": "application/json"})
                offer = self._json_body("offer", response)
                if response.content_type != "application/json":
                    raise ProtocolViolation("offer", "the offer is not served as application/json", response)
            check_offer(offer)
            self._check_url("offer", offer["credential_issuer"])
        return Session(offer)

    # Metadata (§12.2, §12.3, RFC 8414)

    def fetch_metadata(self, session: Session) -> dict[str, Any]:
        """Credential Issuer metadata from the well-known URL built per §12.2.2, checked per §12.2.4."""
        with self._timed("metadata"):
            response = self.request(
                "GET", well_known(session.issuer, "openid-credential-issuer"), headers={"Accept": "application/json"}
            )
            metadata = self._json_body("metadata", response)
            if response.content_type != "application/json":
                raise ProtocolViolation("metadata", "the metadata is not application/json", response)
            if metadata.get("credential_issuer") != session.issuer:  # §12.2.4: simple string comparison
                raise ProtocolViolation("metadata", "credential_issuer differs from the offer's issuer", response)
            supported = metadata.get("credential_configurations_supported")
            if not isinstance(supported, dict) or not set(session.offer["credential_configuration_ids"]) <= set(
                supported
            ):
                raise ProtocolViolation("metadata", "an offered configuration is not in the metadata", response)
            session.metadata = metadata
        return metadata

    def fetch_as_metadata(self, session: Session) -> dict[str, Any]:
        """The Authorization Server's metadata (RFC 8414 §3); the issuer is its own AS unless it names one."""
        if not session.metadata:
            self.fetch_metadata(session)
        with self._timed("as_metadata"):
            servers = session.metadata.get("authorization_servers") or [session.issuer]
            server = session.grant.get("authorization_server", servers[0])
            if server not in servers:
                raise ProtocolViolation("as_metadata", "the offer names an authorization server the issuer does not")
            response = self.request(
                "GET", well_known(server, "oauth-authorization-server"), headers={"Accept": "application/json"}
            )
            as_metadata = self._json_body("as_metadata", response)
            if as_metadata.get("issuer") != server:  # RFC 8414 §3.3
                raise ProtocolViolation("as_metadata", "issuer differs from the authorization server", response)
            pre_authorized = PRE_AUTHORIZED_GRANT in session.offer.get("grants", {})
            wanted = PRE_AUTHORIZED_GRANT if pre_authorized else "authorization_code"
            if wanted not in as_metadata.get("grant_types_supported", []):
                raise ProtocolViolation("as_metadata", f"the {wanted} grant is not supported", response)
            session.as_metadata = self._as_metadata[server] = as_metadata
        return as_metadata

    # Token (§6)

    def token(self, session: Session, tx_code: str | None = None, **extra: str) -> dict[str, Any]:
        """Redeem the pre-authorized code (§6.1), with the transaction code when the offer asks for one."""
        if session.tx_code_required and tx_code is None:
            raise ValueError("this offer needs a transaction code (tx_code)")
        if not session.as_metadata:
            known = self._as_metadata.get(session.grant.get("authorization_server", session.issuer))
            session.as_metadata = known or self.fetch_as_metadata(session)
        with self._timed("token"):
            form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": session.grant["pre-authorized_code"]}
            if tx_code is not None:
                form["tx_code"] = tx_code
            form.update(extra)
            body = self.token_request(session, form)
        return body

    def token_request(self, session: Session, form: Mapping[str, str]) -> dict[str, Any]:
        """POST to the token endpoint, with a DPoP proof when the session has a key (RFC 9449 §5,
        retried once with the server's nonce on use_dpop_nonce, §8); the token is kept."""
        url = session.as_metadata["token_endpoint"]
        for attempt in (1, 2):
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
            if session.dpop_key is not None:
                headers["DPoP"] = make_dpop_proof(session.dpop_key, "POST", url, nonce=session.dpop_nonce)
            response = self.request("POST", url, body=urlencode(form).encode(), headers=headers)
            session.dpop_nonce = response.headers.get("dpop-nonce", session.dpop_nonce)
            error = _parsed(response)
            retry = response.status == 400 and "dpop-nonce" in response.headers and attempt == 1
            if not (retry and isinstance(error, dict) and error.get("error") == "use_dpop_nonce"):
                break
        body = self._json_body("token", response)
        expected = "dpop" if session.dpop_key is not None else "bearer"
        if not isinstance(body.get("access_token"), str) or str(body.get("token_type")).lower() != expected:
            raise ProtocolViolation("token", f"no {expected} access_token in the token response", response)
        session.token_response = body
        session.access_token = body["access_token"]
        return body

    def post_protected(self, session: Session, url: str, body: Any) -> HttpResponse:
        """POST JSON with the session's access token: Bearer, or DPoP with a proof for this request
        (`ath` included, retried once with a fresh server nonce, RFC 9449 §7, §9)."""
        if session.dpop_key is None:
            return self.post_json(url, body, session.access_token)
        for attempt in (1, 2):
            proof = make_dpop_proof(
                session.dpop_key, "POST", url, nonce=session.dpop_nonce, access_token=session.access_token
            )
            headers = {
                "Content-Type": "application/json",
                "Authorization": f"DPoP {session.access_token}",
                "DPoP": proof,
            }
            response = self.request("POST", url, body=json.dumps(body).encode(), headers=headers)
            session.dpop_nonce = response.headers.get("dpop-nonce", session.dpop_nonce)
            if not (
                response.status == 401
                and attempt == 1
                and "use_dpop_nonce" in response.headers.get("www-authenticate", "")
            ):
                return response
        return response

    # Nonce (§7)

    def nonce(self, session: Session) -> str:
        """A fresh `c_nonce` from the Nonce Endpoint, which needs no access token (§7.1)."""
        if not session.metadata:
            self.fetch_metadata(session)
        with self._timed("nonce"):
            response = self.request("POST", session.endpoint("nonce"), headers={"Accept": "application/json"})
            nonce = self._json_body("nonce", response, any_2xx=True).get("c_nonce")
            if not isinstance(nonce, str) or not nonce:
                raise ProtocolViolation("nonce", "no c_nonce string in the nonce response", response)
        return nonce

    # Credential (§8), Deferred Credential (§9)

    def request_credential(
        self,
        session: Session,
        configuration_id: str,
        *,
        batch: int = 1,
        nonce: str | None = None,
        encryption_key: jwk.JWK | None = None,
        enc: str | None = None,
        holder_keys: list[jwk.JWK] | None = None,
    ) -> Received | str:
        """Credentials now (a `Received`), or the transaction id of a deferred issuance (§8.3).

        One fresh P-256 key per credential, each proven by a `jwt` proof on one `c_nonce`. Without
        a `nonce` from the caller the wallet gets one, and on `invalid_nonce` gets a new one and
        retries once, as §8.3.1.2 tells wallets to. With `encryption_key` (an ECDH-ES JWK with
        `alg`) the response must come back as a JWE for it (§8.2, §10).
        """
        if not session.metadata:
            self.fetch_metadata(session)
        keys = holder_keys or [new_key() for _ in range(batch)]
        limit = session.metadata.get("batch_credential_issuance", {}).get("batch_size", 1)
        if len(keys) > limit:
            raise ValueError(f"the issuer accepts at most {limit} proofs in one request (§12.2.4)")
        if encryption_key is not None:
            enc = enc or self._choose_enc(session)
        for attempt in (1, 2):
            fresh = nonce or self.nonce(session)
            with self._timed("credential"):
                body = credential_request(session, configuration_id, keys, fresh)
                if encryption_key is not None:
                    body["credential_response_encryption"] = encryption_parameters(encryption_key, enc or "A128GCM")
                response = self.post_protected(session, session.endpoint("credential"), body)
                try:
                    reply = self._credential_reply("credential", response, encryption_key, enc)
                except WalletError as error:
                    if error.error == "invalid_nonce" and nonce is None and attempt == 1:
                        continue
                    raise
            if response.status == 202:
                pending = Pending(reply["transaction_id"], reply["interval"], configuration_id, keys)
                session.pending[pending.transaction_id] = pending
                return pending.transaction_id
            return self._received("credential", response, reply, configuration_id, keys)
        raise AssertionError("unreachable")

    def deferred(
        self,
        session: Session,
        transaction_id: str,
        configuration_id: str | None = None,
        holder_keys: list[jwk.JWK] | None = None,
        encryption_key: jwk.JWK | None = None,
        enc: str | None = None,
    ) -> Received | None:
        """Poll the Deferred Credential Endpoint once (§9): the credentials, or None while pending.

        `encryption_key` applies to this response only (§9.1); the configuration and keys default
        to those of the request that was deferred.
        """
        pending = session.pending.get(transaction_id)
        if encryption_key is not None:
            enc = enc or self._choose_enc(session)
        with self._timed("deferred"):
            body: dict[str, Any] = {"transaction_id": transaction_id}
            if encryption_key is not None:
                body["credential_response_encryption"] = encryption_parameters(encryption_key, enc or "A128GCM")
            response = self.post_protected(session, session.endpoint("deferred_credential"), body)
            reply = self._credential_reply("deferred", response, encryption_key, enc)
        if response.status == 202:
            if reply["transaction_id"] != transaction_id:  # §9.2: the same transaction_id
                raise ProtocolViolation("deferred", "the 202 names another transaction_id", response)
            if pending is not None:
                pending.interval = reply["interval"]
            return None
        session.pending.pop(transaction_id, None)
        config_id = configuration_id or (pending.configuration_id if pending else "")
        keys = holder_keys if holder_keys is not None else (pending.holder_keys if pending else [])
        return self._received("deferred", response, reply, config_id, keys)

    def wait_for_credential(
        self,
        session: Session,
        transaction_id: str,
        *,
        timeout: float = 30.0,
        interval: float | None = None,
        encryption_key: jwk.JWK | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Received:
        """Poll until the deferred credentials arrive, waiting the issuer's `interval` between
        requests (§8.3) unless `interval` overrides it; TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            pending = session.pending.get(transaction_id)
            wait = interval if interval is not None else (pending.interval if pending else 0.0)
            remaining = deadline - time.monotonic()
            if remaining < wait:
                raise TimeoutError(f"transaction {transaction_id} is still pending after {timeout} s")
            sleep(wait)
            received = self.deferred(session, transaction_id, encryption_key=encryption_key)
            if received is not None:
                return received

    # Notification (§11)

    def notify(
        self,
        session: Session,
        notification_id: str,
        event: str = "credential_accepted",
        description: str | None = None,
    ) -> None:
        """Tell the issuer what became of the credentials (§11.1); any 2xx is success (§11.2)."""
        with self._timed("notification"):
            body = {"notification_id": notification_id, "event": event}
            if description is not None:
                body["event_description"] = description
            response = self.post_protected(session, session.endpoint("notification"), body)
            if not 200 <= response.status < 300:
                raise WalletError("notification", response.status, response.headers, _parsed(response))

    # The whole flow

    def receive(
        self,
        offer_uri: str,
        tx_code: str | None = None,
        *,
        batch: int = 1,
        encrypt: bool = False,
        notify: bool = True,
        deferred_timeout: float | None = None,
    ) -> list[Received]:
        """Every offered credential through the Pre-Authorized Code Flow; `timings` holds this run's steps.

        A deferred issuance is polled for up to `deferred_timeout` seconds; without one it is a
        WalletError with status 202 and the transaction id in its body.
        """
        self.timings = {}
        started = time.perf_counter()
        session = self.resolve_offer(offer_uri)
        self.fetch_metadata(session)
        self.fetch_as_metadata(session)
        self.token(session, tx_code)
        received = []
        for configuration_id in session.offer["credential_configuration_ids"]:
            required = session.metadata.get("credential_response_encryption", {}).get("encryption_required", False)
            key = new_key("ECDH-ES") if encrypt or required else None
            result = self.request_credential(session, configuration_id, batch=batch, encryption_key=key)
            if isinstance(result, str):
                if deferred_timeout is None:
                    raise WalletError("credential", 202, {}, {"transaction_id": result})
                result = self.wait_for_credential(session, result, timeout=deferred_timeout, encryption_key=key)
            if notify and result.notification_id:
                self.notify(session, result.notification_id)
            received.append(result)
        self.timings["total"] = time.perf_counter() - started
        return received

    # Responses

    def _json_body(self, step: str, response: HttpResponse, *, any_2xx: bool = False) -> dict[str, Any]:
        """A 200 (or any 2xx) JSON object, or the issuer's error as a WalletError."""
        body = _parsed(response)
        if not (200 <= response.status < 300 if any_2xx else response.status == 200):
            raise WalletError(step, response.status, response.headers, body)
        if not isinstance(body, dict):
            raise ProtocolViolation(step, "the body is not a JSON object", response)
        return body

    def _credential_reply(
        self, step: str, response: HttpResponse, encryption_key: jwk.JWK | None, enc: str | None
    ) -> dict[str, Any]:
        """A (Deferred) Credential Response body, decrypted if it was asked for encrypted (§8.3, §9.2, §10)."""
        if response.status not in (200, 202):
            raise WalletError(step, response.status, response.headers, _parsed(response))
        if encryption_key is None:
            if response.content_type != "application/json":
                raise ProtocolViolation(step, "an unencrypted response must be application/json", response)
            body = _parsed(response)
        else:
            if response.content_type != "application/jwt":
                raise ProtocolViolation(step, "the response was not encrypted as requested", response)
            try:
                body = json.loads(decrypt_response(response.body.decode("ascii"), encryption_key, enc or ""))
            except (JWException, ValueError) as error:
                raise ProtocolViolation(step, f"the encrypted response is unusable: {error}", response) from error
        if not isinstance(body, dict):
            raise ProtocolViolation(step, "the body is not a JSON object", response)
        if response.status == 202:
            interval = body.get("interval")
            if not isinstance(body.get("transaction_id"), str) or "credentials" in body or "notification_id" in body:
                raise ProtocolViolation(step, "a 202 must carry a transaction_id and no credentials", response)
            if not isinstance(interval, int | float) or isinstance(interval, bool) or interval <= 0:
                raise ProtocolViolation(step, "a 202 must carry a positive interval", response)
        elif "transaction_id" in body or "interval" in body:
            raise ProtocolViolation(step, "a 200 must carry no transaction_id or interval", response)
        return body

    def _received(
        self, step: str, response: HttpResponse, body: dict[str, Any], configuration_id: str, keys: list[jwk.JWK]
    ) -> Received:
        entries = body.get("credentials")
        if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
            raise ProtocolViolation(step, "credentials is not a non-empty array of objects", response)
        if keys and len(entries) > len(keys):  # §8.3: at most one credential per key
            raise ProtocolViolation(step, "more credentials than proven keys", response)
        notification_id = body.get("notification_id")
        if notification_id is not None and not isinstance(notification_id, str):
            raise ProtocolViolation(step, "notification_id is not a string", response)
        return Received(configuration_id, [entry.get("credential") for entry in entries], keys, notification_id)

    def _choose_enc(self, session: Session) -> str:
        """The first `enc` the issuer supports for ECDH-ES response encryption (§12.2.4)."""
        options = session.metadata.get("credential_response_encryption")
        if not options or "ECDH-ES" not in options.get("alg_values_supported", []):
            raise ValueError("the issuer does not offer ECDH-ES credential response encryption")
        return str(options["enc_values_supported"][0])


class _Stopwatch:
    """`with wallet._timed(step):` stores the step's wall-clock seconds in `timings[step]`."""

    def __init__(self, timings: dict[str, float], step: str) -> None:
        self._timings = timings
        self._step = step
        self._started = 0.0

    def __enter__(self) -> None:
        self._started = time.perf_counter()

    def __exit__(self, *_: object) -> None:
        self._timings[self._step] = time.perf_counter() - self._started


def _parsed(response: HttpResponse) -> Any:
    """The JSON body, or the text when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return response.body.decode(errors="replace")


# Offers and requests


def parse_offer_uri(offer_uri: str) -> tuple[str, Any]:
    """("credential_offer", the offer object) or ("credential_offer_uri", its URL): exactly one (§4.1)."""
    query = parse_qs(urlsplit(offer_uri).query, keep_blank_values=True)
    names = [name for name in ("credential_offer", "credential_offer_uri") if name in query]
    if len(names) != 1 or len(query[names[0]]) != 1:
        raise ProtocolViolation("offer", "the link needs exactly one credential_offer or credential_offer_uri")
    value = query[names[0]][0]
    if names[0] == "credential_offer_uri":
        return names[0], value
    try:
        return names[0], json.loads(value)
    except ValueError as error:
        raise ProtocolViolation("offer", "credential_offer is not JSON") from error


def check_offer(offer: Any) -> None:
    """The parts of a Credential Offer (§4.1.1) this wallet relies on."""
    if not isinstance(offer, dict) or not isinstance(offer.get("credential_issuer"), str):
        raise ProtocolViolation("offer", "the offer has no credential_issuer")
    ids = offer.get("credential_configuration_ids")
    if not isinstance(ids, list) or not ids or len(set(map(str, ids))) != len(ids):
        raise ProtocolViolation("offer", "credential_configuration_ids is not a non-empty array of unique strings")
    grants = offer.get("grants")
    if isinstance(grants, dict) and PRE_AUTHORIZED_GRANT not in grants and "authorization_code" in grants:
        code_grant = grants["authorization_code"]
        if not isinstance(code_grant, dict) or not isinstance(code_grant.get("issuer_state", ""), str):
            raise ProtocolViolation("offer", "the authorization_code grant is not an object with a string issuer_state")
        return
    grant = grants.get(PRE_AUTHORIZED_GRANT) if isinstance(grants, dict) else None
    if not isinstance(grant, dict) or not isinstance(grant.get("pre-authorized_code"), str):
        raise ProtocolViolation("offer", "the offer has no pre-authorized code grant")
    if "tx_code" in grant and not isinstance(grant["tx_code"], dict):
        raise ProtocolViolation("offer", "tx_code is not an object")


def credential_request(session: Session, configuration_id: str, keys: list[jwk.JWK], nonce: str) -> dict[str, Any]:
    """A Credential Request (§8.2): the identifier the token response calls for, and one proof per key."""
    body: dict[str, Any] = {}
    identifiers = credential_identifiers(session.token_response, configuration_id)
    if identifiers:
        body["credential_identifier"] = identifiers[0]
    else:
        body["credential_configuration_id"] = configuration_id
    configuration = session.metadata.get("credential_configurations_supported", {}).get(configuration_id, {})
    if "proof_types_supported" in configuration or not configuration:
        body["proofs"] = {"jwt": [make_proof(key, session.issuer, nonce) for key in keys]}
    return body


def credential_identifiers(token_response: Mapping[str, Any], configuration_id: str) -> list[str]:
    """The `credential_identifiers` the token response returned for a configuration (§6.2)."""
    for detail in token_response.get("authorization_details") or []:
        if detail.get("credential_configuration_id") == configuration_id:
            return list(detail.get("credential_identifiers", []))
    return []


def well_known(identifier: str, name: str) -> str:
    """`/.well-known/<name>` inserted between the host and the path of `identifier`.

    OID4VCI §12.2.2 inserts it as is; RFC 8414 §3.1 and SD-JWT VC §3 first drop a terminating `/`.
    """
    parts = urlsplit(identifier)
    path = parts.path if name == "openid-credential-issuer" and parts.path != "/" else parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}/.well-known/{name}{path}"


# Keys, proofs, encryption


def new_key(alg: str | None = None) -> jwk.JWK:
    """A fresh P-256 key; `alg` (e.g. "ECDH-ES") is set on the JWK when given."""
    key = jwk.JWK.generate(kty="EC", crv="P-256")
    if alg:
        key.update(alg=alg)
    return key


def public_jwk(key: jwk.JWK | Mapping[str, Any]) -> dict[str, Any]:
    """The public key members only (no `alg`, `kid`, `d`)."""
    members = key.export_public(as_dict=True) if isinstance(key, jwk.JWK) else key
    return {name: members[name] for name in PUBLIC_MEMBERS if name in members}


def make_proof(
    key: jwk.JWK,
    audience: str,
    nonce: str | None,
    *,
    header: Mapping[str, Any] | None = None,
    claims: Mapping[str, Any] | None = None,
    alg: str = "ES256",
) -> str:
    """A `jwt` key proof (Appendix F.1): typ, alg and jwk in the header; aud, iat, nonce in the payload.

    `header` and `claims` override the defaults, and a None value removes a member, so tests can
    build the broken proofs they need; the signature is made over whatever results.
    """
    payload: dict[str, Any] = {"aud": audience, "iat": int(time.time()), "nonce": nonce, **(claims or {})}
    protected = {"typ": PROOF_TYP, "alg": alg, "jwk": public_jwk(key), **(header or {})}
    return sign_jws(key, _present(protected), _present(payload))


def sign_jws(key: jwk.JWK, header: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
    """A compact JWS over exactly this header, signed with `key` using the header's `alg`."""
    signed = jws.JWSCore(header["alg"], key, json_encode(header), json_encode(payload).encode()).sign()
    return ".".join(_text(signed[part]) for part in ("protected", "payload", "signature"))


def make_dpop_proof(
    key: jwk.JWK,
    method: str,
    url: str,
    *,
    nonce: str | None = None,
    access_token: str | None = None,
    header: Mapping[str, Any] | None = None,
    claims: Mapping[str, Any] | None = None,
) -> str:
    """A DPoP proof JWT (RFC 9449 §4.2) for one request; `header` and `claims` override members
    (None removes one), so tests can build the broken proofs they need."""
    payload: dict[str, Any] = {
        "jti": base64url_encode(os.urandom(16)),
        "htm": method,
        "htu": url.split("?")[0].split("#")[0],
        "iat": int(time.time()),
        "nonce": nonce,
        "ath": base64url_encode(hashlib.sha256(access_token.encode()).digest()) if access_token else None,
        **(claims or {}),
    }
    protected = {"typ": "dpop+jwt", "alg": "ES256", "jwk": public_jwk(key), **(header or {})}
    return sign_jws(key, _present(protected), _present(payload))


def encryption_parameters(key: jwk.JWK, enc: str = "A128GCM", zip_: str | None = None) -> dict[str, Any]:
    """`credential_response_encryption` (§8.2): the public JWK (with `alg`, and `kid` if set) and `enc`."""
    parameters: dict[str, Any] = {"jwk": key.export_public(as_dict=True), "enc": enc}
    if zip_:
        parameters["zip"] = zip_
    return parameters


def decrypt(compact: str, key: jwk.JWK) -> str:
    """The plaintext of a compact JWE for `key`."""
    token = jwe.JWE()
    token.deserialize(compact, key=key)
    return str(token.payload.decode())


def decrypt_response(compact: str, key: jwk.JWK, enc: str) -> str:
    """An encrypted response's plaintext, after checking its header against the request (§10):
    `alg` is the JWK's, `enc` as requested, `kid` copied from the JWK when it has one."""
    header = json_decode(base64url_decode(compact.split(".")[0]))
    public = key.export_public(as_dict=True)
    if header.get("alg") != public.get("alg") or header.get("enc") != enc or header.get("kid") != public.get("kid"):
        raise ValueError(f"the JWE header {header} does not match the requested encryption")
    return decrypt(compact, key)


def _present(members: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in members.items() if value is not None}


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


# Independent verification


class VerificationError(Exception):
    """A credential that a verifier would refuse."""


def verify_sd_jwt_vc(
    sd_jwt: str, jwks: Mapping[str, Any], *, issuer: str, vct: str, holder_jwk: Mapping[str, Any]
) -> dict[str, Any]:
    """The selectively disclosed claims of an issued SD-JWT VC, once everything a verifier checks holds.

    The issuer-signed JWT verifies with the JWKS key named by `kid` and has `typ` dc+sd-jwt
    (SD-JWT VC §3.2.1); `_sd_alg` is sha-256; every disclosure's digest is embedded exactly once
    and the disclosures follow RFC 9901 §7.1; `iss`, `vct`, `exp` and `cnf.jwk` are as expected.
    """
    if not sd_jwt.endswith("~"):
        raise VerificationError("an issued SD-JWT ends with '~' and has no key binding JWT")
    issuer_jwt, *disclosures = sd_jwt[:-1].split("~")
    header, payload = verify_jws(issuer_jwt, jwks)
    if header.get("typ") != "dc+sd-jwt":
        raise VerificationError(f"typ is {header.get('typ')!r}, not dc+sd-jwt")
    if payload.get("_sd_alg") != "sha-256":
        raise VerificationError(f"_sd_alg is {payload.get('_sd_alg')!r}, not sha-256")
    if payload.get("vct") != vct:
        raise VerificationError(f"vct is {payload.get('vct')!r}")
    _check_validity(payload, issuer=issuer, holder_jwk=holder_jwk)
    by_digest: dict[str, list[Any]] = {}
    for disclosure in disclosures:
        digest = base64url_encode(hashlib.sha256(disclosure.encode("ascii")).digest())
        if digest in by_digest:
            raise VerificationError("the same disclosure is sent twice")
        by_digest[digest] = _decode_disclosure(disclosure)
    unfolder = _Unfolder(by_digest)
    top_level = set(payload.get("_sd", []))
    processed = unfolder.process(payload)
    if unfolder.unused:
        raise VerificationError(f"{len(unfolder.unused)} disclosure(s) are not referenced by any digest")
    disclosed = {by_digest[digest][1] for digest in top_level & set(by_digest)}
    return {name: processed[name] for name in disclosed}


def verify_jwt_vc_json(
    jwt_vc: str, jwks: Mapping[str, Any], *, issuer: str, holder_jwk: Mapping[str, Any]
) -> dict[str, Any]:
    """The credentialSubject of a W3C VC as a JWT (Appendix A.1.1, VC Data Model 1.1 §6.3.1),
    once its signature, issuer, validity, type and holder binding check out."""
    _, payload = verify_jws(jwt_vc, jwks)
    _check_validity(payload, issuer=issuer, holder_jwk=holder_jwk)
    vc = payload.get("vc")
    if not isinstance(vc, dict) or not isinstance(vc.get("credentialSubject"), dict):
        raise VerificationError("the JWT has no vc.credentialSubject")
    if (vc.get("@context") or [None])[0] != VC_CONTEXT_V1 or "VerifiableCredential" not in vc.get("type", []):
        raise VerificationError("vc has the wrong @context or type")
    if vc.get("issuer", issuer) != issuer:
        raise VerificationError("vc.issuer differs from iss")
    subject = dict(vc["credentialSubject"])
    if subject.get("id") != payload.get("sub"):
        raise VerificationError("credentialSubject.id differs from sub")
    if str(payload.get("sub", "")).startswith("did:jwk:"):
        did_key = json.loads(base64url_decode(payload["sub"][len("did:jwk:") :]))
        if public_jwk(did_key) != public_jwk(holder_jwk):
            raise VerificationError("sub (did:jwk) is not the holder's key")
    return subject


def verify_jws(compact: str, jwks: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a compact JWS whose signature verifies with the JWKS key named by `kid`."""
    try:
        header = json_decode(base64url_decode(compact.split(".")[0]))
    except (ValueError, IndexError) as error:
        raise VerificationError("not a compact JWS") from error
    alg = header.get("alg")
    if alg not in ASYMMETRIC_ALGS:
        raise VerificationError(f"alg {alg!r} is not an asymmetric signature algorithm")
    matching = [key for key in jwks.get("keys", []) if key.get("kid") == header.get("kid")]
    if len(matching) != 1:
        raise VerificationError(f"{len(matching)} keys in the issuer's JWKS have kid {header.get('kid')!r}")
    if matching[0].get("alg", alg) != alg:
        raise VerificationError(f"the key is for {matching[0]['alg']}, the JWS uses {alg}")
    token = jws.JWS()
    try:
        token.deserialize(compact)
        token.verify(jwk.JWK(**matching[0]), alg=alg)
        payload = json.loads(token.payload)
    except (JWException, ValueError) as error:
        raise VerificationError(f"the signature does not verify: {error}") from error
    if not isinstance(payload, dict):
        raise VerificationError("the payload is not a JSON object")
    return header, payload


def _check_validity(
    payload: Mapping[str, Any], *, issuer: str, holder_jwk: Mapping[str, Any], leeway: int = 60
) -> None:
    now = time.time()
    if payload.get("iss") != issuer:
        raise VerificationError(f"iss is {payload.get('iss')!r}")
    if not isinstance(payload.get("exp"), int | float) or payload["exp"] <= now:
        raise VerificationError("the credential has no exp or has expired")
    if isinstance(payload.get("nbf"), int | float) and payload["nbf"] > now + leeway:
        raise VerificationError("the credential is not valid yet")
    cnf = payload.get("cnf")
    bound = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(bound, dict) or "d" in bound or public_jwk(bound) != public_jwk(holder_jwk):
        raise VerificationError("cnf.jwk is not the holder's public key")


def _decode_disclosure(disclosure: str) -> list[Any]:
    try:
        decoded = json.loads(base64url_decode(disclosure))
    except ValueError as error:
        raise VerificationError("a disclosure is not base64url JSON") from error
    if not isinstance(decoded, list) or len(decoded) not in (2, 3) or not isinstance(decoded[0], str):
        raise VerificationError("a disclosure is not [salt, (name,) value]")
    if len(base64url_decode(decoded[0])) < 16:
        raise VerificationError("a salt has fewer than 128 bits")
    return decoded


class _Unfolder:
    """RFC 9901 §7.1 step 3: replace embedded digests by their disclosures, recursively."""

    def __init__(self, by_digest: Mapping[str, list[Any]]) -> None:
        self._by_digest = by_digest
        self._seen: set[str] = set()
        self.unused = set(by_digest)

    def process(self, value: Any) -> Any:
        if isinstance(value, dict):
            return self._object(value)
        if isinstance(value, list):
            return list(self._array(value))
        return value

    def _object(self, source: Mapping[str, Any]) -> dict[str, Any]:
        result = {name: self.process(value) for name, value in source.items() if name not in ("_sd", "_sd_alg")}
        for digest in source.get("_sd", []):
            disclosure = self._take(digest)
            if disclosure is None:
                continue  # a decoy
            if len(disclosure) != 3 or disclosure[1] in ("_sd", "...") or disclosure[1] in result:
                raise VerificationError("an object disclosure is malformed or repeats a claim")
            result[disclosure[1]] = self.process(disclosure[2])
        return result

    def _array(self, source: list[Any]) -> Iterator[Any]:
        for element in source:
            if not (isinstance(element, dict) and set(element) == {"..."}):
                yield self.process(element)
                continue
            disclosure = self._take(element["..."])
            if disclosure is None:
                continue
            if len(disclosure) != 2:
                raise VerificationError("an array element disclosure is malformed")
            yield self.process(disclosure[1])

    def _take(self, digest: Any) -> list[Any] | None:
        if not isinstance(digest, str) or digest in self._seen:
            raise VerificationError("a digest is not a string or appears twice")
        self._seen.add(digest)
        self.unused.discard(digest)
        return self._by_digest.get(digest)
