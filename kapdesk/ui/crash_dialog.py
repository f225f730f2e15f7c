"""Unexpected errors reach the clinician: a window that says entries already saved are safe,
with the traceback (never an error's message, which may quote patient data) to copy.

Under a GUI launcher nothing reads stderr, so logging alone would leave the
clinician guessing. Errors in any thread are handed to the GUI thread through a
queued signal, as mozregression's crash reporter does.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox

from kapdesk.local.logs import LOG_FILE, safe_traceback
from kapdesk.store.errors import DAMAGED_PAGE, is_damage


class CrashReporter(QObject):
    crashed = Signal(str, bool)  # the traceback; whether a damaged page of the record

    def __init__(self, log_folder: Path) -> None:
        super().__init__()
        self.log_path = log_folder / LOG_FILE
        self.shown: set[str] = set()
        self.box: QMessageBox | None = None
        self.crashed.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        """Wrap the logging hooks (kapdesk/local/logs.py): log first, then show."""
        logged = sys.excepthook
        logged_thread = threading.excepthook

        def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
            logged(kind, exc, tb)
            if not issubclass(kind, KeyboardInterrupt):
                self.crashed.emit(safe_traceback(kind, exc, tb), is_damage(exc))

        def thread_hook(args: threading.ExceptHookArgs) -> None:
            logged_thread(args)
            self.crashed.emit(
                safe_traceback(args.exc_type, args.exc_value, args.exc_traceback),
                args.exc_value is not None and is_damage(args.exc_value),
            )

        sys.excepthook = hook
        threading.excepthook = thread_hook

    def _show(self, details: str, damaged: bool = False) -> None:
        # Once per error a run: a repeating error must not bury the screen. Damage once
        # in all: met from two places, the same sentence came twice (Xvfb QA).
        seen = DAMAGED_PAGE if damaged else details
        if seen in self.shown:
            return
        self.shown.add(seen)
        box = QMessageBox()
        box.setIcon(QMessageBox.Icon.Warning)
        # Not "unexpected": the sentence says what it is and what to do (Xvfb QA).
        box.setWindowTitle(
            "kapdesk: part of the record is damaged" if damaged else "kapdesk: unexpected error"
        )
        box.setText(
            # "Enter it again" cannot help with a damaged page (tamper QA: opening a patient
            # stored on one said only "unexpected error").
            DAMAGED_PAGE
            if damaged
            else "kapdesk met an unexpected error. Entries already saved are safe. If "
            "something you just entered is not in the log, enter it again."
        )
        box.setInformativeText(
            f"Where it happened is logged in {self.log_path} (no patient details). The "
            "details below can be copied for support."
        )
        box.setDetailedText(details)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.box = box
        box.open()
