"""GUI tests fail on any top-level window or running timer they leave behind."""

from __future__ import annotations

import pytest

from kapdesk.local.settings import Settings
from kapdesk.ui.main_window import MainWindow
from tests.qt_hygiene import no_dangling_timers, no_leaked_windows

__all__ = ["no_dangling_timers", "no_leaked_windows"]


@pytest.fixture
def window(qtbot, store, data_dir, clock):
    """The main window on a fresh record, at the common clinic-laptop size."""
    main = MainWindow(store, Settings(data_dir), clock)
    qtbot.addWidget(main)
    main.resize(1366, 768)
    main.show()
    qtbot.waitExposed(main)
    return main
