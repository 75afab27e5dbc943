"""Admin API logic: operator actions on IssuerService from JSON bodies (the CLI and remote desks)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from issuer.errors import ServiceError
from issuer.holders import HolderRequest
from issuer.service import IssuerService, OfferRequest


def create_offer(service: IssuerService, body: Mapping[str, Any]) -> dict[str, Any]:
    config_ids = body.get("credential_configuration_ids")
    if not isinstance(config_ids, list) or not all(isinstance(c, str) for c in config_ids):
        raise ServiceError("credential_configuration_ids must be a list of credential type ids")
    options = {name: body.get(name, False) for name in ("tx_code", "deferred", "by_reference")}
    if not all(isinstance(value, bool) for value in options.values()):
        raise ServiceError("tx_code, deferred and by_reference must be true or false")
    holder_id = body.get("holder_id")
    if holder_id is not None and not isinstance(holder_id, str):
        raise ServiceError("holder_id must be a holder id")
    expires_in = body.get("expires_in")
    if expires_in is not None and (not isinstance(expires_in, int) or isinstance(expires_in, bool)):
        raise ServiceError("expires_in must be a number of seconds")
    created = service.create_offer(
        OfferRequest(
            credential_configuration_ids=config_ids,
            claims=body.get("claims", {}),
            expires_in=expires_in,
            operator=operator_of(body),
            holder_id=holder_id,
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


def register_holder(service: IssuerService, body: Mapping[str, Any]) -> dict[str, Any]:
    fields = {name: body.get(name, "") for name in ("given_name", "family_name", "document_type", "document_number")}
    request = HolderRequest(**fields, email=body.get("email", ""))
    return service.register_holder(request, operator_of(body))


def credential_types(service: IssuerService) -> dict[str, Any]:
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
            for credential_type in service.credential_types.values()
        ]
    }


def operator_of(body: Mapping[str, Any]) -> str | None:
    operator = body.get("operator")
    return operator[:100] if isinstance(operator, str) and operator else None


def reason_of(body: Mapping[str, Any]) -> str:
    reason = body.get("reason")
    return reason[:300] if isinstance(reason, str) else ""
