"""Published metadata and Credential Offers (OID4VCI §4, §12.2, §12.3; RFC 8414; SD-JWT VC §3) as a wallet reads them.

Each test runs against two issuers: the plain-HTTP test profile at the root of 127.0.0.1, and
one whose identifier is `https://desk.example.com/tenant1` (served locally, as behind a TLS
proxy), so that the `https` scheme and the path insertion of well-known URLs (§12.2.2) are
checked too. Row names (A1, B7, ...) are those of shared/spec/ISSUER-CHECKLIST.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from jwcrypto.common import base64url_decode

from issuer.service import CreatedOffer, IssuerService, OfferRequest
from tests.conftest import PostgresDatabase, RunningIssuer, start_issuer
from tests.e2e.helpers import CLAIMS, PRE_AUTH, MakeOffer, token_form
from wallet.client import TestWallet, well_known
from wallet.transport import HttpResponse

TENANT_ID = "https://desk.example.com/tenant1"
ENDPOINTS = ("credential_endpoint", "nonce_endpoint", "deferred_credential_endpoint", "notification_endpoint")
OFFER_LINK_SCHEMES = ("openid-credential-offer", "haip-vci")


@dataclass(frozen=True)
class Published:
    """An issuer as wallets know it (`id`) and where this test reaches it (`origin`)."""

    id: str
    origin: str
    service: IssuerService

    def local(self, url: str) -> str:
        """Where this test sends a request for a public URL of the issuer."""
        public = urlsplit(self.id)
        prefix = f"{public.scheme}://{public.netloc}"
        assert url.startswith(prefix + "/"), url
        return self.origin + url[len(prefix) :]

    def well_known(self, name: str) -> str:
        """`/.well-known/<name>` inserted between the host and the path (§12.2.2, RFC 8414 §3)."""
        parts = urlsplit(self.id)
        return self.local(f"{parts.scheme}://{parts.netloc}/.well-known/{name}{parts.path}")

    def offer(self, *config_ids: str, **options: Any) -> CreatedOffer:
        ids = list(config_ids or ["employee_badge"])
        claims = {name: value for config_id in ids for name, value in CLAIMS[config_id].items()}
        return self.service.offers.create(OfferRequest(credential_configuration_ids=ids, claims=claims, **options))


@pytest.fixture(params=["root", "tenant"])
def published(request: pytest.FixtureRequest, tmp_path: Path, database: PostgresDatabase | None) -> Iterator[Published]:
    if request.param == "root":
        issuer: RunningIssuer = request.getfixturevalue("issuer")
        yield Published(issuer.url, issuer.url, issuer.service)
        return
    runtime = start_issuer(tmp_path / "tenant", database, public_url=TENANT_ID)
    assert runtime.service is not None
    yield Published(TENANT_ID, f"http://127.0.0.1:{runtime.settings.port}", runtime.service)
    runtime.stop()


def get_json(wallet: TestWallet, url: str, **headers: str) -> dict[str, Any]:
    response = wallet.request("GET", url, headers=headers)
    assert response.status == 200, response.body
    assert response.headers["content-type"] == "application/json"
    return dict(response.json())


@pytest.fixture
def metadata(published: Published, wallet: TestWallet) -> dict[str, Any]:
    return get_json(wallet, published.well_known("openid-credential-issuer"))


@pytest.fixture
def as_metadata(published: Published, wallet: TestWallet) -> dict[str, Any]:
    return get_json(wallet, published.well_known("oauth-authorization-server"))


def outcome(response: HttpResponse) -> tuple[int, str | None]:
    """The status and, for a JSON error, its code."""
    error = response.json().get("error") if response.headers.get("content-type") == "application/json" else None
    return response.status, error


# ----- Credential Issuer metadata (§12.2) -----


@pytest.mark.parametrize(
    ("identifier", "name", "url"),
    [
        (
            "https://issuer.example.com",
            "openid-credential-issuer",
            "https://issuer.example.com/.well-known/openid-credential-issuer",
        ),
        (
            "https://issuer.example.com/tenant",
            "openid-credential-issuer",
            "https://issuer.example.com/.well-known/openid-credential-issuer/tenant",
        ),
        (
            "https://issuer.example.com/tenant/",
            "oauth-authorization-server",
            "https://issuer.example.com/.well-known/oauth-authorization-server/tenant",
        ),
        (
            "https://example.com/tenant/1234",
            "jwt-vc-issuer",
            "https://example.com/.well-known/jwt-vc-issuer/tenant/1234",
        ),
    ],
    ids=["root", "path", "as_drops_trailing_slash", "jwt_vc_issuer"],
)
def test_wallet_builds_well_known_urls(identifier: str, name: str, url: str) -> None:
    """The examples of OID4VCI §12.2.2, RFC 8414 §3.1 and SD-JWT VC §3.1, as the test wallet builds them."""
    assert well_known(identifier, name) == url


@pytest.mark.parametrize("accept", [None, "application/json", "application/json, application/jwt;q=0.5"])
def test_issuer_metadata_location_and_identifier(published: Published, wallet: TestWallet, accept: str | None) -> None:
    """B1, B2, B3, B6: JSON at the well-known URL built from the identifier, which it repeats exactly."""
    body = get_json(wallet, published.well_known("openid-credential-issuer"), **({"Accept": accept} if accept else {}))
    assert body["credential_issuer"] == published.id
    parts = urlsplit(body["credential_issuer"])
    assert parts.hostname and not parts.query and not parts.fragment and not body["credential_issuer"].endswith("/")


def test_advertised_endpoints_exist(published: Published, wallet: TestWallet, metadata: dict[str, Any]) -> None:
    """B7: every endpoint is under the identifier (https with an https identifier) and answers
    POST: the nonce endpoint without an access token, the others with a 401 challenge."""
    for name in ENDPOINTS:
        url = metadata[name]
        assert url.startswith(published.id + "/"), url
        response = wallet.post_json(published.local(url), {})
        if name == "nonce_endpoint":
            assert response.status == 200 and isinstance(response.json()["c_nonce"], str)
        else:  # RFC 6750 §3.1: no token presented, so a bare challenge (an error code is not expected)
            assert response.status == 401 and response.headers["www-authenticate"].startswith("Bearer")


def test_credential_configurations(metadata: dict[str, Any]) -> None:
    """B9, B10, B11, B13 and the three shipped types."""
    configurations = metadata["credential_configurations_supported"]
    assert set(configurations) == {"employee_badge", "membership_card", "membership_mdoc"}
    required_by_format = {"dc+sd-jwt": "vct", "jwt_vc_json": "credential_definition", "mso_mdoc": "doctype"}
    for configuration in configurations.values():
        assert configuration[required_by_format[configuration["format"]]]
        assert ("cryptographic_binding_methods_supported" in configuration) == (
            "proof_types_supported" in configuration
        )
        for proof_type in configuration.get("proof_types_supported", {}).values():
            assert proof_type["proof_signing_alg_values_supported"]
            assert "key_attestations_required" not in proof_type  # B12: none are required
        assert configuration.get("credential_signing_alg_values_supported") != []
    assert configurations["employee_badge"]["vct"] == "urn:frontdesk:employee_badge:1"
    card_types = configurations["membership_card"]["credential_definition"]["type"]
    assert card_types == ["VerifiableCredential", "MembershipCard"]
    mdoc = configurations["membership_mdoc"]  # Appendix A.2: COSE algorithm numbers; Appendix C: [namespace, element]
    assert mdoc["doctype"] == "org.frontdesk.membership.1" and mdoc["credential_signing_alg_values_supported"] == [-7]
    assert mdoc["cryptographic_binding_methods_supported"] == ["cose_key"]
    claims = mdoc["credential_metadata"]["claims"]
    assert [claim["path"] for claim in claims] == [
        ["org.frontdesk.membership.1", name] for name in ("given_name", "family_name", "member_id", "level")
    ]
    assert not any("value_type" in claim for claim in claims)  # a local setting, not published


def test_batch_and_encryption_parameters(metadata: dict[str, Any]) -> None:
    """B16, B17."""
    batch_size = metadata["batch_credential_issuance"]["batch_size"]
    assert isinstance(batch_size, int) and not isinstance(batch_size, bool) and batch_size >= 2
    response = metadata["credential_response_encryption"]
    assert response["alg_values_supported"] and response["enc_values_supported"]
    assert isinstance(response["encryption_required"], bool)
    assert response.get("zip_values_supported") != []
    request = metadata.get("credential_request_encryption")
    if request is not None:
        kids = [key["kid"] for key in request["jwks"]["keys"]]
        assert kids and len(kids) == len(set(kids))
        assert request["enc_values_supported"] and isinstance(request["encryption_required"], bool)


def test_display(metadata: dict[str, Any]) -> None:
    """B18: one display object per locale; a credential display has a name, an image object a uri."""
    displays = [metadata["display"]]
    displays += [c["credential_metadata"]["display"] for c in metadata["credential_configurations_supported"].values()]
    for display in displays:
        assert display and all(isinstance(entry, dict) for entry in display)
        locales = [entry.get("locale") for entry in display]
        assert len(locales) == len(set(locales))
    for display in displays[1:]:
        for entry in display:
            assert entry["name"]
            for image in ("logo", "background_image"):
                assert image not in entry or isinstance(entry[image]["uri"], str) and entry[image]["uri"]


def test_logo_is_served(issuer: RunningIssuer, wallet: TestWallet) -> None:
    metadata = get_json(wallet, f"{issuer.url}/.well-known/openid-credential-issuer")
    for configuration in metadata["credential_configurations_supported"].values():
        response = wallet.request("GET", configuration["credential_metadata"]["display"][0]["logo"]["uri"])
        assert response.status == 200 and response.body.startswith(b"<svg")


# ----- Authorization Server metadata (§12.3, RFC 8414) -----


def test_authorization_server_metadata(
    published: Published, metadata: dict[str, Any], as_metadata: dict[str, Any]
) -> None:
    """B8, B22: with no `authorization_servers`, the issuer is its own AS, found at its identifier."""
    assert "authorization_servers" not in metadata
    assert as_metadata["issuer"] == published.id
    assert as_metadata["token_endpoint"] == f"{published.id}/token"
    assert PRE_AUTH in as_metadata["grant_types_supported"]
    if "authorization_code" in as_metadata["grant_types_supported"]:
        assert as_metadata["response_types_supported"]  # only a pre-authorized-only AS may omit it
    for configuration in metadata["credential_configurations_supported"].values():
        assert "scope" in configuration or "openid_credential" in as_metadata["authorization_details_types_supported"]


def test_anonymous_pre_authorized_access(published: Published, wallet: TestWallet, as_metadata: dict[str, Any]) -> None:
    """B23, C5: a token request without client_id succeeds exactly when the AS says so."""
    response = wallet.post_form(published.local(as_metadata["token_endpoint"]), token_form(published.offer()))
    if as_metadata.get("pre-authorized_grant_anonymous_access_supported", False):
        assert response.status == 200 and response.json()["access_token"]
    else:
        assert outcome(response) in ((400, "invalid_client"), (401, "invalid_client"))


# ----- issuer keys (SD-JWT VC §3, RFC 7517) -----


def test_jwt_vc_issuer_metadata_and_jwks(published: Published, wallet: TestWallet) -> None:
    """SD-JWT VC §3: `issuer` equals the identifier (the credentials' `iss`); exactly one of
    `jwks` and `jwks_uri`; the keys are the published JWKS, public and told apart by `kid`."""
    body = get_json(wallet, published.well_known("jwt-vc-issuer"))
    assert body["issuer"] == published.id
    assert ("jwks" in body) != ("jwks_uri" in body)
    jwks = body["jwks"] if "jwks" in body else get_json(wallet, published.local(body["jwks_uri"]))
    assert jwks == get_json(wallet, published.local(f"{published.id}/jwks"))
    kids = [key["kid"] for key in jwks["keys"]]
    assert published.service.keys.active.kid in kids and len(kids) == len(set(kids))
    private = {"d", "p", "q", "dp", "dq", "qi", "k"}
    assert all(not private & set(key) and key["alg"] == "ES256" for key in jwks["keys"])


def test_credentials_are_signed_with_a_published_key(
    issuer: RunningIssuer, wallet: TestWallet, make_offer: MakeOffer
) -> None:
    """SD-JWT VC §3.5 (RECOMMENDED): the credential's `kid` finds its key in the issuer metadata."""
    keys = get_json(wallet, f"{issuer.url}/.well-known/jwt-vc-issuer")["jwks"]["keys"]
    for received in wallet.receive(make_offer("employee_badge", "membership_card").offer_uri):
        header = json.loads(base64url_decode(received.credentials[0].split(".")[0]))
        assert header["kid"] in [key["kid"] for key in keys]


# ----- Credential Offers (§4) -----


def offer_object(published: Published, wallet: TestWallet, offer: CreatedOffer) -> dict[str, Any]:
    """A1, A9, A10, A12: the offer behind a link, by value or fetched by reference."""
    link = urlsplit(offer.offer_uri)
    assert link.scheme in OFFER_LINK_SCHEMES and link.netloc == ""
    query = parse_qs(link.query)
    [(name, [value])] = query.items()
    if name == "credential_offer":
        return dict(json.loads(value))
    assert name == "credential_offer_uri" and value.startswith(published.id + "/")
    response = wallet.request("GET", published.local(value), headers={"Accept": "application/jwt"})
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"  # never signed, never application/jwt
    assert "no-store" in response.headers["cache-control"]  # A11
    return dict(response.json())


@pytest.mark.parametrize("tx_code", [False, True], ids=["no_tx_code", "tx_code"])
@pytest.mark.parametrize("by_reference", [False, True], ids=["by_value", "by_reference"])
def test_credential_offer(
    published: Published, wallet: TestWallet, metadata: dict[str, Any], by_reference: bool, tx_code: bool
) -> None:
    """A1-A4, A6-A10, A12 on every kind of offer."""
    offer = published.offer("employee_badge", "membership_card", by_reference=by_reference, tx_code=tx_code)
    body = offer_object(published, wallet, offer)
    assert body == offer.credential_offer
    assert body["credential_issuer"] == published.id == metadata["credential_issuer"]  # A2
    ids = body["credential_configuration_ids"]  # A3
    assert ids and len(ids) == len(set(ids)) and set(ids) <= set(metadata["credential_configurations_supported"])
    grants = body["grants"]  # A4
    assert grants and set(grants) <= {"authorization_code", PRE_AUTH}
    assert all(isinstance(grant, dict) for grant in grants.values())
    grant = grants[PRE_AUTH]
    assert isinstance(grant["pre-authorized_code"], str) and grant["pre-authorized_code"]  # A5
    assert len(metadata.get("authorization_servers", [])) > 1 or all(  # A8
        "authorization_server" not in grant for grant in grants.values()
    )
    assert ("tx_code" in grant) == tx_code  # A6
    if tx_code:
        check_tx_code(grant["tx_code"], offer.tx_code)


def check_tx_code(description: dict[str, Any], delivered: str | None) -> None:
    """A7: the input mode, length and description, and a delivered code that fits them."""
    assert set(description) <= {"input_mode", "length", "description"}
    mode = description.get("input_mode", "numeric")
    assert mode in ("numeric", "text") and delivered
    if "length" in description:
        assert isinstance(description["length"], int) and len(delivered) == description["length"]
    assert len(description.get("description", "")) <= 300
    if mode == "numeric":
        assert re.fullmatch(r"\d+", delivered)


def test_each_offer_has_its_own_uri(published: Published, wallet: TestWallet) -> None:
    """A11: two offers by reference, two URIs, two different offers behind them."""
    offers = [published.offer(by_reference=True) for _ in range(2)]
    uris = {parse_qs(urlsplit(offer.offer_uri).query)["credential_offer_uri"][0] for offer in offers}
    assert len(uris) == 2
    codes = {offer_object(published, wallet, offer)["grants"][PRE_AUTH]["pre-authorized_code"] for offer in offers}
    assert len(codes) == 2
