"""Hostile input at every wallet-facing endpoint: a JSON error or a correct answer, never a 500.

One real issuer (Waitress on 127.0.0.1, an ephemeral port, a temporary data folder) serves the
whole module. Requests are written on raw sockets, so that paths, headers and bodies reach the
server byte for byte. Hypothesis generates bodies, forms, tokens, proofs and paths; the number of
examples per test keeps the module within about a minute. Every answer must be a 2xx the request
deserves, or a 4xx whose body is an OAuth-shaped JSON error (RFC 6749 §5.2, OID4VCI §8.3.1.2)
without a traceback or HTML; no error may be logged; and at the end the issuer still issues,
and what it had stored before (a live offer, a deferred transaction) is intact.

Requests that are not HTTP at all (raw bytes outside RFC 9112's request-target, headers or
bodies over Waitress's own limits) are answered by Waitress before any app sees them; they get
the same JSON errors.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import socket
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jwcrypto import jwk

from issuer.crypto import es256
from issuer.runtime import IssuerRuntime, read_admin_token
from issuer.service import OfferRequest
from tests.conftest import start_issuer
from wallet.client import Session, TestWallet, well_known
from wallet.keys import PROOF_TYP, encryption_parameters, make_proof, new_key, public_jwk
from wallet.transport import HttpResponse

BADGE_CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}
MAX_BODY = 64 * 1024  # issuer.web.MAX_BODY_BYTES
SERVER_MAX_BODY = 1024 * 1024  # issuer.server.MAX_REQUEST_BODY
ERROR_TEXT = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")  # RFC 6749 §5.2 error and error_description
ERROR_MEMBERS = {"error", "error_description", "error_uri"}
STATUS_LIST_TYPES = ("application/statuslist+jwt", "application/statuslist+json", "application/json")
NOTIFICATION_EVENTS = ("credential_accepted", "credential_failure", "credential_deleted")
CLIENT_ID, REDIRECT_URI = "wallet-1", "https://wallet.example/cb"  # the one registered wallet


def fuzz(examples: int) -> Callable[[Any], Any]:
    """Hypothesis settings for one test: `examples` cases, no deadline, nothing stored on disk."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )


# Raw HTTP


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


class RawClient:
    """One request per connection, written byte for byte; each request counts as one case."""

    def __init__(self, port: int, cases: Counter[str]) -> None:
        self.port = port
        self.host = f"127.0.0.1:{port}".encode()
        self.cases = cases
        self.label = "setup"
        self.sent = 0

    def send(
        self,
        method: str | bytes,
        target: str | bytes,
        *,
        headers: Sequence[tuple[str | bytes, str | bytes]] = (),
        body: bytes | None = None,
        host: bytes | None = None,
        content_length: bool = True,
    ) -> HttpResponse:
        lines = [
            _bytes(method) + b" " + _bytes(target) + b" HTTP/1.1",
            b"Host: " + (self.host if host is None else host),
        ]
        lines.append(b"Connection: close")
        lines += [_bytes(name) + b": " + _bytes(value) for name, value in headers]
        if body is not None and content_length:
            lines.append(b"Content-Length: %d" % len(body))
        data = b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")
        self.cases[self.label] += 1
        self.sent += 1
        chunks = []
        with socket.create_connection(("127.0.0.1", self.port), timeout=20) as sock:
            try:
                sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered before reading everything; its answer is still there
            try:
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
            except ConnectionResetError:
                pass
        return _parse(b"".join(chunks))

    def post(self, path: str, body: bytes, content_type: str | bytes | None, token: str | None = None) -> HttpResponse:
        headers: list[tuple[str | bytes, str | bytes]] = []
        if content_type is not None:
            headers.append(("Content-Type", content_type))
        if token is not None:
            headers.append(("Authorization", f"Bearer {token}"))
        return self.send("POST", path, headers=headers, body=body)

    def post_json(self, path: str, value: Any, token: str | None = None) -> HttpResponse:
        return self.post(path, json.dumps(value).encode(), "application/json", token)


def _parse(data: bytes) -> HttpResponse:
    head, separator, body = data.partition(b"\r\n\r\n")
    assert separator, f"no complete HTTP response: {data[:200]!r}"
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    return HttpResponse(int(status_line.split()[1]), headers, body)


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


# What every answer must look like


def check(
    reply: HttpResponse, *, ok: Mapping[int, Callable[[HttpResponse], None]] | None = None, head: bool = False
) -> HttpResponse:
    """A correct success listed in `ok` (status -> check of the body), or a well-formed JSON error."""
    where = f"{reply.status} {reply.headers.get('content-type')} {reply.body[:300]!r}"
    assert reply.status < 500, where
    assert b"Traceback" not in reply.body and b"<html" not in reply.body.lower(), where
    if reply.status < 400:
        assert ok is not None and reply.status in ok, where
        if head:
            assert not reply.body, where
        else:
            ok[reply.status](reply)
        return reply
    assert reply.content_type == "application/json", where
    assert "no-store" in reply.headers.get("cache-control", ""), where
    if head:
        assert not reply.body, where
        return reply
    body = json.loads(reply.body)
    assert isinstance(body, dict) and set(body) <= ERROR_MEMBERS, where
    assert isinstance(body.get("error"), str) and body["error"] and ERROR_TEXT.fullmatch(body["error"]), where
    assert ERROR_TEXT.fullmatch(str(body.get("error_description", ""))), where
    if body["error"] == "invalid_token":  # a resource request: a challenge (RFC 6750 §3, RFC 9449 §7.1)
        assert reply.headers.get("www-authenticate", "").startswith(("Bearer", "DPoP")), where
    return reply


def error_of(reply: HttpResponse) -> str:
    return str(json.loads(reply.body)["error"]) if reply.body else ""


def json_document(reply: HttpResponse) -> None:
    assert reply.content_type == "application/json" and isinstance(json.loads(reply.body), dict)


def nonce_body(reply: HttpResponse) -> None:
    body = json.loads(reply.body)
    assert reply.content_type == "application/json" and isinstance(body["c_nonce"], str) and body["c_nonce"]


def pending_body(reply: HttpResponse) -> None:
    if reply.content_type == "application/jwt":  # encrypted as the request asked (§9.1, §10)
        assert reply.body.count(b".") == 4
        return
    body = json.loads(reply.body)
    assert reply.content_type == "application/json" and set(body) == {"transaction_id", "interval"}, body


def empty(reply: HttpResponse) -> None:
    assert reply.body == b""


def status_list(reply: HttpResponse) -> None:
    assert reply.content_type in STATUS_LIST_TYPES and reply.body


# The issuer under attack


