"""Starting the app: Qt, the theme, unlocking, the main window, and a clean close."""

from __future__ import annotations

import logging
import os
import sys

from PySide6.QtWidgets import QApplication, QMessageBox

from kapdesk.clock import SystemClock
from kapdesk.passphrase import PASSPHRASE_VARIABLE, from_environment
from kapdesk.paths import Paths
from kapdesk.settings import Settings
from kapdesk.store import RecordStore, StoreError
from kapdesk.store.vault import PassphraseRequest
from kapdesk.ui.main_window import MainWindow
from kapdesk.ui.theme import apply_theme
from kapdesk.ui.unlock_dialog import ask_passphrase

log = logging.getLogger(__name__)


def gui_passphrase(request: PassphraseRequest) -> str | None:
    if PASSPHRASE_VARIABLE in os.environ:
        return from_environment(request)
    return ask_passphrase(request)


def run_app(paths: Paths, *, login_name: str) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("kapdesk")
    settings = Settings(paths.data)
    apply_theme(app, settings.get("theme"), settings.get("font_scale"))
    clock = SystemClock()
    try:
        store = RecordStore.open(
            paths.data,
            passphrase=gui_passphrase,
            clock=clock.now_utc,
            login_name=login_name,
        )
    except StoreError as exc:
        log.info("could not open the record: %s", type(exc).__name__)
        QMessageBox.warning(None, "kapdesk", str(exc))
        return 2
    with store:
        window = MainWindow(store, settings, clock.now_utc)
        window.resize(1366, 768)
        window.showMaximized()
        return app.exec()
