"""Starting the app: Qt, the theme, unlocking, the main window, and a clean close.

Every way the record cannot be opened ends in a window that says why (and the
same sentence on stderr), and exit code 2; nothing is created or opened by a
stray Enter.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QInputDialog, QLineEdit, QMessageBox

from kapdesk.local.clock import SystemClock
from kapdesk.local.logs import setup_logging
from kapdesk.local.memory import forget_module_sources
from kapdesk.local.passphrase import PASSPHRASE_VARIABLE, from_environment
from kapdesk.local.paths import Paths
from kapdesk.local.settings import Settings
from kapdesk.store import RecordStore, StoreError
from kapdesk.store.errors import (
    DAMAGED_WHILE_OPEN,
    PassphraseUnavailableError,
    RecordIncompleteError,
    is_damage,
)
from kapdesk.store.folder import check_folder, holds_record
from kapdesk.store.vault import PassphraseRequest
from kapdesk.ui.crash_dialog import CrashReporter
from kapdesk.ui.main_window import MainWindow
from kapdesk.ui.record_checks import IntegrityWatch
from kapdesk.ui.theme import apply_theme
from kapdesk.ui.unlock_dialog import ask_passphrase

log = logging.getLogger(__name__)

EXIT_REFUSED = 2  # nothing was opened: refused, or the user chose not to go on


def gui_passphrase(request: PassphraseRequest) -> str | None:
    if PASSPHRASE_VARIABLE in os.environ:
        return from_environment(request)
    text = ask_passphrase(request)
    if text is None and request.error is not None:
        # Cancelled after a refusal: that is the person's choice, not one more wrong
        # passphrase (it said "does not unlock ... try again" as kapdesk closed).
        raise PassphraseUnavailableError(
            "No passphrase was entered, so the record was not opened; nothing was changed. "
            "Start kapdesk again to enter it."
        )
    return text


def confirm_new_record(paths: Paths) -> bool:
    """Ask before creating a record, naming the folder: a mistyped folder must not
    quietly become a second, empty record that today's entries go into."""
    box = QMessageBox()
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("kapdesk: new record")
    box.setText(f"There is no kapdesk record in\n{paths.data}")
    box.setInformativeText(
        "Create a new, empty record there? If the clinic's record is in another folder, "
        "choose Quit and start kapdesk with that folder."
    )
    create = box.addButton("Create the record", QMessageBox.ButtonRole.AcceptRole)
    quit_ = box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    # A folder named on the command line or in $KAPDESK_HOME was meant to hold a record
    # already: Enter must not create one. The platform's own folder on a first start may.
    box.setDefaultButton(quit_ if paths.chosen else create)
    box.setEscapeButton(quit_)
    box.exec()
    return box.clickedButton() is create


def reason_to_accept_loss(error: RecordIncompleteError, folder: Path) -> str | None:
    """Show why the record was not opened; return a reason only if the user asks to open
    it as it is (the default is to quit and keep everything as found)."""
    box = QMessageBox()
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("kapdesk: entries may be missing")
    box.setText("\n\n".join(f"{problem}." for problem in error.problems) or str(error))
    box.setInformativeText(
        f"Before anything else, copy the whole data folder {folder} somewhere safe: it may "
        "be needed to recover those entries. Then restore the latest backup into a new "
        "folder; or, if this record must be used as it is, open it with the second button: "
        "the loss and your reason are written into its audit trail. The record has not "
        "been changed."
    )
    quit_ = box.addButton("Quit (change nothing)", QMessageBox.ButtonRole.RejectRole)
    accept = box.addButton("Open as it is and record the loss…", QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(quit_)
    box.setEscapeButton(quit_)
    box.exec()
    if box.clickedButton() is not accept:
        return None
    label = "Why is this record used as it is? (kept in its audit trail)"
    while True:
        reason, given = QInputDialog.getText(
            None, "kapdesk: record the loss", label, QLineEdit.EchoMode.Normal
        )
        if not given:
            return None
        if reason.strip():
            return reason.strip()
        label = "A reason is needed to open the record as it is. Why is it used as it is?"


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
                anchor_mirror=paths.anchors,
            )
        except RecordIncompleteError as exc:
            log.warning("the record may be missing entries; asking what to do")
            accept_loss = reason_to_accept_loss(exc, paths.data)
            if accept_loss is None:
                return None


