"""Sedation scores as a strip under the BP chart, on the same time axis."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont, QResizeEvent, QShowEvent

from kapdesk.widgets.bp_chart import (
    AXIS_WIDTH,
    DIM,
    ChartColours,
    changes_before_shown,
    place_items_promptly,
)
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
        place_items_promptly(plot.getViewBox())
        plot.hideAxis("bottom")
        plot.showAxis("right")
        self.setMouseEnabled(x=False, y=False)
        self.setYRange(-0.6, 1.6, padding=0)
        self.getViewBox().disableAutoRange()  # its time axis is the chart's
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
        # The scores of a row are one scatter item, drawn as their figures: 24 scores of a
        # six-hour session as text items took 40 ms to make when it opened (issue 10).
        self._rows: dict[str, Words] = {}
        for scale_id in ROWS:
            item = pg.ScatterPlotItem(pxMode=True, pen=pg.mkPen(None), brush=colours.foreground)
            self.addItem(item)
            self._rows[scale_id] = Words(item, font_px)
        self._points: list[tuple[float, str, int]] = []
        self.getViewBox().sigXRangeChanged.connect(self._draw)

    def set_scores(self, points: Sequence[tuple[float, str, int]]) -> None:
        """(minutes, scale id, value) for each score, in the order scored."""
        points = list(points)
        if points == self._points:
            return  # a new reading leaves the scores as they were: nothing to redraw
        self._points = points
        for scale_id, words in self._rows.items():
            scored = sorted((p for p in points if p[1] == scale_id), key=lambda p: p[0])
            words.set(
                np.array([minutes for minutes, _s, _v in scored], dtype=float),
                np.full(len(scored), ROWS[scale_id][0]),
                [score_text(scale_id, value) for _m, _s, value in scored],
                0.0,
            )
        self._draw()

    def newest(self, *, short: bool = False) -> str:
        """The newest score of each scale, for where the strip has no room: "MOAA/S 4 at
        +40 min · RASS −1 at +38 min" (minutes on the chart's time axis), ``short`` "MOAA/S
        4 at +40 · RASS −1 at +38"; "" if none. Never "RASS −2 (+2)": beside a signed
        score a bracketed minute read as a score or a change (Xvfb QA)."""
        parts = []
        for scale_id, (_y, label) in ROWS.items():
            scored = [p for p in self._points if p[1] == scale_id]
            if scored:
                minutes, _s, value = max(scored, key=lambda p: p[0])
                at = f"{minutes:+.0f}".replace("-", "\N{MINUS SIGN}")
                score = score_text(scale_id, value)
                parts.append(f"{label} {score} at {at}" + ("" if short else " min"))
        return " · ".join(parts)

    def shown(self) -> list[tuple[float, str, str]]:
        """What the strip shows: (minutes, row's label, the figure) for each score drawn."""
        return sorted(
            (minutes, ROWS[scale_id][1], figure)
            for scale_id, words in self._rows.items()
            for minutes, figure in words.drawn
        )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        changes_before_shown(self)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if hasattr(self, "_rows"):  # pyqtgraph resizes before __init__ is done
            self._draw()

    def _draw(self, *_changed: object) -> None:
        """Each score's figure. Where two in a row would print over each other (scores a
        minute apart on a six-hour axis), the newer only: it is the one the clinician
        needs now, and every score is in the log (issue 10 QA: "4" over "2")."""
        view = self.getViewBox()
        left, right = view.viewRange()[0]
        per_minute = view.width() / (right - left) if right > left else None
        for words in self._rows.values():
            words.draw(per_minute or None, newest_first=True)


def score_text(scale_id: str, value: int) -> str:
    """A score as the strip writes it: RASS signed (+1, −2, with the minus sign the log
    uses), MOAA/S as it is."""
    return (
        f"{value:+d}".replace("-", "\N{MINUS SIGN}") if scale_id == "rass" and value else str(value)
    )
