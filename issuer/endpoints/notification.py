"""Notification endpoint (OID4VCI §11): the wallet reports what became of its credentials."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from issuer.errors import InvalidNotificationRequest
from issuer.service.issuance import Issuance
from issuer.service.types import NOTIFICATION_EVENTS, AccessGrant


def notification_response(issuance: Issuance, grant: AccessGrant, request: Mapping[str, Any]) -> None:
    notification_id = request.get("notification_id")
    event = request.get("event")
    description = request.get("event_description")
    if not isinstance(notification_id, str) or not notification_id:
        raise InvalidNotificationRequest("notification_id is missing")
    if event not in NOTIFICATION_EVENTS:
        raise InvalidNotificationRequest(f"event must be one of {', '.join(NOTIFICATION_EVENTS)}")
    if description is not None and not isinstance(description, str):
        raise InvalidNotificationRequest("event_description must be a string")
    issuance.notify(grant, notification_id[:200], event, description)
