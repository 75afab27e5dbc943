"""JSON from the wire, parsed as RFC 8259 defines it: no NaN or Infinity (Python accepts them),
and nesting too deep for the parser is an error like any other malformed input."""

from __future__ import annotations

import json
from typing import Any


def loads(data: str | bytes) -> Any:
    """Parsed JSON; ValueError for anything that is not strict JSON (including non-UTF-8 bytes)."""
    try:
        return json.loads(data, parse_constant=_refuse)
    except RecursionError as error:
        raise ValueError("the JSON is nested too deeply") from error


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")
