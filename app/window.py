"""The operator's main window: compose an offer, watch offers move; it owns the issuer's lifetime.

Every service call of its pages goes through one task runner (`app.tasks`), stopped before the
issuer when the window closes. The status bar says where the issuer listens, whether wallets can
reach it, and, while changes cannot be saved (a full disk), why: the issuer's storage events come
through the bridge, and the cause is asked of the service on the task thread.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget

from app import closing, confirm
from app.bridge import IssuerBridge
from app.diagnostics import DiagnosticsDialog, Facts
from app.menus import build_menus
from app.models.offers import OffersModel
from app.pages.audit import AuditPage
from app.pages.compose import ComposePage
from app.pages.holders import HoldersPage
from app.pages.ledger import LedgerPage
from app.pages.offers import OffersPage
from app.pages.settings import SettingsPage
from app.pages.sign_ins import SignInsPage
from app.style import ERROR_TONE, set_tone
from app.tasks import Tasks
from app.widgets.customer_display import CustomerDisplay
from issuer import __version__, events
from issuer.desk_api import DeskRuntime, is_remote
from issuer.reachability import Reachability
from issuer.service import CreatedOffer


class MainWindow(QMainWindow):
    def __init__(self, runtime: DeskRuntime, operator: str | None = None, tasks: Tasks | None = None) -> None:
        """`tasks`: the runner the login used, if any; the window stops it when it closes."""
        super().__init__()
        service = runtime.service
        if service is None:
            raise ValueError("the issuer is not running")
        self._runtime: DeskRuntime | None = runtime
        self._admin_url = runtime.admin_url
        self.service = service
        self.tasks = tasks or Tasks()
        self.setWindowTitle("Frontdesk Issuer")
        self.bridge = IssuerBridge(service.events, self)
        self.offers_model = OffersModel(service, self.tasks, self)
        self.bridge.offer_changed.connect(self.offers_model.on_offer_changed)
        self.compose = ComposePage(service, self.tasks, operator)
        self.offers = OffersPage(service, self.tasks, self.offers_model, operator)
        self.holders = HoldersPage(service, self.tasks, operator)
        self.holders.holder_chosen.connect(self._holder_chosen)
        self.compose.offer_created.connect(self._offer_created)
        self.bridge.offer_changed.connect(self.compose.on_offer_event)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.compose, "New offer")
        self.tabs.addTab(self.offers, "Offers")
        self.tabs.addTab(self.holders, "Holders")
        self.sign_ins = SignInsPage(service, self.tasks, operator)
        self.tabs.addTab(self.sign_ins, "Sign-ins")
        self.bridge.offer_changed.connect(self.sign_ins.on_event)
        self.sign_ins.count_changed.connect(self._sign_ins_waiting)
        self.sign_ins.complete_requested.connect(self._complete_sign_in)
        self.compose.sign_in_confirmed.connect(self._sign_in_confirmed)
        self.ledger = LedgerPage(service, self.tasks, operator)
        self.tabs.addTab(self.ledger, "Ledger")
        self.offers.credentials_requested.connect(self._show_credentials)
        self.ledger.replace_requested.connect(self._replace_credential)
        self.audit = AuditPage(service, self.tasks)
        self.tabs.addTab(self.audit, "Audit log")
        self.settings_page = SettingsPage(service, self.tasks, operator)
        self.settings_page.credential_types_reloaded.connect(self.compose.reload_types)
        self.settings_page.credential_types_reloaded.connect(self.ledger.reload_types)
        self.settings_page.certificates_changed.connect(self._check_certificates)
        self.tabs.addTab(self.settings_page, "Settings")
        self.tabs.currentChanged.connect(self._tab_shown)
        self.setCentralWidget(self.tabs)
        self.customer_display = CustomerDisplay()
        self.compose.outcome_changed.connect(self.customer_display.show_outcome)
        self.compose.session_cleared.connect(self.customer_display.show_idle)
        self.new_customer_action = QAction(self.tr("New customer"), self)
        self.new_customer_action.setShortcut(QKeySequence(QKeySequence.StandardKey.New))
        self.new_customer_action.triggered.connect(self._new_customer)
        self.operator = operator
        self.url_label = QLabel(f"Issuer: {runtime.issuer_url}" + (f"  ·  Operator: {operator}" if operator else ""))
        self.url_label.setObjectName("issuerUrl")
        self.statusBar().addPermanentWidget(self.url_label, 1)
        self.reachability_label = QLabel("checking whether wallets can reach the issuer …")
        self.statusBar().addPermanentWidget(self.reachability_label)
        self.tasks.run(service.admin.check_public_url, self._show_reachability, self._show_reachability_error)
        self.certificate_label = QLabel()  # a certificate that ends within 30 days
        set_tone(self.certificate_label, ERROR_TONE)
        self.statusBar().addPermanentWidget(self.certificate_label)
        self._check_certificates()
        self.storage_label = QLabel()
        self.storage_label.setObjectName("storageProblem")
        set_tone(self.storage_label, ERROR_TONE)
        self.storage_label.hide()
        self.statusBar().addPermanentWidget(self.storage_label)
        self.bridge.offer_changed.connect(self._storage_event)
        self._check_storage()
        self._build_menus()
        self._name_status_texts()
        self.resize(1000, 640)

    def _build_menus(self) -> None:
        self.menu_actions = build_menus(self)
        # the data folder of a remote desk is on the issuer's computer: Diagnostics names it, nothing opens it
        self.menu_actions.open_data_folder.setVisible(not is_remote(self.service))

    def _name_status_texts(self) -> None:
        """What a screen reader calls the status bar's texts."""
        for label, name in (
            (self.url_label, self.tr("Issuer address and operator")),
            (self.reachability_label, self.tr("Whether wallets can reach the issuer")),
            (self.certificate_label, self.tr("Certificate warnings")),
            (self.storage_label, self.tr("Storage problem")),
        ):
            label.setAccessibleName(name)

    def find_in_page(self) -> None:
        """Edit ▸ Find: the search field of the page shown, or the holders' search."""
        page = self.tabs.currentWidget()
        if page is not self.ledger:
            page = self.holders
            self.tabs.setCurrentWidget(page)
        page.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        page.search.selectAll()

    def show_customer_display(self) -> None:
        self.customer_display.show()
        self.customer_display.raise_()

    def toggle_full_screen(self) -> None:
        self.setWindowState(self.windowState() ^ Qt.WindowState.WindowFullScreen)
        self.menu_actions.full_screen.setChecked(self.isFullScreen())

    def diagnostics(self) -> Facts:
        service = self.service
        return Facts(
            service.settings.data_dir,
            service.issuer_url,
            self._admin_url,
            self.reachability_label.text(),
            remote=is_remote(service),
        )

    def show_diagnostics(self) -> None:
        DiagnosticsDialog(self.diagnostics(), self).exec()

    def open_data_folder(self) -> None:
        folder = self.service.settings.data_dir
        if QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.statusBar().showMessage(self.tr("Opened the data folder {folder}").format(folder=folder), 5000)
        else:
            self.statusBar().showMessage(self.tr("No file manager opened {folder}").format(folder=folder), 8000)

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            self.tr("About Frontdesk Issuer"),
            self.tr("Frontdesk Issuer {version}\n\nIssues verifiable credentials to wallets over OpenID4VCI.").format(
                version=__version__
            ),
        )

    def close_question(self) -> str | None:
        """What closing stops, or None; a remote desk stops nothing (its issuer keeps serving)."""
        if is_remote(self.service):
            return None
        live, waiting = closing.counts(self.offers_model.rows(), time.time())
        return closing.close_question(live, waiting, self.sign_ins.model.rowCount())

    def stop_issuer(self) -> None:
        """Stop the embedded issuer once, after the task running on it; later calls do nothing."""
        runtime, self._runtime = self._runtime, None
        if runtime is not None:
            self.bridge.close()
            self.tasks.shutdown()
            runtime.stop()

    def closeEvent(self, event: QCloseEvent) -> None:
        question = self.close_question() if self._runtime is not None else None
        if question and not confirm.ask(self, self.tr("Close Frontdesk Issuer"), question, self.tr("Close")):
            event.ignore()
            return
        self.customer_display.close()
        self.stop_issuer()
        super().closeEvent(event)

    def _storage_event(self, kind: str, _offer_id: str) -> None:
        if kind in (events.STORAGE_FAILED, events.STORAGE_RECOVERED):
            self._check_storage()

    def _check_storage(self) -> None:
        self.tasks.run(self.service.storage_problem, self._show_storage_problem, self._show_storage_unknown)

    def _show_storage_problem(self, problem: str | None) -> None:
        if problem:
            self.storage_label.setText(f"Cannot save: {problem}. Wallets are told to try again later.")
            self.storage_label.show()
        elif not self.storage_label.isHidden():
            self.storage_label.hide()
            self.statusBar().showMessage("Changes are saved again", 5000)

    def _show_storage_unknown(self, reason: str) -> None:
        self.storage_label.setText(f"Saving: {reason}")
        self.storage_label.show()

    def _show_reachability(self, result: Reachability) -> None:
        if result.reachable and not result.problems:
            self.reachability_label.setText("reachable")
        elif result.reachable:
            self.reachability_label.setText("reachable here only: " + result.problems[0])
        else:
            self.reachability_label.setText("not reachable: " + result.summary)

    def _check_certificates(self) -> None:
        self.tasks.run(self.service.admin.certificate_warnings, self._show_certificate_warnings)

    def _show_certificate_warnings(self, warnings: list[str]) -> None:
        self.certificate_label.setText(" ".join(warnings))

    def _show_reachability_error(self, reason: str) -> None:
        self.reachability_label.setText(f"reachability unknown: {reason}")

    def _sign_ins_waiting(self, count: int) -> None:
        self.tabs.setTabText(self.tabs.indexOf(self.sign_ins), f"Sign-ins ({count})" if count else "Sign-ins")

    def _complete_sign_in(self, request: dict[str, Any]) -> None:
        self.compose.complete_sign_in(request)
        self.tabs.setCurrentWidget(self.compose)

    def _sign_in_confirmed(self, confirmation: str) -> None:
        self.statusBar().showMessage(f"Sign-in {confirmation} confirmed: the wallet receives the credential now", 5000)
        self.tabs.setCurrentWidget(self.sign_ins)

    def _tab_shown(self) -> None:
        if self.tabs.currentWidget() is self.audit:
            self.audit.refresh()
        elif self.tabs.currentWidget() is self.ledger:
            self.ledger.refresh()

    def _show_credentials(self, offer_id: str) -> None:
        self.tabs.setCurrentWidget(self.ledger)
        self.ledger.show_offer(offer_id)

    def _replace_credential(self, record: dict[str, Any], holder: dict[str, Any] | None) -> None:
        self.compose.replace_credential(record, holder)
        self.tabs.setCurrentWidget(self.compose)

    def _holder_chosen(self, holder: dict[str, Any]) -> None:
        self.compose.use_holder(holder)
        self.tabs.setCurrentWidget(self.compose)

    def _new_customer(self) -> None:
        self.tabs.setCurrentWidget(self.compose)
        self.compose.new_customer()

    def _offer_created(self, created: CreatedOffer) -> None:
        credential = self.compose.type_picker.currentText()
        self.statusBar().showMessage(f"Offer created: {credential}", 5000)
        self.customer_display.show_offer(created, credential)
