"""Credential types: the operator-editable definitions behind `credential_configurations_supported`.

Each file in `<data>/credential_types/` (JSON or TOML, copied from `resources/` on first
start) holds one OID4VCI credential configuration (§12.2.4, Appendix A) plus local issuance
settings. The file name, without its suffix, is the `credential_configuration_id`.

An `mso_mdoc` type (Appendix A.2) names its `doctype`, addresses each data element as
`[namespace, element]` (Appendix C) and may declare the element's CBOR type as `value_type`
(`issuer.protocol.claim_values`), a local setting that the published metadata leaves out.
"""

from __future__ import annotations

import copy
import json
import shutil
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from issuer.errors import InvalidInput
from issuer.protocol.claim_values import TSTR, VALUE_TYPES, ClaimValueError, typed_value
from resources import resource_path

MSO_MDOC = "mso_mdoc"
SUPPORTED_FORMATS = ("dc+sd-jwt", "jwt_vc_json", MSO_MDOC)
CLAIM_VALUE_MAX_LENGTH = 200  # as for a holder's name (issuer.records.holders): a name fits both forms
LOCAL_CLAIM_SETTINGS = ("value_type",)
# The issuer signs with ES256 on P-256: COSE -7, or -9 fully specified (Appendix A.2; HAIP 1.0 §7).
COSE_ES256 = (-7, -9)
# A device key is an EC2 or OKP COSE_Key (ISO/IEC 18013-5 §9.1.2.4): proofs by such keys only.
MDOC_PROOF_ALGS = ("ES256", "ES384", "ES512", "EdDSA")


class CredentialTypeError(ValueError):
    """A credential type file that cannot be used, with the file named in the message."""


@dataclass(frozen=True)
class ClaimSpec:
    """One claim of a credential type, from `credential_metadata.claims`."""

    name: str
    path: tuple[str, ...]
    mandatory: bool
    label: str
    value_type: str | None = None  # an mdoc element's CBOR type; None: text, a number or a boolean


@dataclass(frozen=True)
class CredentialType:
    id: str
    format: str
    configuration: Mapping[str, Any]
    claims: tuple[ClaimSpec, ...]
    validity_days: int

    @property
    def vct(self) -> str:
        return str(self.configuration.get("vct", ""))

    @property
    def doctype(self) -> str:
        return str(self.configuration.get("doctype", ""))

    @property
    def types(self) -> list[str]:
        return list(self.configuration.get("credential_definition", {}).get("type", []))

    @property
    def display_name(self) -> str:
        displays = self.configuration.get("credential_metadata", {}).get("display", [])
        return str(displays[0]["name"]) if displays else self.id

    @property
    def proof_algs(self) -> tuple[str, ...]:
        jwt_proof = self.configuration.get("proof_types_supported", {}).get("jwt", {})
        return tuple(jwt_proof.get("proof_signing_alg_values_supported", ()))

    @property
    def requires_key_binding(self) -> bool:
        return "proof_types_supported" in self.configuration

    def metadata(self, public_url: str) -> dict[str, Any]:
        """The configuration as published, with relative logo URIs made absolute."""
        published = copy.deepcopy(dict(self.configuration))
        for display in published.get("credential_metadata", {}).get("display", []):
            for image in ("logo", "background_image"):
                uri = display.get(image, {}).get("uri")
                if uri and "://" not in uri:
                    display[image]["uri"] = f"{public_url}/{uri.lstrip('/')}"
        for claim in published.get("credential_metadata", {}).get("claims", []):
            for setting in LOCAL_CLAIM_SETTINGS:
                claim.pop(setting, None)
        return published

    def validate_claims(self, claims: Mapping[str, Any]) -> dict[str, Any]:
        """The claims this type takes from `claims`; raises when a mandatory one is missing, naming
        the field by its label as the form shows it."""
        accepted: dict[str, Any] = {}
        for spec in self.claims:
            value = claims.get(spec.name)
            if value is None or (isinstance(value, str) and not value.strip()):
                if spec.mandatory:
                    raise InvalidInput(f"{spec.label} is required")
                continue
            if spec.value_type is not None:
                try:
                    accepted[spec.name] = typed_value(spec.value_type, value)
                except ClaimValueError as error:
                    raise InvalidInput(f"{spec.label} {error}") from None
                continue
            if not isinstance(value, str | int | float | bool):
                raise InvalidInput(f"{spec.label} must be text, a number or true/false")
            if isinstance(value, str):
                value = value.strip()
                if len(value) > CLAIM_VALUE_MAX_LENGTH:
                    raise InvalidInput(f"{spec.label} is longer than {CLAIM_VALUE_MAX_LENGTH} characters")
            accepted[spec.name] = value
        return accepted


