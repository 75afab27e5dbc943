"""(Deferred) Credential Responses as a careful wallet reads them (OID4VCI §8.3, §9.2, §10): an answer the
protocol does not allow is a `ProtocolViolation`, not something to use."""

from __future__ import annotations

import json
from typing import Any

from jwcrypto import jwk
from jwcrypto.common import JWException

from wallet.transport import HttpResponse, ProtocolViolation, WalletError
from wallet.verify import decrypt_response


def parsed(response: HttpResponse) -> Any:
    """The JSON body, or the text when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return response.body.decode(errors="replace")


def credential_reply(
    step: str, response: HttpResponse, encryption_key: jwk.JWK | None, enc: str | None
) -> dict[str, Any]:
    """A (Deferred) Credential Response body, decrypted if it was asked for encrypted (§8.3, §9.2, §10)."""
    if response.status not in (200, 202):
        raise WalletError(step, response.status, response.headers, parsed(response))
    if encryption_key is None:
        if response.content_type != "application/json":
            raise ProtocolViolation(step, "an unencrypted response must be application/json", response)
        body = parsed(response)
    else:
        if response.content_type != "application/jwt":
            raise ProtocolViolation(step, "the response was not encrypted as requested", response)
        try:
            body = json.loads(decrypt_response(response.body.decode("ascii"), encryption_key, enc or ""))
        except (JWException, ValueError) as error:
            raise ProtocolViolation(step, f"the encrypted response is unusable: {error}", response) from error
    if not isinstance(body, dict):
        raise ProtocolViolation(step, "the body is not a JSON object", response)
    if response.status == 202:
        interval = body.get("interval")
        if not isinstance(body.get("transaction_id"), str) or "credentials" in body or "notification_id" in body:
            raise ProtocolViolation(step, "a 202 must carry a transaction_id and no credentials", response)
        if not isinstance(interval, int | float) or isinstance(interval, bool) or interval <= 0:
            raise ProtocolViolation(step, "a 202 must carry a positive interval", response)
    elif "transaction_id" in body or "interval" in body:
        raise ProtocolViolation(step, "a 200 must carry no transaction_id or interval", response)
    return body


def issued_credentials(
    step: str, response: HttpResponse, body: dict[str, Any], keys: list[jwk.JWK]
) -> tuple[list[Any], str | None]:
    """The credentials of a 200 and its notification id, at most one credential per proven key (§8.3)."""
    entries = body.get("credentials")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise ProtocolViolation(step, "credentials is not a non-empty array of objects", response)
    if keys and len(entries) > len(keys):
        raise ProtocolViolation(step, "more credentials than proven keys", response)
    notification_id = body.get("notification_id")
    if notification_id is not None and not isinstance(notification_id, str):
        raise ProtocolViolation(step, "notification_id is not a string", response)
    return [entry.get("credential") for entry in entries], notification_id
