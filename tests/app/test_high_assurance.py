"""Settings → High assurance (HAIP 1.0): the issuer's own CA made from the window, the trust anchor copied and
saved, the profile saved for the next start (or refused with the reason), and the status bar's warning 30
days before a certificate ends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from app.window import MainWindow
from tests.app.helpers import settle
from wallet.attestation import WalletProvider
from wallet.certificates import load_anchor


def make_ca(qtbot: QtBot, window: MainWindow, country: str = "de") -> None:
    box = window.settings_page.high_assurance
    box.country.setText(country)
    box.create_button.click()
    settle(qtbot, window.tasks)


def test_the_issuers_own_ca_is_made_from_settings(qtbot: QtBot, window: MainWindow) -> None:
    box = window.settings_page.high_assurance
    settle(qtbot, window.tasks)
    assert box.trust_anchor.toPlainText().startswith("No certificate yet")
    assert not box.copy_button.isEnabled() and not box.save_button.isEnabled()
    with qtbot.waitSignal(window.settings_page.certificates_changed, timeout=10_000):
        make_ca(qtbot, window)
    pem = box.trust_anchor.toPlainText()
    assert load_anchor(pem).subject.rfc4514_string().endswith("C=DE")
    assert "Trust anchor: CN=Frontdesk Issuer issuing CA" in box.certificates.text()
    assert "Document signer: " in box.certificates.text()
    assert window.service.keys.active.x5c  # the running issuer signs with the chain at once
    assert window.certificate_label.text() == ""
    assert window.service.desk.audit_log(limit=1)[0]["action"] == "issuing_ca_created"


def test_a_bad_country_is_refused(qtbot: QtBot, window: MainWindow) -> None:
    make_ca(qtbot, window, "1")
    assert "two-letter" in window.settings_page.high_assurance.result.text()
    assert not window.service.keys.active.x5c


def test_the_trust_anchor_is_copied_and_saved(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    make_ca(qtbot, window)
    box = window.settings_page.high_assurance
    box.copy_button.click()
    assert QGuiApplication.clipboard().text() == window.service.certificates.trust_anchor_pem()
    target = tmp_path / "anchor.pem"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), ""))
    box.save_button.click()
    settle(qtbot, window.tasks)
    assert target.read_text() == window.service.certificates.trust_anchor_pem()
    assert "Saved the trust anchor" in box.result.text()


def test_a_second_ca_asks_first(qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    make_ca(qtbot, window)
    first = window.service.certificates.trust_anchor_pem()
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.No)
    make_ca(qtbot, window)
    assert window.service.certificates.trust_anchor_pem() == first
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.Yes)
    make_ca(qtbot, window)
    assert window.service.certificates.trust_anchor_pem() != first


def test_the_profile_is_saved_only_when_the_issuer_could_start_with_it(qtbot: QtBot, window: MainWindow) -> None:
    page = window.settings_page
    page.high_assurance.profile.setChecked(True)
    page.public_url.setText("https://desk.example.org")
    page.save()
    settle(qtbot, window.tasks)
    assert "certificate chain" in page.save_result.text()
    make_ca(qtbot, window)
    data_dir = window.service.settings.data_dir
    (data_dir / "providers.pem").write_bytes(WalletProvider().trust_anchor_pem)
    window.service.admin.save_settings({"wallet_trust_anchors": ["providers.pem"]})
    page.save()
    settle(qtbot, window.tasks)
    assert page.save_result.text().startswith("Saved")
    stored = json.loads((data_dir / "settings.json").read_text())
    assert stored["profile"] == "haip" and stored["public_url"] == "https://desk.example.org"


def test_the_status_bar_warns_before_a_certificate_ends(qtbot: QtBot, window: MainWindow) -> None:
    make_ca(qtbot, window)
    not_after = window.service.keys.active.not_after
    assert not_after is not None
    window.service.clock = lambda: not_after - 12 * 86400
    window.settings_page.certificates_changed.emit()
    settle(qtbot, window.tasks)
    text = window.certificate_label.text()
    assert "document signer certificate expires on" in text and "in 12 days" in text