class ErrorLog(logging.Handler):
    """Every record at ERROR or above, from any logger (an unexpected failure is logged so)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Target:
    """The issuer under attack, and what the tests need of it."""

    def __init__(
        self,
        runtime: IssuerRuntime,
        client: RawClient,
        wallet: TestWallet,
        session: Session,
        deferred: tuple[Session, str],
        reference: str,
        errors: ErrorLog,
    ) -> None:
        self.runtime = runtime
        self.data_dir = runtime.settings.data_dir
        self.client = client
        self.wallet = wallet
        self.session = session  # redeemed badge offer: its token is used throughout, its credential at the end
        self.deferred, self.transaction_id = deferred  # redeemed deferred offer with a pending transaction
        self.reference = reference  # the path of a live by-reference offer, "/offers/<id>.<secret>"
        self.errors = errors
        # Endpoint name as in the metadata (without _endpoint) -> path.
        self.paths = {name: urlsplit(session.endpoint(name)).path for name in _ENDPOINTS}
        self.paths["token"] = urlsplit(session.as_metadata["token_endpoint"]).path
        for name, member in (("par", "pushed_authorization_request_endpoint"), ("authorize", "authorization_endpoint")):
            if member in session.as_metadata:
                self.paths[name] = urlsplit(session.as_metadata[member]).path
        self.documents: dict[str, bytes] = {}  # path of a metadata document or the JWKS -> its body

    def __repr__(self) -> str:
        return f"Target({self.url})"

    @property
    def url(self) -> str:
        return self.runtime.issuer_url

    @property
    def token(self) -> str:
        return self.session.access_token


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, cases: Counter[str]) -> Iterator[Target]:
    data_dir = tmp_path_factory.mktemp("hostile") / "data"
    runtime = start_issuer(data_dir, access_token_ttl=3600, offer_ttl=3600, clients={CLIENT_ID: [REDIRECT_URI]})
    service = runtime.service
    assert service is not None
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    wallet = TestWallet()
    try:
        offer = service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS))
        session = wallet.resolve_offer(offer.offer_uri)
        wallet.fetch_as_metadata(session)
        wallet.token(session)
        deferred_offer = service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS, deferred=True))
        deferred = wallet.resolve_offer(deferred_offer.offer_uri)
        wallet.fetch_metadata(deferred)
        wallet.token(deferred)
        transaction_id = wallet.request_credential(deferred, "employee_badge")
        assert isinstance(transaction_id, str)
        by_reference = service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS, by_reference=True))
        reference = urlsplit(parse_qs(urlsplit(by_reference.offer_uri).query)["credential_offer_uri"][0]).path
        client = RawClient(int(urlsplit(runtime.issuer_url).port or 0), cases)
        target = Target(runtime, client, wallet, session, (deferred, transaction_id), reference, errors)
        for url in [*(well_known(runtime.issuer_url, name) for name in _WELL_KNOWN), f"{runtime.issuer_url}/jwks"]:
            path = urlsplit(url).path
            target.documents[path] = check(client.send("GET", path), ok={200: json_document}).body
        yield target
    finally:
        wallet.close()
        logging.getLogger().removeHandler(errors)
        runtime.stop()


_ENDPOINTS = ("credential", "nonce", "deferred_credential", "notification")
_WELL_KNOWN = ("openid-credential-issuer", "oauth-authorization-server", "jwt-vc-issuer")


@pytest.fixture(autouse=True)
def counted(request: pytest.FixtureRequest, target: Target) -> Iterator[None]:
    """Count each test's requests under its name, and fail it if the server logged an error."""
    target.client.label = request.node.originalname
    logged = len(target.errors.records)
    yield
    new = target.errors.records[logged:]
    call = getattr(request.node, "report_call", None)
    if call is not None and call.passed:  # a failed test already tells; its errors are logged above it
        assert not new, [f"{r.name}: {r.getMessage()}" for r in new]


# Strategies

NASTY = [
    "",
    " ",
    "\x00",
    "\t",
    "\r\n",
    "\u202e",
    "\ufeff",
    "\u200b",
    "\U0001f600",
    "\u01c5",
    "\ufb03",
    "\u0130",
    "%00",
    "../",
    "..\\",
    "%2e%2e%2f",
    "null",
    "[]",
    "{}",
    "NaN",
    "-0",
    "1e309",
    "\\",
    '"',
    "'",
    "<script>",
    "employee_badge",
    "employee_badge:1",
    "urn:ietf:params:oauth:grant-type:pre-authorized_code",
]
surrogates = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3)
long_strings = st.builds(
    lambda piece, count: piece * count,
    st.sampled_from(["a", "\u00e9", "\U0001f600", ".", "%", "\ud800"]),
    st.integers(200, 4000),
)
strings = st.one_of(st.text(max_size=30), st.sampled_from(NASTY), surrogates, long_strings)
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80), st.floats(), strings)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(strings, inner, max_size=4), max_leaves=12
)
b64 = st.binary(max_size=64).map(lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode())
ascii_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
# Bytes allowed in an HTTP field value (RFC 9110 §5.5): HTAB, SP, VCHAR, obs-text.
field_bytes = st.binary(max_size=80).map(lambda raw: bytes(b for b in raw if b == 9 or 0x20 <= b <= 0x7E or b >= 0x80))
JSON_CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/json; charset=utf-16",
    "application/jwt",
    "application/x-www-form-urlencoded",
    "text/plain",
    "multipart/form-data; boundary=x",
    "application/json, text/plain",
    "\u00e9/\u00e9",
    "",
    None,
]
FORM_CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/x-www-form-urlencoded; charset=iso-8859-1",
    "application/json",
    "text/plain",
    "multipart/form-data; boundary=x",
    "",
    None,
]


def encode_json(value: Any, how: str) -> bytes:
    text = json.dumps(value)
    if how == "utf-8":
        return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    if how == "bom":
        return b"\xef\xbb\xbf" + text.encode()
    if how == "utf-16":
        return text.encode("utf-16")
    if how == "truncated":
        return text.encode()[: max(len(text) // 2, 1)]
    if how == "trailing":
        return text.encode() + b" }"
    return text.encode()


json_encodings = st.sampled_from(["ascii", "ascii", "ascii", "utf-8", "bom", "utf-16", "truncated", "trailing"])


def form_encode(fields: Sequence[tuple[str, str]]) -> bytes:
    """application/x-www-form-urlencoded, with lone surrogates passed through as (invalid) UTF-8."""
    return b"&".join(
        quote(name.encode("utf-8", "surrogatepass"), safe="").encode()
        + b"="
        + quote(value.encode("utf-8", "surrogatepass"), safe="").encode()
        for name, value in fields
    )


# Key proofs: a few holder keys made once, proofs signed straight with `cryptography`.
HOLDER_KEYS = [new_key() for _ in range(3)]
PROOF_ALGS = ["ES256", "ES256", "none", "HS256", "RS256", "PS256", "EdDSA", "ES384", "ES256K", "es256", ""]
KEY_TYPES = ["EC", "RSA", "OKP", "oct", "ec", ""]
CURVES = ["P-256", "P-384", "P-521", "secp256k1", "Ed25519", "X25519", ""]


def jwk_members() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "kty": st.sampled_from(KEY_TYPES) | json_values,
            "crv": st.sampled_from(CURVES) | json_values,
            "x": b64 | json_values,
            "y": b64 | json_values,
            "n": st.binary(min_size=1, max_size=600).map(lambda raw: base64.urlsafe_b64encode(raw).decode()),
            "e": st.sampled_from(["AQAB", "AA", "", "AQ"]) | json_values,
            "d": b64,
            "k": b64,
            "alg": st.sampled_from(PROOF_ALGS),
            "use": strings,
            "key_ops": json_values,
            "x5c": st.lists(b64, max_size=2),
        },
    )


