"""Sedation scores as a strip under the BP chart, on the same time axis."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetricsF, QPainterPath, QTransform

from kapdesk.widgets.bp_chart import AXIS_WIDTH, DIM, ChartColours

ROWS = {"moaas": (1.0, "MOAA/S"), "rass": (0.0, "RASS")}


class ScaleStrip(pg.PlotWidget):  # type: ignore[misc]
    def __init__(
        self, chart: pg.PlotWidget, colours: ChartColours = DIM, font_px: int = 16
    ) -> None:
        super().__init__(background=colours.background)
        self.colours = colours
        self.font_px = font_px
        self.setAccessibleName("Sedation scores")
        self.setFixedHeight(int(font_px * 4.5))
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.hideAxis("bottom")
        plot.showAxis("right")
        self.setMouseEnabled(x=False, y=False)
        self.setYRange(-0.6, 1.6, padding=0)
        font = QFont()
        font.setPixelSize(font_px)
        for name in ("left", "right"):
            axis = plot.getAxis(name)
            axis.setTicks([[(y, label) for y, label in ROWS.values()]])
            axis.setTickFont(font)
            axis.setTextPen(colours.foreground)
            axis.setPen(colours.foreground)
        # The chart's axes are as wide as these, so the time axes line up.
        for name in ("left", "right"):
            plot.getAxis(name).setWidth(AXIS_WIDTH)
        self.setXLink(chart)
        # Every score is one point of one scatter item, drawn as its figure: 24 scores of a
        # six-hour session as text items took 40 ms to make when it opened (issue 10).
        self._scores = pg.ScatterPlotItem(
            pxMode=True, pen=pg.mkPen(None), brush=pg.mkBrush(colours.foreground)
        )
        self.addItem(self._scores)
        self._points: list[tuple[float, str, int]] = []

    def set_scores(self, points: Sequence[tuple[float, str, int]]) -> None:
        """(minutes, scale id, value) for each score."""
        points = list(points)
        if points == self._points:
            return  # a new reading leaves the scores as they were: nothing to redraw
        self._points = points
        shown = [(m, scale_id, value) for m, scale_id, value in points if scale_id in ROWS]
        self._scores.setData(
            x=[m for m, _s, _v in shown],
            y=[ROWS[scale_id][0] for _m, scale_id, _v in shown],
            symbol=[_figure(score_text(s, v), self.font_px) for _m, s, v in shown],
            size=self.font_px,
            data=[score_text(s, v) for _m, s, v in shown],
        )

    def shown(self) -> list[tuple[float, str, str]]:
        """What the strip shows: (minutes, row's label, the figure) for each score."""
        labels = {y: label for y, label in ROWS.values()}
        x, y = self._scores.getData()
        texts = [point.data() for point in self._scores.points()]
        return [(float(m), labels[float(r)], t) for m, r, t in zip(x, y, texts, strict=True)]


def score_text(scale_id: str, value: int) -> str:
    """A score as the strip writes it: RASS signed (+1, -2), MOAA/S as it is."""
    return f"{value:+d}" if scale_id == "rass" and value else str(value)


@functools.cache
def _figure(text: str, font_px: int) -> QPainterPath:
    """``text`` in bold as a scatter symbol: a path in pyqtgraph's unit square, scaled so
    that every figure has the height of a digit at ``font_px`` (a wider one, "+2", is wider,
    not smaller)."""
    font = QFont()
    font.setPixelSize(font_px)
    font.setBold(True)
    path = QPainterPath()
    path.addText(0, 0, font, text)
    digit = QFontMetricsF(font).tightBoundingRect("0")
    box = path.boundingRect()
    scale = 1 / font_px
    transform = QTransform()
    transform.scale(scale, scale)
    transform.translate(-box.center().x(), -digit.center().y())
    return transform.map(path)
