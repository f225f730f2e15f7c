"""The blood-pressure chart, drawn as on an anaesthesia record.

Systolic is a downward caret (v) and diastolic an upward caret (^), joined by
a vertical bar; heart rate is a dot on the same grid, read off the right-hand
axis (CLINICAL.md, "Charting convention"). x is minutes from the first dose.
Threshold lines are the clinic's alert thresholds, the ones the banner and the
discharge criteria use, and carry their numbers as text, so nothing relies on colour.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QGraphicsItem

from kapdesk.clinical.alerts import AlertThresholds
from kapdesk.widgets.chart_colours import DIM, ChartColours

WIDE_BARS_UP_TO = 100
AXIS_WIDTH = 88
SERIES_COLUMN = {"systolic": 1, "diastolic": 2, "heart rate": 3}  # in _readings
BIN_PX = 3  # past one reading per 3 px of the plot's width, columns draw their extremes
BASELINE_BAND = 4  # mmHg either side: shows the level without hiding readings near it


def _drawn_once(item: QGraphicsItem) -> None:
    """Keep ``item`` as drawn until it changes (grid, axes, threshold and dose lines,
    baseline bands): each new reading repaints the plot, and these were drawn again every
    time, about a fifth of a repaint (issue 10). Pixel for pixel the same."""
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def place_items_promptly(view: pg.ViewBox) -> None:
    """Map ``view``'s items to its size and range as soon as either changes.

    pyqtgraph does it as the next paint begins (ViewBox.prepareForPaint): every item then
    moves while the plot is being painted, which asks for another paint at once. Each
    session screen shown painted its chart and strip twice, ~10 ms a paint (issue 10)."""
    view.sigResized.connect(lambda *_: view.updateMatrix())
    view.sigRangeChanged.connect(lambda *_: view.updateMatrix())


def changes_before_shown(plot: pg.PlotWidget) -> None:
    """Let the plot's scene pass on what changed while the plot was hidden (queued by Qt
    until the event loop turns), as the plot is shown: passed on after its first paint,
    the changes painted the whole plot again (a screen made ahead, a chart made ahead and
    given its readings, issue 10)."""
    scene = plot.scene()
    if scene is not None:
        QCoreApplication.sendPostedEvents(scene, QEvent.Type.MetaCall)


class BPChart(pg.PlotWidget):  # type: ignore[misc]
    def __init__(
        self,
        colours: ChartColours = DIM,
        font_px: int = 16,
        thresholds: AlertThresholds | None = None,
    ) -> None:
        super().__init__(background=colours.background)
        self.colours = colours
        self._font_px = font_px
        limits = thresholds or AlertThresholds()
        self.setAccessibleName("Blood pressure chart")
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        place_items_promptly(plot.getViewBox())
        # The grid is one line item (see _draw_grid); pyqtgraph's axis grid is re-blended
        # over the whole plot on every render and cost ~10 ms per redraw here.
        self._grid = pg.PlotDataItem(
            pen=pg.mkPen(colours.foreground + "30", width=1), connect="pairs"
        )
        self._grid.setZValue(-30)
        _drawn_once(self._grid)
        self.addItem(self._grid)
        self._grid_range: tuple[float, float, float, float] | None = None
        plot.showAxis("right")
        font = QFont()
        font.setPixelSize(font_px)
        for name, label in (
            ("left", "mmHg"),
            ("bottom", "minutes from first dose"),
            ("right", "HR /min"),
        ):
            axis = plot.getAxis(name)
            axis.setTickFont(font)
            axis.setTextPen(colours.foreground)
            axis.setPen(colours.foreground)
            axis.setLabel(label, color=colours.foreground, **{"font-size": f"{font_px}px"})
        plot.getAxis("right").linkToView(plot.getViewBox())
        self._axis_label, self._axis_note, self._axis_short = "minutes from first dose", "", ""
        # Room above the plot for half the top tick's figures ("200"), which are centred
        # on the top edge: they were cut in half (issue 10 QA).
        margins = plot.getContentsMargins()
        plot.setContentsMargins(margins[0], font_px // 2 + 2, margins[2], margins[3])
        for name in ("left", "bottom", "right"):
            _drawn_once(plot.getAxis(name))
        # Fixed axis widths, shared with the sedation strip, so the time axes line up.
        plot.getAxis("left").setWidth(AXIS_WIDTH)
        plot.getAxis("right").setWidth(AXIS_WIDTH)
        self.setMouseEnabled(x=False, y=False)
        self.setYRange(40, 200, padding=0)
        # Both ranges set while empty: the first setXRange with readings in it made
        # pyqtgraph auto-range over every item once more (20 ms of a 30 ms first draw).
        self.setXRange(-10, 60, padding=0)

        # The pre-dose baseline: a narrow band around its systolic and its diastolic value.
        self._baseline_bands = []
        for _ in range(2):
            band = pg.LinearRegionItem(
                orientation="horizontal",
                movable=False,
                brush=pg.mkBrush(colours.baseline + "90"),
                pen=pg.mkPen(None),
            )
            band.setZValue(-20)
            _drawn_once(band)
            band.hide()
            self.addItem(band)
            self._baseline_bands.append(band)
        # At the right edge, under the diastolic band: at the left it ran off the plot
        # ("seline 128/82") and met the threshold labels (issue 9).
        self._baseline_label = pg.TextItem(color=colours.foreground, anchor=(1, 0))
        self._baseline_label.hide()
        self.addItem(self._baseline_label)
        self._threshold_lines = []
        # Systolic labels sit above their line, diastolic ones below: on a short chart (a
        # banner open at 1024x600) 90 and 110 are less than two labels' height apart.
        above, below = [(0, 1), (0, 1)], [(0, 0), (0, 0)]
        for value, colour, style, text, anchors in (
            (limits.caution_systolic, colours.caution, Qt.PenStyle.DashLine, "caution", above),
            (limits.caution_diastolic, colours.caution, Qt.PenStyle.DashLine, "caution", below),
            (limits.urgent_systolic, colours.urgent, Qt.PenStyle.DashDotLine, "urgent", above),
            (limits.urgent_diastolic, colours.urgent, Qt.PenStyle.DashDotLine, "urgent", above),
        ):
            line = pg.InfiniteLine(
                pos=value,
                angle=0,
                movable=False,
                pen=pg.mkPen(colour, width=1.5, style=style),
                label=f"{text} {value}",
                # On the chart's own colour, over a dose line that crosses it (QA: "urgent
                # 110" was struck through by the first dose near the left edge).
                labelOpts={
                    "position": 0.02,
                    "color": colour,
                    "anchors": anchors,
                    "fill": pg.mkBrush(colours.background + "e0"),
                },
            )
            line.setZValue(-4)  # above the dose lines (-5), so its label is too
            _drawn_once(line)
            self.addItem(line)
            self._threshold_lines.append(line)

        self._bars = pg.PlotDataItem(pen=pg.mkPen(colours.systolic, width=2), connect="pairs")
        self._map = pg.PlotDataItem(
            pen=pg.mkPen(colours.foreground, width=1, style=Qt.PenStyle.DotLine)
        )
        self._map.hide()
        size = max(12, font_px)
        self._systolic = pg.ScatterPlotItem(
            symbol="t",
            size=size,
            brush=pg.mkBrush(colours.systolic),
            pen=None,
            hoverable=True,
            tip=functools.partial(self._tip, "systolic"),
        )
        self._diastolic = pg.ScatterPlotItem(
            symbol="t1",
            size=size,
            brush=pg.mkBrush(colours.diastolic),
            pen=None,
            hoverable=True,
            tip=functools.partial(self._tip, "diastolic"),
        )
        self._heart_rate = pg.ScatterPlotItem(
            symbol="o",
            size=size * 0.6,
            brush=pg.mkBrush(colours.heart_rate),
            pen=None,
            hoverable=True,
            tip=functools.partial(self._tip, "heart rate"),
        )
        self._newest = pg.ScatterPlotItem(
            size=size * 1.9, brush=pg.mkBrush(None), pen=pg.mkPen(colours.caution, width=2.5)
        )
        for item in (self._bars, self._map, self._systolic, self._diastolic, self._heart_rate):
            self.addItem(item)
        self.addItem(self._newest)
        self._dose_lines: list[pg.InfiniteLine] = []
        self._x: np.ndarray = np.empty(0)
        self._label_of: Callable[[int], str] = str
        empty = np.empty(0)
        self._readings: tuple[np.ndarray, ...] = (empty, empty, empty, empty, empty)
        self._binned = False
        self._bins: tuple[float, float] | None = None  # the columns' left edge and width
        # What each series was last given: a new 1 Hz reading mostly changes no column's
        # highest or lowest value, and pyqtgraph's setData re-makes every point (issue 10).
        self._drawn: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._map_data: tuple[np.ndarray, np.ndarray] = (np.empty(0), np.empty(0))
        self._shown_baseline: tuple[float, float] | None = None

    # ------------------------------------------------ what a person reads off the chart

    def threshold_labels(self) -> list[str]:
        """The threshold lines' captions, e.g. "caution 140", as drawn."""
        return [line.label.toPlainText() for line in self._threshold_lines]

    def bp_points(self) -> list[tuple[float, float, float]]:
        """(minutes, systolic, diastolic) of each BP drawn, oldest first."""
        self.draw_if_hidden()
        xs, systolic = self._systolic.getData()
        _x, diastolic = self._diastolic.getData()
        return [
            (float(x), float(s), float(d)) for x, s, d in zip(xs, systolic, diastolic, strict=True)
        ]

    def heart_rate_points(self) -> list[tuple[float, float]]:
        self.draw_if_hidden()
        xs, rates = self._heart_rate.getData()
        return [(float(x), float(r)) for x, r in zip(xs, rates, strict=True)]

    def dose_marks(self) -> list[float]:
        return [float(line.value()) for line in self._dose_lines if line.isVisible()]

    def baseline_label_inside(self) -> bool:
        """Whether the baseline's label is drawn whole inside the plot (a person reads it)."""
        label = self._baseline_label
        plot = self.getViewBox().sceneBoundingRect()
        return bool(label.isVisible() and plot.contains(label.sceneBoundingRect()))

    def baseline_shown(self) -> tuple[float, float] | None:
        return self._shown_baseline

    def mean_arterial_shown(self) -> bool:
        return bool(self._map.isVisible())

    def mean_arterial_points(self) -> list[tuple[float, float]]:
        self.draw_if_hidden()
        xs, values = self._map_data
        return [(float(x), float(v)) for x, v in zip(xs, values, strict=True)]

    def _tip(self, series: str, x: float, y: float, data: object) -> str:
        """The hover text of a drawn value: which value, and when it was read."""
        label = self._label_of(self.reading_at(series, x, y)) if self._x.size else ""
        return f"{label}\n{series} {y:.0f}"

    def reading_at(self, series: str, x: float, y: float) -> int:
        """The reading a drawn value came from. Past one a column, the column's reading
        holding that value, not the one nearest the column's middle: a column of a
        six-hour chart spans two minutes (issue 10 QA)."""
        self.draw_if_hidden()
        xs = self._x
        if self._binned and self._bins is not None:
            left, width = self._bins
            column = np.floor((x - left) / width)
            lo = int(np.searchsorted(xs, left + column * width, side="left"))
            hi = int(np.searchsorted(xs, left + (column + 1) * width, side="left"))
            values = self._readings[SERIES_COLUMN[series]][lo:hi]
            hits = np.flatnonzero(values == y)
            if hits.size:
                return lo + int(hits[0])
        return int(np.argmin(np.abs(xs - x)))

    def set_readings(
        self,
        minutes: Sequence[float] | np.ndarray,
        systolic: Sequence[float] | np.ndarray,
        diastolic: Sequence[float] | np.ndarray,
        heart_rate: Sequence[float] | np.ndarray,
        mean_arterial: Sequence[float] | np.ndarray,
        labels: Sequence[str] | Callable[[int], str],
    ) -> None:
        """Replace every reading, oldest first; NaN marks a value not taken. ``labels``:
        each reading's hover text, or a function giving reading i's."""
        x = np.asarray(minutes, dtype=float)
        sys_ = np.asarray(systolic, dtype=float)
        hr = np.asarray(heart_rate, dtype=float)
        self._x = x
        self._label_of = labels if callable(labels) else list(labels).__getitem__
        self._readings = (
            x,
            sys_,
            np.asarray(diastolic, dtype=float),
            hr,
            np.asarray(mean_arterial, dtype=float),
        )
        self._fit(x, sys_, hr, self._readings[2])
        if self.isVisible():
            self._draw_readings()
        else:
            # Drawn when shown, at the size the screen's layout gives it: a session screen
            # being built drew a long session's readings twice, ~10 ms each (issue 10).
            self._undrawn = True

    def _draw_readings(self) -> None:
        x, sys_, dia, hr, mean = self._readings
        has_bp = ~np.isnan(sys_)
        bp_x, bp_sys, bp_dia = x[has_bp], sys_[has_bp], dia[has_bp]
        has_hr = ~np.isnan(hr)
        hr_x, hr_y = x[has_hr], hr[has_hr]
        bar_x, bar_sys, bar_dia = bp_x, bp_sys, bp_dia
        columns = self._pixel_columns()
        self._binned = max(bp_x.size, hr_x.size) > columns
        if self._binned:
            # More readings than the plot has columns of BIN_PX pixels (a long 1 Hz stream):
            # each column draws its highest and lowest systolic, diastolic and heart rate,
            # and one bar from the highest systolic to the lowest diastolic. Every value
            # drawn is a reading, none outside them is hidden, and a caret is wider than a
            # column, so the chart looks as if all were drawn (issue 10).
            left, right = self.getViewBox().viewRange()[0]
            width = (right - left) / columns
            self._bins = (left, width)
            bar_x, bar_sys, bar_dia = _envelope(bp_x, bp_sys, bp_dia, left, width)
            bp_sys = _pairs(*_extremes(bp_x, bp_sys, left, width))
            bp_dia = _pairs(*_extremes(bp_x, bp_dia, left, width))
            bp_x = np.repeat(bar_x, 2)
            hr_x, hr_y = _extremes_xy(hr_x, hr_y, left, width)
        self._put(self._systolic, bp_x, bp_sys)
        self._put(self._diastolic, bp_x, bp_dia)
        bars_x = np.repeat(bar_x, 2)
        bars_y = np.empty(bars_x.size)
        bars_y[0::2], bars_y[1::2] = bar_sys, bar_dia
        # Thick bars read best from across the room while readings are few; past
        # WIDE_BARS_UP_TO they stand close together and a 2 px pen (Qt's slow wide-line
        # path) doubled the redraw time.
        width_px = 2 if bar_x.size <= WIDE_BARS_UP_TO else 1
        if self._bars.opts["pen"].width() != width_px:
            self._bars.setPen(pg.mkPen(self.colours.systolic, width=width_px))
        self._put(self._bars, bars_x, bars_y)
        self._put(self._heart_rate, hr_x, hr_y)
        self._map_data = (x[has_bp], mean[has_bp])
        if self._map.isVisible():
            self._map.setData(*self._map_data)
        if has_bp.any():
            last = np.flatnonzero(has_bp)[-1]
            self._newest.setData([x[last], x[last]], [sys_[last], dia[last]], symbol=["t", "t1"])
        else:
            self._newest.clear()

    def _put(self, item: pg.GraphicsObject, x: np.ndarray, y: np.ndarray) -> None:
        """Give ``item`` these points unless they are the ones it draws already; to a
        scatter, only the points after those (a new reading, a new column): pyqtgraph's
        setData makes every point again, addPoints only the new ones."""
        was = self._drawn.get(id(item))
        self._drawn[id(item)] = (x, y)
        if was is not None:
            kept = was[0].size
            if (
                kept <= x.size
                and np.array_equal(was[0], x[:kept])
                and np.array_equal(was[1], y[:kept])
            ):
                if kept == x.size:
                    return
                if isinstance(item, pg.ScatterPlotItem):
                    item.addPoints(x=x[kept:], y=y[kept:])
                    return
        item.setData(x, y)

    def _pixel_columns(self) -> int:
        return max(100, int(self.getViewBox().width()) or self.width()) // BIN_PX

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # pyqtgraph resizes before __init__ is done, and again while closing, after it
        # dropped its plot item.
        if getattr(self, "_binned", False) and getattr(self, "plotItem", None) is not None:
            # The columns are the plot's pixels: drawn again for as many as it has now;
            # once shown (a screen being laid out resizes it several times first, ~12 ms
            # a time at six hours of 1 Hz readings).
            if self.isVisible():
                self._draw_readings()
            else:
                self._undrawn = True
            if self._axis_note:
                self._label_time_axis()  # what fits the line at this width

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.draw_if_hidden()
        changes_before_shown(self)

    def draw_if_hidden(self) -> None:
        """Draw what was given or resized while hidden (at once, for a caller asking what
        is drawn: as it would be drawn at this size)."""
        if getattr(self, "_undrawn", False):
            self._undrawn = False
            self._draw_readings()

    def set_doses(self, minutes: Sequence[float]) -> None:
        """A labelled line at each dose ("dose 1", "dose 2" ...). The lines are kept and
        moved, shown or hidden: made (~5 ms each) only for a dose beyond those made
        before, or ahead of need (make_dose_lines)."""
        if self.dose_marks() == list(minutes):
            return  # unchanged
        self.make_dose_lines(len(minutes))
        for index, line in enumerate(self._dose_lines):
            if index < len(minutes):
                line.setValue(minutes[index])
                line.show()
            else:
                line.hide()

    def make_dose_lines(self, count: int) -> None:
        """At least ``count`` dose lines, hidden until set_doses places them: a chart made
        ahead of need (ui/chart_pool.py) makes a session's usual doses' lines then."""
        for index in range(len(self._dose_lines) + 1, count + 1):
            line = pg.InfiniteLine(
                pos=0,
                angle=90,
                movable=False,
                pen=pg.mkPen(self.colours.dose, width=2),
                label=f"dose {index}",
                # Near the bottom, under the readings and clear of the threshold labels;
                # staggered, so doses minutes apart do not print over each other.
                labelOpts={"position": 0.04 + 0.07 * ((index - 1) % 3), "color": self.colours.dose},
            )
            line.setZValue(-5)
            _drawn_once(line)
            line.hide()
            self.addItem(line)
            self._dose_lines.append(line)

    def set_time_axis(self, label: str) -> None:
        """What zero is: the first dose, or the session's start before any dose (readings
        before a dose were drawn at +1 "from first dose", issue 9 QA)."""
        self._axis_label = label
        self._label_time_axis()

    def set_axis_note(self, note: str, short: str = "") -> None:
        """Words after the time axis's name, on its line (the newest sedation scores while
        the strip under the chart has no room); ``short``, the same in fewer letters."""
        self._axis_note, self._axis_short = note, short or note
        self._label_time_axis()

    def _label_time_axis(self) -> None:
        """The axis's name and the note, or as much as fits the line: the note before the
        name, and a RASS cut off after its name was a score not shown (second QA pass)."""
        label, note, short = self._axis_label, self._axis_note, self._axis_short
        text = label
        if note:
            room = self.getPlotItem().getAxis("bottom").width() or self.width()
            font = QFont()
            font.setPixelSize(self._font_px)
            metrics = QFontMetrics(font)
            choices = (f"{label} · {note}", f"{label} · {short}", note, short)
            text = next((c for c in choices if metrics.horizontalAdvance(c) <= room), short)
        axis = self.getPlotItem().getAxis("bottom")
        if axis.labelText != text:
            axis.setLabel(
                text, color=self.colours.foreground, **{"font-size": f"{self._font_px}px"}
            )

    def time_axis(self) -> str:
        return self._axis_label

    def axis_note(self) -> str:
        return self._axis_note

    def axis_line(self) -> str:
        """The time axis's line as drawn: its name and the note, or what of them fits."""
        return str(self.getPlotItem().getAxis("bottom").labelText)

    def set_baseline(self, baseline: tuple[float, float] | None) -> None:
        """Mark the pre-dose baseline systolic and diastolic, each as a band of ±BAND mmHg."""
        if baseline == self._shown_baseline:
            return
        self._shown_baseline = baseline
        if baseline is None:
            for item in (*self._baseline_bands, self._baseline_label):
                item.hide()
            return
        for band, value in zip(self._baseline_bands, baseline, strict=True):
            band.setRegion((value - BASELINE_BAND, value + BASELINE_BAND))
            band.show()
        self._baseline_label.setText(f"baseline {baseline[0]:.0f}/{baseline[1]:.0f}")
        self._place_baseline_label()
        self._baseline_label.show()

    def _place_baseline_label(self) -> None:
        if self._shown_baseline is not None:
            right = self.getViewBox().viewRange()[0][1]
            self._baseline_label.setPos(right, self._shown_baseline[1] - BASELINE_BAND)

    def show_mean_arterial(self, visible: bool) -> None:
        self._map.setVisible(visible)
        if visible:
            self._map.setData(*self._map_data)

    def _fit(
        self, x: np.ndarray, systolic: np.ndarray, heart_rate: np.ndarray, diastolic: np.ndarray
    ) -> None:
        # Room for a reading every 5 minutes; never narrower than an hour. The right edge
        # moves on in whole grid steps, as a printed record's next page: a new reading
        # every second then changes no range, axis or grid, and nothing but the readings
        # is drawn again (issue 10: a range moved each second redrew the whole chart).
        left = min(-10.0, float(np.nanmin(x)) - 5) if x.size else -10.0
        newest = float(np.nanmax(x)) + 10 if x.size else 60.0
        step = 10.0 if newest - left <= 300 else 30.0
        right = max(60.0, math.ceil(newest / step) * step)
        if self.getViewBox().viewRange()[0] != [left, right]:
            self.setXRange(left, right, padding=0)
            self._place_baseline_label()
        top = 200.0
        for series in (systolic, heart_rate):
            if series.size and not np.isnan(series).all():
                top = max(top, math.ceil((float(np.nanmax(series)) + 15) / 10) * 10)
        # Down to the lowest value where one is under 40 (a diastolic of 20, a heart rate of
        # 35: QA, 300/20 was accepted and its diastolic drawn nowhere).
        bottom = 40.0
        for series in (diastolic, heart_rate):
            if series.size and not np.isnan(series).all():
                bottom = min(bottom, max(0.0, math.floor((float(np.nanmin(series)) - 5) / 10) * 10))
        if self.getViewBox().viewRange()[1] != [bottom, top]:
            self.setYRange(bottom, top, padding=0)
        self._draw_grid(left, right, top, bottom)

    def _draw_grid(self, left: float, right: float, top: float, bottom: float) -> None:
        """Lines every 10 mmHg and every 10 minutes (a reading every 5 fits between)."""
        if self._grid_range == (left, right, top, bottom):
            return
        self._grid_range = (left, right, top, bottom)
        ys = np.arange(bottom, top + 1, 10, dtype=float)
        step = 10 if right - left <= 300 else 30
        xs = np.arange(np.ceil(left / step) * step, right + 1, step, dtype=float)
        grid_x = np.concatenate(
            [np.repeat([[left, right]], ys.size, axis=0).ravel(), np.repeat(xs, 2)]
        )
        grid_y = np.concatenate([np.repeat(ys, 2), np.tile([bottom, top], xs.size)])
        self._grid.setData(grid_x, grid_y)