@st.composite
def key_headers(draw: st.DrawFn, public: dict[str, Any]) -> dict[str, Any]:
    choice = draw(st.sampled_from(["own", "own", "jwk", "any", "kid", "x5c", "none", "two"]))
    if choice == "own":
        return {"jwk": public}
    if choice == "jwk":
        return {"jwk": draw(jwk_members())}
    if choice == "any":
        return {"jwk": draw(json_values)}
    if choice == "kid":
        return {"kid": draw(strings | json_values)}
    if choice == "x5c":
        return {"x5c": draw(st.lists(b64 | json_values, max_size=3) | json_values)}
    if choice == "two":
        return {"jwk": public, "kid": draw(strings)}
    return {}


nonces = st.one_of(ascii_text, strings, st.none(), st.integers(), st.lists(st.integers(), max_size=2), st.booleans())


@st.composite
def proof_jwts(draw: st.DrawFn, audience: str, now: int) -> str:
    key = HOLDER_KEYS[draw(st.integers(0, len(HOLDER_KEYS) - 1))]
    header: dict[str, Any] = {
        "typ": draw(st.just(PROOF_TYP) | st.just(PROOF_TYP) | json_values),
        "alg": draw(st.sampled_from(PROOF_ALGS) | json_values),
        **draw(key_headers(public_jwk(key))),
        **draw(st.dictionaries(strings, json_values, max_size=2)),
    }
    payload: dict[str, Any] = {
        "aud": draw(st.sampled_from([audience, [audience, "x"], audience + "/"]) | json_values),
        "iat": draw(st.sampled_from([now, now - 30]) | st.integers() | st.floats(allow_nan=False) | json_values),
        "nonce": draw(nonces),
        **draw(st.dictionaries(strings, json_values, max_size=2)),
    }
    if draw(st.booleans()):
        payload["iss"] = draw(strings | json_values)
    shape = draw(
        st.sampled_from(["signed", "signed", "signed", "signature", "unsigned", "parts", "jwe", "long", "any"])
    )
    if shape == "any":
        return draw(strings | b64)
    if shape == "long":
        payload["pad"] = "x" * draw(st.integers(6000, 12_000))
    signed = es256.sign_compact(key.get_op_key("sign"), header, payload)
    head, body, signature = signed.split(".")
    if shape == "signature":
        return f"{head}.{body}.{draw(b64)}"
    if shape == "unsigned":
        return f"{head}.{body}."
    if shape == "parts":
        return ".".join(draw(st.lists(st.sampled_from([head, body, signature]) | b64, max_size=7)))
    if shape == "jwe":
        protected = es256.b64url(json.dumps({"alg": "ECDH-ES", "enc": "A128GCM", "typ": PROOF_TYP}).encode())
        return ".".join([protected, "", draw(b64), draw(b64), draw(b64)])
    return signed


@st.composite
def proofs_members(draw: st.DrawFn, audience: str, now: int) -> Any:
    proofs = st.lists(proof_jwts(audience, now), min_size=1, max_size=3)
    choice = draw(st.sampled_from(["jwt", "jwt", "jwt", "many", "string", "empty", "other", "two", "any"]))
    if choice == "jwt":
        return {"jwt": draw(proofs)}
    if choice == "many":  # more proofs than batch_size
        return {"jwt": [draw(proof_jwts(audience, now))] * 11}
    if choice == "string":
        return {"jwt": draw(proof_jwts(audience, now))}
    if choice == "empty":
        return {"jwt": []}
    if choice == "other":
        return {draw(st.sampled_from(["ldp_vp", "attestation", "di_vp", "cwt"])): draw(json_values)}
    if choice == "two":
        return {"jwt": draw(proofs), "attestation": draw(st.lists(b64, max_size=2))}
    return draw(json_values)


def encryption_members() -> st.SearchStrategy[Any]:
    valid = encryption_parameters(new_key("ECDH-ES"))
    key = st.fixed_dictionaries(
        {},
        optional={
            "kty": st.sampled_from(KEY_TYPES) | json_values,
            "crv": st.sampled_from(CURVES) | json_values,
            "alg": st.sampled_from(["ECDH-ES", "ECDH-ES+A128KW", "RSA-OAEP", "dir", ""]) | json_values,
            "x": b64 | json_values,
            "y": b64 | json_values,
            "d": b64,
            "kid": strings,
        },
    )
    return st.one_of(
        st.just(valid),
        st.fixed_dictionaries(
            {},
            optional={
                "jwk": st.one_of(st.just(valid["jwk"]), key, json_values),
                "enc": st.sampled_from(["A128GCM", "A256GCM", "A128CBC-HS256", ""]) | json_values,
                "zip": st.sampled_from(["DEF", "GZIP", ""]) | json_values,
            },
        ),
        json_values,
    )


@st.composite
def credential_requests(draw: st.DrawFn, audience: str, now: int) -> dict[str, Any]:
    body: dict[str, Any] = draw(st.dictionaries(strings, json_values, max_size=2))
    identify = draw(st.sampled_from(["configuration", "configuration", "identifier", "both", "neither"]))
    config_ids = st.sampled_from(["employee_badge", "employee_badge", "membership_card"]) | strings | json_values
    if identify in ("configuration", "both"):
        body["credential_configuration_id"] = draw(config_ids)
    if identify in ("identifier", "both"):
        body["credential_identifier"] = draw(config_ids)
    if draw(st.integers(0, 3)):
        body["proofs"] = draw(proofs_members(audience, now))
    if not draw(st.integers(0, 3)):
        body["credential_response_encryption"] = draw(encryption_members())
    if not draw(st.integers(0, 5)):
        body["proof"] = draw(json_values)  # the pre-1.0 singular member
    return body


# Bearer tokens


