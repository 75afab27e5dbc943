"""Credential type definitions: shipped defaults, editable JSON and TOML, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from issuer.errors import ServiceError
from issuer.protocol.credential_types import CredentialTypeError, load_credential_types

TOML_TYPE = """
validity_days = 30

[credential_configuration]
format = "dc+sd-jwt"
scope = "student_card"
vct = "urn:example:student_card:1"
cryptographic_binding_methods_supported = ["jwk"]
credential_signing_alg_values_supported = ["ES256"]

[credential_configuration.proof_types_supported.jwt]
proof_signing_alg_values_supported = ["ES256"]

[[credential_configuration.credential_metadata.display]]
name = "Student Card"
locale = "en-US"

[[credential_configuration.credential_metadata.claims]]
path = ["student_id"]
mandatory = true
display = [{ name = "Student number", locale = "en-US" }]
"""


def test_first_start_copies_the_shipped_types(tmp_path: Path) -> None:
    types = load_credential_types(tmp_path / "types")
    assert sorted(types) == ["employee_badge", "membership_card", "membership_mdoc"]
    assert sorted(p.name for p in (tmp_path / "types").iterdir()) == [
        "employee_badge.json",
        "membership_card.json",
        "membership_mdoc.json",
    ]
    badge = types["employee_badge"]
    assert badge.format == "dc+sd-jwt" and badge.vct and badge.proof_algs == ("ES256",)
    assert [(c.name, c.mandatory) for c in badge.claims] == [
        ("given_name", True),
        ("family_name", True),
        ("employee_id", True),
        ("department", False),
    ]
    assert types["membership_card"].types == ["VerifiableCredential", "MembershipCard"]


def test_a_toml_type_added_by_an_operator_is_loaded(tmp_path: Path) -> None:
    folder = tmp_path / "types"
    load_credential_types(folder)
    (folder / "student_card.toml").write_text(TOML_TYPE)
    student = load_credential_types(folder)["student_card"]
    assert student.validity_days == 30 and student.display_name == "Student Card"
    assert student.validate_claims({"student_id": " S-1 "}) == {"student_id": "S-1"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["credential_configuration"].update(format="ldp_vc"), "not supported"),
        (lambda d: d["credential_configuration"].pop("vct"), "needs 'vct'"),
        (lambda d: d["credential_configuration"]["credential_metadata"].update(display=[]), "display"),
        (lambda d: d.update(validity_days=0), "validity_days"),
        (
            lambda d: d["credential_configuration"]["credential_metadata"]["claims"].append({"path": ["given_name"]}),
            "twice",
        ),
    ],
)
def test_a_broken_definition_names_the_file_and_the_problem(tmp_path: Path, change, message: str) -> None:
    folder = tmp_path / "types"
    load_credential_types(folder)
    path = folder / "employee_badge.json"
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    with pytest.raises(CredentialTypeError, match=message) as error:
        load_credential_types(folder)
    assert "employee_badge.json" in str(error.value)


def test_unreadable_json_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "types"
    load_credential_types(folder)
    (folder / "broken.json").write_text("{")
    with pytest.raises(CredentialTypeError, match="broken.json: cannot be read"):
        load_credential_types(folder)


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"given_name": "Ada", "family_name": "L"}, "Employee number"),
        ({"given_name": "Ada", "family_name": "L", "employee_id": "   "}, "required"),
        ({"given_name": "Ada", "family_name": "L", "employee_id": {"x": 1}}, "text, a number"),
        ({"given_name": "A" * 1001, "family_name": "L", "employee_id": "1"}, "longer than"),
    ],
)
def test_claims_are_validated_against_the_metadata(tmp_path: Path, claims: dict, message: str) -> None:
    badge = load_credential_types(tmp_path / "types")["employee_badge"]
    with pytest.raises(ServiceError, match=message):
        badge.validate_claims(claims)


def test_logo_uris_are_made_absolute_for_the_metadata(tmp_path: Path) -> None:
    badge = load_credential_types(tmp_path / "types")["employee_badge"]
    display = badge.metadata("https://desk.example")["credential_metadata"]["display"][0]
    assert display["logo"]["uri"] == "https://desk.example/logos/employee_badge.svg"
    assert badge.configuration["credential_metadata"]["display"][0]["logo"]["uri"] == "logos/employee_badge.svg"
