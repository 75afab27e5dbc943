"""The operator's main window: compose an offer, watch offers move; it owns the issuer's lifetime.

Every service call of its pages goes through one task runner (`app.tasks`), stopped before the
issuer when the window closes. The status bar says where the issuer listens, whether wallets can
reach it, and, while changes cannot be saved (a full disk), why: the issuer's storage events come
through the bridge, and the cause is asked of the service on the task thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QMessageBox, QStackedWidget, QTabWidget, QToolButton

from app import closing, confirm
from app.bridge import IssuerBridge
from app.connection_watch import ConnectionWatch
from app.diagnostics import DiagnosticsDialog, Facts
from app.idle import IdleWatch
from app.menus import build_menus
from app.models.offers import OffersModel
from app.pages.audit import AuditPage
from app.pages.compose import ComposePage
from app.pages.holders import HoldersPage
from app.pages.ledger import LedgerPage
from app.pages.offers import OffersPage
from app.pages.operators import OperatorsPage
from app.pages.settings import SettingsPage
from app.pages.sign_ins import SignInsPage
from app.style import ERROR_TONE, set_tone
from app.tasks import Tasks
from app.widgets.customer_display import CustomerDisplay
from app.widgets.lock_screen import LockScreen
from app.widgets.password_dialog import PasswordDialog, own_password_dialog
from issuer import __version__, events
from issuer.desk_api import DeskRuntime, is_remote
from issuer.reachability import Reachability
from issuer.records.operators import Operator, Role
from issuer.service import CreatedOffer


class MainWindow(QMainWindow):
    # The session ends without stopping the issuer (log out, or an admin unlocked the window): the
    # argument is the admin who goes on, or None for the login dialog.
    session_ended = Signal(object)

    def __init__(
        self,
        runtime: DeskRuntime,
        operator: str | None = None,
        tasks: Tasks | None = None,
        *,
        role: Role = Role.ADMIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`tasks`: the runner the login used, if any; the window stops it when it closes. `role`: what the
        operator may see (the service checks it again); `clock`: for the lock, moved forward by tests."""
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
        self.connection_watch = ConnectionWatch(self, self.bridge)
        self.connection_watch.lists_stale.connect(self._read_lists_again)
        self.resize(1000, 640)
        self.role = role
        self._clock = clock
        self._add_operators_tab()
        self._apply_role()
        self._install_lock()
        self._install_auto_lock()
        self._build_menus()  # after the lock: File takes its Lock and Log out
        self._name_status_texts()

    def _read_lists_again(self) -> None:
        """Every list the window shows, read again (a remote desk back after its issuer restarted)."""
        self.offers_model.reload()
        self.sign_ins.refresh()
        self._tab_shown()  # the ledger or the audit log, when shown

    def _build_menus(self) -> None:
        self.menu_actions = build_menus(self)
        # the data folder of a remote desk is on the issuer's computer: Diagnostics names it, nothing opens it
        self.menu_actions.open_data_folder.setVisible(not is_remote(self.service))
        for admins_only in (self.menu_actions.back_up, self.menu_actions.restore):
            admins_only.setVisible(self.role is Role.ADMIN)

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
        self.idle.stop()
        self.stop_issuer()
        super().closeEvent(event)

    # ----- accounts, lock and log out -----

    def _add_operators_tab(self) -> None:
        self.operators_page: OperatorsPage | None = None
        if self.role is Role.ADMIN:
            self.operators_page = OperatorsPage(self.service.operators, self.tasks, self.operator)
            self.tabs.insertTab(self.tabs.indexOf(self.settings_page), self.operators_page, self.tr("Operators"))

    def _apply_role(self) -> None:
        """An operator sees neither the settings nor the operators, nor the revocation buttons."""
        if self.role is Role.ADMIN:
            return
        self.tabs.removeTab(self.tabs.indexOf(self.settings_page))
        for button in (self.ledger.revoke_button, self.ledger.suspend_button, self.ledger.unsuspend_button):
            button.hide()

    def _install_lock(self) -> None:
        self.locked = False
        self.lock_screen = LockScreen(self.service.operators, self.tasks, self._clock)
        self.lock_screen.unlocked.connect(self._unlocked)
        self.stack = QStackedWidget()
        self.takeCentralWidget()
        self.stack.addWidget(self.tabs)
        self.stack.addWidget(self.lock_screen)
        self.setCentralWidget(self.stack)
        self.lock_action = QAction(self.tr("Lock"), self)
        self.lock_action.setShortcut(QKeySequence(self.tr("Ctrl+L")))
        self.lock_action.triggered.connect(self.lock)
        self.logout_action = QAction(self.tr("Log out"), self)
        self.logout_action.triggered.connect(self.log_out)
        self.change_password_action = QAction(self.tr("Change my password…"), self)
        self.change_password_action.triggered.connect(self.change_own_password)
        self.password_dialog: PasswordDialog | None = None
        self.account_button = QToolButton()
        self.account_button.setText(self.operator or self.tr("no operator"))
        self.account_button.setAccessibleName(self.tr("Account"))
        self.account_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        account_menu = QMenu(self.account_button)
        for action in (self.change_password_action, self.lock_action, self.logout_action):
            self.addAction(action)  # the shortcuts work wherever the menus put them
            account_menu.addAction(action)
        self.account_button.setMenu(account_menu)
        self.statusBar().addPermanentWidget(self.account_button)
        self.account_button.setEnabled(self.operator is not None)

    def _install_auto_lock(self) -> None:
        self.idle = IdleWatch(self.service.settings.lock_after_minutes, self._clock, self)
        self.idle.idle.connect(partial(self.lock, automatic=True))
        self.settings_page.lock_after_changed.connect(self.idle.set_minutes)

    def lock(self, automatic: bool = False) -> None:
        """Cover the pages; the issuer, the customer display and waiting approvals go on."""
        if self.locked or self.operator is None:
            return
        self.locked = True
        self.lock_screen.show_locked(self.operator, self._clock())
        self.stack.setCurrentWidget(self.lock_screen)
        self.menuBar().setEnabled(False)
        self.account_button.setEnabled(False)
        for action in (self.lock_action, self.logout_action, self.change_password_action):
            action.setEnabled(False)
        self.tasks.run(partial(self.service.operators.record_lock, self.operator, automatic), _ignore)

    def _unlocked(self, account: Operator) -> None:
        if account.name != self.operator:  # an admin's password: the other operator's session ended
            self.session_ended.emit(account)
            return
        self.locked = False
        self.stack.setCurrentWidget(self.tabs)
        self.menuBar().setEnabled(True)
        self.account_button.setEnabled(True)
        for action in (self.lock_action, self.logout_action, self.change_password_action):
            action.setEnabled(True)
        self.idle.reset()
        self.statusBar().showMessage(self.tr("Unlocked"), 5000)

    def log_out(self) -> None:
        """Back to the login dialog; the issuer keeps running."""
        if self.operator is not None:
            self.tasks.run(partial(self.service.operators.record_logout, self.operator), _ignore)
        self.session_ended.emit(None)

    def end_session(self) -> None:
        """Close without stopping the issuer: another session goes on with the same runtime and tasks."""
        self._runtime = None
        self.idle.stop()
        self.bridge.close()
        self.close()

    def change_own_password(self) -> None:
        if self.operator is None:
            return
        dialog = own_password_dialog(self.service.operators, self.tasks, self.operator, parent=self)
        dialog.accepted.connect(lambda: self.statusBar().showMessage(self.tr("Your password is changed."), 5000))
        self.password_dialog = dialog
        dialog.open()

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


def _ignore(_result: object) -> None:
    """A result nobody waits for (an audit entry written)."""
