"""Credential Response encryption (OID4VCI §10): what the wallet decrypts, and what is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jwcrypto.common import base64url_decode

from issuer.errors import InvalidEncryptionParameters
from issuer.protocol.encryption import encrypt_response, parse_response_encryption
from wallet.keys import new_key
from wallet.verify import decrypt


def parameters(**change: Any) -> tuple[dict[str, Any], Any]:
    key = new_key("ECDH-ES")
    return {"jwk": {**key.export_public(as_dict=True), "kid": "k1"}, "enc": "A128GCM", **change}, key


@pytest.mark.parametrize(("enc", "zip_"), [("A128GCM", None), ("A256GCM", "DEF")])
def test_the_holder_decrypts_the_response(enc: str, zip_: str | None) -> None:
    request, key = parameters(enc=enc, **({"zip": zip_} if zip_ else {}))
    compact = encrypt_response({"credentials": [{"credential": "x"}]}, parse_response_encryption(request))
    header = json.loads(base64url_decode(compact.split(".")[0]))
    assert (header["alg"], header["enc"], header["kid"], header.get("zip")) == ("ECDH-ES", enc, "k1", zip_)
    assert json.loads(decrypt(compact, key)) == {"credentials": [{"credential": "x"}]}


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.update(enc="A192CBC-HS384"),
        lambda p: p.pop("enc"),
        lambda p: p.update(zip="BZ2"),
        lambda p: p.pop("jwk"),
        lambda p: p["jwk"].pop("alg"),
        lambda p: p["jwk"].update(alg="RSA-OAEP"),
        lambda p: p["jwk"].update(crv="P-384"),
        lambda p: p["jwk"].update(d="c2VjcmV0"),
        lambda p: p["jwk"].update(x="AAAA"),
        lambda p: p["jwk"].update(y=p["jwk"]["x"]),  # a point off the curve
    ],
)
def test_bad_parameters_are_refused(change) -> None:
    request, _ = parameters()
    change(request)
    with pytest.raises(InvalidEncryptionParameters):
        parse_response_encryption(request)


def test_not_an_object() -> None:
    with pytest.raises(InvalidEncryptionParameters):
        parse_response_encryption(["jwk"])
