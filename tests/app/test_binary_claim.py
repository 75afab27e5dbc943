"""A binary claim (an mdoc `bstr`, a portrait) in the offer form: picked from a file, made a JPEG small enough
for the issuer, and issued in the mdoc as the bytes the form shows."""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path

from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from app.widgets.binary_claim import LONGER_SIDE, BinaryClaimField
from app.window import MainWindow
from issuer.protocol.claim_values import BINARY_MAX_BYTES
from tests.app.helpers import create_offer, settle
from wallet.certificates import load_anchor
from wallet.client import TestWallet
from wallet.keys import public_jwk
from wallet.mdoc import verify_mdoc

PERSON_TYPE = {
    "credential_configuration": {
        "format": "mso_mdoc",
        "doctype": "org.example.person.1",
        "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}},
        "credential_metadata": {
            "display": [{"name": "Person"}],
            "claims": [
                {"path": ["org.example.person.1", "family_name"], "mandatory": True},
                {"path": ["org.example.person.1", "birth_date"], "value_type": "full-date"},
                {"path": ["org.example.person.1", "portrait"], "value_type": "bstr", "display": [{"name": "Portrait"}]},
            ],
        },
    }
}


def picture(path: Path, width: int, height: int, suffix: str = "PNG") -> Path:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    for x in range(width):  # a gradient, so that the JPEG encoder has something to do
        for y in range(0, height, 8):
            image.setPixelColor(x, y, QColor((x * 7) % 256, (y * 3) % 256, (x + y) % 256))
    assert image.save(str(path), suffix)
    return path


def test_a_large_photo_becomes_a_jpeg_that_fits(qtbot: QtBot, tmp_path: Path) -> None:
    field = BinaryClaimField()
    qtbot.addWidget(field)
    assert field.text() == "" and not field.remove_button.isEnabled()
    assert field.load_file(picture(tmp_path / "photo.png", 2000, 1500))
    data = base64.b64decode(field.text())
    assert data.startswith(b"\xff\xd8\xff") and len(data) <= BINARY_MAX_BYTES
    image = QImage.fromData(data)
    assert (image.width(), image.height()) == (LONGER_SIDE, 480)
    assert "photo.png, 640×480" in field.summary.text() and field.remove_button.isEnabled()
    field.remove_button.click()
    assert field.text() == "" and field.summary.text() == "No picture"


def test_a_small_jpeg_is_kept_as_it_is_and_a_non_picture_refused(qtbot: QtBot, tmp_path: Path) -> None:
    field = BinaryClaimField()
    qtbot.addWidget(field)
    original = picture(tmp_path / "small.jpg", 120, 160, "JPEG").read_bytes()
    assert field.load_file(tmp_path / "small.jpg")
    assert base64.b64decode(field.text()) == original
    (tmp_path / "notes.txt").write_text("not a picture")
    assert not field.load_file(tmp_path / "notes.txt")
    assert "not a picture" in field.summary.text()
    assert base64.b64decode(field.text()) == original  # the earlier picture stays
    field.setText(base64.b64encode(original).decode())
    assert "120×160" in field.summary.text()


def test_the_offer_form_picks_the_field_by_value_type_and_issues_the_portrait(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    window.service.admin.create_issuing_ca("DE", operator="Ada")
    folder = window.service.admin.credential_types_folder
    (folder / "person.json").write_text(json.dumps(PERSON_TYPE))
    window.settings_page.reload_button.click()
    settle(qtbot, window.tasks)
    compose = window.compose
    compose.type_picker.setCurrentIndex(compose.type_picker.findData("person"))
    portrait = compose.field("portrait")
    birth_date = compose.field("birth_date")
    assert isinstance(portrait, BinaryClaimField) and isinstance(birth_date, QLineEdit)
    assert birth_date.placeholderText() == "YYYY-MM-DD" and isinstance(compose.field("family_name"), QLineEdit)
    compose.field("family_name").setText("Lovelace")
    birth_date.setText("1815-12-10")
    assert portrait.load_file(picture(tmp_path / "ada.png", 300, 400))
    compose.tx_code.setChecked(False)
    created = create_offer(qtbot, window)
    stored = window.service.offers.get(created.offer_id)
    assert stored is not None
    assert stored.claims["person"] == {
        "family_name": "Lovelace",
        "birth_date": "1815-12-10",
        "portrait": portrait.text(),
    }
    with TestWallet() as wallet:
        [received] = wallet.receive(created.offer_uri)
    anchor = load_anchor(window.service.admin.certificate_status()["trust_anchor"])
    holder_jwk = public_jwk(received.holder_keys[0])
    mdoc = verify_mdoc(received.credentials[0], anchor, doctype="org.example.person.1", holder_jwk=holder_jwk)
    elements = mdoc.claims["org.example.person.1"]
    assert elements["portrait"] == base64.b64decode(portrait.text()) and elements["birth_date"] == date(1815, 12, 10)