def sign_in_at_start(store: RecordStore, clock: SystemClock) -> bool:
    """Who is at the keyboard (issue 14): the record's first account, made now by whoever
    starts kapdesk, or a clinician's own PIN. False when they chose to stop."""
    from kapdesk.session.unlocking import UnlockAttempts
    from kapdesk.ui.accounts_dialog import AccountForm
    from kapdesk.ui.locking import SignInDialog

    if not store.has_accounts():
        form = AccountForm(None, first=True)
        form.save = lambda: form.add_to(store)
        form.focus_first()
        if form.exec() != QDialog.DialogCode.Accepted:
            return False
        store.sign_in(form.result_value, "first_account")
        return True
    attempts = UnlockAttempts(clock.monotonic, store.unlock_refusals())
    dialog = SignInDialog(store, attempts, store.last_signed_in())
    dialog.panel.focus()
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.signed is None:
        return False
    who, how = dialog.signed
    store.sign_in(who, how, {"where": "sign_in"})
    return True


def refuse(sentence: str) -> int:
    """Say why nothing was opened, in a window and on stderr."""
    print(sentence, file=sys.stderr)
    QMessageBox.warning(None, "kapdesk", sentence)
    return EXIT_REFUSED


def resume_collector() -> None:
    """The cyclic garbage collector on again once the window is up (cli._run_app paused it
    for start-up), with start-up's objects frozen out of its generations: they last as long
    as the app, so a full collection late in a long session walks the session's objects, not
    the ~75,000 of start-up as well."""
    forget_module_sources()
    gc.freeze()
    gc.enable()


ICON_AFTER_MS = 300


def set_icon(app: QApplication) -> None:
    from kapdesk.ui.app_icon import app_icon

    app.setWindowIcon(app_icon())


def run_app(paths: Paths, *, login_name: str) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("kapdesk")
    # The icon when an event loop first runs: a question before the window (the
    # passphrase, who is at the keyboard) shows with it. Without one, after the window's
    # first paint: drawing it (QtSvg, seven sizes) was ~30 ms of start-up (issue 10).
    icon = QTimer()
    icon.setSingleShot(True)
    icon.timeout.connect(lambda: set_icon(app))
    icon.start(0)
    reporter = CrashReporter(paths.logs)
    reporter.install()
    try:
        check_folder(paths.data, create=True)
    except StoreError as exc:
        apply_theme(app)
        return refuse(str(exc))
    settings = Settings(paths.data)
    apply_theme(app, settings.get("theme"), settings.get("font_scale"))
    clock = SystemClock()
    try:
        store = open_store(paths, login_name=login_name, clock=clock)
    except StoreError as exc:
        log.info("could not open the record: %s", type(exc).__name__)
        return refuse(str(exc))
    if store is None:
        log.info("nothing opened: the user chose to stop")
        return EXIT_REFUSED
    try:
        setup_logging(paths.logs)  # the folder exists now; until here logs went to stderr
    except OSError:
        log.warning("the log folder cannot be used; logging to stderr only")
    with store:
        try:
            if not sign_in_at_start(store, clock):
                log.info("nobody signed in: the user chose to stop")
                return EXIT_REFUSED
            window = MainWindow(store, settings, clock)
        except Exception as exc:
            if not is_damage(exc):
                raise
            # Before the event loop runs the crash window never showed: the only word was
            # a line on stderr, and no window at all (tamper QA, a damaged early page).
            log.error("a damaged page met at start-up: %s", type(exc).__name__)
            return refuse(DAMAGED_WHILE_OPEN)
        # The check of every page, off the GUI thread, soon after opening and then every
        # few hours: opening itself reads only what it needs (issue 10).
        window.watch_integrity(IntegrityWatch(store.integrity_check))
        window.resize(1366, 768)
        window.showMaximized()
        if icon.isActive():
            icon.start(ICON_AFTER_MS)
        QTimer.singleShot(0, resume_collector)
        try:
            return app.exec()
        finally:
            icon.stop()  # quit before it came (a test's, or a start-up stopped at once)
            window.stop_background()  # before the record closes under a running check
