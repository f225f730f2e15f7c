"""The course chart's three panels: scores, dose and blood pressure, x = session number.

Each series is one plot item fed numpy arrays, whatever the number of sessions; words
drawn at a session (R, Rem, item 9, high, 2A 1O) are scatter symbols made of text
(chart_words.py), so a hundred marks are one item, not a hundred. ``show`` takes the
course; ``fit`` the panel's size in pixels, which decides the room the words need, the
ticks that fit and the caret size.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QSizePolicy

from kapdesk.clinical.alerts import AlertThresholds
from kapdesk.clinical.self_report import Band, Instrument
from kapdesk.widgets.bp_chart import AXIS_WIDTH, ChartColours
from kapdesk.widgets.chart_words import EMPTY, Words, pixel_font
from kapdesk.widgets.course_series import PLOTTED, CourseSeries

CARET_OFFSET = 0.17  # sessions: the pre-dose pair left of the session, the peak right
DEFAULT_TOP = 27  # the score axis's top when no PHQ-9 is given to take its range from
MIN_BP_SPAN = 60.0  # mmHg: a steady course is not magnified into a drama
VALUES_SHARE = 0.6  # the share of the BP panel its carets keep: the words give way first
DOSE_WORDS_EMS = 3.5  # a dose panel shorter than this many font sizes draws bars alone
BP_WORDS = ("high", "counts")
BP_LEGEND = {"high": "high: pre-dose above caution", "counts": "A alerts · ov overrides"}
ITEM9_LEGEND = ("item 9: PHQ-9 item 9 above 0", "item 9 above 0")  # the second if short
Entry = tuple[pg.GraphicsObject | None, str]  # a legend's sample (None: words alone), name


@dataclass(frozen=True)
class PanelSize:
    """A panel's pixels: per session along x, its plot's height, and whether the
    per-session numbers (dose, alert counts) fit under their neighbours'."""

    per_session: float
    height: float
    words: bool


def pixel_margins(
    low: float, high: float, height: float, below_px: float, above_px: float
) -> tuple[float, float]:
    """The y range that shows low..high with room in pixels under and over it."""
    inner = max(height - below_px - above_px, height * 0.4, 1.0)
    per_px = (high - low) / inner
    return low - below_px * per_px, high + above_px * per_px


def spaced(
    ticks: list[tuple[float, str]], px_per_unit: float, line_px: float
) -> list[tuple[float, str]]:
    """The ticks, bottom up, that stand a line of text apart from the last one kept."""
    kept: list[tuple[float, str]] = []
    for value, text in sorted(ticks):
        if not kept or (value - kept[-1][0]) * px_per_unit >= line_px:
            kept.append((value, text))
    return kept


def new_plot(colours: ChartColours, font_px: int, label: str, right_width: int) -> pg.PlotItem:
    plot = pg.PlotItem(enableMenu=False)
    plot.hideButtons()
    # Fixed views: a wheel or a drag would move one panel away from the others and the
    # course off the edge, with no way back but a redraw.
    plot.setMouseEnabled(x=False, y=False)
    plot.showAxis("right")
    for name in ("left", "right", "bottom"):
        axis = plot.getAxis(name)
        axis.setTickFont(pixel_font(font_px))
        axis.setTextPen(colours.foreground)
        axis.setPen(colours.foreground)
    set_label(plot, colours, font_px, label)
    plot.getAxis("left").setWidth(AXIS_WIDTH)
    plot.getAxis("right").setWidth(right_width)
    plot.getAxis("right").setTicks([[]])
    plot.getAxis("right").setStyle(tickLength=0)
    return plot


def set_label(plot: pg.PlotItem, colours: ChartColours, font_px: int, label: str) -> None:
    """The words up the left axis: what the panel's numbers are."""
    plot.getAxis("left").setLabel(label, color=colours.foreground, **{"font-size": f"{font_px}px"})


def right_axis_width(font_px: int, names: list[str]) -> int:
    """Wide enough for the band names and the caution numbers, alike on every panel so
    the three x axes line up."""
    metrics = QFontMetrics(pixel_font(font_px))
    return max(metrics.horizontalAdvance(name) for name in [*names, "caution 180"]) + font_px


