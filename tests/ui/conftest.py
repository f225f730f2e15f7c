"""GUI tests fail on any top-level window they leave open."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_leaked_windows(qapp):
    before = {id(w) for w in qapp.topLevelWidgets()}
    yield
    leaked = [
        type(w).__name__ for w in qapp.topLevelWidgets() if w.isVisible() and id(w) not in before
    ]
    assert not leaked, f"windows left open: {leaked}"