def _sealed(claims: Any, tag: bytes) -> str:
    return f"{es256.b64url(json.dumps(claims).encode())}.{es256.b64url(tag)}"


@st.composite
def authorizations(draw: st.DrawFn, real: str) -> bytes:
    scheme = draw(st.sampled_from([b"Bearer", b"bearer", b"BEARER", b"DPoP", b"Basic", b"Token", b"", b"Bearer:"]))
    separator = draw(st.sampled_from([b" ", b" ", b"  ", b"\t", b""]))
    kind = draw(st.sampled_from(["text", "bytes", "jwt", "jwe", "sealed", "altered", "long", "empty"]))
    if kind == "text":
        token = draw(st.text(st.characters(max_codepoint=0xFF, exclude_categories=["Cc"]), max_size=80)).encode(
            "latin-1"
        )
    elif kind == "bytes":
        token = draw(field_bytes)
    elif kind == "jwt":
        token = ".".join([es256.b64url(json.dumps(draw(json_values)).encode()), draw(b64), draw(b64)]).encode()
    elif kind == "jwe":
        token = ".".join(draw(st.lists(b64, min_size=5, max_size=5))).encode()
    elif kind == "sealed":  # the issuer's own token shape with claims of one's choosing and a guessed tag
        claims = {
            "o": draw(st.text(max_size=20)),
            "c": ["employee_badge"],
            "exp": 2**40,
            **draw(st.dictionaries(st.text(max_size=10), scalars.filter(lambda v: len(str(v)) < 100), max_size=4)),
        }
        token = _sealed(claims, draw(st.binary(min_size=16, max_size=16))).encode()
    elif kind == "altered":
        cut = draw(st.integers(0, len(real) - 1))
        token = (real[:cut] + draw(st.sampled_from(["", "A", "=", ".", "\u00e9", "~"])) + real[cut + 1 :]).encode(
            "latin-1"
        )
    elif kind == "long":
        token = draw(st.sampled_from([b"a", b"A.", b"\xe9"])) * draw(st.integers(2000, 60_000))
    else:
        token = b""
    return scheme + separator + token


# Paths

PATH_TRICKS = [
    "..",
    "%2e%2e",
    "%2E%2E",
    ".%2e",
    "..%2f",
    "..%2F..%2F..%2Fetc%2Fpasswd",
    "%2f",
    "%2F",
    "%5c",
    "..%5c..%5c",
    "%00",
    "a%00b",
    ".%00.",
    "%c0%ae%c0%ae",
    "%c0%af",
    "%252e%252e",
    "%25",
    "....//",
    "..;",
    ";",
    "%3b",
    "~",
    "%7e",
    "%ff",
    "%fe%ff",
    "%",
    "%zz",
    "%3f",
    "%23",
    ".",
    "%2e",
    "%20",
    "%0d%0a",
    "%e2%80%ae",
    "%ef%bb%bf",
    "%f0%9f%98%80",
    "%ed%a0%80",
    "a" * 8000,
    "%2e" * 3000,
]
url_text = st.text(max_size=20).map(lambda text: quote(text.encode("utf-8", "surrogatepass"), safe=""))
segments = st.one_of(st.sampled_from(PATH_TRICKS), url_text, st.text("abcdef0123456789.-_~", max_size=40))
queries = st.one_of(st.just(""), url_text.map(lambda text: "?" + text), st.just("?" + "a=%00&" * 200))


@st.composite
def paths_under(draw: st.DrawFn, prefix: str) -> str:
    tail = "/".join(draw(st.lists(segments, min_size=1, max_size=4)))
    return prefix + tail + draw(queries)


# Token endpoint (§6)

TOKEN_NAMES = [
    "grant_type",
    "pre-authorized_code",
    "tx_code",
    "authorization_details",
    "refresh_token",
    "client_id",
    "scope",
    "code",
    "redirect_uri",
    "code_verifier",
]
GRANT_TYPES = [
    "urn:ietf:params:oauth:grant-type:pre-authorized_code",
    "refresh_token",
    "authorization_code",
    "client_credentials",
    "",
]


@st.composite
def token_forms(draw: st.DrawFn, offer_id: str) -> list[tuple[str, str]]:
    value = strings | st.sampled_from([f"{offer_id}.", f"{offer_id}.{'0' * 40}", offer_id, "123456"])
    details = st.one_of(
        strings,
        json_values.map(json.dumps),
        st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["openid_credential", "x"]) | json_values},
                optional={"credential_configuration_id": st.sampled_from(["employee_badge", ""]) | json_values},
            ),
            max_size=3,
        ).map(json.dumps),
    )
    fields = [("grant_type", draw(st.sampled_from(GRANT_TYPES) | strings))]
    for name in draw(st.lists(st.sampled_from(TOKEN_NAMES[1:]) | strings, max_size=5)):
        fields.append((name, draw(details if name == "authorization_details" else value)))
    return draw(st.permutations(fields))


@fuzz(600)
@given(data=st.data())
def test_token_endpoint_forms(target: Target, data: st.DataObject) -> None:
    """Forms of every shape, in every content type: refused as OAuth errors, never a token."""
    fields = data.draw(token_forms(target.session.offer["grants"][_PRE_AUTH]["pre-authorized_code"].split(".")[0]))
    content_type = data.draw(st.sampled_from(FORM_CONTENT_TYPES))
    body = form_encode(fields)
    reply = check(target.client.post(target.paths["token"], body, content_type))
    if len(body) > MAX_BODY:
        assert reply.status == 413, reply
    else:
        assert reply.status == 400 and error_of(reply) in _TOKEN_ERRORS, reply


_PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
_TOKEN_ERRORS = {
    "invalid_request",
    "invalid_grant",
    "unsupported_grant_type",
    "invalid_authorization_details",
    "invalid_client",
}


@fuzz(300)
@given(
    body=st.one_of(
        st.binary(max_size=400),
        st.sampled_from([b"%", b"%zz", b"a=%ff%fe", b"=&=&=", b"&&&", b"grant_type", b"a=%00", b"\xff\xfe=\x00"]),
        st.integers(1, 5).map(lambda n: b"grant_type=refresh_token&refresh_token=" + b"%e9" * 2000 * n),
    ),
    content_type=st.sampled_from(FORM_CONTENT_TYPES[:3]),
)
def test_token_endpoint_raw_bodies(target: Target, body: bytes, content_type: str) -> None:
    """Bytes that are no form at all, with a form's content type."""
    reply = check(target.client.post(target.paths["token"], body, content_type))
    assert reply.status in (400, 413)


