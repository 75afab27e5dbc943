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
from urllib.parse import urlencode, urlsplit

from cryptography import x509
from jwcrypto import jwk

from wallet.attestation import ClientAttestation
from wallet.keys import encrypt_request, encryption_parameters, make_dpop_proof, make_proof, new_key
from wallet.offers import PRE_AUTHORIZED_GRANT, check_offer, parse_offer_uri
from wallet.responses import credential_reply, issued_credentials, parsed
from wallet.transport import Connections, HttpResponse, ProtocolViolation, WalletError
from wallet.verify import VerificationError, verify_signed_metadata

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
JSON = "application/json"
SIGNED = "application/jwt"


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
    client_attestation: ClientAttestation | None = None  # sent at PAR and token (OID4VCI Appendix E)
    encrypt_requests: bool = False  # encrypt Credential Requests even where the issuer does not require it

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

    def __init__(
        self,
        timeout: float = 10.0,
        *,
        require_https: bool = False,
        trust_anchor: x509.Certificate | None = None,
        connect_to: Mapping[str, str] | None = None,
    ) -> None:
        """`require_https`: refuse plain-HTTP issuers except on loopback (§13.9); the test profile is HTTP.
        `trust_anchor`: the issuer's CA; the wallet then takes only signed metadata whose `x5c` leads to it
        (§12.2.3, HAIP 1.0 §4.1). `connect_to`: origins reached at other addresses (see `Connections`)."""
        self._require_https = require_https
        self._trust_anchor = trust_anchor
        self._http = Connections(timeout, connect_to)
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
            accept = f"{SIGNED}, {JSON};q=0.5" if self._trust_anchor else JSON
            url = well_known(session.issuer, "openid-credential-issuer")
            response = self.request("GET", url, headers={"Accept": accept})
            if self._trust_anchor is None:
                metadata = self._json_body("metadata", response)
                if response.content_type != JSON:
                    raise ProtocolViolation("metadata", "the metadata is not application/json", response)
            else:
                metadata = self._signed_metadata(session, response, self._trust_anchor)
            if metadata.get("credential_issuer") != session.issuer:  # §12.2.4: simple string comparison
                raise ProtocolViolation("metadata", "credential_issuer differs from the offer's issuer", response)
            supported = metadata.get("credential_configurations_supported")
            if not isinstance(supported, dict) or not set(session.offer["credential_configuration_ids"]) <= set(
                supported
            ):
                raise ProtocolViolation("metadata", "an offered configuration is not in the metadata", response)
            session.metadata = metadata
        return metadata

    def _signed_metadata(self, session: Session, response: HttpResponse, anchor: x509.Certificate) -> dict[str, Any]:
        if response.status != 200 or response.content_type != SIGNED:
            raise ProtocolViolation("metadata", "the issuer did not send signed metadata", response)
        try:
            return verify_signed_metadata(response.body.decode("ascii"), anchor, session.issuer)
        except (VerificationError, UnicodeDecodeError) as error:
            raise ProtocolViolation("metadata", f"the signed metadata does not verify: {error}", response) from error

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
        retried once with the server's nonce on use_dpop_nonce, §8), and the wallet attestation when the
        session has one; the token is kept."""
        url = session.as_metadata["token_endpoint"]
        for attempt in (1, 2):
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
            headers.update(self.attestation_headers(session))
            if session.dpop_key is not None:
                headers["DPoP"] = make_dpop_proof(session.dpop_key, "POST", url, nonce=session.dpop_nonce)
            response = self.request("POST", url, body=urlencode(form).encode(), headers=headers)
            session.dpop_nonce = response.headers.get("dpop-nonce", session.dpop_nonce)
            error = parsed(response)
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

    def post_protected(self, session: Session, url: str, body: Any, *, encrypt: bool = False) -> HttpResponse:
        """POST JSON with the session's access token: Bearer, or DPoP with a proof for this request
        (`ath` included, retried once with a fresh server nonce, RFC 9449 §7, §9). With `encrypt`, the
        JSON goes as a JWE to the issuer's request encryption key (§10)."""
        content, content_type = json.dumps(body).encode(), "application/json"
        if encrypt:
            options = session.metadata["credential_request_encryption"]
            key, enc = options["jwks"]["keys"][0], options["enc_values_supported"][0]
            content, content_type = encrypt_request(body, key, enc).encode("ascii"), "application/jwt"
        if session.dpop_key is None:
            headers = {"Content-Type": content_type, "Authorization": f"Bearer {session.access_token}"}
            return self.request("POST", url, body=content, headers=headers)
        for attempt in (1, 2):
            proof = make_dpop_proof(
                session.dpop_key, "POST", url, nonce=session.dpop_nonce, access_token=session.access_token
            )
            headers = {
                "Content-Type": content_type,
                "Authorization": f"DPoP {session.access_token}",
                "DPoP": proof,
            }
            response = self.request("POST", url, body=content, headers=headers)
            session.dpop_nonce = response.headers.get("dpop-nonce", session.dpop_nonce)
            if not (
                response.status == 401
                and attempt == 1
                and "use_dpop_nonce" in response.headers.get("www-authenticate", "")
            ):
                return response
        return response

    def attestation_headers(self, session: Session) -> dict[str, str]:
        """The wallet attestation and a fresh PoP for a PAR or token request (attestation-based client
        auth -07 §6), with a challenge from the AS's challenge endpoint when it has one (§8)."""
        attestation = session.client_attestation
        if attestation is None:
            return {}
        endpoint = session.as_metadata.get("challenge_endpoint")
        challenge = None
        if isinstance(endpoint, str):
            answer = self._json_body("challenge", self.request("POST", endpoint, headers={"Accept": JSON}))
            challenge = answer.get("attestation_challenge")
            if not isinstance(challenge, str):
                raise ProtocolViolation("challenge", "no attestation_challenge string in the challenge response")
        return attestation.headers(str(session.as_metadata.get("issuer", session.issuer)), challenge=challenge)

    # Nonce (§7)

    def nonce(self, session: Session) -> str:
        """A fresh `c_nonce` from the Nonce Endpoint, which needs no access token (§7.1)."""
        if not session.metadata:
            self.fetch_metadata(session)
        with self._timed("nonce"):
            response = self.request("POST", session.endpoint("nonce"), headers={"Accept": JSON})
            session.dpop_nonce = response.headers.get("dpop-nonce", session.dpop_nonce)  # HAIP 1.0 §4
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
        key_attestation: Callable[[list[jwk.JWK], str], str] | None = None,
        proof_type: str = "jwt",
    ) -> Received | str:
        """Credentials now (a `Received`), or the transaction id of a deferred issuance (§8.3).

        One fresh P-256 key per credential, each proven by a `jwt` proof on one `c_nonce`. Without
        a `nonce` from the caller the wallet gets one, and on `invalid_nonce` gets a new one and
        retries once, as §8.3.1.2 tells wallets to. With `encryption_key` (an ECDH-ES JWK with
        `alg`) the response must come back as a JWE for it (§8.2, §10); the request is then encrypted
        when the issuer takes encrypted requests, as §8.2 requires. `key_attestation` makes the
        provider's attestation of the keys for a nonce, sent in the first key's `jwt` proof or, with
        `proof_type` "attestation", as the proof itself (Appendix D, F.1, F.3).
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
                attested = key_attestation(keys, fresh) if key_attestation else None
                body = credential_request(
                    session, configuration_id, keys, fresh, key_attestation=attested, proof_type=proof_type
                )
                if encryption_key is not None:
                    body["credential_response_encryption"] = encryption_parameters(encryption_key, enc or "A128GCM")
                encrypt = encrypts_request(session, body)
                response = self.post_protected(session, session.endpoint("credential"), body, encrypt=encrypt)
                try:
                    reply = credential_reply("credential", response, encryption_key, enc)
                except WalletError as error:
                    if error.error == "invalid_nonce" and nonce is None and attempt == 1:
                        continue
                    raise
            if response.status == 202:
                pending = Pending(reply["transaction_id"], reply["interval"], configuration_id, keys)
                session.pending[pending.transaction_id] = pending
                return pending.transaction_id
            credentials, notification_id = issued_credentials("credential", response, reply, keys)
            return Received(configuration_id, credentials, keys, notification_id)
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
            encrypt = encrypts_request(session, body)
            response = self.post_protected(session, session.endpoint("deferred_credential"), body, encrypt=encrypt)
            reply = credential_reply("deferred", response, encryption_key, enc)
        if response.status == 202:
            if reply["transaction_id"] != transaction_id:  # §9.2: the same transaction_id
                raise ProtocolViolation("deferred", "the 202 names another transaction_id", response)
            if pending is not None:
                pending.interval = reply["interval"]
            return None
        session.pending.pop(transaction_id, None)
        config_id = configuration_id or (pending.configuration_id if pending else "")
        keys = holder_keys if holder_keys is not None else (pending.holder_keys if pending else [])
        credentials, notification_id = issued_credentials("deferred", response, reply, keys)
        return Received(config_id, credentials, keys, notification_id)

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
                raise WalletError("notification", response.status, response.headers, parsed(response))

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
        body = parsed(response)
        if not (200 <= response.status < 300 if any_2xx else response.status == 200):
            raise WalletError(step, response.status, response.headers, body)
        if not isinstance(body, dict):
            raise ProtocolViolation(step, "the body is not a JSON object", response)
        return body

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


# Requests


def credential_request(
    session: Session,
    configuration_id: str,
    keys: list[jwk.JWK],
    nonce: str,
    *,
    key_attestation: str | None = None,
    proof_type: str = "jwt",
) -> dict[str, Any]:
    """A Credential Request (§8.2): the identifier the token response calls for, and one proof per key;
    with a `key_attestation` of the keys, one `jwt` proof carrying it, or the attestation as the proof."""
    body: dict[str, Any] = {}
    identifiers = credential_identifiers(session.token_response, configuration_id)
    if identifiers:
        body["credential_identifier"] = identifiers[0]
    else:
        body["credential_configuration_id"] = configuration_id
    configuration = session.metadata.get("credential_configurations_supported", {}).get(configuration_id, {})
    if "proof_types_supported" not in configuration and configuration:
        return body
    if proof_type == "attestation" and key_attestation:
        body["proofs"] = {"attestation": [key_attestation]}
    elif key_attestation:
        proof = make_proof(keys[0], session.issuer, nonce, header={"key_attestation": key_attestation})
        body["proofs"] = {"jwt": [proof]}
    else:
        body["proofs"] = {"jwt": [make_proof(key, session.issuer, nonce) for key in keys]}
    return body


def encrypts_request(session: Session, body: Mapping[str, Any]) -> bool:
    """Whether a (Deferred) Credential Request goes encrypted: when the issuer takes encrypted requests and
    requires them, or the request asks for an encrypted response (§8.2), or the session prefers it."""
    options = session.metadata.get("credential_request_encryption")
    if not isinstance(options, dict):
        return False
    wanted = session.encrypt_requests or "credential_response_encryption" in body
    return bool(wanted or options.get("encryption_required"))


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
