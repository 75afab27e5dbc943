"""Admin API logic: operator actions on IssuerService from JSON bodies (the CLI and remote desks)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from issuer.errors import InvalidInput
from issuer.protocol.credential_types import CredentialTypes
from issuer.records.holders import HolderRequest
from issuer.records.ledger import LedgerQuery
from issuer.service.desk import Desk
from issuer.service.offers import Offers
from issuer.service.types import OfferGrant, OfferRequest

OFFER_FIELDS = (
    "credential_configuration_ids",
    "claims",
    "tx_code",
    "deferred",
    "by_reference",
    "expires_in",
    "operator",
    "holder_id",
    "replaces",
    "grant",
)
HOLDER_FIELDS = ("given_name", "family_name", "document_type", "document_number", "email", "operator")
DECISION_FIELDS = ("operator", "reason")
APPROVAL_FIELDS = ("operator", "claims", "holder_id")
MAX_HOLDER_IDS = 500


def known_fields(body: Mapping[str, Any], allowed: tuple[str, ...]) -> Mapping[str, Any]:
    """The body, if every field in it is one the route takes: a typo ("grnat") must not be
    ignored, or a sign-in offer would silently become a pre-authorized one."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        names = ", ".join(name[:40] for name in unknown[:5])
        raise InvalidInput(
            f"unknown field{'s' if len(unknown) > 1 else ''}: {names} (this route takes {', '.join(allowed)})"
        )
    return body


def create_offer(offers: Offers, body: Mapping[str, Any]) -> dict[str, Any]:
    known_fields(body, OFFER_FIELDS)
    config_ids = body.get("credential_configuration_ids")
    if not isinstance(config_ids, list) or not all(isinstance(c, str) for c in config_ids):
        raise InvalidInput("credential_configuration_ids must be a list of credential type ids")
    options = {name: body.get(name, False) for name in ("tx_code", "deferred", "by_reference")}
    if not all(isinstance(value, bool) for value in options.values()):
        raise InvalidInput("tx_code, deferred and by_reference must be true or false")
    holder_id = body.get("holder_id")
    if holder_id is not None and not isinstance(holder_id, str):
        raise InvalidInput("holder_id must be a holder id")
    replaces = body.get("replaces", [])
    if not isinstance(replaces, list) or not all(isinstance(r, str) for r in replaces):
        raise InvalidInput("replaces must be a list of credential ids")
    expires_in = body.get("expires_in")
    if expires_in is not None and (not isinstance(expires_in, int) or isinstance(expires_in, bool)):
        raise InvalidInput("expires_in must be a number of seconds")
    grant = body.get("grant", OfferGrant.PRE_AUTHORIZED)
    if not isinstance(grant, str):
        raise InvalidInput(f"grant must be one of {', '.join(OfferGrant)}")
    created = offers.create(
        OfferRequest(
            credential_configuration_ids=config_ids,
            claims=body.get("claims", {}),
            expires_in=expires_in,
            operator=operator_of(body),
            holder_id=holder_id,
            replaces=tuple(replaces),
            grant=grant,
            **options,
        )
    )
    return {
        "offer_id": created.offer_id,
        "offer_uri": created.offer_uri,
        "tx_code": created.tx_code,
        "credential_offer": created.credential_offer,
        "expires_at": created.expires_at,
    }


def register_holder(desk: Desk, body: Mapping[str, Any]) -> dict[str, Any]:
    known_fields(body, HOLDER_FIELDS)
    fields = {name: body.get(name, "") for name in ("given_name", "family_name", "document_type", "document_number")}
    request = HolderRequest(**fields, email=body.get("email", ""))
    return desk.register_holder(request, operator_of(body))


def credential_types(types: CredentialTypes) -> dict[str, Any]:
    return {
        "credential_types": [
            {
                "id": credential_type.id,
                "name": credential_type.display_name,
                "format": credential_type.format,
                "claims": [
                    {"name": spec.name, "label": spec.label, "mandatory": spec.mandatory}
                    for spec in credential_type.claims
                ],
            }
            for credential_type in types.values()
        ]
    }


def credential_query(args: Mapping[str, str], types: CredentialTypes) -> LedgerQuery:
    """Ledger filters from query parameters: q, type, state, operator, offer, holders, from, until,
    limit. `holders` is a comma-separated list of holder ids (the credentials of any of them).
    An unknown type is an error, not an empty answer: it is a typo, not a credential nobody holds."""
    config_id = args.get("type") or None
    if config_id is not None and config_id not in types:
        raise InvalidInput(f"unknown credential type: {config_id[:60]} (the types are {', '.join(types)})")
    numbers = {}
    for name in ("from", "until", "limit"):
        value = args.get(name)
        if value is not None and not (value.isascii() and value.isdigit() and len(value) <= 12):
            raise InvalidInput(f"{name} must be a whole number (a Unix time for from and until)")
        numbers[name] = int(value) if value is not None else None
    holders = args.get("holders")
    holder_ids = [part for part in holders.split(",") if part] if holders is not None else None
    if holder_ids is not None and len(holder_ids) > MAX_HOLDER_IDS:
        raise InvalidInput(f"holders names at most {MAX_HOLDER_IDS} holder ids")
    return LedgerQuery(
        text=args.get("q", "")[:200],
        holder_ids=holder_ids,
        config_id=config_id,
        state=args.get("state") or None,
        operator=args.get("operator") or None,
        offer_id=args.get("offer") or None,
        issued_from=numbers["from"],
        issued_until=numbers["until"],
        limit=numbers["limit"] or 200,
    )


def authorization_claims(body: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The holder's claims (for a request the wallet started) and holder id, from an approval."""
    known_fields(body, APPROVAL_FIELDS)
    claims, holder_id = body.get("claims"), body.get("holder_id")
    if claims is not None and not isinstance(claims, dict):
        raise InvalidInput("claims must be a JSON object of claim names and values")
    if holder_id is not None and not isinstance(holder_id, str):
        raise InvalidInput("holder_id must be a holder id")
    return claims, holder_id


def operator_of(body: Mapping[str, Any]) -> str | None:
    operator = body.get("operator")
    return operator[:100] if isinstance(operator, str) and operator else None


def reason_of(body: Mapping[str, Any]) -> str:
    reason = body.get("reason")
    return reason[:300] if isinstance(reason, str) else ""