class ScoresPanel:
    """PHQ-9 and GAD-7 totals on PHQ-9's severity bands, named at the right."""

    def __init__(self, plot: pg.PlotItem, colours: ChartColours, font_px: int) -> None:
        self.plot = plot
        self._px = font_px
        self._colours = colours
        self._regions: list[pg.LinearRegionItem] = []
        self._bands: tuple[Band, ...] = ()
        self._top = DEFAULT_TOP
        symbol_px = max(10, font_px * 3 // 4)
        self.lines = {
            "phq9": pg.PlotDataItem(
                connect="finite",
                pen=pg.mkPen(colours.systolic, width=2),
                symbol="o",
                symbolSize=symbol_px,
                symbolBrush=pg.mkBrush(colours.systolic),
                symbolPen=None,
            ),
            "gad7": pg.PlotDataItem(
                connect="finite",
                pen=pg.mkPen(colours.heart_rate, width=2, style=Qt.PenStyle.DashLine),
                symbol="s",
                symbolSize=symbol_px,
                symbolBrush=pg.mkBrush(colours.background),
                symbolPen=pg.mkPen(colours.heart_rate, width=2),
            ),
        }
        self.item9_ring = pg.ScatterPlotItem(
            symbol="o", size=symbol_px * 2, brush=None, pen=pg.mkPen(colours.urgent, width=2.5)
        )
        self.marks = {
            name: Words(pg.ScatterPlotItem(brush=pg.mkBrush(colour), pen=None), font_px)
            for name, colour in (
                ("phq9", colours.systolic),
                ("gad7", colours.heart_rate),
                ("item 9", colours.urgent),
            )
        }
        for item in (*self.lines.values(), self.item9_ring):
            plot.addItem(item)
        for words in self.marks.values():
            plot.addItem(words.item)
        self.drawn: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def show(self, series: CourseSeries, phq9: Instrument | None) -> None:
        """Draw the totals; ``phq9``: the clinic's PHQ-9, whose bands are shaded."""
        self._show_bands(phq9)
        x = series.number
        for name, line in self.lines.items():
            # A scale not handed out at a session is left out and the line joins its
            # neighbours; an incomplete one stays NaN and breaks the line: a gap, not a 0.
            given = series.given[name]
            self.drawn[name] = (x[given], series.totals[name][given])
            line.setData(*self.drawn[name])
        # Each scale's word on the far side of its point from the other scale's point, so
        # it lands on neither point nor line, whichever scale is higher.
        phq9_higher = ~(series.totals["phq9"] < series.totals["gad7"])
        for name, above in (("phq9", phq9_higher), ("gad7", ~phq9_higher)):
            values, marks = series.totals[name], series.marks[name]
            at = np.array([bool(w) for w in marks], dtype=bool) & ~np.isnan(values)
            words = [word for word, keep in zip(marks, at, strict=True) if keep]
            rises = np.where(above[at], self._px * 0.9, -self._px * 0.9).tolist()
            self.marks[name].set(x[at], values[at], words, rises)
        # Each session's ring stays however close they are; its words may thin out.
        ringed = series.item9 & ~np.isnan(series.totals["phq9"])
        self.item9_ring.setData(x[ringed], series.totals["phq9"][ringed])
        count = int(series.item9.sum())
        # Over the top band, where no total can be: it names the session, not a score.
        self.marks["item 9"].set(
            x[series.item9], np.full(count, self._top + 0.5), ["item 9"] * count, self._px * 0.8
        )

    def _show_bands(self, phq9: Instrument | None) -> None:
        bands = phq9.bands if phq9 is not None else ()
        if bands == self._bands:
            return
        self._bands = bands
        self._top = phq9.score_range[1] if phq9 is not None and phq9.score_range else DEFAULT_TOP
        for region in self._regions:
            self.plot.removeItem(region)
        self._regions = []
        for index, band in enumerate(bands):
            region = pg.LinearRegionItem(
                (band.low - 0.5, band.high + 0.5),
                orientation="horizontal",
                movable=False,
                brush=pg.mkBrush(self._colours.foreground + ("10" if index % 2 else "1e")),
                pen=pg.mkPen(None),
            )
            region.setZValue(-20)
            self.plot.addItem(region)
            self._regions.append(region)

    def fit(self, size: PanelSize) -> None:
        # Room over the top band for "item 9", and under 0 for a word under a point.
        item9 = self.marks["item 9"]
        rise = self._px * 0.8
        above = rise + self._px * 0.7 if item9.words else 6.0
        below = self._px * 1.5 if any(r < 0 for r in self._low_rises()) else 6.0
        bottom, top = pixel_margins(-0.5, self._top + 0.5, size.height, below, above)
        if item9.words:
            # A line over the top band, or higher where a ring reaches up there (a short
            # panel, a high total): the word is never printed over its ring.
            lift = self._ring_reach(size.height / (top - bottom)) - rise
            if lift > 0:
                lift = float(np.ceil(lift))  # whole pixels: one symbol made per rise
                rise, above = rise + lift, above + lift
                bottom, top = pixel_margins(-0.5, self._top + 0.5, size.height, below, above)
            item9.rises = [rise] * len(item9.words)
        self.plot.setYRange(bottom, top, padding=0)
        # A name or number per band while a line of text fits in each, else every other.
        per_unit = size.height / (top - bottom)
        line = self._px * 1.2
        names = [((b.low + b.high) / 2, b.name) for b in self._bands]
        self.plot.getAxis("right").setTicks([spaced(names, per_unit, line)])
        edges = sorted({float(b.low) for b in self._bands} | {0.0, float(self._top)})
        if len(edges) < 3:
            edges = [float(v) for v in range(0, self._top + 1, 5)]
        totals = [(v, f"{v:g}") for v in edges]
        self.plot.getAxis("left").setTicks([spaced(totals, per_unit, line)])
        for words in self.marks.values():
            words.draw(size.per_session)

    def _ring_reach(self, per_unit: float) -> float:
        """How far over the top band's edge an "item 9" word's middle must be to clear
        the highest ring: the ring's radius and half a line over the ring's total."""
        totals = self.item9_ring.getData()[1]
        if totals is None or not len(totals):
            return 0.0
        radius = float(self.item9_ring.opts["size"]) / 2 + 2
        below_edge = (self._top + 0.5 - float(np.nanmax(totals))) * per_unit
        return radius + self._px * 0.6 + 2 - below_edge

    def _low_rises(self) -> list[float]:
        """The rises of the words under points low enough to need room under 0."""
        return [
            rise
            for name in PLOTTED
            for rise, y in zip(self.marks[name].rises, self.marks[name].y, strict=True)
            if y < 5
        ]

    def legend_entries(self) -> list[Entry]:
        return [
            (self.lines["phq9"], "PHQ-9"),
            (self.lines["gad7"], "GAD-7"),
            (None, "R response · Rem remission"),
            (None, ITEM9_LEGEND[0]),
        ]


class DosePanel:
    """The dose given at each session, in mg, as a bar with its number over it."""

    def __init__(self, plot: pg.PlotItem, colours: ChartColours, font_px: int) -> None:
        self.plot = plot
        self._px = font_px
        self.bars = pg.BarGraphItem(
            x=[], height=[], width=0.6, brush=pg.mkBrush(colours.dose), pen=pg.mkPen(None)
        )
        self.values = Words(
            pg.ScatterPlotItem(brush=pg.mkBrush(colours.foreground), pen=None), font_px * 7 // 8
        )
        plot.addItem(self.bars)
        plot.addItem(self.values.item)
        self._given: tuple[np.ndarray, np.ndarray] = (EMPTY, EMPTY)

    def show(self, series: CourseSeries) -> None:
        given = ~np.isnan(series.dose_mg)
        self._given = (series.number[given], series.dose_mg[given])
        self.bars.setOpts(x=self._given[0], height=self._given[1])
        mg = self._given[1]
        self.values.set(self._given[0], mg, [f"{v:g}" for v in mg], self._px * 0.7)

    def fit(self, size: PanelSize) -> None:
        mg = self._given[1]
        top = max(10.0, float(mg.max())) if mg.size else 10.0
        # A thin panel (a short window's) is bars alone, the numbers in the readout, and
        # the unit on the top tick, since "dose mg" up the axis would not fit.
        thin = size.height < self._px * DOSE_WORDS_EMS
        words = size.words and not thin
        self.plot.getAxis("left").showLabel(not thin)
        above = self._px * 1.5 if words else 4.0
        bottom, top = pixel_margins(0.0, top, size.height, 0.0, above)
        self.plot.setYRange(bottom, top, padding=0)
        per_mg = size.height / (top - bottom)
        step = next(
            (n for n in (10, 20, 25, 50, 100, 200, 500) if n * per_mg >= self._px * 1.2), 1000
        )
        ticks = [(float(mg), str(mg)) for mg in range(0, int(top) + 1, step)]
        if thin:  # the top one's number and unit; a 0 there would print into the next panel
            ticks = [(0.0, ""), (ticks[-1][0], f"{ticks[-1][1]} mg")]
        self.plot.getAxis("left").setTicks([ticks])
        # Every bar's number or none: numbers over some bars only would read as a pattern.
        if words:
            self.values.draw()
        else:
            self.values.clear()


class BPPanel:
    """Each session's pre-dose baseline (filled carets, solid bar) and its peak (hollow
    carets, dotted bar), with the clinic's caution lines."""

    def __init__(self, plot: pg.PlotItem, colours: ChartColours, font_px: int) -> None:
        self.plot = plot
        self._px = font_px
        self._grid = pg.PlotDataItem(
            pen=pg.mkPen(colours.foreground + "30", width=1), connect="pairs"
        )
        self._grid.setZValue(-30)
        plot.addItem(self._grid)
        # bp_chart's dashed caution lines; their numbers sit at the lines' right ends,
        # outside the plot, where no caret can cover them.
        self.caution_lines = []
        for _ in range(2):
            line = pg.InfiniteLine(
                angle=0,
                movable=False,
                pen=pg.mkPen(colours.caution, width=1.5, style=Qt.PenStyle.DashLine),
            )
            line.setZValue(-10)
            plot.addItem(line)
            self.caution_lines.append(line)
        self._caution_axis = plot.getAxis("right")
        self._caution_axis.setTextPen(colours.caution)
        self._caution_ticks: list[tuple[float, str]] = []
        self.pre_bars = pg.PlotDataItem(pen=pg.mkPen(colours.systolic, width=2), connect="pairs")
        self.peak_bars = pg.PlotDataItem(
            pen=pg.mkPen(colours.systolic, width=2, style=Qt.PenStyle.DotLine), connect="pairs"
        )
        filled, hollow = pg.mkBrush(colours.systolic), pg.mkPen(colours.systolic, width=2)
        self.carets = [
            pg.ScatterPlotItem(symbol="t", brush=filled, pen=None),  # pre-dose systolic
            pg.ScatterPlotItem(symbol="t1", brush=filled, pen=None),  # pre-dose diastolic
            pg.ScatterPlotItem(symbol="t", brush=None, pen=hollow),  # peak systolic
            pg.ScatterPlotItem(symbol="t1", brush=None, pen=hollow),  # peak diastolic
        ]
        self.high = Words(pg.ScatterPlotItem(brush=pg.mkBrush(colours.caution), pen=None), font_px)
        self.counts = Words(
            pg.ScatterPlotItem(brush=pg.mkBrush(colours.foreground), pen=None), font_px * 7 // 8
        )
        for item in (self.pre_bars, self.peak_bars, *self.carets, self.high.item):
            plot.addItem(item)
        plot.addItem(self.counts.item)
        self._series: CourseSeries | None = None
        self._span = (40.0, 200.0)

    def show(self, series: CourseSeries, thresholds: AlertThresholds) -> None:
        self._series = series
        limits = (thresholds.caution_systolic, thresholds.caution_diastolic)
        for line, value in zip(self.caution_lines, limits, strict=True):
            line.setValue(value)
        self._caution_ticks = [(float(value), f"caution {value}") for value in limits]
        self._caution_axis.setTicks([self._caution_ticks])
        pairs = (
            (-CARET_OFFSET, series.pre_systolic, series.pre_diastolic, self.pre_bars),
            (CARET_OFFSET, series.peak_systolic, series.peak_diastolic, self.peak_bars),
        )
        for (offset, systolic, diastolic, bars), top, bottom in zip(
            pairs, self.carets[0::2], self.carets[1::2], strict=True
        ):
            # A caret for each number taken; a bar only where both were.
            x = series.number + offset
            has_top, has_bottom = ~np.isnan(systolic), ~np.isnan(diastolic)
            top.setData(x[has_top], systolic[has_top])
            bottom.setData(x[has_bottom], diastolic[has_bottom])
            both = has_top & has_bottom
            ends = np.empty(2 * int(both.sum()))
            ends[0::2], ends[1::2] = systolic[both], diastolic[both]
            bars.setData(np.repeat(x[both], 2), ends)
        values = np.concatenate(
            [
                series.pre_systolic,
                series.pre_diastolic,
                series.peak_systolic,
                series.peak_diastolic,
                limits,
            ]
        )
        low, high = float(np.nanmin(values)), float(np.nanmax(values))
        if high - low < MIN_BP_SPAN:
            middle = (low + high) / 2
            low, high = middle - MIN_BP_SPAN / 2, middle + MIN_BP_SPAN / 2
        self._span = (low, high)
        # Over the session's pair, clear of both carets; the legend says what it means.
        flagged = series.pre_above_caution & ~np.isnan(series.pre_systolic)
        over = np.fmax(series.pre_systolic, series.peak_systolic)[flagged]
        self.high.set(series.number[flagged], over, ["high"] * over.size, self._px * 1.0)
        counts = series.counts
        with_counts = np.array([bool(c) for c in counts], dtype=bool)
        self.counts.set(
            series.number[with_counts],
            np.full(int(with_counts.sum()), self._span[0]),
            [c for c, keep in zip(counts, with_counts, strict=True) if keep],
            -self._px * 0.95,
        )
        left, right = series.number[0] - 100, series.number[-1] + 100  # past either edge
        grid_y = np.repeat(np.arange(np.ceil(self._span[0] / 20) * 20, self._span[1], 20), 2)
        self._grid.setData(np.tile([left, right], grid_y.size // 2), grid_y)

    def fit(self, size: PanelSize, allowed: Collection[str] = BP_WORDS) -> set[str]:
        """Fit to the panel's pixels; draw the words of ``allowed`` ("high", "counts") that
        leave the carets most of the panel. Returns the kinds of word drawn."""
        series = self._series
        if series is None:
            return set()
        # Carets as large as the BP chart's while sessions are far apart; smaller when
        # close, so a session's pair does not cover its neighbour's.
        caret = float(np.clip(size.per_session * 0.3, 7, max(12, self._px)))
        for item in self.carets:
            item.setSize(caret)
        # Room for half a caret at either end, "high" over the carets it marks and the
        # counts under the bottom when there are any. On a short panel the words give way
        # (the counts first) before the carets are squashed: the readout and the hover
        # say both, the caution lines show a pre-dose above them.
        pad = caret / 2 + 4
        show = {
            "high": "high" in allowed and bool(self.high.words),
            "counts": "counts" in allowed and size.words and bool(self.counts.words),
        }
        while True:
            below = self._px * 1.4 if show["counts"] else pad
            above = self._room_for_high(size.height, below, pad) if show["high"] else pad
            if size.height - above - below >= VALUES_SHARE * size.height or not any(show.values()):
                break
            show["counts" if show["counts"] else "high"] = False
        low, high = self._span
        bottom, top = pixel_margins(low, high, size.height, below, above)
        self.plot.setYRange(bottom, top, padding=0)
        # Every 50 mmHg, as the BP chart; none so near an edge it would be cut off there.
        edge = self._px * 0.7 * (top - bottom) / size.height
        step = 50 if 50 * size.height / (top - bottom) >= self._px * 1.5 else 100
        first = np.ceil((bottom + edge) / step) * step
        values = np.arange(first, top - edge, step)
        minor = np.arange(np.ceil(bottom / 10) * 10, top, 10)
        self.plot.getAxis("left").setTicks(
            # + 0.0: a tick at -0.0 read "-0" (Xvfb QA, a reading of 300/20 in the course)
            [[(float(v), f"{v + 0.0:g}") for v in values], [(float(v), "") for v in minor]]
        )
        for kind, words in (("high", self.high), ("counts", self.counts)):
            if not show[kind]:
                words.clear()
            elif kind == "high":
                words.draw(size.per_session)
            else:
                words.draw()
        drawn = (("high", self.high), ("counts", self.counts))
        return {kind for kind, words in drawn if words.drawn}

    def _room_for_high(self, height: float, below: float, pad: float) -> float:
        """The pixels over the highest reading that the "high" words need: each sits a line
        over its session's higher caret, so only those near the top reach past it."""
        low, high = self._span
        span = high - low
        # How far over its point a word's top is, and each point's distance from the top.
        reach = self._px * 1.5
        gap = np.minimum(high - np.asarray(self.high.y, dtype=float), span * 0.99)
        if gap.size == 0:
            return pad
        # above >= reach - gap * (height - below - above) / span, for every word
        need = (reach - gap * (height - below) / span) / (1 - gap / span)
        return float(max(pad, need.max()))

    def caution_labels(self) -> list[str]:
        """Each caution line's caption, as drawn at its end: "caution 140"."""
        return [text for _value, text in self._caution_ticks]

    def legend_entries(self, words: Collection[str] = BP_WORDS) -> list[Entry]:
        """The carets', and the words' of ``words`` ("high", "counts")."""
        return [
            (self.carets[0], "pre-dose"),
            (self.carets[2], "peak"),
            *[(None, BP_LEGEND[kind]) for kind in BP_WORDS if kind in words],
        ]


def new_legend(colours: ChartColours, font_px: int) -> pg.LegendItem:
    """An empty legend of one line; ``fill_legend`` gives it its entries."""
    legend = pg.LegendItem(
        horSpacing=font_px,
        labelTextColor=colours.foreground,
        labelTextSize=f"{font_px}px",
        frame=False,
    )
    legend.layout.setContentsMargins(0, 2, 0, 2)
    legend.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    return legend


def fill_legend(
    legend: pg.LegendItem, entries: list[Entry], font_px: int, compact: bool = False
) -> None:
    """One line naming what each mark is; an entry without an item is words alone.
    ``compact``: closer together, and words alone take no sample's room."""
    legend.clear()
    legend.layout.setHorizontalSpacing(legend_spacing(font_px, compact))
    legend.setColumnCount(max(1, len(entries)))
    for item, name in entries:
        sample = pg.ItemSample(item if item is not None else pg.PlotDataItem(pen=None))
        if item is None and compact:
            sample.setFixedWidth(0)
        # A click on a sample would hide its series: in a clinic, a reading lost from view.
        sample.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        legend.addItem(sample, name)


def legend_spacing(font_px: int, compact: bool) -> int:
    return round(font_px * 0.6) if compact else font_px


def legend_width(font_px: int, entries: list[Entry], compact: bool = False) -> float:
    """The pixels a legend of ``entries`` takes on its line: for each a sample, the name
    with its label's margins, and the spacing between them all."""
    metrics = QFontMetrics(pixel_font(font_px))
    spacing = legend_spacing(font_px, compact)
    columns = [
        (0 if item is None and compact else 20, metrics.horizontalAdvance(name) + 8)
        for item, name in entries
    ]
    return sum(a + b for a, b in columns) + spacing * max(0, 2 * len(columns) - 1)
