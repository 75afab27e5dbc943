"""The settings page: public URL check, saved settings, key rotation, credential types reload."""

from __future__ import annotations

import json

from pytestqt.qtbot import QtBot

from app.window import MainWindow
from issuer.config import Settings
from issuer.endpoints.metadata import authorization_server_metadata
from tests.app.helpers import settle
from tests.issuer.test_credential_types import TOML_TYPE


def test_status_bar_tells_whether_wallets_can_reach_the_issuer(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.reachability_label.text().startswith("checking"))
    assert window.reachability_label.text().startswith("reachable here only: the public URL uses http")


def test_public_url_check_explains_the_problem(qtbot: QtBot, window: MainWindow) -> None:
    page = window.settings_page
    page.public_url.setText("http://127.0.0.1:9")
    page.test_button.click()
    qtbot.waitUntil(lambda: page.test_button.isEnabled(), timeout=10_000)
    assert "refused" in page.test_result.text() and "https" in page.test_result.text()


def test_settings_are_saved_or_refused_with_a_reason(qtbot: QtBot, window: MainWindow) -> None:
    page = window.settings_page
    page.public_url.setText("https://desk.example.org/")
    page.save()
    settle(qtbot, window.tasks)
    assert "must not end with" in page.save_result.text()
    page.public_url.setText("https://desk.example.org")
    page.retention.setValue(90)
    page.save()
    settle(qtbot, window.tasks)
    assert page.save_result.text().startswith("Saved")
    stored = json.loads((window.service.settings.data_dir / "settings.json").read_text())
    assert stored["public_url"] == "https://desk.example.org" and stored["holder_retention_days"] == 90


def test_wallet_sign_in_requirements_reach_the_metadata_after_a_restart(qtbot: QtBot, window: MainWindow) -> None:
    page = window.settings_page
    assert not page.require_par.isChecked() and not page.require_dpop.isChecked()
    page.require_par.setChecked(True)
    page.require_dpop.setChecked(True)
    page.save()
    settle(qtbot, window.tasks)
    restarted = Settings.load(window.service.settings.data_dir)
    assert (restarted.require_par, restarted.require_dpop) == (True, True)
    metadata = authorization_server_metadata(
        "https://desk.example", restarted, window.service.credential_types, window.service.tokens.attestations
    )
    assert metadata["require_pushed_authorization_requests"] is True


def test_rotate_the_key_off_the_gui_thread(qtbot: QtBot, window: MainWindow) -> None:
    page = window.settings_page
    assert page.keys.count() == 1
    page.rotate_button.click()
    qtbot.waitUntil(lambda: page.rotate_button.isEnabled())
    assert page.keys.count() == 2
    assert "(active)" in page.keys.item(0).text() and "retired, still published" in page.keys.item(1).text()


def test_reload_credential_types_updates_the_offer_form(qtbot: QtBot, window: MainWindow) -> None:
    page = window.settings_page
    folder = window.service.admin.credential_types_folder
    (folder / "student_card.toml").write_text(TOML_TYPE)
    page.reload_button.click()
    settle(qtbot, window.tasks)
    assert page.types_result.text() == "4 credential types loaded."
    assert window.compose.type_picker.findData("student_card") >= 0
    (folder / "broken.json").write_text("{")
    page.reload_button.click()
    settle(qtbot, window.tasks)
    assert page.types_result.text().startswith("Not reloaded: broken.json")
    assert "student_card" in window.service.credential_types
