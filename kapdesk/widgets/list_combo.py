"""A drop-down whose open list shows every choice whole.

Under the clinic's style sheets Qt sized the open list a little short of its rows: the
last choice ("No protocol: clinician-defined monitoring") was cut in half under a scroll
arrow (Xvfb QA, 1024x600). Its height is set from the rows, in the font they are drawn
in, as it opens; up to maxVisibleItems rows, as before, the rest scroll.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox


class ListCombo(QComboBox):
    def showPopup(self) -> None:
        view = self.view()
        rows = [
            view.sizeHintForRow(row) for row in range(min(self.count(), self.maxVisibleItems()))
        ]
        view.setMinimumHeight(sum(rows) + 2 * view.frameWidth())
        super().showPopup()
