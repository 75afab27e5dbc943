"""Typed claim values: what an mdoc data element may hold (ISO/IEC 18013-5 §7.2.1, its CDDL types).

Claims reach the issuer as JSON, from the desk's form (text) or the admin API. An mdoc type declares
the CBOR type of each element (`value_type` in its claims entry); the value is checked here and kept in
a JSON form that the mdoc format turns into CBOR: `full-date` as "YYYY-MM-DD" (tag 1004, RFC 8943),
`bstr` as standard base64, `uint` as an integer, `bool` as a boolean, `tstr` as text.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from typing import Any

TSTR, FULL_DATE, BSTR, UINT, BOOL = "tstr", "full-date", "bstr", "uint", "bool"
VALUE_TYPES = (TSTR, FULL_DATE, BSTR, UINT, BOOL)
TEXT_MAX_LENGTH = 1000
# A portrait JPEG of a few hundred pixels; its base64 fits the admin API's 64 KiB body with room to spare.
BINARY_MAX_BYTES = 40_000
TRUE_WORDS, FALSE_WORDS = ("true", "yes"), ("false", "no")


class ClaimValueError(ValueError):
    """A value that does not fit its declared type, said for the operator."""


def typed_value(value_type: str, value: Any) -> str | int | bool:
    """`value` checked against `value_type`, in its JSON form; ClaimValueError when it does not fit."""
    if value_type == TSTR:
        return _text(value)
    if value_type == FULL_DATE:
        return _full_date(value)
    if value_type == BSTR:
        return _base64(value)
    if value_type == UINT:
        return _uint(value)
    if value_type == BOOL:
        return _bool(value)
    raise ClaimValueError(f"unknown value type {value_type!r} ({', '.join(VALUE_TYPES)})")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ClaimValueError("must be text")
    text = value.strip()
    if len(text) > TEXT_MAX_LENGTH:
        raise ClaimValueError(f"is longer than {TEXT_MAX_LENGTH} characters")
    return text


def _full_date(value: Any) -> str:
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise ClaimValueError("must be a date written YYYY-MM-DD")


def _base64(value: Any) -> str:
    """Standard or URL-safe base64, with or without padding, normalised to standard base64."""
    if not isinstance(value, str):
        raise ClaimValueError("must be a file in base64")
    compact = "".join(value.split()).replace("-", "+").replace("_", "/").rstrip("=")
    try:
        data = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ClaimValueError("must be a file in base64") from error
    if not data:
        raise ClaimValueError("is an empty file")
    if len(data) > BINARY_MAX_BYTES:
        raise ClaimValueError(f"is larger than {BINARY_MAX_BYTES // 1000} kB")
    return base64.b64encode(data).decode("ascii")


def _uint(value: Any) -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value >= 2**64:
        raise ClaimValueError("must be a whole number, 0 or more")
    return value


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ClaimValueError("must be true or false")
