"""A small OID4VCI 1.0 wallet for the built-in self-test, end-to-end tests and the benchmark.

It exposes each protocol step of the Pre-Authorized Code Flow as its own method, so that a
test can break one step and a benchmark can time each (`TestWallet.timings`). It follows the
flow as a careful wallet does: endpoints come from the published metadata, the metadata must
name the issuer it was fetched for (§12.2.4, RFC 8414 §3.3), and an answer the protocol does
not allow is a `ProtocolViolation`, not something to use. HTTP goes through `wallet.transport`.

One wallet per thread: its connections are not shared.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from jwcrypto import jwk
from jwcrypto.common import JWException

from wallet.keys import encryption_parameters, make_dpop_proof, make_proof, new_key
from wallet.transport import Connections, HttpResponse, ProtocolViolation, WalletError
from wallet.verify import decrypt_response

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


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
        self._require_https = require_https
        self._http = Connections(timeout)
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
        """One HTTP exchange over the keep-alive connection to the URL's origin (see `Connections.request`)."""
        return self._http.request(method, url, body=body, headers=headers)

    def post_form(self, url: str, form: Mapping[str, str]) -> HttpResponse:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        return self.request("POST", url, body=urlencode(form).encode(), headers=headers)

    def post_json(self, url: str, body: Any, access_token: str | None = None) -> HttpResponse:
        headers = {"Content-Type": "application/json"}
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        return self.request("POST", url, body=json.dumps(body).encode(), headers=headers)

    def close(self) -> None:
        self._http.close()

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
