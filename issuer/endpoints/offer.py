"""Credential Offer by reference (OID4VCI §4.1.3): the offer object behind `credential_offer_uri`."""

from __future__ import annotations

from typing import Any

from issuer.service.offers import Offers


def credential_offer(offers: Offers, reference: str) -> dict[str, Any]:
    return offers.by_reference(reference[:200])