def test_token_authorization_details_nested_deeply(target: Target) -> None:
    """authorization_details nested beyond the JSON decoder's recursion limit."""
    code = target.session.offer["grants"][_PRE_AUTH]["pre-authorized_code"]
    for depth in (900, 1100, 4000):
        fields = [("grant_type", _PRE_AUTH), ("pre-authorized_code", code), ("authorization_details", "[" * depth)]
        reply = check(target.client.post(target.paths["token"], form_encode(fields), FORM_CONTENT_TYPES[0]))
        assert reply.status == 400 and error_of(reply) in ("invalid_authorization_details", "invalid_grant")


# Credential, Deferred Credential and Notification endpoints (§8, §9, §11)


@fuzz(600)
@given(data=st.data())
def test_json_endpoints_bodies(target: Target, data: st.DataObject) -> None:
    """Any JSON value (or broken JSON) in any content type, with a valid access token or without."""
    name = data.draw(st.sampled_from(["credential", "deferred_credential", "notification"]))
    value = data.draw(json_values | st.dictionaries(st.sampled_from(_MEMBERS) | strings, json_values, max_size=4))
    body = encode_json(value, data.draw(json_encodings))
    assume(len(body) <= SERVER_MAX_BODY)  # above, Waitress answers: test_body_over_the_server_limit
    token = data.draw(st.sampled_from([target.token, target.deferred.access_token, None]))
    check(target.client.post(target.paths[name], body, data.draw(st.sampled_from(JSON_CONTENT_TYPES)), token))


_MEMBERS = [
    "credential_configuration_id",
    "credential_identifier",
    "proofs",
    "proof",
    "credential_response_encryption",
    "transaction_id",
    "notification_id",
    "event",
    "event_description",
]


@pytest.mark.parametrize("name", ["credential", "deferred_credential", "notification"])
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 60_000,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b"1" * 5000,
        b"",
        b"\x00",
        b"\xef\xbb\xbf{}",
        b'{"transaction_id": "\\ud800"}',
        b'{"notification_id": "\\udfff", "event": "credential_accepted"}',
        b'{"credential_configuration_id": "\\u0000"}',
        b"\xc0\xaf",
        b'{"a": NaN, "b": -Infinity}',
        b'{"a": 1, "a": 2}',
    ],
    ids=[
        "nested_arrays",
        "nested_objects",
        "huge_integer",
        "empty",
        "nul",
        "bom",
        "surrogate_transaction_id",
        "surrogate_notification_id",
        "nul_configuration_id",
        "overlong_utf8",
        "nan",
        "duplicate_member",
    ],
)
def test_json_endpoints_edge_bodies(target: Target, name: str, body: bytes) -> None:
    token = target.deferred.access_token if name == "deferred_credential" else target.token
    reply = check(target.client.post(target.paths[name], body, "application/json", token))
    assert reply.status == 400, reply


@fuzz(800)
@given(data=st.data())
def test_credential_requests(target: Target, data: st.DataObject) -> None:
    """Credential Requests with malformed, oversized, unsigned, mis-signed and foreign proofs,
    identifiers and encryption parameters, under a valid access token: refused in plain JSON."""
    now = int(target.runtime.service.clock()) if target.runtime.service else 0
    body = json.dumps(data.draw(credential_requests(target.url, now))).encode()
    assume(len(body) <= SERVER_MAX_BODY)  # above, Waitress answers: test_body_over_the_server_limit
    reply = check(target.client.post(target.paths["credential"], body, "application/json", target.token))
    assert reply.status in (400, 403, 413), reply


@fuzz(200)
@given(data=st.data())
def test_deferred_requests(target: Target, data: st.DataObject) -> None:
    """Deferred Credential Requests: the real transaction stays pending (202), anything else is refused."""
    transaction_id = data.draw(st.just(target.transaction_id) | strings | json_values)
    body: dict[str, Any] = {
        "transaction_id": transaction_id,
        **data.draw(st.dictionaries(strings, json_values, max_size=2)),
    }
    if data.draw(st.booleans()):
        body["credential_response_encryption"] = data.draw(encryption_members())
    token = data.draw(st.sampled_from([target.deferred.access_token, target.token]))
    reply = check(target.client.post_json(target.paths["deferred_credential"], body, token), ok={202: pending_body})
    if reply.status == 202:
        assert body["transaction_id"] == target.transaction_id and token == target.deferred.access_token


@fuzz(200)
@given(data=st.data())
def test_notification_requests(target: Target, data: st.DataObject) -> None:
    body = {
        "notification_id": data.draw(strings | json_values | st.just("000001-1-AAAAAAAAAAAA")),
        "event": data.draw(st.sampled_from(NOTIFICATION_EVENTS) | strings | json_values),
        **data.draw(st.fixed_dictionaries({}, optional={"event_description": strings | json_values})),
    }
    reply = check(target.client.post_json(target.paths["notification"], body, target.token))
    assert reply.status in (400, 413), reply


@fuzz(500)
@given(data=st.data())
def test_access_tokens(target: Target, data: st.DataObject) -> None:
    """Authorization headers of every shape: missing, other schemes, JWTs, JWEs, forged and altered
    tokens, Latin-1 bytes, 60 KB: 401 invalid_token with a Bearer challenge (RFC 6750 §3.1)."""
    name = data.draw(st.sampled_from(["credential", "deferred_credential", "notification"]))
    authorization = data.draw(authorizations(target.token))
    headers = [("Content-Type", "application/json"), (b"Authorization", authorization)]
    reply = check(target.client.send("POST", target.paths[name], headers=headers, body=b"{}"))
    scheme, _, token = authorization.strip().partition(b" ")
    if scheme.lower() != b"bearer" or token != target.token.encode():  # the scheme is case-insensitive (RFC 7235)
        assert (reply.status, error_of(reply)) == (401, "invalid_token"), reply


def test_signed_proof_with_a_non_ascii_nonce(target: Target) -> None:
    """A proof that verifies, whose nonce is not ASCII: it is no nonce this issuer gave, so
    invalid_nonce (§8.3.1.2), not a failure of the tag comparison (hmac.compare_digest takes
    ASCII str only)."""
    for nonce in ("a.\u00e9", "\u00e9", "x." + "\U0001f600" * 3):
        proof = make_proof(HOLDER_KEYS[0], target.url, nonce)
        body = {"credential_configuration_id": "employee_badge", "proofs": {"jwt": [proof]}}
        reply = check(target.client.post_json(target.paths["credential"], body, target.token))
        assert (reply.status, error_of(reply)) == (400, "invalid_nonce")


def test_proof_nested_deeply(target: Target) -> None:
    """A proof whose header is JSON nested beyond the decoder's recursion limit: invalid_proof."""
    for header in (b"[" * 3000, b'{"a":' * 1500):
        proof = f"{es256.b64url(header)}.{es256.b64url(b'{}')}.{es256.b64url(b'x' * 64)}"
        body = {"credential_configuration_id": "employee_badge", "proofs": {"jwt": [proof]}}
        reply = check(target.client.post_json(target.paths["credential"], body, target.token))
        assert (reply.status, error_of(reply)) == (400, "invalid_proof")


