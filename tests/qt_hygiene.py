"""Fixtures that fail a GUI test which leaves a running QTimer or an open top-level window
behind (as napari's conftest does): a leaked timer keeps ticking into the next test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtWidgets import QApplication


@pytest.fixture(autouse=True)
def no_dangling_timers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    started: list[QTimer] = []
    real_start = QTimer.start

    def start(self: QTimer, *args: object) -> None:
        started.append(self)
        real_start(self, *args)

    monkeypatch.setattr(QTimer, "start", start)
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    running = [
        timer.parent().__class__.__name__ if timer.parent() else "QTimer"
        for timer in started
        if shiboken6.isValid(timer) and timer.isActive()
    ]
    for timer in started:
        if shiboken6.isValid(timer):
            timer.stop()
    assert not running, f"timers left running, owned by: {running}"


@pytest.fixture(autouse=True)
def no_leaked_windows(qapp: QApplication) -> Iterator[None]:
    before = {id(w) for w in qapp.topLevelWidgets()}
    yield
    leaked = [
        type(w).__name__ for w in qapp.topLevelWidgets() if w.isVisible() and id(w) not in before
    ]
    for widget in qapp.topLevelWidgets():
        if widget.isVisible() and id(widget) not in before:
            widget.close()
    assert not leaked, f"windows left open: {leaked}"
