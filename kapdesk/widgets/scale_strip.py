"""Sedation scores as a strip under the BP chart, on the same time axis."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont

from kapdesk.widgets.bp_chart import AXIS_WIDTH, DIM, ChartColours
from kapdesk.widgets.chart_words import Words

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
        item = pg.ScatterPlotItem(pxMode=True, pen=pg.mkPen(None), brush=colours.foreground)
        self.addItem(item)
        self._scores = Words(item, font_px)
        self._points: list[tuple[float, str, int]] = []

    def set_scores(self, points: Sequence[tuple[float, str, int]]) -> None:
        """(minutes, scale id, value) for each score."""
        points = list(points)
        if points == self._points:
            return  # a new reading leaves the scores as they were: nothing to redraw
        self._points = points
        shown = [(m, scale_id, value) for m, scale_id, value in points if scale_id in ROWS]
        self._scores.set(
            np.array([m for m, _s, _v in shown], dtype=float),
            np.array([ROWS[scale_id][0] for _m, scale_id, _v in shown], dtype=float),
            [score_text(scale_id, value) for _m, scale_id, value in shown],
            0.0,
        )
        self._scores.draw()

    def shown(self) -> list[tuple[float, str, str]]:
        """What the strip shows: (minutes, row's label, the figure) for each score."""
        labels = dict(ROWS.values())
        return [
            (x, labels[float(y)], word)
            for (x, word), y in zip(self._scores.drawn, self._scores.y, strict=True)
        ]


def score_text(scale_id: str, value: int) -> str:
    """A score as the strip writes it: RASS signed (+1, −2, with the minus sign the log
    uses), MOAA/S as it is."""
    return (
        f"{value:+d}".replace("-", "\N{MINUS SIGN}") if scale_id == "rass" and value else str(value)
    )
