"""Grow a dialog so every wrapped line of text in it shows whole."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget


def grow_to_fit(window: QWidget) -> None:
    """Qt sizes a window by its labels' one-line heights; a wrapped sentence added later
    (a refusal) would be cut at the edge. Give each wrapped label the height its text
    needs at its width, then let the window grow."""
    for label in window.findChildren(QLabel):
        if label.wordWrap() and label.isVisible() and label.width() > 0:
            label.setMinimumHeight(label.heightForWidth(label.width()))
    window.adjustSize()
    # adjustSize keeps a window within two thirds of the screen's width, and its height
    # is then for its preferred, wider, width: lines wrapped anew at the narrower width
    # ran over the next field (QA: a patient's long name in the new-session title).
    layout = window.layout()
    if layout is not None and layout.hasHeightForWidth():
        needed = layout.totalHeightForWidth(window.width())
        if needed > window.height():
            window.resize(window.width(), needed)