def test_proof_iat_must_be_a_number(target: Target) -> None:
    """iat NaN or Infinity is no time (JSON has neither, RFC 8259 §6), so the proof is
    invalid_proof (F.4); compared with NaN, every time check would pass. The requests use a
    spare offer, so that an acceptance would not spend the module's session."""
    service = target.runtime.service
    assert service is not None
    with TestWallet() as wallet:
        session = wallet.resolve_offer(service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS)).offer_uri)
        wallet.fetch_metadata(session)
        wallet.token(session)
        for iat in (float("nan"), float("inf"), float("-inf")):
            proof = make_proof(HOLDER_KEYS[1], target.url, wallet.nonce(session), claims={"iat": iat})
            body = {"credential_configuration_id": "employee_badge", "proofs": {"jwt": [proof]}}
            reply = check(target.client.post_json(target.paths["credential"], body, session.access_token))
            assert (reply.status, error_of(reply)) == (400, "invalid_proof"), (iat, reply)


# Authorization Code Flow: pushed requests (RFC 9126) and the browser-facing endpoint (§5)

AUTHORIZATION_NAMES = [
    "client_id",
    "redirect_uri",
    "response_type",
    "code_challenge",
    "code_challenge_method",
    "scope",
    "authorization_details",
    "state",
    "issuer_state",
    "dpop_jkt",
    "request",
    "request_uri",
    "response_mode",
]
CHALLENGE = es256.b64url(bytes(32))


