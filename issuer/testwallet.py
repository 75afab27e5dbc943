"""A small OID4VCI 1.0 wallet for self-tests, end-to-end tests and the benchmark.

It speaks HTTP with the standard library only (it ships in the product for the built-in
self-test), keeps one keep-alive connection per host, and exposes every protocol step as
its own method, so a test can break one step and a benchmark can time each. The verifiers
check credentials independently of the issuer's code: signatures against the published
JWKS, disclosure digests, holder binding.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from jwcrypto import jwe, jwk, jws, jwt
from jwcrypto.common import base64url_decode, base64url_encode, json_encode

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME = "openid-credential-offer://"


class WalletError(Exception):
    """An issuer answered with an error: the status, headers and body are kept for assertions."""

    def __init__(self, step: str, status: int, headers: Mapping[str, str], body: Any) -> None:
        super().__init__(f"{step}: HTTP {status}: {body}")
        self.step = step
        self.status = status
        self.headers = dict(headers)
        self.body = body

    @property
    def error(self) -> str | None:
        return self.body.get("error") if isinstance(self.body, dict) else None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Received:
    """What one credential request brought back."""

    configuration_id: str
    credentials: list[str]
    holder_keys: list[jwk.JWK]
    notification_id: str | None


@dataclass
class Session:
    """What the wallet learned along one flow."""

    offer: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    access_token: str = ""
    token_response: dict[str, Any] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return str(self.offer["credential_issuer"])

    @property
    def grant(self) -> dict[str, Any]:
        return dict(self.offer["grants"][PRE_AUTHORIZED_GRANT])


class TestWallet:
    __test__ = False  # not a pytest test class

    def __init__(self, timeout: float = 10.0) -> None:
        self._timeout = timeout
        self._connections: dict[str, http.client.HTTPConnection] = {}
        self.timings: dict[str, float] = {}

    # ----- HTTP -----

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        for attempt in (1, 2):  # a keep-alive connection the server closed is retried once
            connection = self._connection(origin)
            try:
                connection.request(method, path, body=body, headers=dict(headers or {}))
                response = connection.getresponse()
                data = response.read()
                return HttpResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                connection.close()
                self._connections.pop(origin, None)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def _connection(self, origin: str) -> http.client.HTTPConnection:
        connection = self._connections.get(origin)
        if connection is None:
            parts = urlsplit(origin)
            cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            connection = cls(parts.hostname or "", parts.port, timeout=self._timeout)
            self._connections[origin] = connection
        return connection

    def _json(self, step: str, response: HttpResponse, expected: tuple[int, ...] = (200,)) -> Any:
        body: Any
        try:
            body = response.json()
        except ValueError:
            body = response.body.decode(errors="replace")
        if response.status not in expected:
            raise WalletError(step, response.status, response.headers, body)
        return body

    def _timed(self, step: str, started: float) -> None:
        self.timings[step] = time.perf_counter() - started

    # ----- protocol steps -----

    def resolve_offer(self, offer_uri: str) -> Session:
        """The Credential Offer from an `openid-credential-offer://` link, by value or by reference (§4.1)."""
        started = time.perf_counter()
        query = parse_qs(urlsplit(offer_uri).query)
        if "credential_offer" in query:
            offer = json.loads(query["credential_offer"][0])
        else:
            offer = self._json("offer", self.request("GET", query["credential_offer_uri"][0]))
        self._timed("offer", started)
        return Session(offer)

    def fetch_metadata(self, session: Session) -> dict[str, Any]:
        """Issuer metadata from the well-known URL built per §12.2.2."""
        started = time.perf_counter()
        session.metadata = self._json(
            "metadata", self.request("GET", well_known(session.issuer, "openid-credential-issuer"))
        )
        self._timed("metadata", started)
        return session.metadata

    def fetch_as_metadata(self, session: Session) -> dict[str, Any]:
        return self._json("as_metadata", self.request("GET", well_known(session.issuer, "oauth-authorization-server")))

    def token(self, session: Session, tx_code: str | None = None, **extra: str) -> dict[str, Any]:
        started = time.perf_counter()
        form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": session.grant["pre-authorized_code"]}
        if tx_code is not None:
            form["tx_code"] = tx_code
        form.update(extra)
        response = self.post_form(f"{session.issuer}/token", form)
        session.token_response = self._json("token", response)
        session.access_token = session.token_response["access_token"]
        self._timed("token", started)
        return session.token_response

    def post_form(self, url: str, form: Mapping[str, str]) -> HttpResponse:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request("POST", url, body=urlencode(form).encode(), headers=headers)

    def nonce(self, session: Session) -> str:
        started = time.perf_counter()
        endpoint = session.metadata.get("nonce_endpoint") or f"{session.issuer}/nonce"
        nonce = self._json("nonce", self.request("POST", endpoint))["c_nonce"]
        self._timed("nonce", started)
        return str(nonce)

    def post_json(self, url: str, body: Any, access_token: str | None = None) -> HttpResponse:
        headers = {"Content-Type": "application/json"}
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        return self.request("POST", url, body=json.dumps(body).encode(), headers=headers)

    def request_credential(
        self,
        session: Session,
        configuration_id: str,
        *,
        batch: int = 1,
        nonce: str | None = None,
        encryption_key: jwk.JWK | None = None,
        holder_keys: list[jwk.JWK] | None = None,
    ) -> Received | str:
        """Credentials now (a `Received`), or the transaction id of a deferred issuance (§8)."""
        nonce = nonce if nonce is not None else self.nonce(session)
        started = time.perf_counter()
        keys = holder_keys or [new_key() for _ in range(batch)]
        request: dict[str, Any] = {"proofs": {"jwt": [make_proof(key, session.issuer, nonce) for key in keys]}}
        identifiers = credential_identifiers(session.token_response, configuration_id)
        if identifiers:
            request["credential_identifier"] = identifiers[0]
        else:
            request["credential_configuration_id"] = configuration_id
        if encryption_key is not None:
            request["credential_response_encryption"] = encryption_parameters(encryption_key)
        response = self.post_json(f"{session.issuer}/credential", request, session.access_token)
        body = self._response_body("credential", response, encryption_key)
        self._timed("credential", started)
        if response.status == 202:
            return str(body["transaction_id"])
        return Received(
            configuration_id, [c["credential"] for c in body["credentials"]], keys, body.get("notification_id")
        )

    def deferred(
        self,
        session: Session,
        transaction_id: str,
        configuration_id: str,
        holder_keys: list[jwk.JWK],
        encryption_key: jwk.JWK | None = None,
    ) -> Received | None:
        """Poll the Deferred Credential endpoint once (§9): the credentials, or None while pending."""
        request: dict[str, Any] = {"transaction_id": transaction_id}
        if encryption_key is not None:
            request["credential_response_encryption"] = encryption_parameters(encryption_key)
        response = self.post_json(f"{session.issuer}/deferred_credential", request, session.access_token)
        body = self._response_body("deferred", response, encryption_key)
        if response.status == 202:
            return None
        return Received(
            configuration_id, [c["credential"] for c in body["credentials"]], holder_keys, body.get("notification_id")
        )

    def notify(self, session: Session, notification_id: str, event: str = "credential_accepted") -> None:
        started = time.perf_counter()
        body = {"notification_id": notification_id, "event": event}
        self._json("notification", self.post_json(f"{session.issuer}/notification", body, session.access_token), (204,))
        self._timed("notification", started)

    def receive(
        self,
        offer_uri: str,
        tx_code: str | None = None,
        *,
        batch: int = 1,
        encrypt: bool = False,
        notify: bool = True,
    ) -> list[Received]:
        """The whole pre-authorized flow for every configuration in the offer."""
        session = self.resolve_offer(offer_uri)
        self.fetch_metadata(session)
        self.token(session, tx_code)
        received = []
        for configuration_id in session.offer["credential_configuration_ids"]:
            result = self.request_credential(
                session, configuration_id, batch=batch, encryption_key=new_key("ECDH-ES") if encrypt else None
            )
            if isinstance(result, str):
                raise WalletError("credential", 202, {}, {"transaction_id": result})
            if notify and result.notification_id:
                self.notify(session, result.notification_id)
            received.append(result)
        return received

    def _response_body(self, step: str, response: HttpResponse, encryption_key: jwk.JWK | None) -> Any:
        if encryption_key is not None and response.status in (200, 202):
            if response.headers.get("content-type", "").split(";")[0] != "application/jwt":
                raise WalletError(step, response.status, response.headers, "expected an encrypted response")
            return json.loads(decrypt(response.body.decode(), encryption_key))
        return self._json(step, response, (200, 202))


# ----- keys, proofs, encryption -----


def new_key(alg: str | None = None) -> jwk.JWK:
    key = jwk.JWK.generate(kty="EC", crv="P-256")
    if alg:
        key.update(alg=alg)  # type: ignore[attr-defined]
    return key


def public_jwk(key: jwk.JWK) -> dict[str, Any]:
    return {k: v for k, v in key.export_public(as_dict=True).items() if k in ("kty", "crv", "x", "y")}


def make_proof(
    key: jwk.JWK,
    audience: str,
    nonce: str | None,
    *,
    header: Mapping[str, Any] | None = None,
    claims: Mapping[str, Any] | None = None,
    alg: str = "ES256",
) -> str:
    """A `jwt` key proof (OID4VCI Appendix F.1); `header` and `claims` override the defaults."""
    payload: dict[str, Any] = {"aud": audience, "iat": int(time.time())}
    if nonce is not None:
        payload["nonce"] = nonce
    payload.update(claims or {})
    protected = {"typ": "openid4vci-proof+jwt", "alg": alg, "jwk": public_jwk(key), **(header or {})}
    token = jws.JWS(json_encode({k: v for k, v in payload.items() if v is not None}).encode())
    token.add_signature(key, alg=alg, protected=json_encode({k: v for k, v in protected.items() if v is not None}))
    return token.serialize(compact=True)


def encryption_parameters(key: jwk.JWK, enc: str = "A128GCM") -> dict[str, Any]:
    public = key.export_public(as_dict=True)
    return {"jwk": public, "enc": enc}


def decrypt(compact: str, key: jwk.JWK) -> str:
    token = jwe.JWE()
    token.deserialize(compact, key=key)
    return token.payload.decode()


def credential_identifiers(token_response: Mapping[str, Any], configuration_id: str) -> list[str]:
    for detail in token_response.get("authorization_details") or []:
        if detail.get("credential_configuration_id") == configuration_id:
            return list(detail.get("credential_identifiers", []))
    return []


def well_known(issuer: str, name: str) -> str:
    """`https://host/.well-known/<name>/path` for the issuer identifier `https://host/path`."""
    parts = urlsplit(issuer)
    return f"{parts.scheme}://{parts.netloc}/.well-known/{name}{parts.path.rstrip('/')}"


# ----- independent verification -----


class VerificationError(Exception):
    """A credential that a verifier would refuse."""


def verify_sd_jwt_vc(
    sd_jwt: str, jwks: Mapping[str, Any], *, issuer: str, vct: str, holder_jwk: Mapping[str, Any]
) -> dict[str, Any]:
    """The disclosed claims of an SD-JWT VC, after checking everything a verifier checks."""
    if not sd_jwt.endswith("~"):
        raise VerificationError("an issued SD-JWT ends with '~' (no key binding JWT)")
    issuer_jwt, *disclosures = sd_jwt[:-1].split("~")
    header, payload = verify_jws(issuer_jwt, jwks)
    if header.get("typ") != "dc+sd-jwt":
        raise VerificationError(f"typ is {header.get('typ')!r}")
    _check_common(payload, issuer=issuer, holder_jwk=holder_jwk)
    if payload.get("vct") != vct or payload.get("_sd_alg") != "sha-256":
        raise VerificationError("vct or _sd_alg is wrong")
    digests = set(payload.get("_sd", []))
    claims: dict[str, Any] = {}
    for disclosure in disclosures:
        digest = base64url_encode(hashlib.sha256(disclosure.encode("ascii")).digest())
        if digest not in digests:
            raise VerificationError("a disclosure's digest is not in _sd")
        salt, name, value = json.loads(base64url_decode(disclosure))
        if len(base64url_decode(salt)) < 16:
            raise VerificationError("a salt is shorter than 128 bits")
        claims[name] = value
    return claims


def verify_jwt_vc_json(
    jwt_vc: str, jwks: Mapping[str, Any], *, issuer: str, holder_jwk: Mapping[str, Any]
) -> dict[str, Any]:
    """The credentialSubject of a W3C VC JWT, after checking signature, issuer, expiry and binding."""
    _, payload = verify_jws(jwt_vc, jwks)
    _check_common(payload, issuer=issuer, holder_jwk=holder_jwk)
    subject = payload["vc"]["credentialSubject"]
    if subject.get("id") != payload.get("sub"):
        raise VerificationError("credentialSubject.id differs from sub")
    return dict(subject)


def verify_jws(compact: str, jwks: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    header = json.loads(base64url_decode(compact.split(".")[0]))
    keys = jwk.JWKSet.from_json(json.dumps(jwks))
    key = keys.get_key(header.get("kid", ""))
    if key is None:
        raise VerificationError("the signing key is not in the issuer's JWKS")
    token = jwt.JWT(jwt=compact, key=key, algs=["ES256"], check_claims=False)
    return header, json.loads(token.claims)


def _check_common(payload: Mapping[str, Any], *, issuer: str, holder_jwk: Mapping[str, Any]) -> None:
    if payload.get("iss") != issuer:
        raise VerificationError(f"iss is {payload.get('iss')!r}")
    if not payload.get("exp") or payload["exp"] <= time.time():
        raise VerificationError("the credential has no exp or has expired")
    bound = payload.get("cnf", {}).get("jwk", {})
    if public_subset(bound) != public_subset(holder_jwk):
        raise VerificationError("cnf.jwk is not the holder's key")


def public_subset(key: Mapping[str, Any]) -> dict[str, Any]:
    return {k: key[k] for k in ("kty", "crv", "x", "y") if k in key}
