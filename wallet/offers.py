"""Credential Offers as a wallet reads them from a link (OID4VCI §4.1)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wallet.transport import ProtocolViolation

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


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
