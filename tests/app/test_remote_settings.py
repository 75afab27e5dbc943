"""A remote desk's Settings page against a real `serve`: it shows the issuer's settings, keys,
certificates and credential types; saving, rotating, making the CA and reloading are done on the
issuer; what needs the issuer's own folder (backup, restore, the definition files) says it is done
on the issuer's machine."""

from __future__ import annotations

import json

from pytestqt.qtbot import QtBot

from app.window import MainWindow
from tests.app.helpers import settle
from tests.app.remote_desk import ServedIssuer, remote_window, served  # noqa: F401 - fixtures
from tests.app.test_high_assurance import make_ca


def test_the_issuers_settings_are_shown_and_saved_on_the_issuer(
    qtbot: QtBot,
    remote_window: MainWindow,  # noqa: F811
    served: ServedIssuer,  # noqa: F811
) -> None:
    page = remote_window.settings_page
    on_issuer = served.admin("GET", "/api/settings")
    assert page.retention.value() == on_issuer["holder_retention_days"]
    assert page.port.value() == served.port and page.admin_port.value() == served.admin_port
    assert page.data_folder.text() == f"{served.data_dir} (on the issuer's machine)"
    assert page.public_url.text() == served.url
    page.retention.setValue(90)
    page.require_dpop.setChecked(True)
    page.save()
    settle(qtbot, remote_window.tasks)
    assert page.save_result.text().startswith("Saved")
    saved = json.loads((served.data_dir / "settings.json").read_text())  # for the issuer's next start
    assert (saved["holder_retention_days"], saved["require_dpop"]) == (90, True)
    page.public_url.setText("https://desk.example.org/")
    page.save()
    settle(qtbot, remote_window.tasks)
    assert "must not end with" in page.save_result.text()  # the issuer's refusal, in its words
    assert json.loads((served.data_dir / "settings.json").read_text())["public_url"] == served.url  # unchanged


def test_keys_certificates_and_types_are_the_issuers(
    qtbot: QtBot,
    remote_window: MainWindow,  # noqa: F811
    served: ServedIssuer,  # noqa: F811
) -> None:
    window = remote_window
    page = window.settings_page
    assert page.keys.count() == len(served.admin("GET", "/api/keys")["keys"]) == 1
    page.rotate_button.click()
    qtbot.waitUntil(lambda: page.rotate_button.isEnabled())
    settle(qtbot, window.tasks)
    keys = served.admin("GET", "/api/keys")["keys"]
    assert page.keys.count() == len(keys) == 2
    assert keys[-1]["fingerprint"][:16] in page.keys.item(0).text() and "(active)" in page.keys.item(0).text()

    make_ca(qtbot, window)
    status = served.admin("GET", "/api/certificates")
    assert status["own_ca"] is True
    assert page.high_assurance.trust_anchor.toPlainText() == status["trust_anchor"]

    assert page.types.count() == len(served.admin("GET", "/api/credential-types")["credential_types"])
    page.reload_button.click()
    settle(qtbot, window.tasks)
    assert page.types_result.text() == f"{page.types.count()} credential types loaded."
    actions = [entry["action"] for entry in served.admin("GET", "/api/audit")["entries"]]
    assert {"key_rotated", "issuing_ca_created"} <= set(actions)


def test_what_needs_the_issuers_folder_says_it_is_done_there(
    qtbot: QtBot,
    remote_window: MainWindow,  # noqa: F811
) -> None:
    page = remote_window.settings_page
    for button in (page.backup_button, page.restore_button, page.open_types_button):
        assert not button.isEnabled() and button.toolTip() == "Done on the issuer's machine"
    assert page.backup_result.text().startswith("Backups and restores are made on the issuer's machine")
    assert page.types_result.text().startswith("The credential type definitions are files in the issuer's data")
    assert page.save_button.text() == "Save (applies at the issuer's next start)"
    page.test_public_url()
    qtbot.waitUntil(lambda: page.test_button.isEnabled(), timeout=10_000)
    assert "http" in page.test_result.text()  # checked by the issuer, from where it runs