class CredentialTypes(Mapping[str, CredentialType]):
    """The definitions in a folder, by id; `reload` swaps them all at once, and `version` changes
    with them, so that documents built from them (metadata) know when to rebuild."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._types = load_credential_types(folder)
        self.version = 1

    def reload(self) -> None:
        """Read the definitions again; a broken file raises and leaves the current ones in place."""
        self._types = load_credential_types(self.folder)
        self.version += 1

    def __getitem__(self, type_id: str) -> CredentialType:
        return self._types[type_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)


def load_credential_types(folder: Path) -> dict[str, CredentialType]:
    """Every credential type in `folder`, copying the shipped ones there first if it is empty."""
    if not folder.exists() or not any(folder.iterdir()):
        folder.mkdir(parents=True, exist_ok=True)
        for shipped in resource_path("credential_types").iterdir():
            if shipped.suffix in (".json", ".toml"):
                shutil.copy(shipped, folder / shipped.name)
    types: dict[str, CredentialType] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".json", ".toml"):
            continue
        credential_type = parse_credential_type(path)
        if credential_type.id in types:
            raise CredentialTypeError(f"{path.name}: credential type '{credential_type.id}' is defined twice")
        types[credential_type.id] = credential_type
    if not types:
        raise CredentialTypeError(f"{folder}: no credential type definitions")
    return types


def parse_credential_type(path: Path) -> CredentialType:
    try:
        if path.suffix == ".toml":
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        else:
            document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CredentialTypeError(f"{path.name}: cannot be read: {error}") from error
    try:
        return _credential_type(path.stem, document)
    except (KeyError, TypeError, ValueError) as error:
        raise CredentialTypeError(f"{path.name}: {error}") from error


def read_documents(folder: Path) -> dict[str, dict[str, Any]]:
    """The definitions in `folder` as documents, by id: what a remote desk builds its types from."""
    documents: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".toml":
            documents[path.stem] = tomllib.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".json":
            documents[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    return documents


def credential_type_from(type_id: str, document: Mapping[str, Any]) -> CredentialType:
    """A credential type from its document, checked as a file is (CredentialTypeError)."""
    try:
        return _credential_type(type_id, document)
    except (KeyError, TypeError, ValueError) as error:
        raise CredentialTypeError(f"{type_id}: {error}") from error


def _credential_type(type_id: str, document: Mapping[str, Any]) -> CredentialType:
    configuration = document["credential_configuration"]
    credential_format = configuration["format"]
    if credential_format not in SUPPORTED_FORMATS:
        raise ValueError(f"format '{credential_format}' is not supported ({', '.join(SUPPORTED_FORMATS)})")
    if credential_format == "dc+sd-jwt" and not configuration.get("vct"):
        raise ValueError("a dc+sd-jwt type needs 'vct' (OID4VCI Appendix A.3)")
    if credential_format == "jwt_vc_json" and not configuration.get("credential_definition", {}).get("type"):
        raise ValueError("a jwt_vc_json type needs 'credential_definition.type' (OID4VCI Appendix A.1)")
    if credential_format == MSO_MDOC:
        _check_mdoc_configuration(configuration)
    metadata = configuration.get("credential_metadata", {})
    if not metadata.get("display"):
        raise ValueError("'credential_metadata.display' needs at least one entry with a name")
    claims = tuple(_claim_spec(entry, mdoc=credential_format == MSO_MDOC) for entry in metadata.get("claims", []))
    names = [spec.name for spec in claims]
    if len(set(names)) != len(names):
        raise ValueError("a claim is listed twice in 'credential_metadata.claims'")
    validity_days = int(document.get("validity_days", 365))
    if validity_days < 1:
        raise ValueError("'validity_days' must be at least 1")
    return CredentialType(type_id, credential_format, configuration, claims, validity_days)


def _check_mdoc_configuration(configuration: Mapping[str, Any]) -> None:
    """What Appendix A.2 and ISO/IEC 18013-5 ask of an mso_mdoc configuration this issuer can serve."""
    doctype = configuration.get("doctype")
    if not isinstance(doctype, str) or not doctype.strip():
        raise ValueError("an mso_mdoc type needs 'doctype' (OID4VCI Appendix A.2)")
    algs = configuration.get("credential_signing_alg_values_supported", list(COSE_ES256[:1]))
    if not isinstance(algs, list) or not all(isinstance(alg, int) and not isinstance(alg, bool) for alg in algs):
        raise ValueError("'credential_signing_alg_values_supported' of an mso_mdoc type lists COSE numbers, such as -7")
    if not set(algs) & set(COSE_ES256):
        raise ValueError("'credential_signing_alg_values_supported' must include -7 (ES256): the issuer signs with it")
    if "cose_key" not in configuration.get("cryptographic_binding_methods_supported", ["cose_key"]):
        raise ValueError("an mso_mdoc type binds the mdoc to a 'cose_key' (cryptographic_binding_methods_supported)")
    jwt_proof = configuration.get("proof_types_supported", {}).get("jwt")
    if not isinstance(jwt_proof, dict):
        raise ValueError("an mso_mdoc type needs a jwt proof type: the mdoc holds the wallet's key (deviceKeyInfo)")
    unusable = set(jwt_proof.get("proof_signing_alg_values_supported", [])) - set(MDOC_PROOF_ALGS)
    if unusable:
        named = ", ".join(sorted(unusable))
        raise ValueError(f"an mdoc's device key is an EC or EdDSA key: proofs with {named} cannot bind it")


def _claim_spec(entry: Mapping[str, Any], *, mdoc: bool = False) -> ClaimSpec:
    path = tuple(str(part) for part in entry["path"])
    if not path:
        raise ValueError("a claim has an empty 'path'")
    name = path[-1]
    displays = entry.get("display") or [{}]
    value_type = entry.get("value_type")
    if mdoc:
        if len(path) != 2 or not all(path) or not all(isinstance(part, str) for part in entry["path"]):
            raise ValueError(f"an mdoc claim's path is [namespace, element] (OID4VCI Appendix C), not {list(path)}")
        value_type = value_type or TSTR
        if value_type not in VALUE_TYPES:
            raise ValueError(f"claim {name!r}: value_type {value_type!r} is not one of {', '.join(VALUE_TYPES)}")
    elif value_type is not None:
        raise ValueError(f"claim {name!r}: 'value_type' is for mso_mdoc types")
    return ClaimSpec(name, path, bool(entry.get("mandatory", False)), str(displays[0].get("name", name)), value_type)
