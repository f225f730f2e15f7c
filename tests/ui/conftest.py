"""GUI tests fail on any top-level window they leave open."""

from __future__ import annotations

import pytest

from kapdesk.settings import Settings
from kapdesk.ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def no_leaked_windows(qapp):
    before = {id(w) for w in qapp.topLevelWidgets()}
    yield
    leaked = [
        type(w).__name__ for w in qapp.topLevelWidgets() if w.isVisible() and id(w) not in before
    ]
    assert not leaked, f"windows left open: {leaked}"


@pytest.fixture
def window(qtbot, store, data_dir, clock):
    """The main window on a fresh record, at the common clinic-laptop size."""
    main = MainWindow(store, Settings(data_dir), clock.now_utc)
    qtbot.addWidget(main)
    main.resize(1366, 768)
    main.show()
    qtbot.waitExposed(main)
    return main
