"""The window shown once the record is unlocked.

Until the session workspace lands (the next milestone) it shows what the
record holds and whether it verifies, so a clinic can check an installation.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from kapdesk import __version__
from kapdesk.store import RecordStore


class MainWindow(QMainWindow):
    def __init__(self, store: RecordStore) -> None:
        super().__init__()
        self._store = store
        self.setWindowTitle(f"kapdesk {__version__}")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(48, 40, 48, 40)
        title = QLabel("The record is unlocked")
        title.setObjectName("title")
        layout.addWidget(title)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setObjectName("hint")
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.verdict)
        layout.addStretch(1)
        self.setCentralWidget(central)
        verify = QAction("&Verify the record", self)
        verify.setShortcut(QKeySequence("Ctrl+Shift+V"))
        verify.setToolTip("Verify the record (Ctrl+Shift+V)")
        verify.triggered.connect(self.run_verify)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        menu = self.menuBar().addMenu("&Record")
        menu.addAction(verify)
        menu.addAction(quit_action)
        # Also on the window itself, so shortcuts work while the menu bar is hidden.
        self.addActions([verify, quit_action])
        self.refresh()

    def refresh(self) -> None:
        store = self._store
        self.summary.setText(
            f"Data folder: {store.folder}\n"
            f"Patients: {store.count('patient')}    Sessions: {store.count('session')}    "
            f"Vitals readings: {store.count('vitals')}    "
            f"Observations: {store.count('observation')}"
        )

    def run_verify(self) -> None:
        self.verdict.setText(self._store.verify().render())
