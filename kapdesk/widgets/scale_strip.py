"""Sedation scores as a strip under the BP chart, on the same time axis."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtGui import QFont

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
        self._items: list[pg.TextItem] = []
        self._points: list[tuple[float, str, int]] = []

    def set_scores(self, points: Sequence[tuple[float, str, int]]) -> None:
        """(minutes, scale id, value) for each score."""
        points = list(points)
        if points == self._points:
            return  # a new reading leaves the scores as they were: nothing to redraw
        self._points = points
        for item in self._items:
            self.removeItem(item)
        self._items = []
        for minutes, scale_id, value in points:
            if scale_id not in ROWS:
                continue
            row = ROWS[scale_id][0]
            text = f"{value:+d}" if scale_id == "rass" and value else str(value)
            item = pg.TextItem(text, color=self.colours.foreground, anchor=(0.5, 0.5))
            font = QFont()
            font.setPixelSize(self.font_px)
            font.setBold(True)
            item.setFont(font)
            item.setPos(minutes, row)
            self.addItem(item)
            self._items.append(item)
