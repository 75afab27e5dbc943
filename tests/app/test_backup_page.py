"""The settings page's Back up… and Restore… buttons: dialogs answered by the test, real files."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from app.main import parse_args, start_issuer
from app.window import MainWindow
from issuer.errors import ServiceError
from issuer.service import OfferRequest
from issuer.storage.backup import PENDING_RESTORE, check_archive

BADGE = {"given_name": "Ada", "family_name": "Lovelace", "employee_id": "E-1815", "department": "Engines"}


def answer_dialogs(monkeypatch: pytest.MonkeyPatch, *, save: str = "", open_: str = "", confirm: bool = True) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (save, ""))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (open_, ""))
    button = QMessageBox.StandardButton.Yes if confirm else QMessageBox.StandardButton.No
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: button)


def test_back_up_then_restore_at_the_next_start(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    page, service = window.settings_page, window.service
    kept = service.offers.create(OfferRequest(["employee_badge"], BADGE))
    answer_dialogs(monkeypatch, save=str(tmp_path / "monday"))
    page.backup_button.click()
    qtbot.waitUntil(lambda: page.backup_button.isEnabled(), timeout=10_000)
    archive = tmp_path / "monday.tar.gz"  # the suffix is added when the name has none
    assert page.backup_result.text().startswith("Backed up ") and str(archive) in page.backup_result.text()
    assert check_archive(archive).files >= 8
    assert "backup_created" in {entry["action"] for entry in service.desk.audit_log(operator="Ada")}

    later = service.offers.create(OfferRequest(["employee_badge"], BADGE))
    answer_dialogs(monkeypatch, open_=str(archive))
    page.restore_button.click()
    qtbot.waitUntil(lambda: page.restore_button.isEnabled(), timeout=10_000)
    assert page.backup_result.text().endswith("is restored when the app next starts.")
    data_dir = service.settings.data_dir
    assert (data_dir / PENDING_RESTORE).is_file()
    assert service.offers.status(later.offer_id)["state"] == "created"  # nothing changes while running

    window.stop_issuer()
    runtime = start_issuer(parse_args(["--data-dir", str(data_dir), "--port", "0", "--admin-port", "0"]))
    try:
        assert runtime.service is not None
        assert runtime.service.offers.status(kept.offer_id)["state"] == "created"
        with pytest.raises(ServiceError):
            runtime.service.offers.status(later.offer_id)
    finally:
        runtime.stop()


def test_cancelled_dialogs_do_nothing(window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    page = window.settings_page
    before = page.backup_result.text()
    answer_dialogs(monkeypatch)
    page.backup_button.click()
    page.restore_button.click()
    assert page.backup_result.text() == before and page.backup_button.isEnabled()
    archive = tmp_path / "b.tar.gz"
    window.service.admin.backup(archive)
    answer_dialogs(monkeypatch, open_=str(archive), confirm=False)
    page.restore_button.click()
    assert page.backup_result.text() == before
    assert not (window.service.settings.data_dir / PENDING_RESTORE).exists()


def test_a_bad_backup_is_refused_with_the_reason(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    page = window.settings_page
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a backup")
    answer_dialogs(monkeypatch, open_=str(junk))
    page.restore_button.click()
    qtbot.waitUntil(lambda: page.restore_button.isEnabled(), timeout=10_000)
    assert page.backup_result.text().startswith("Not done: ") and "not a readable frontdesk backup" in (
        page.backup_result.text()
    )
    assert not (window.service.settings.data_dir / PENDING_RESTORE).exists()
    answer_dialogs(monkeypatch, save=str(tmp_path / "no-such-folder" / "b.tar.gz"))
    page.backup_button.click()
    qtbot.waitUntil(lambda: page.backup_button.isEnabled(), timeout=10_000)
    assert page.backup_result.text().startswith("Not done: ")
