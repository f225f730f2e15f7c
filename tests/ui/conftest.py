"""GUI tests fail on any top-level window or running timer they leave behind."""

from __future__ import annotations

import pytest

from kapdesk.local.settings import Settings
from kapdesk.ui.main_window import MainWindow
from tests.qt_hygiene import no_dangling_timers, no_leaked_windows

__all__ = ["no_dangling_timers", "no_leaked_windows"]


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_teardown(item):
    """Before pytest-qt closes the test's windows: a main window may close though a session
    runs. The question it would ask (tests/ui/test_keyboard.py) would stay as a leaked
    window."""
    from PySide6.QtWidgets import QApplication

    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow):
            widget._quit_confirmed = True
    yield


@pytest.fixture
def window(qtbot, store, data_dir, clock):
    """The main window on a fresh record, at the common clinic-laptop size."""
    main = MainWindow(store, Settings(data_dir), clock)
    qtbot.addWidget(main)
    main.resize(1366, 768)
    main.show()
    qtbot.waitExposed(main)
    return main


@pytest.fixture
def themed_small(qapp, window):
    """The main window at 1024x600 less a title bar and a taskbar, text at 125 %."""
    from kapdesk.ui.theme import apply_theme

    window.settings.set("font_scale", 1.25)
    apply_theme(qapp, "dark", 1.25)
    window.resize(1024, 544)
    yield window
    qapp.setStyleSheet("")