def free_menus(plot: pg.PlotWidget) -> None:
    """Delete the context menus pyqtgraph makes without a parent for each plot: nothing
    else deletes them, so each closed workspace left seven menus behind (issue 10)."""
    item = plot.getPlotItem()
    for menu in (item.ctrlMenu, item.getViewBox().menu):
        if menu is not None:
            menu.deleteLater()


def _columns_of(x: np.ndarray, left: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    """For x in time order: the start of each run of values in one pixel column, and that
    column's x (its middle)."""
    column = np.floor((x - left) / width).astype(np.int64)
    starts = np.flatnonzero(np.diff(column, prepend=column[0] - 1))
    return starts, left + (column[starts] + 0.5) * width


def _extremes(
    x: np.ndarray, y: np.ndarray, left: float, width: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel column's highest and lowest y."""
    if not x.size:
        return np.empty(0), np.empty(0)
    starts, _middle = _columns_of(x, left, width)
    return np.maximum.reduceat(y, starts), np.minimum.reduceat(y, starts)


def _extremes_xy(
    x: np.ndarray, y: np.ndarray, left: float, width: float
) -> tuple[np.ndarray, np.ndarray]:
    if not x.size:
        return x, y
    starts, middle = _columns_of(x, left, width)
    high, low = np.maximum.reduceat(y, starts), np.minimum.reduceat(y, starts)
    return np.repeat(middle, 2), _pairs(high, low)


def _envelope(
    x: np.ndarray, systolic: np.ndarray, diastolic: np.ndarray, left: float, width: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pixel column's x, highest systolic and lowest diastolic: one bar per column."""
    if not x.size:
        return x, systolic, diastolic
    starts, middle = _columns_of(x, left, width)
    return middle, np.maximum.reduceat(systolic, starts), np.minimum.reduceat(diastolic, starts)


def _pairs(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    both = np.empty(high.size * 2)
    both[0::2], both[1::2] = high, low
    return both
