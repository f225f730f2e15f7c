"""Starting the app: Qt, the theme, unlocking, the main window, and a clean close."""

from __future__ import annotations

import logging
import os
import sys

from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit, QMessageBox

from kapdesk.clock import SystemClock
from kapdesk.passphrase import PASSPHRASE_VARIABLE, from_environment
from kapdesk.paths import Paths
from kapdesk.settings import Settings
from kapdesk.store import RecordStore, StoreError
from kapdesk.store.errors import RecordIncompleteError
from kapdesk.store.opening import check_folder, holds_record
from kapdesk.store.vault import PassphraseRequest
from kapdesk.ui.main_window import MainWindow
from kapdesk.ui.theme import apply_theme
from kapdesk.ui.unlock_dialog import ask_passphrase

log = logging.getLogger(__name__)


def gui_passphrase(request: PassphraseRequest) -> str | None:
    if PASSPHRASE_VARIABLE in os.environ:
        return from_environment(request)
    return ask_passphrase(request)


def confirm_new_record(paths: Paths) -> bool:
    """Ask before creating a record, naming the folder: a mistyped folder must not
    quietly become a second, empty record that today's entries go into."""
    box = QMessageBox()
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("kapdesk: new record")
    box.setText(f"There is no kapdesk record in\n{paths.data}")
    box.setInformativeText(
        "Create a new, empty record there? If the clinic's record is in another folder, "
        "choose Quit and start kapdesk with that folder (--data-dir)."
    )
    create = box.addButton("Create the record", QMessageBox.ButtonRole.AcceptRole)
    quit_ = box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    # A folder named on the command line or in $KAPDESK_HOME was meant to hold a record
    # already: Enter must not create one. The platform's own folder on a first start may.
    box.setDefaultButton(quit_ if paths.chosen else create)
    box.setEscapeButton(quit_)
    box.exec()
    return box.clickedButton() is create


def reason_to_accept_loss(error: RecordIncompleteError) -> str | None:
    """Show why the record was not opened; return a reason only if the user asks to open
    it as it is (the default is to quit and keep everything as found)."""
    box = QMessageBox()
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("kapdesk: entries may be missing")
    box.setText(str(error))
    quit_ = box.addButton("Quit (change nothing)", QMessageBox.ButtonRole.RejectRole)
    accept = box.addButton("Open as it is and record the loss…", QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(quit_)
    box.setEscapeButton(quit_)
    box.exec()
    if box.clickedButton() is not accept:
        return None
    reason, given = QInputDialog.getText(
        None,
        "kapdesk: record the loss",
        "Why is this record used as it is? (kept in its audit trail; copy the folder first)",
        QLineEdit.EchoMode.Normal,
    )
    return reason.strip() if given and reason.strip() else None


def open_store(paths: Paths, *, login_name: str, clock: SystemClock) -> RecordStore | None:
    """The record, after any confirmation it needs; None if the user chose to stop."""
    check_folder(paths.data, create=True)
    create = not holds_record(paths.data)
    if create and not confirm_new_record(paths):
        return None
    accept_loss: str | None = None
    while True:
        try:
            return RecordStore.open(
                paths.data,
                passphrase=gui_passphrase,
                clock=clock.now_utc,
                login_name=login_name,
                create=create,
                accept_loss=accept_loss,
            )
        except RecordIncompleteError as exc:
            log.warning("the record may be missing entries; asking what to do")
            accept_loss = reason_to_accept_loss(exc)
            if accept_loss is None:
                return None


def run_app(paths: Paths, *, login_name: str) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("kapdesk")
    settings = Settings(paths.data)
    apply_theme(app, settings.get("theme"), settings.get("font_scale"))
    clock = SystemClock()
    try:
        store = open_store(paths, login_name=login_name, clock=clock)
    except StoreError as exc:
        log.info("could not open the record: %s", type(exc).__name__)
        QMessageBox.warning(None, "kapdesk", str(exc))
        return 2
    if store is None:
        return 0
    with store:
        window = MainWindow(store, settings, clock.now_utc)
        window.resize(1366, 768)
        window.showMaximized()
        return app.exec()
