"""The main window's menus and shortcuts: every common action reachable from the keyboard.

The entries reuse what the pages already do (the offer panel's buttons, the Settings page's backup
and restore, the customer display): an entry clicks the page's own button, so a disabled button
(no offer on the panel) is said in the status bar rather than done twice in two places. Entries for
actions the window may own (`logout_action`, `lock_action`) are added when the window has them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QCoreApplication, QObject, Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QMenu, QMenuBar, QStatusBar, QStyle, QTabWidget, QWidget

from app.pages.compose import ComposePage
from app.pages.holders import HoldersPage
from app.pages.settings import SettingsPage

StandardKey = QKeySequence.StandardKey
Pixmap = QStyle.StandardPixmap


class MainWindow(Protocol):
    """What the menus need of the main window (app.window.MainWindow)."""

    compose: ComposePage
    holders: HoldersPage
    settings_page: SettingsPage
    tabs: QTabWidget
    new_customer_action: QAction

    def style(self) -> QStyle: ...
    def menuBar(self) -> QMenuBar: ...
    def statusBar(self) -> QStatusBar: ...
    def close(self) -> bool: ...
    def find_in_page(self) -> None: ...
    def show_customer_display(self) -> None: ...
    def toggle_full_screen(self) -> None: ...
    def show_diagnostics(self) -> None: ...
    def open_data_folder(self) -> None: ...
    def show_about(self) -> None: ...


def tr(text: str) -> str:
    return QCoreApplication.translate("Menus", text)


@dataclass
class WindowActions:
    """The window's actions by what they do; tests and the help texts find them here."""

    new_customer: QAction
    save_qr: QAction
    print_sheet: QAction
    back_up: QAction
    restore: QAction
    quit: QAction
    find: QAction
    copy_link: QAction
    customer_display: QAction
    full_screen: QAction
    diagnostics: QAction
    open_data_folder: QAction
    about: QAction
    pages: list[QAction]


