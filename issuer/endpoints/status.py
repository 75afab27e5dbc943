"""Status List endpoint (Token Status List §8.1): each list as a signed token, or as JSON on request.

The token is the default (`Accept: application/statuslist+jwt`, `*/*` or none); a reader
asking for `application/statuslist+json` or `application/json` gets the same claims unsigned,
for looking at a list by hand.
"""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MIMEAccept

from issuer.errors import NotFound
from issuer.service.ledger import Ledger

TOKEN_MEDIA_TYPE = "application/statuslist+jwt"
JSON_MEDIA_TYPES = ("application/statuslist+json", "application/json")


def status_list_response(ledger: Ledger, list_id: str, accept: MIMEAccept) -> tuple[str | dict[str, Any], str]:
    """The body and its media type; NotFound for a list that does not exist."""
    number = int(list_id) if list_id.isascii() and list_id.isdigit() and len(list_id) <= 9 else 0
    if not ledger.status_lists.exists(number):
        raise NotFound("no such status list")
    wanted = accept.best_match([TOKEN_MEDIA_TYPE, *JSON_MEDIA_TYPES], default=TOKEN_MEDIA_TYPE)
    if wanted in JSON_MEDIA_TYPES:
        return ledger.status_list_claims(number), wanted
    return ledger.status_list_token(number), TOKEN_MEDIA_TYPE
