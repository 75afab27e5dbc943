"""The wallet's side of each request in the end-to-end tests, checked on the bytes that come back.

Row names (A13, C10, E26, ...) are those of shared/spec/ISSUER-CHECKLIST.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

from jwcrypto import jwk
from jwcrypto.common import base64url_decode

from issuer.service import CreatedOffer, IssuerService
from tests.conftest import RunningIssuer
from wallet.client import PRE_AUTHORIZED_GRANT, Session, TestWallet, credential_request
from wallet.keys import encryption_parameters, new_key, public_jwk
from wallet.transport import HttpResponse
from wallet.verify import decrypt_response, verify_jwt_vc_json, verify_sd_jwt_vc

PRE_AUTH = PRE_AUTHORIZED_GRANT
CONFIG_IDS = ("employee_badge", "membership_card")
BADGE_VCT = "urn:frontdesk:employee_badge:1"
BADGE_CLAIMS = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}
CARD_CLAIMS = {"given_name": "Grace", "family_name": "Hopper", "member_id": "M-1906", "level": "gold"}
MDOC_CLAIMS = {"given_name": "Mary", "family_name": "Somerville", "member_id": "M-1780", "level": "silver"}
CLAIMS = {"employee_badge": BADGE_CLAIMS, "membership_card": CARD_CLAIMS, "membership_mdoc": MDOC_CLAIMS}
# §8.3.1.2 and RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E (E26, C10).
ERROR_DESCRIPTION = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")
OAUTH_ERROR_MEMBERS = {"error", "error_description", "error_uri"}

MakeOffer = Callable[..., CreatedOffer]


def offered_claims(config_ids: tuple[str, ...] | list[str], config_id: str) -> dict[str, Any]:
    """The claims of `config_id` in an offer made by `make_offer(*config_ids)`, which merges the
    sample claims of every type, so a shared name (given_name) has the last type's value."""
    merged: dict[str, Any] = {}
    for offered in config_ids:
        merged.update(CLAIMS[offered])
    return {name: merged[name] for name in CLAIMS[config_id]}


def altered(text: str) -> str:
    """`text` with its middle character changed (the end of base64url may carry unused bits)."""
    middle = len(text) // 2
    return text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1 :]


def pre_authorized_code(offer: CreatedOffer) -> str:
    return str(offer.credential_offer["grants"][PRE_AUTH]["pre-authorized_code"])


def token_form(offer: CreatedOffer, **extra: str) -> dict[str, str]:
    """A pre-authorized code token request (§6.1) for `offer`, without its tx_code unless given."""
    return {"grant_type": PRE_AUTH, "pre-authorized_code": pre_authorized_code(offer), **extra}


def redeem(wallet: TestWallet, offer: CreatedOffer, **token_params: str) -> Session:
    """Offer, metadata and token: a session ready for Credential Requests."""
    session = wallet.resolve_offer(offer.offer_uri)
    wallet.fetch_metadata(session)
    wallet.token(session, offer.tx_code, **token_params)
    return session


def request_body(
    wallet: TestWallet, session: Session, config_id: str, keys: list[jwk.JWK], **extra: Any
) -> dict[str, Any]:
    """A Credential Request (§8.2) with one `jwt` proof per key on one fresh c_nonce."""
    return {**credential_request(session, config_id, keys, wallet.nonce(session)), **extra}


def post(wallet: TestWallet, session: Session, endpoint: str, body: Any, token: str | None = "") -> HttpResponse:
    """POST JSON to an advertised endpoint (`credential`, `deferred_credential`, `notification`) with
    the session's access token, or with `token` (None: no Authorization header)."""
    return wallet.post_json(session.endpoint(endpoint), body, session.access_token if token == "" else token)


def read_reply(
    response: HttpResponse, status: int, key: jwk.JWK | None = None, enc: str = "A128GCM", zip_: str | None = None
) -> dict[str, Any]:
    """A (Deferred) Credential Response body: JSON, or a JWE for the wallet's `key` (§8.3, §9.2, §10, F1)."""
    assert response.status == status, response.body
    assert "no-store" in response.headers.get("cache-control", "")
    if key is None:
        assert response.headers["content-type"] == "application/json"
        return dict(response.json())
    assert response.headers["content-type"] == "application/jwt"
    compact = response.body.decode()
    assert jose_header(compact).get("zip") == zip_
    return dict(json.loads(decrypt_response(compact, key, enc)))


def expect_error(response: HttpResponse, status: int, error: str) -> dict[str, Any]:
    """An error as OAuth and OID4VCI shape it: plain JSON (never encrypted, F4), no-store, the
    expected code, an error_description in the allowed characters (C10, E26, G9), and for 401 a
    Bearer challenge (RFC 6750 §3)."""
    assert (response.status, response.headers.get("content-type")) == (status, "application/json"), response.body
    assert "no-store" in response.headers.get("cache-control", "")
    body = dict(response.json())
    assert body.get("error") == error, body
    assert set(body) <= OAUTH_ERROR_MEMBERS, body
    assert ERROR_DESCRIPTION.fullmatch(body.get("error_description", "")), body
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    return body


