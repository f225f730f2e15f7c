"""A finished session's read-only screen, made while its row is chosen in the patients
page (issue 10: a finished session opens in under 50 ms).

Reading a session and making its screen took ~110-130 ms here, most of it Qt making,
styling and first painting some two hundred widgets. When the clinician rests on an
ended session in the session list (PREPARE_AFTER_MS, the list having the keyboard), the
main window makes that screen hidden; at the loop's next turn paints it once off screen;
and at the turn after, makes the chart pair it took again (ui/chart_pool.py), for a
session resumed instead. Steps of 60-85 ms on the GUI thread, a key pressed meanwhile
handled between them. Enter then only shows the screen (~35 ms). A while after the last
screen made or thrown away (TIDY_AFTER_MS), what thrown-away screens held is handed back.

A screen made ahead is used only for the session it was made for, and only if nothing
was written to the record and no setting changed since (the record's count of committed
writes and the settings' text say so); otherwise it is thrown away and the screen is
made as before. A session of more than MOST_READINGS readings (a streaming monitor's) is
never made ahead: it would hold its readings in memory while the clinician reads the page.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

if TYPE_CHECKING:
    from kapdesk.ui.main_window import MainWindow
    from kapdesk.ui.workspace import SessionWorkspace

log = logging.getLogger(__name__)

PREPARE_AFTER_MS = 800  # the row chosen, and the clinician still on it (QA: 400 ms
# caught a clinician stepping through the rows at two a second, each key then late)
TIDY_AFTER_MS = 2000
MOST_READINGS = 2_000


class ReviewAhead(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ready: tuple[uuid.UUID, object, SessionWorkspace] | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(PREPARE_AFTER_MS)
        self.timer.timeout.connect(self.prepare)
        self.tidy = QTimer(self)
        self.tidy.setSingleShot(True)
        self.tidy.setInterval(TIDY_AFTER_MS)
        self.tidy.timeout.connect(self._tidy)
        page = window.patients_page
        page.session_list.selectionModel().currentChanged.connect(lambda *_: self.chosen())
        page.session_list_focused.connect(self.chosen)

    def _stamp(self) -> object:
        return (self.window.store.writes_committed, self.window.settings.snapshot())

    def _wanted(self) -> uuid.UUID | None:
        """The ended session chosen in the list, while the list has the keyboard."""
        window = self.window
        page = window.patients_page
        if window.workspace is not None or window._closing or not page.isVisible():
            return None
        if not page.session_list.hasFocus():
            return None
        return page.chosen_session()

    def chosen(self) -> None:
        """Another row (or the list) was chosen: what was made for another session goes."""
        wanted = self._wanted()
        if self.ready is not None and self.ready[0] != wanted:
            self.discard()
        if wanted is not None:
            self.timer.start()

    def prepare(self) -> None:
        session_id = self._wanted()
        if session_id is None:
            return
        stamp = self._stamp()
        if self.ready is not None:
            if self.ready[:2] == (session_id, stamp):
                return
            self.discard()
        store = self.window.store
        try:
            if store.session(session_id)["ended_at"] is None:
                return  # resumed, never read only
            if store.readings_count(session_id) > MOST_READINGS:
                return
            workspace = self.window.make_workspace(session_id, review=True)
        except Exception as exc:  # noqa: BLE001 (whatever it is, Enter meets it)
            # Unasked, in the background: what went wrong is met, and said, on Enter.
            log.info("a screen made ahead failed: %s", type(exc).__name__)
            return
        self.window.pages.addWidget(workspace)  # a page not shown: the window's size, styled
        workspace.resize(self.window.pages.size())
        self.ready = (session_id, stamp, workspace)
        QTimer.singleShot(0, lambda: self._paint(workspace))
        self.tidy.start()

    def _paint(self, workspace: SessionWorkspace) -> None:
        """Styled and painted once off screen: Qt's caches and the text layouts made."""
        if self.ready is not None and self.ready[2] is workspace:
            workspace.ensurePolished()
            # The readings too, at the size shown: a chart not shown draws them when
            # shown (bp_chart.py), and Enter then drew and painted it twice (~8 ms).
            workspace.chart.draw_if_hidden()
            workspace.grab()
            # A third step: the chart pair this screen took, made again for the session
            # opened instead (one resumed), which made its own otherwise (~70 ms).
            QTimer.singleShot(0, self.window.make_spare_charts)

    def take(self, session_id: uuid.UUID) -> SessionWorkspace | None:
        """The screen made for ``session_id`` if it is current; else None (and it goes)."""
        self.timer.stop()
        ready, self.ready = self.ready, None
        if ready is None:
            return None
        if ready[:2] == (session_id, self._stamp()):
            return ready[2]
        self._throw_away(ready[2])
        return None

    def discard(self) -> None:
        self.timer.stop()
        ready, self.ready = self.ready, None
        if ready is not None:
            self._throw_away(ready[2])

    def _throw_away(self, workspace: SessionWorkspace) -> None:
        workspace.release()
        self.window.pages.removeWidget(workspace)
        workspace.deleteLater()
        # Its objects are freed at the tidy: screens made in a row froze those thrown
        # away before them (local/memory.py), and memory grew while browsing (QA).
        self.tidy.start()

    def _tidy(self) -> None:
        window = self.window
        if window.workspace is None and not window._closing:
            window.give_back_memory_now()
            window.make_spare_charts()
