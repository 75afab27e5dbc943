"""JSON from the wire, parsed as RFC 8259 defines it: no NaN or Infinity (Python accepts them),
and nesting too deep for the parser is an error like any other malformed input."""

from __future__ import annotations

import json
from typing import Any

from jwcrypto.common import base64url_decode


def loads(data: str | bytes) -> Any:
    """Parsed JSON; ValueError for anything that is not strict JSON (including non-UTF-8 bytes)."""
    try:
        return json.loads(data, parse_constant=_refuse)
    except RecursionError as error:
        raise ValueError("the JSON is nested too deeply") from error


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def jwt_parts(compact: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a compact JWS, unverified; ValueError for anything else."""
    parts = compact.split(".") if isinstance(compact, str) else []
    if len(parts) != 3 or not all(parts):
        raise ValueError("not a compact JWS")
    try:
        header, claims = loads(base64url_decode(parts[0])), loads(base64url_decode(parts[1]))
    except TypeError as error:
        raise ValueError("not base64url") from error
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("the header and claims must be JSON objects")
    return header, claims
