"""Credential Offer by reference (OID4VCI §4.1.3): the offer object behind `credential_offer_uri`."""

from __future__ import annotations

from typing import Any

from issuer.service import IssuerService


def credential_offer(service: IssuerService, reference: str) -> dict[str, Any]:
    return service.offer_by_reference(reference[:200])
