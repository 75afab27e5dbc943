"""A credential's status read from a Token Status List as a verifier reads it (draft-ietf-oauth-status-list
§8.3), for a reference taken from any format: an SD-JWT's or JWT's `status`, an mdoc's MSO `status`."""

from __future__ import annotations

import base64
import binascii
import time
import zlib
from collections.abc import Mapping
from typing import Any

from cryptography import x509

from wallet.verify import VerificationError, verify_jws

TOKEN_TYPE = "statuslist+jwt"


def status_in_token(
    token: str,
    reference: Mapping[str, Any],
    jwks: Mapping[str, Any],
    trust_anchor: x509.Certificate | None = None,
) -> int:
    """The status value at `reference["idx"]` of the Status List Token fetched from `reference["uri"]`, once the
    token verifies (and its `x5c` leads to `trust_anchor`, when given), is for that URI and is still valid."""
    header, claims = verify_jws(token, jwks, trust_anchor)
    if header.get("typ") != TOKEN_TYPE:
        raise VerificationError(f"the status list token's typ is {header.get('typ')!r}")
    if claims.get("sub") != reference["uri"]:
        raise VerificationError("the status list token is not for the URI the credential names")
    expiry = claims.get("exp")
    if isinstance(expiry, int | float) and expiry <= time.time():
        raise VerificationError("the status list token has expired")
    status_list = claims.get("status_list")
    if not isinstance(status_list, dict) or status_list.get("bits") not in (1, 2, 4, 8):
        raise VerificationError("the status list token has no status_list with bits 1, 2, 4 or 8")
    bits: int = status_list["bits"]
    lst = str(status_list.get("lst", ""))
    try:
        statuses = zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))
    except (binascii.Error, ValueError, zlib.error) as error:
        raise VerificationError(f"the status list is not base64url DEFLATE: {error}") from error
    index = reference["idx"]
    if not isinstance(index, int) or not 0 <= index < len(statuses) * 8 // bits:
        raise VerificationError("the credential's index is outside the status list")
    return (statuses[index * bits // 8] >> (index * bits % 8)) & ((1 << bits) - 1)