@st.composite
def authorization_params(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Authorization request parameters: mostly plausible ones (the registered client, PKCE S256,
    a known scope), each replaced at random by anything at all."""
    plausible = {
        "client_id": st.sampled_from([CLIENT_ID, "wallet-2", ""]),
        "redirect_uri": st.sampled_from(
            [REDIRECT_URI, REDIRECT_URI + "/x", "https://evil.example/cb", "http://127.0.0.1/cb", "javascript:x"]
        ),
        "response_type": st.sampled_from(["code", "token", "code id_token"]),
        "code_challenge": st.sampled_from([CHALLENGE, CHALLENGE[:-1], "x" * 43]),
        "code_challenge_method": st.sampled_from(["S256", "plain", "s256"]),
        "scope": st.sampled_from(["employee_badge", "membership_card employee_badge", "openid", ""]),
        "authorization_details": st.sampled_from(
            ['[{"type":"openid_credential","credential_configuration_id":"employee_badge"}]', "[]", "{}", "[" * 2000]
        ),
        "request_uri": st.sampled_from(["urn:ietf:params:oauth:request_uri:x", ""]),
    }
    fields = []
    for name in draw(st.lists(st.sampled_from(AUTHORIZATION_NAMES) | strings, max_size=9, unique=True)):
        value = plausible.get(name, strings)
        fields.append((name, draw(value | strings if draw(st.integers(0, 4)) == 0 else value)))
    return fields


def par_body(reply: HttpResponse) -> None:
    body = json.loads(reply.body)
    assert reply.content_type == "application/json" and set(body) == {"request_uri", "expires_in"}, body


@fuzz(300)
@given(data=st.data())
def test_pushed_authorization_requests(target: Target, data: st.DataObject) -> None:
    """PAR with forms of every shape: 201 and a request_uri for a well-formed request of the
    registered wallet, a JSON error for anything else."""
    if "par" not in target.paths:
        pytest.skip("the issuer advertises no pushed_authorization_request_endpoint")
    fields = data.draw(authorization_params())
    content_type = data.draw(st.sampled_from(FORM_CONTENT_TYPES))
    reply = check(target.client.post(target.paths["par"], form_encode(fields), content_type), ok={201: par_body})
    if reply.status == 201:
        assert dict(fields).get("client_id") == CLIENT_ID and dict(fields).get("redirect_uri") == REDIRECT_URI


@fuzz(300)
@given(data=st.data())
def test_authorization_endpoint(target: Target, data: st.DataObject) -> None:
    """The authorization endpoint and its waiting page are for a browser: a page (HTML by design),
    a redirect to the registered redirect URI and nowhere else, or a JSON error; never a 5xx."""
    if "authorize" not in target.paths:
        pytest.skip("the issuer advertises no authorization_endpoint")
    if data.draw(st.booleans()):
        query = form_encode(data.draw(authorization_params())).decode()
        path = f"{target.paths['authorize']}?{query}"
    else:
        path = f"{target.paths['authorize']}/wait?session={data.draw(url_text | st.sampled_from(PATH_TRICKS))}"
    reply = target.client.send("GET", path)
    where = f"{reply.status} {reply.headers.get('content-type')} {reply.body[:300]!r}"
    assert reply.status < 500 and b"Traceback" not in reply.body, where
    if 300 <= reply.status < 400:
        assert reply.headers["location"].startswith(REDIRECT_URI + "?"), where
    elif reply.content_type == "text/html":
        assert reply.status in (200, 400, 401, 403, 404), where
    else:
        check(reply)


# Sizes and content types


def _post_paths(target: Target) -> list[tuple[str, str, str | None]]:
    """(endpoint, path, access token) for every wallet-facing POST endpoint."""
    token_for = {"credential": target.token, "deferred_credential": target.deferred.access_token}
    token_for["notification"] = target.token
    names = ["token", "nonce", "credential", "deferred_credential", "notification"]
    return [(name, target.paths[name], token_for.get(name)) for name in names]


@pytest.mark.parametrize("size", [MAX_BODY, MAX_BODY + 1, 1_000_000])
def test_large_bodies(target: Target, size: int) -> None:
    """At the limit a body is read and refused for what it says; above it, 413 before it is read."""
    for name, path, token in _post_paths(target):
        content_type = "application/x-www-form-urlencoded" if name == "token" else "application/json"
        body = b"a=" + b"x" * (size - 2) if name == "token" else b'{"a":"' + b"x" * (size - 8) + b'"}'
        reply = check(target.client.post(path, body, content_type, token), ok={200: nonce_body})
        if size > MAX_BODY:
            assert (reply.status, error_of(reply)) == (413, "invalid_request"), (name, reply)
        else:
            assert reply.status in ((200,) if name == "nonce" else (400,)), (name, reply)


def test_chunked_body_over_the_limit(target: Target) -> None:
    """No Content-Length to check first: the body is cut at the limit while it is read."""
    chunk = b"x" * 8192
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(10)) + b"0\r\n\r\n"
    for name, path, token in _post_paths(target):
        headers = [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]
        if token:
            headers.append(("Authorization", f"Bearer {token}"))
        reply = check(
            target.client.send("POST", path, headers=headers, body=body, content_length=False), ok={200: nonce_body}
        )
        assert reply.status in ((200, 413) if name == "nonce" else (400, 413)), (name, reply)


def test_body_over_the_server_limit(target: Target) -> None:
    """Above 1 MB Waitress refuses the body itself, with the same JSON error as the app's 413."""
    body = b'{"a":"' + b"x" * (2 * 1024 * 1024) + b'"}'
    reply = check(target.client.post(target.paths["credential"], body, "application/json", target.token))
    assert reply.status == 413


@pytest.mark.parametrize("name", ["token", "credential", "deferred_credential", "notification"])
@pytest.mark.parametrize("content_type", JSON_CONTENT_TYPES + FORM_CONTENT_TYPES[1:3])
def test_content_types(target: Target, name: str, content_type: str | None) -> None:
    """A body valid for the endpoint but labelled with another type is refused, never guessed at."""
    token = target.deferred.access_token if name == "deferred_credential" else target.token
    if name == "token":
        body = form_encode([("grant_type", "refresh_token"), ("refresh_token", "x.y")])
    else:
        body = json.dumps(
            {"transaction_id": "nope", "notification_id": "nope", "event": "credential_accepted"}
        ).encode()
    check(target.client.post(target.paths[name], body, content_type, None if name == "token" else token))


# Paths: offers by reference, status lists, metadata


def _offer_ok(target: Target) -> dict[int, Callable[[HttpResponse], None]]:
    def offer(reply: HttpResponse) -> None:
        assert json.loads(reply.body)["credential_issuer"] == target.url

    return {200: offer}


@fuzz(600)
@given(data=st.data())
def test_offer_by_reference_paths(target: Target, data: st.DataObject) -> None:
    """/offers/<reference> with traversal, encoded slashes, NUL, overlong UTF-8, very long
    segments, real offer ids with wrong secrets: 404 JSON; only the real reference is served."""
    offer_id = target.reference.rsplit("/", 1)[1].split(".")[0]
    path = data.draw(
        paths_under("/offers/")
        | st.builds(lambda tail: f"/offers/{offer_id}.{tail}", url_text | st.sampled_from(PATH_TRICKS))
        | st.just(target.reference)
    )
    method = data.draw(st.sampled_from(["GET", "GET", "GET", "HEAD", "POST", "OPTIONS"]))
    reply = check(target.client.send(method, path), ok={**_offer_ok(target), 204: empty}, head=method == "HEAD")
    if reply.status < 400:
        assert path in (target.reference, target.reference.rstrip("/")) or method == "OPTIONS"


@fuzz(400)
@given(path=paths_under("/status/"), method=st.sampled_from(["GET", "GET", "HEAD", "POST"]))
def test_status_list_paths(target: Target, path: str, method: str) -> None:
    """/status/<anything>: a status list when one has that id, else 404 JSON."""
    check(target.client.send(method, path, headers=[("Accept", "*/*")]), ok={200: status_list}, head=method == "HEAD")


LOGOS = {path.name: path.read_bytes() for path in (Path(__file__).parents[2] / "resources" / "logos").iterdir()}


@fuzz(200)
@given(
    path=paths_under("/logos/") | st.sampled_from([f"/logos/{name}" for name in sorted(LOGOS)]),
    method=st.sampled_from(["GET", "GET", "HEAD"]),
)
def test_logo_paths(target: Target, path: str, method: str) -> None:
    """/logos/<name>, where the metadata's display logos live: a logo of resources/logos, byte for
    byte, or 404 JSON; traversal never serves another file."""

    def a_logo(reply: HttpResponse) -> None:
        assert reply.content_type in ("image/svg+xml", "image/png") and reply.body in LOGOS.values()

    check(target.client.send(method, path), ok={200: a_logo}, head=method == "HEAD")


@fuzz(400)
@given(data=st.data())
def test_metadata_and_jwks(target: Target, data: st.DataObject) -> None:
    """The well-known documents and the JWKS: the same document whatever the query and headers,
    405 JSON for other methods, 404 JSON for any path below them."""
    path = data.draw(st.sampled_from(sorted(target.documents)))
    method = data.draw(st.sampled_from(["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "TRACE", "FOO"]))
    suffix = data.draw(st.sampled_from(["", "", "", "/", "/x", "%2f..", "/.."]))
    query = data.draw(queries)
    headers = data.draw(
        st.lists(
            st.tuples(
                st.sampled_from(["Accept", "Accept-Language", "If-None-Match", "Origin", "X-Forwarded-Host", "Range"]),
                field_bytes,
            ),
            max_size=3,
        )
    )
    reply = check(
        target.client.send(method, path + suffix + query, headers=headers),
        ok={200: lambda r: None, 206: lambda r: None},
        head=method == "HEAD",
    )
    if reply.status == 200 and method == "GET":
        assert suffix == "" and json.loads(reply.body) == json.loads(target.documents[path])
    elif reply.status < 400:
        assert method in ("GET", "HEAD") and suffix == ""
    elif method not in ("GET", "HEAD") and suffix == "":
        assert reply.status == 405, reply


@fuzz(150)
@given(host=st.one_of(field_bytes, st.sampled_from([b"evil.example", b"127.0.0.1", b"localhost:1", b"", b"[::1]"])))
def test_host_header(target: Target, host: bytes) -> None:
    """A Host that does not name this issuer is refused as JSON (DNS rebinding)."""
    path = sorted(target.documents)[0]
    reply = check(target.client.send("GET", path, host=host.strip()), ok={200: json_document})
    if reply.status == 200:
        assert host.strip().lower() in (target.client.host, f"localhost:{target.client.port}".encode())


@pytest.mark.parametrize(
    "request_target",
    [
        b"/offers/a\x00b",
        b"/offers/\xc3\xa9",
        b"/offers/a b",
        b"/status/\xff",
        b"/status/a\tb",
        b"/offers/" + b"a" * 300_000,
    ],
    ids=["nul", "utf8", "space", "byte", "tab", "over_header_limit"],
)
def test_request_targets_that_are_not_http(target: Target, request_target: bytes) -> None:
    """Raw bytes RFC 9112 does not allow in a request-target, or a request line over the header
    limit: Waitress answers 400 (or 431) itself, as JSON. A NUL or a tab, which it passes on,
    reaches the route, which finds nothing (404 JSON). Nothing is logged."""
    reply = check(target.client.send("GET", request_target))
    assert reply.status in (400, 404, 431), reply


# Secrets and logs


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        lines = []
        for record in self.records:
            lines.append(formatter.format(record))
            lines.append(repr(record.args))
        return "\n".join(lines)


def _all_loggers_at_debug(handler: logging.Handler) -> Callable[[], None]:
    """Attach `handler` to the root logger and set every logger to DEBUG; returns the undo."""
    root = logging.getLogger()
    loggers = [root, *(logging.getLogger(name) for name in list(root.manager.loggerDict))]
    levels = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    root.addHandler(handler)

    def undo() -> None:
        root.removeHandler(handler)
        for logger, level, disabled in levels:
            logger.setLevel(level)
            logger.disabled = disabled

    return undo


def test_no_secret_reaches_the_logs(target: Target) -> None:
    """A full flow, errors included, with every logger at DEBUG: no pre-authorized code, tx_code,
    offer reference secret, access or refresh token, nonce, transaction id, admin token or key
    material appears in any log record."""
    capture = Everything()
    undo = _all_loggers_at_debug(capture)
    try:
        secrets = _full_flow(target)
        logging.getLogger("issuer.hardening-check").debug("capture works")
    finally:
        undo()
    assert any(r.getMessage() == "capture works" for r in capture.records)
    secrets.update(_stored_secrets(target.data_dir))
    logged = capture.text()
    leaked = {name: value for name, value in secrets.items() if _appears(value, logged)}
    assert not leaked, leaked
    assert len(secrets) >= 14, sorted(secrets)


def _appears(secret: str, text: str) -> bool:
    if secret.isdigit():  # a tx_code: whole numbers only, not digits inside timestamps or ports
        return re.search(rf"(?<!\d){secret}(?!\d)", text) is not None
    return secret in text or quote(secret, safe="") in text


def _full_flow(target: Target) -> dict[str, str]:
    """Offers made through the admin API, redeemed, issued, deferred, refreshed and notified, with
    a wrong tx_code, a replayed code and a spent nonce on the way; the secrets it used, by name."""
    admin_token = read_admin_token(target.data_dir)
    found: dict[str, str] = {"admin token": admin_token}
    admin_headers = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
    with TestWallet() as wallet:

        def create(**options: bool) -> dict[str, Any]:
            body = json.dumps({"credential_configuration_ids": ["employee_badge"], "claims": BADGE_CLAIMS, **options})
            reply = wallet.request(
                "POST", f"{target.runtime.admin_url}/api/offers", body=body.encode(), headers=admin_headers
            )
            assert reply.status == 201, reply.body
            return dict(reply.json())

        offer = create(tx_code=True, by_reference=True)
        reference = parse_qs(urlsplit(offer["offer_uri"]).query)["credential_offer_uri"][0]
        found["offer reference"] = reference.rsplit(".", 1)[1]
        found["pre-authorized code"] = offer["credential_offer"]["grants"][_PRE_AUTH]["pre-authorized_code"]
        found["tx_code"] = offer["tx_code"]
        session = wallet.resolve_offer(offer["offer_uri"])
        wallet.fetch_as_metadata(session)
        wrong = (
            "1" * len(offer["tx_code"])
            if offer["tx_code"] != "1" * len(offer["tx_code"])
            else "2" * len(offer["tx_code"])
        )
        token_url = session.as_metadata["token_endpoint"]
        form = {"grant_type": _PRE_AUTH, "pre-authorized_code": found["pre-authorized code"]}
        assert wallet.post_form(token_url, {**form, "tx_code": wrong}).status == 400
        found["access token"] = wallet.token(session, offer["tx_code"])["access_token"]
        assert wallet.post_form(token_url, {**form, "tx_code": offer["tx_code"]}).status == 400  # replayed
        nonce = wallet.nonce(session)
        found["nonce"] = nonce
        received = wallet.request_credential(session, "employee_badge", nonce=nonce)
        assert not isinstance(received, str) and received.notification_id
        wallet.notify(session, received.notification_id)
        spent = make_proof(new_key(), session.issuer, nonce)
        replay = wallet.post_json(
            session.endpoint("credential"),
            {"credential_configuration_id": "employee_badge", "proofs": {"jwt": [spent]}},
            session.access_token,
        )
        assert replay.status == 400

        deferred = create(deferred=True)
        found["deferred code"] = deferred["credential_offer"]["grants"][_PRE_AUTH]["pre-authorized_code"]
        later = wallet.resolve_offer(deferred["offer_uri"])
        wallet.fetch_metadata(later)
        tokens = wallet.token(later)
        found["deferred access token"] = tokens["access_token"]
        found["refresh token"] = tokens["refresh_token"]
        transaction_id = wallet.request_credential(later, "employee_badge")
        assert isinstance(transaction_id, str)
        found["transaction id"] = transaction_id
        approve = f"{target.runtime.admin_url}/api/offers/{deferred['offer_id']}/approve"
        assert wallet.request("POST", approve, body=b"{}", headers=admin_headers).status == 200
        refreshed = wallet.post_form(
            token_url, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status == 200, refreshed.body
        found["refreshed access token"] = later.access_token = refreshed.json()["access_token"]
        found["rotated refresh token"] = refreshed.json()["refresh_token"]
        stale = wallet.post_form(token_url, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
        assert stale.status == 400
        done = wallet.deferred(later, transaction_id)
        assert done is not None and done.notification_id
        wallet.notify(later, done.notification_id, "credential_deleted", "gone")
    return found


def _stored_secrets(data_dir: Path) -> dict[str, str]:
    """The issuer's private key members and the keys its codes and tokens are made with."""
    found = {}
    keys = data_dir / "keys"
    for pem in sorted(keys.glob("*.pem")):
        private = jwk.JWK.from_pem(pem.read_bytes()).export_private(as_dict=True)
        found[f"private key d ({pem.stem[:8]})"] = private["d"]
    for name in ("secret-hash.key", "access-token.key"):
        raw = (keys / name).read_bytes()
        found[f"{name} (hex)"] = raw.hex()
        found[f"{name} (base64url)"] = es256.b64url(raw)
    return found


# After all of it


def test_still_serving_and_nothing_lost(target: Target) -> None:
    """The issuer still issues: a new wallet gets its credential, the module's own session gets
    its credential with a good proof, the deferred transaction is still pending, and the
    by-reference offer is still served."""
    service = target.runtime.service
    assert service is not None
    with TestWallet() as wallet:
        offer = service.offers.create(OfferRequest(["employee_badge"], BADGE_CLAIMS, tx_code=True))
        [received] = wallet.receive(offer.offer_uri, offer.tx_code)
        assert received.credentials and received.notification_id
    received = target.wallet.request_credential(target.session, "employee_badge")
    assert not isinstance(received, str) and len(received.credentials) == 1
    check(
        target.client.post_json(
            target.paths["deferred_credential"], {"transaction_id": target.transaction_id}, target.deferred.access_token
        ),
        ok={202: pending_body},
    )
    check(target.client.send("GET", target.reference), ok=_offer_ok(target))
    print(f"hostile input: {target.client.sent} requests in this module")
    assert target.client.sent >= 4000