def expect_error_in(response: HttpResponse, outcomes: Collection[tuple[int, str]]) -> dict[str, Any]:
    """`expect_error` for rows where the spec allows more than one (status, error) pair."""
    body = response.json() if response.headers.get("content-type") == "application/json" else {}
    status, error = response.status, str(body.get("error"))
    assert (status, error) in outcomes, (status, response.body)
    return expect_error(response, status, error)


def issued(body: dict[str, Any], count: int) -> list[str]:
    """E21, E22: `count` credentials now, and nothing of a deferred response."""
    assert "transaction_id" not in body and "interval" not in body
    assert isinstance(body.get("notification_id", ""), str)
    assert len(body["credentials"]) == count
    assert all(set(entry) == {"credential"} and isinstance(entry["credential"], str) for entry in body["credentials"])
    return [entry["credential"] for entry in body["credentials"]]


def pending(body: dict[str, Any]) -> str:
    """E23: a transaction id and a positive interval, and nothing of an issued response (E21)."""
    assert isinstance(body["transaction_id"], str) and body["transaction_id"]
    interval = body["interval"]
    assert isinstance(interval, int | float) and not isinstance(interval, bool) and interval > 0
    assert "credentials" not in body and "notification_id" not in body
    return str(body["transaction_id"])


def start_deferred(
    wallet: TestWallet, make_offer: MakeOffer, keys: list[jwk.JWK], key: jwk.JWK | None = None
) -> tuple[CreatedOffer, Session, str]:
    """A deferred offer redeemed and requested: the 202 (encrypted for `key` if given) and its transaction."""
    offer = make_offer(deferred=True)
    session = redeem(wallet, offer)
    extra = {"credential_response_encryption": encryption_parameters(key)} if key else {}
    request = request_body(wallet, session, "employee_badge", keys, **extra)
    return offer, session, pending(read_reply(post(wallet, session, "credential", request), 202, key))


def poll(wallet: TestWallet, session: Session, transaction_id: Any, key: jwk.JWK | None = None) -> HttpResponse:
    """One Deferred Credential Request (§9.1), asking for an encrypted response when `key` is given."""
    extra = {"credential_response_encryption": encryption_parameters(key)} if key else {}
    return post(wallet, session, "deferred_credential", {"transaction_id": transaction_id, **extra})


def jose_header(compact: str) -> dict[str, Any]:
    return dict(json.loads(base64url_decode(compact.split(".")[0])))


def jwt_payload(credential: str) -> dict[str, Any]:
    """The issuer-signed JWT's payload (an SD-JWT's first part)."""
    return dict(json.loads(base64url_decode(credential.split("~")[0].split(".")[1])))


def disclosures(credential: str) -> list[str]:
    return credential.split("~")[1:-1]


def verify(
    credential: str, key: jwk.JWK, config_id: str, metadata: dict[str, Any], jwks: dict[str, Any]
) -> dict[str, Any]:
    """The claims of a credential, once it verifies as a verifier checks it (E24, E25, B13).

    Independent of the issuer's code: the signature against `jwks` (fetched over HTTP), the
    holder binding to `key`, and the type against the published configuration.
    """
    configuration = metadata["credential_configurations_supported"][config_id]
    issuer_url = metadata["credential_issuer"]
    assert jose_header(credential)["alg"] in configuration["credential_signing_alg_values_supported"]
    if configuration["format"] == "dc+sd-jwt":
        claims = verify_sd_jwt_vc(
            credential, jwks, issuer=issuer_url, vct=configuration["vct"], holder_jwk=public_jwk(key)
        )
        assert not {"iss", "exp", "iat", "nbf", "vct", "cnf", "status"} & set(claims)  # never selectively disclosed
        return claims
    subject = verify_jwt_vc_json(credential, jwks, issuer=issuer_url, holder_jwk=public_jwk(key))
    assert jwt_payload(credential)["vc"]["type"] == configuration["credential_definition"]["type"]
    return {name: value for name, value in subject.items() if name != "id"}


def request_credentials(
    wallet: TestWallet, session: Session, config_id: str, count: int = 1
) -> tuple[list[str], list[jwk.JWK], dict[str, Any]]:
    """`count` credentials bound to fresh keys, checked on the wire: the credentials, keys and body."""
    keys = [new_key() for _ in range(count)]
    body = read_reply(post(wallet, session, "credential", request_body(wallet, session, config_id, keys)), 200)
    return issued(body, count), keys, body


def encryption_key(kid: str | None = None) -> jwk.JWK:
    """A fresh ECDH-ES P-256 key for an encrypted response, with `kid` when given."""
    key = new_key("ECDH-ES")
    if kid:
        key.update(kid=kid)
    return key


def ledger(issuer: RunningIssuer, offer_id: str) -> list[dict[str, Any]]:
    """The issuance records of an offer in the history, oldest first (read under the store's lock,
    as the server's threads may be writing)."""
    records = [
        row for batch in issuer.service.store.ledger.batches() for row in batch if row.get("offer_id") == offer_id
    ]
    return list(reversed(records))


@contextmanager
def clock_shifted(service: IssuerService, seconds: float) -> Iterator[None]:
    """The issuer's clock `seconds` ahead, for expiry checks without waiting."""
    real_clock = service.clock
    service.clock = lambda: real_clock() + seconds
    try:
        yield
    finally:
        service.clock = real_clock
