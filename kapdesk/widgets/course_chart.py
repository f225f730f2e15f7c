"""The course of treatment: scores, dose and blood pressure per dosing session, one panel
above the other on a shared axis of session numbers (each with its local date).

Drawn in the BP chart's language (bp_chart.py): carets for systolic (v) and diastolic
(^) joined by a bar, threshold lines that carry their numbers, and every mark also said
in words, so nothing relies on colour. A person moves through the sessions with the
arrow keys or the mouse; the selected session's values are spelled out above the chart.

On a short window (a clinic laptop's 1024x600 gives the chart about 410 px) the chart is
laid out short, so the panels keep their height: the readout and the finding take one line
each, ending in "…" with the whole text in their tooltips; one legend line instead of
two; the dose panel is thin, bars alone; the BP panel's words give way to its carets.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QFontMetrics, QKeyEvent, QMouseEvent, QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QStackedLayout, QToolTip, QVBoxLayout, QWidget

from kapdesk.clinical.alerts import AlertThresholds
from kapdesk.clinical.course import CourseSession, CourseSummary, SessionMarks
from kapdesk.clinical.self_report import Instrument
from kapdesk.widgets.chart_colours import DIM, ChartColours
from kapdesk.widgets.chart_words import text_width
from kapdesk.widgets.course_panels import (
    BP_LEGEND,
    BP_WORDS,
    ITEM9_LEGEND,
    BPPanel,
    DosePanel,
    Entry,
    PanelSize,
    ScoresPanel,
    fill_legend,
    legend_width,
    new_legend,
    new_plot,
    right_axis_width,
)
from kapdesk.widgets.course_series import CourseSeries, course_series, session_lines

EMPTY_SENTENCE = "No dosing sessions in this course yet: the chart begins with the first one."
NO_SELECTION = "Click a session, or use the arrow keys, to read its values here."
MIN_SPAN = 5  # sessions
TICK_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
WORDS_EMS = 2.6  # sessions closer than this leave their dose and counts to the hover text
SHORT_EMS = 32.5  # a chart shorter than this many font sizes (520 px at 16) is laid out short
DOSE_SHORT_EMS = 2.5  # the dose panel's height when short: bars alone
AXIS_EMS = 2.6  # the session axis's height: two lines, number then date
NO_LIMIT = 16_777_215  # Qt's QWIDGETSIZE_MAX
LABELS = ("score", "dose mg", "BP mmHg")


class CourseChart(QFrame):
    session_selected = Signal(object)  # the selected session's session_id, or None
    session_activated = Signal(object)  # session_id: Enter or a double-click on it

    def __init__(
        self, colours: ChartColours = DIM, font_px: int = 16, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.colours = colours
        self._font_px = font_px
        self.setObjectName("courseChart")
        self.setAccessibleName("Course of treatment chart")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setStyleSheet(
            f"#courseChart {{ background: {colours.background}; border: 2px solid transparent; }}"
            f"#courseChart:focus {{ border-color: {colours.foreground}; }}"
            f"QLabel {{ color: {colours.foreground}; font-size: {font_px}px; }}"
            f"#courseFinding {{ color: {colours.caution}; font-weight: bold; }}"
        )
        self._sessions: list[CourseSession] = []
        self._marks: dict[uuid.UUID, SessionMarks] = {}
        self._instruments: Mapping[str, Instrument] = {}
        self._thresholds = AlertThresholds()
        self._series: CourseSeries | None = None
        self._selected: int | None = None  # an index into _sessions
        self._hovered: int | None = None
        self._hover_text = ""
        self._fitted: tuple[object, ...] | None = None  # the sizes the panels were fitted to
        self._tick_width = 0.0  # the widest tick label's, with room between labels
        self._tick_labels: list[str] = []
        self._short = False  # laid out for a short window
        self._legend_entries: list[str] | None = None  # the short legend's, as drawn

        self._empty = QLabel(EMPTY_SENTENCE)
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        # Each sentence twice: wrapped when there is room, else on one line ending in "…"
        # with the whole sentence in its tooltip; one of the two is shown.
        self._readout = QLabel(NO_SELECTION)
        self._readout.setWordWrap(True)
        self._readout.setMinimumHeight(int(font_px * 2.8))  # two lines: the plots stay put
        self._finding_full = ""
        self._finding = QLabel()
        self._finding.setObjectName("courseFinding")
        self._finding.setWordWrap(True)
        self._finding.hide()
        self._view = pg.GraphicsLayoutWidget()
        self._view.setBackground(colours.background)
        self._view.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys are the chart's
        # The mouse is read off Qt's own events: pyqtgraph's scene drops moves that come
        # within 10 ms of the last (the pointer's resting place among them) and the
        # double-click (pyqtgraph issue 91).
        self._view.viewport().setMouseTracking(True)
        self._view.viewport().installEventFilter(self)
        self._plots = [
            new_plot(colours, font_px, label, right_axis_width(font_px, [])) for label in LABELS
        ]
        self._scores = ScoresPanel(self._plots[0], colours, font_px)
        self._doses = DosePanel(self._plots[1], colours, font_px)
        self._bp = BPPanel(self._plots[2], colours, font_px)
        self._axis = self._plots[2].getAxis("bottom")
        self._axis.setHeight(int(font_px * AXIS_EMS))  # two lines: number, then date
        # The scores' legend over them and the BP's over it; when short, the first is the
        # one legend of the chart and the second has no entries and no height.
        self._legends = [new_legend(colours, font_px) for _ in range(2)]
        self._lay_out_plots()
        self._bands = [self._selection_band(plot) for plot in self._plots]

        page = QWidget()
        self._column = column = QVBoxLayout(page)
        column.setContentsMargins(8, 4, 8, 4)
        column.addWidget(self._readout)
        column.addWidget(self._view, 1)
        column.addWidget(self._finding)
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self._empty)
        self._stack.addWidget(page)

    def _lay_out_plots(self) -> None:
        """Scores, dose and BP one above the other, each legend over its panel."""
        grid = self._view.ci
        grid.setContentsMargins(0, 2, 2, 0)
        grid.setSpacing(4)
        fill_legend(self._legends[0], self._scores.legend_entries(), self._font_px)
        fill_legend(self._legends[1], self._bp.legend_entries(), self._font_px)
        rows = [
            self._legends[0],
            self._plots[0],
            self._plots[1],
            self._legends[1],
            self._plots[2],
        ]
        for row, item in enumerate(rows):
            grid.addItem(item, row=row, col=0)
            if row in (0, 3):
                grid.layout.setAlignment(item, Qt.AlignmentFlag.AlignLeft)
        for row, stretch in ((1, 4), (2, 2), (4, 5)):
            grid.layout.setRowStretchFactor(row, stretch)
        for plot in self._plots:
            # pyqtgraph makes each plot's options menu without a parent; it would outlive us.
            plot.ctrlMenu.setParent(self, plot.ctrlMenu.windowFlags())
            plot.getViewBox().sigResized.connect(self._fit)
            if plot is not self._plots[2]:
                plot.setXLink(self._plots[2])
                plot.getAxis("bottom").setStyle(showValues=False)

    def _selection_band(self, plot: pg.PlotItem) -> pg.LinearRegionItem:
        band = pg.LinearRegionItem(
            orientation="vertical",
            movable=False,
            brush=pg.mkBrush(self.colours.foreground + "2a"),
            pen=pg.mkPen(self.colours.foreground + "90", width=1),
        )
        band.setZValue(-25)
        band.hide()
        plot.addItem(band)
        return band

    # ------------------------------------------------------------------ the course

    def set_course(
        self,
        sessions: Sequence[CourseSession],
        summary: CourseSummary | None = None,
        instruments: Mapping[str, Instrument] | None = None,
        thresholds: AlertThresholds | None = None,
    ) -> None:
        """Replace everything shown. ``summary`` (clinical.course.summarise_course) gives
        the response, remission and pre-dose marks and the course's BP finding, shown under
        the BP; ``instruments`` the scales' names and the PHQ-9 bands; ``thresholds`` the
        caution lines (the same the summary was made with)."""
        previous = self.selected_session()
        self._sessions = sorted(sessions, key=lambda s: s.number)
        self._marks = {m.session_id: m for m in summary.sessions} if summary else {}
        self._instruments = dict(instruments or {})
        self._thresholds = thresholds or AlertThresholds()
        self._hovered = None
        self._finding_full = (summary.findings.trend_reason if summary else None) or ""
        self._finding.setText(self._finding_full)
        self._show_sentences()
        if not self._sessions:
            self._series = None
            self._stack.setCurrentWidget(self._empty)
            self._set_selected(None)
            return
        self._stack.setCurrentIndex(1)
        self._series = course_series(self._sessions, self._marks)
        phq9 = self._instruments.get("phq9")
        width = right_axis_width(self._font_px, [b.name for b in phq9.bands] if phq9 else [])
        for plot in self._plots:
            plot.getAxis("right").setWidth(width)
        self._scores.show(self._series, phq9)
        self._doses.show(self._series)
        self._bp.show(self._series, self._thresholds)
        metrics = QFontMetrics(self._axis.style["tickFont"] or self.font())
        lines = {line for tick in self._series.ticks for line in tick.split("\n")}
        self._tick_width = max(map(metrics.horizontalAdvance, lines)) + self._font_px * 0.4
        self._fitted = None
        self._legend_entries = None
        self._fit()
        ids = [s.session_id for s in self._sessions]
        self._set_selected(ids.index(previous) if previous in ids else None)

    def _fit(self) -> None:
        """Fit what depends on pixels to the panels' size: tick labels at every session
        while they fit, else at every 2nd, 5th, ...; the words' margins; the carets."""
        series = self._series
        if series is None:
            return
        boxes = [plot.getViewBox() for plot in self._plots]
        width = boxes[2].width() or self.width() * 0.8
        first, last = float(series.number[0]), float(series.number[-1])
        # Room for six sessions at least: a short course sits at the left of the space it
        # will grow into, not in bars as wide as the screen. At either end, room for half a
        # session and a bit, or for half the widest word drawn at one ("item 9").
        last = max(last, first + MIN_SPAN)
        span, margin = last - first, 0.6
        per_session = width / (span + 2 * margin)
        half_word = text_width("item 9", self._font_px) / 2 + 4
        if margin * per_session < half_word and span > 0:
            per_session = max(width - 2 * half_word, 1.0) / span
            margin = half_word / per_session
        self._plots[2].setXRange(first - margin, last + margin, padding=0)
        step = next((s for s in TICK_STEPS if s * per_session >= self._tick_width), 1000)
        words = per_session >= WORDS_EMS * self._font_px
        fitted = (
            self._short,
            round(self._view.width()),
            step,
            words,
            round(per_session),
            *(round(box.height()) for box in boxes),
        )
        if fitted == self._fitted:
            return
        self._fitted = fitted
        labelled = [
            (n, tick) for n, tick in zip(series.number, series.ticks, strict=True) if n % step == 0
        ]
        if step == 1 or not labelled:
            labelled = list(zip(series.number, series.ticks, strict=True))
        self._tick_labels = [text for _n, text in labelled]
        for plot in self._plots:
            plot.getAxis("bottom").setTicks([labelled, [(n, "") for n in series.number]])
        sizes = [PanelSize(per_session, box.height() or 150.0, words) for box in boxes]
        self._scores.fit(sizes[0])
        self._doses.fit(sizes[1])
        drawn = self._bp.fit(sizes[2])
        if self._short:
            # One legend line: words the line has no room to explain are not drawn.
            explained = self._fill_short_legend(series, drawn)
            if drawn - explained:
                self._bp.fit(sizes[2], explained)

    # ------------------------------------------------------------------ a short window

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._set_short(event.size().height() < SHORT_EMS * self._font_px)
        super().resizeEvent(event)

    def _set_short(self, short: bool) -> None:
        """Lay the chart out for a short window, or for a tall one."""
        if short == self._short:
            return
        self._short = short
        self._show_sentences()
        self._column.setContentsMargins(8, 2 if short else 4, 8, 2 if short else 4)
        self._column.setSpacing(2 if short else -1)
        dose = self._plots[1]
        dose.setMaximumHeight(round(self._font_px * DOSE_SHORT_EMS) if short else NO_LIMIT)
        grid = self._view.ci.layout
        grid.setRowStretchFactor(2, 0 if short else 2)
        legends = self._legends
        legends[1].setMaximumHeight(0 if short else NO_LIMIT)
        legends[1].setVisible(not short)
        grid.setRowSpacing(2, 0 if short else 4)  # under the dose: the BP legend's row is empty
        if short:
            fill_legend(legends[1], [], self._font_px)
        else:
            fill_legend(legends[0], self._scores.legend_entries(), self._font_px)
            fill_legend(legends[1], self._bp.legend_entries(), self._font_px)
        self._legend_entries = None
        self._fitted = None
        self._fit()

    def _fill_short_legend(self, series: CourseSeries, drawn: set[str]) -> set[str]:
        """The scores' and the BP's legends in one line: the marks always, and what the
        words drawn mean while there is room: "high" first, then the counts (a word with
        no room to be explained is not drawn: the readout and the hover say it), then
        "item 9" (drawn whatever: it names itself, by its ring on the PHQ-9 total).
        Returns the BP words named."""
        marks = self._scores.legend_entries()[:3]
        words = [(kind, [BP_LEGEND[kind]]) for kind in BP_WORDS if kind in drawn]
        if series.item9.any():
            words.append(("item 9", list(ITEM9_LEGEND)))
        room = self._view.width() - 8
        kept: dict[str, str] = {}
        carets = self._bp.legend_entries(())

        def line(names: dict[str, str]) -> list[Entry]:
            item9 = [(None, names["item 9"])] if "item 9" in names else []
            rest = [(None, names[kind]) for kind in BP_WORDS if kind in names]
            return [*marks, *item9, *carets, *rest]

        for kind, texts in words:
            for text in texts:
                if legend_width(self._font_px, line({**kept, kind: text}), True) <= room:
                    kept[kind] = text
                    break
        entries = line(kept)
        names = [name for _item, name in entries]
        if names != self._legend_entries:
            self._legend_entries = names
            fill_legend(self._legends[0], entries, self._font_px, compact=True)
        return {kind for kind in BP_WORDS if kind in kept}

    def _show_sentences(self) -> None:
        """The readout and the finding, whole and wrapped at every size: cut to one line
        at 1000 px they lost the dose, the BP and the alerts, and "re-screen for
        hypertension", the part that says what to do (QA)."""
        self._finding.setVisible(bool(self._finding_full))

    # ------------------------------------------------------------------ selection

    def select_session(self, session_id: uuid.UUID) -> bool:
        """Select a session of the course; False (selection unchanged) if it is not one."""
        for index, session in enumerate(self._sessions):
            if session.session_id == session_id:
                self._set_selected(index)
                return True
        return False

    def selected_session(self) -> uuid.UUID | None:
        if self._selected is None:
            return None
        return self._sessions[self._selected].session_id

    def _set_selected(self, index: int | None) -> None:
        changed = index != self._selected
        self._selected = index
        for band in self._bands:
            band.setVisible(index is not None)
        if index is None:
            text = NO_SELECTION if self._sessions else ""
        else:
            number = float(self._sessions[index].number)
            for band in self._bands:
                band.setRegion((number - 0.45, number + 0.45))
            text = " · ".join(self._lines(index))
        self._readout.setText(text)
        self.setAccessibleDescription(text)
        if changed:
            self.session_selected.emit(self.selected_session())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        count, current, key = len(self._sessions), self._selected, event.key()
        moves = {
            Qt.Key.Key_Left: count - 1 if current is None else max(0, current - 1),
            Qt.Key.Key_Right: 0 if current is None else min(count - 1, current + 1),
            Qt.Key.Key_Home: 0,
            Qt.Key.Key_End: count - 1,
        }
        if count and key in moves:
            self._set_selected(moves[Qt.Key(key)])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and current is not None:
            self.session_activated.emit(self.selected_session())
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    # ------------------------------------------------------------------ the mouse

    def _session_at(self, scene_pos: QPointF) -> int | None:
        if self._series is None:
            return None
        for plot in self._plots:
            if plot.sceneBoundingRect().contains(scene_pos):
                x = plot.getViewBox().mapSceneToView(scene_pos).x()
                index = int(np.argmin(np.abs(self._series.number - x)))
                return index if abs(self._series.number[index] - x) <= 0.5 else None
        return None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._view.viewport():
            kind = event.type()
            if kind == QEvent.Type.Leave:
                self._hover(None)
            elif isinstance(event, QMouseEvent):
                if kind == QEvent.Type.MouseMove:
                    self._hover(self._scene_pos(event))
                elif kind == QEvent.Type.MouseButtonPress:
                    self._click(event, double=False)
                elif kind == QEvent.Type.MouseButtonDblClick:
                    self._click(event, double=True)
        return super().eventFilter(watched, event)

    def _scene_pos(self, event: QMouseEvent) -> QPointF:
        return QPointF(self._view.mapToScene(event.position().toPoint()))

    def _click(self, event: QMouseEvent, double: bool) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        index = self._session_at(self._scene_pos(event))
        if event.button() != Qt.MouseButton.LeftButton or index is None:
            return
        self._set_selected(index)
        if double:
            self.session_activated.emit(self.selected_session())

    def _hover(self, scene_pos: QPointF | None) -> None:
        index = None if scene_pos is None else self._session_at(scene_pos)
        if index == self._hovered:
            return
        self._hovered = index
        if index is None or scene_pos is None:
            self._hover_text = ""
            QToolTip.hideText()
            return
        self._hover_text = "\n".join(self._lines(index))
        where = self._view.mapToGlobal(self._view.mapFromScene(scene_pos)) + QPoint(18, 18)
        QToolTip.showText(where, self._hover_text, self._view)

    # ------------------------------------------------------------------ what a person reads

    def _lines(self, index: int) -> list[str]:
        session = self._sessions[index]
        return session_lines(session, self._marks.get(session.session_id), self._instruments)

    def session_text(self, session_id: uuid.UUID) -> str:
        """The hover text of a session: its number, local date, scores, dose, BP, alerts."""
        ids = [s.session_id for s in self._sessions]
        return "\n".join(self._lines(ids.index(session_id)))

    def hover_text(self) -> str:
        """What the hover shows now; empty when the pointer is over no session."""
        return self._hover_text

    def readout_text(self) -> str:
        return str(self._readout.text())

    def finding_text(self) -> str:
        """The course-level finding shown under the BP panel, whole (on a short window it
        may be drawn cut short, ending in "…", whole in its tooltip); empty when none."""
        return self._finding_full

    def empty_sentence(self) -> str | None:
        """The sentence shown instead of the chart when the course has no session."""
        return self._empty.text() if self._stack.currentWidget() is self._empty else None

    def caution_labels(self) -> list[str]:
        """The caution lines' captions, e.g. "caution 140", as drawn."""
        return self._bp.caution_labels()

    def score_points(self, instrument: str) -> list[tuple[float, float]]:
        """(session number, total) of each drawn score of "phq9" or "gad7"; NaN: a gap."""
        x, y = self._scores.drawn.get(instrument, (np.empty(0), np.empty(0)))
        return [(float(a), float(b)) for a, b in zip(x, y, strict=True)]

    def words_drawn(self) -> dict[str, list[tuple[float, str]]]:
        """The words drawn at sessions, by what they mark: (session number, word)."""
        words = {
            "phq9": self._scores.marks["phq9"],
            "gad7": self._scores.marks["gad7"],
            "item 9": self._scores.marks["item 9"],
            "high": self._bp.high,
            "counts": self._bp.counts,
            "dose": self._doses.values,
        }
        return {name: list(drawn.drawn) for name, drawn in words.items()}

    def tick_labels(self) -> list[str]:
        """The session axis's labels as drawn: number, a line break, local date."""
        return list(self._tick_labels)

    def plot_items(self) -> list[pg.PlotItem]:
        return list(self._plots)

    def graphics_view(self) -> pg.GraphicsLayoutWidget:
        return self._view