def build_menus(window: MainWindow) -> WindowActions:
    """File, Edit, View and Help on the window's menu bar; returns the actions it made."""
    style = window.style()
    panel, settings = window.compose.panel, window.settings_page
    for built in window.menuBar().findChildren(QObject, "shellActions", Qt.FindChildOption.FindDirectChildrenOnly):
        built.setParent(None)  # the actions of menus built before
        built.deleteLater()
    owner = QObject(window.menuBar())
    owner.setObjectName("shellActions")

    def action(
        text: str,
        slot: Callable[[], object],
        shortcut: QKeySequence | StandardKey | str | None = None,
        icon: Pixmap | None = None,
    ) -> QAction:
        made = QAction(text, owner)  # in a menu of the window: its shortcut works window-wide
        if shortcut is not None:
            made.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            made.setIcon(style.standardIcon(icon))
        made.triggered.connect(slot)
        return made

    def press(button: QAbstractButton, unavailable: str) -> Callable[[], None]:
        def pressed() -> None:
            if button.isEnabled() and button.isVisibleTo(button.window()):
                button.click()
            else:
                window.statusBar().showMessage(unavailable, 5000)

        return pressed

    def on_settings(button: QAbstractButton) -> Callable[[], None]:
        def pressed() -> None:
            window.tabs.setCurrentWidget(settings)
            button.click()

        return pressed

    no_offer = tr("No offer on the panel: create one on the New offer page first.")
    actions = WindowActions(
        new_customer=window.new_customer_action,
        save_qr=action(tr("Save QR…"), press(panel.save_png, no_offer), StandardKey.Save, Pixmap.SP_DialogSaveButton),
        print_sheet=action(tr("Print…"), press(panel.print_button, no_offer), StandardKey.Print),
        back_up=action(tr("Back up…"), on_settings(settings.backup_button), None, Pixmap.SP_DriveHDIcon),
        restore=action(tr("Restore…"), on_settings(settings.restore_button), None, Pixmap.SP_BrowserReload),
        quit=action(tr("Quit"), window.close, StandardKey.Quit, Pixmap.SP_DialogCloseButton),
        find=action(tr("Find"), window.find_in_page, StandardKey.Find, Pixmap.SP_FileDialogContentsView),
        copy_link=action(tr("Copy link"), press(panel.copy_button, no_offer), "Ctrl+Shift+C"),
        customer_display=action(tr("Customer display"), window.show_customer_display, "Ctrl+D", Pixmap.SP_ComputerIcon),
        full_screen=action(tr("Full screen"), window.toggle_full_screen, StandardKey.FullScreen),
        diagnostics=action(
            tr("Diagnostics"), window.show_diagnostics, StandardKey.HelpContents, Pixmap.SP_MessageBoxInformation
        ),
        open_data_folder=action(tr("Open data folder"), window.open_data_folder, None, Pixmap.SP_DirOpenIcon),
        about=action(tr("About Frontdesk Issuer"), window.show_about),
        pages=[],
    )
    for made, fallback in ((actions.full_screen, "F11"), (actions.quit, "Ctrl+Q")):
        if made.shortcut().isEmpty():  # not every platform has a standard key for it
            made.setShortcut(QKeySequence(fallback))
    actions.full_screen.setCheckable(True)
    actions.print_sheet.setIcon(QIcon.fromTheme("document-print", style.standardIcon(Pixmap.SP_FileIcon)))
    panel.print_button.setIcon(actions.print_sheet.icon())
    actions.quit.setMenuRole(QAction.MenuRole.QuitRole)
    actions.about.setMenuRole(QAction.MenuRole.AboutRole)
    _button_icons(window)

    bar = window.menuBar()
    old_menus = [entry.menu() for entry in bar.actions()]
    bar.clear()
    for menu in old_menus:  # menus built before (the window builds them again): gone, not hidden
        if isinstance(menu, QMenu):
            menu.deleteLater()
    file_menu = bar.addMenu(tr("&File"))
    file_menu.addActions([actions.new_customer, actions.save_qr, actions.print_sheet])
    file_menu.addSeparator()
    file_menu.addActions([actions.back_up, actions.restore])
    file_menu.addSeparator()
    _add_account_actions(window, file_menu)
    file_menu.addAction(actions.quit)
    edit_menu = bar.addMenu(tr("&Edit"))
    edit_menu.addActions([actions.find, actions.copy_link])
    view_menu = bar.addMenu(tr("&View"))
    view_menu.addActions([actions.customer_display, actions.full_screen])
    view_menu.addSeparator()
    for number in range(window.tabs.count()):
        page = window.tabs.widget(number)
        assert page is not None  # a tab index below count()
        go = action(window.tabs.tabText(number), _show_page(window, page), f"Ctrl+{number + 1}" if number < 9 else None)
        actions.pages.append(go)
        view_menu.addAction(go)
    help_menu = bar.addMenu(tr("&Help"))
    help_menu.addActions([actions.diagnostics, actions.open_data_folder])
    help_menu.addSeparator()
    help_menu.addAction(actions.about)
    return actions


def _button_icons(window: MainWindow) -> None:
    """The same icons on the pages' main buttons as on the menu entries that do the same."""
    style = window.style()
    window.new_customer_action.setIcon(style.standardIcon(Pixmap.SP_FileIcon))
    for button, icon in (
        (window.compose.new_customer_button, Pixmap.SP_FileIcon),
        (window.compose.create_button, Pixmap.SP_DialogApplyButton),
        (window.holders.register_button, Pixmap.SP_DialogYesButton),
        (window.compose.panel.copy_button, Pixmap.SP_FileLinkIcon),
        (window.compose.panel.save_png, Pixmap.SP_DialogSaveButton),
        (window.compose.panel.save_svg, Pixmap.SP_DialogSaveButton),
        (window.compose.panel.cancel_button, Pixmap.SP_DialogCancelButton),
    ):
        button.setIcon(style.standardIcon(icon))


def _add_account_actions(window: MainWindow, menu: QMenu) -> None:
    """Log out and Lock, when the window has them."""
    added = False
    for name in ("lock_action", "logout_action"):
        account_action = getattr(window, name, None)
        if isinstance(account_action, QAction):
            menu.addAction(account_action)
            added = True
    if added:
        menu.addSeparator()


def _show_page(window: MainWindow, page: QWidget) -> Callable[[], None]:
    def show() -> None:
        window.tabs.setCurrentWidget(page)
        page.setFocus(Qt.FocusReason.ShortcutFocusReason)
        page.focusNextChild()

    return show
