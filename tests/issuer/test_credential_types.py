"""Credential type definitions: shipped defaults, editable JSON and TOML, clear errors."""

from __future__ import annotations

import base64
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


MDOC_PERSON = {
    "credential_configuration": {
        "format": "mso_mdoc",
        "doctype": "org.example.person.1",
        "credential_signing_alg_values_supported": [-7],
        "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}},
        "credential_metadata": {
            "display": [{"name": "Person"}],
            "claims": [
                {"path": ["org.example.person.1", "family_name"], "mandatory": True},
                {"path": ["org.example.person.1", "birth_date"], "value_type": "full-date"},
                {"path": ["org.example.person.1", "portrait"], "value_type": "bstr"},
                {"path": ["org.example.person.1", "height"], "value_type": "uint"},
                {"path": ["org.example.person.1", "age_over_18"], "value_type": "bool"},
            ],
        },
    }
}


def mdoc_person(tmp_path: Path, change=None):
    folder = tmp_path / "types"
    load_credential_types(folder)
    document = json.loads(json.dumps(MDOC_PERSON))
    if change:
        change(document)
    (folder / "person.json").write_text(json.dumps(document))
    return load_credential_types(folder)["person"]


def test_the_shipped_mdoc_type(tmp_path: Path) -> None:
    """Appendix A.2 and C: a doctype, COSE algorithm numbers, cose_key binding, [namespace, element] paths."""
    mdoc = load_credential_types(tmp_path / "types")["membership_mdoc"]
    assert (mdoc.format, mdoc.doctype, mdoc.proof_algs) == ("mso_mdoc", "org.frontdesk.membership.1", ("ES256",))
    assert [(c.path, c.mandatory, c.value_type) for c in mdoc.claims] == [
        (("org.frontdesk.membership.1", "given_name"), True, "tstr"),
        (("org.frontdesk.membership.1", "family_name"), True, "tstr"),
        (("org.frontdesk.membership.1", "member_id"), True, "tstr"),
        (("org.frontdesk.membership.1", "level"), False, "tstr"),
    ]
    published = mdoc.metadata("https://desk.example")
    assert published["credential_signing_alg_values_supported"] == [-7]
    assert published["cryptographic_binding_methods_supported"] == ["cose_key"]


def test_mdoc_value_types_are_checked_and_kept_as_json(tmp_path: Path) -> None:
    person = mdoc_person(tmp_path)
    portrait = base64.urlsafe_b64encode(b"\xff\xd8\xff\xe0 a JPEG").decode().rstrip("=")
    accepted = person.validate_claims(
        {
            "family_name": " Doe ",
            "birth_date": "1990-02-03",
            "portrait": portrait,
            "height": "180",
            "age_over_18": "yes",
        }
    )
    assert accepted == {
        "family_name": "Doe",
        "birth_date": "1990-02-03",
        "portrait": base64.b64encode(b"\xff\xd8\xff\xe0 a JPEG").decode(),
        "height": 180,
        "age_over_18": True,
    }
    assert person.validate_claims({"family_name": "Doe", "height": 0, "age_over_18": False}) == {
        "family_name": "Doe",
        "height": 0,
        "age_over_18": False,
    }
    published = person.metadata("https://desk.example")["credential_metadata"]["claims"]
    assert all("value_type" not in claim for claim in published)


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"family_name": 7}, "must be text"),
        ({"family_name": "Doe", "birth_date": "03.02.1990"}, "YYYY-MM-DD"),
        ({"family_name": "Doe", "birth_date": "1990-02-30"}, "YYYY-MM-DD"),
        ({"family_name": "Doe", "portrait": "not base64!"}, "base64"),
        ({"family_name": "Doe", "portrait": base64.b64encode(bytes(40_001)).decode()}, "larger than 40 kB"),
        ({"family_name": "Doe", "height": "-1"}, "whole number"),
        ({"family_name": "Doe", "height": True}, "whole number"),
        ({"family_name": "Doe", "height": 1.5}, "whole number"),
        ({"family_name": "Doe", "age_over_18": "maybe"}, "true or false"),
    ],
)
def test_mdoc_values_of_the_wrong_type_are_refused(tmp_path: Path, claims: dict, message: str) -> None:
    with pytest.raises(ServiceError, match=message):
        mdoc_person(tmp_path).validate_claims(claims)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["credential_configuration"].pop("doctype"), "needs 'doctype'"),
        (lambda d: d["credential_configuration"].update(credential_signing_alg_values_supported=["ES256"]), "COSE"),
        (lambda d: d["credential_configuration"].update(credential_signing_alg_values_supported=[-35]), "-7"),
        (lambda d: d["credential_configuration"].update(cryptographic_binding_methods_supported=["jwk"]), "cose_key"),
        (lambda d: d["credential_configuration"].pop("proof_types_supported"), "jwt proof"),
        (
            lambda d: d["credential_configuration"]["proof_types_supported"]["jwt"].update(
                proof_signing_alg_values_supported=["RS256"]
            ),
            "RS256",
        ),
        (lambda d: d["credential_configuration"]["credential_metadata"]["claims"][0].update(path=["x"]), "namespace"),
        (
            lambda d: d["credential_configuration"]["credential_metadata"]["claims"][1].update(value_type="date"),
            "value_type 'date'",
        ),
    ],
)
def test_a_broken_mdoc_definition_is_refused(tmp_path: Path, change, message: str) -> None:
    with pytest.raises(CredentialTypeError, match=message):
        mdoc_person(tmp_path, change)


def test_value_types_are_for_mdoc_types_only(tmp_path: Path) -> None:
    folder = tmp_path / "types"
    load_credential_types(folder)
    path = folder / "employee_badge.json"
    document = json.loads(path.read_text())
    document["credential_configuration"]["credential_metadata"]["claims"][0]["value_type"] = "tstr"
    path.write_text(json.dumps(document))
    with pytest.raises(CredentialTypeError, match="for mso_mdoc types"):
        load_credential_types(folder)
