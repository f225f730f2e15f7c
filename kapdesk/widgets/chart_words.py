"""Words drawn on a pyqtgraph chart as scatter symbols made of text.

A hundred words at a hundred sessions are then one plot item, painted from one image per
distinct word, rather than a hundred text items; and words that would print over their
neighbours can be left out, the ones that start a run first.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetrics, QPainterPath, QTransform

EMPTY = np.empty(0)


def pixel_font(px: int, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(px)
    font.setBold(bold)
    return font


@functools.cache
def text_symbol(text: str, px: int, rise: float) -> tuple[QPainterPath, float]:
    """A scatter symbol drawing ``text`` with its middle ``rise`` px above the point (below
    when negative), and the symbol's size: pyqtgraph draws a symbol into a square."""
    font = pixel_font(px, bold=True)
    path = QPainterPath()
    path.addText(0, 0, font, text)
    box = path.boundingRect()
    side = max(box.width(), 2 * (abs(rise) + box.height() / 2)) + 2
    # Read right to left: move the text's middle to (0, -rise), then to the unit square.
    place = (
        QTransform()
        .scale(1 / side, 1 / side)
        .translate(-box.center().x(), -box.center().y() - rise)
    )
    return place.map(path), side


@functools.cache
def text_width(text: str, px: int) -> float:
    font = pixel_font(px, bold=True)
    return float(QFontMetrics(font).horizontalAdvance(text))


@dataclass
class Words:
    """Words to draw at points, ``rise`` px over each (under when negative), as one item."""

    item: pg.ScatterPlotItem
    px: int
    x: np.ndarray = field(default_factory=lambda: EMPTY)
    y: np.ndarray = field(default_factory=lambda: EMPTY)
    words: list[str] = field(default_factory=list)
    rises: list[float] = field(default_factory=list)
    drawn: list[tuple[float, str]] = field(default_factory=list)  # (x, word) as drawn

    def set(
        self, x: np.ndarray, y: np.ndarray, words: list[str], rise: float | list[float]
    ) -> None:
        self.x, self.y, self.words = x, y, words
        self.rises = [rise] * len(words) if isinstance(rise, float | int) else rise

    def clear(self) -> None:
        self.drawn = []
        self.item.clear()

    def draw(self, per_session: float | None = None, *, newest_first: bool = False) -> None:
        """Every word; or, given the pixels per session (per unit of x), the words that fit
        between their neighbours, those that start a run first: the first "Rem" of a
        hundred is the one a clinician looks for, and the hover text has every session's.
        ``newest_first``: the last words given go first instead (the newest score)."""
        keep = np.ones(len(self.words), dtype=bool)
        if per_session is not None:
            keep = self._uncrowded(per_session, newest_first)
        shapes = [
            text_symbol(word, self.px, rise)
            for word, rise, kept in zip(self.words, self.rises, keep, strict=True)
            if kept
        ]
        self.drawn = [
            (float(x), word) for x, word, kept in zip(self.x, self.words, keep, strict=True) if kept
        ]
        self.item.setData(
            self.x[keep],
            self.y[keep],
            symbol=[shape for shape, _side in shapes],
            size=[side for _shape, side in shapes],
        )

    def _uncrowded(self, per_session: float, newest_first: bool = False) -> np.ndarray:
        words, x = self.words, self.x
        if newest_first:
            order = list(range(len(words)))[::-1]
        else:
            starts = [
                i
                for i in range(len(words))
                if i == 0 or words[i] != words[i - 1] or x[i] - x[i - 1] > 1
            ]
            order = starts + sorted(set(range(len(words))) - set(starts))
        placed: list[tuple[float, float]] = []  # (x, width in px), left to right
        keep = np.zeros(len(words), dtype=bool)
        for i in order:
            width = text_width(words[i], self.px)
            at = bisect.bisect(placed, (x[i], width))
            neighbours = placed[max(0, at - 1) : at + 1]
            if all(
                abs(x[i] - other) * per_session >= (width + other_width) / 2 + self.px / 3
                for other, other_width in neighbours
            ):
                placed.insert(at, (float(x[i]), width))
                keep[i] = True
        return keep
