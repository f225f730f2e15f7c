"""Guards against a Qt binding that corrupts Python's reference count of None.

PySide6 6.12.0 under-counts references to None on each call into a Python item
delegate; the session log paints through one, so after a few thousand paints
(a long session) the interpreter aborts. pyproject.toml excludes that release;
this test fails if such a binding is installed anyway.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QRect, QStringListModel
from PySide6.QtWidgets import QListView, QStyledItemDelegate


class PaintingDelegate(QStyledItemDelegate):
    def paint(self, painter, option, index):
        rect = option.rect
        painter.drawText(QRect(rect.left(), rect.top(), rect.width(), rect.height()), 0, "x")


def test_python_delegates_do_not_lose_references_to_none(qtbot):
    model = QStringListModel([f"row {i}" for i in range(30)])
    view = QListView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setItemDelegate(PaintingDelegate(view))
    view.resize(400, 600)
    view.show()
    qtbot.waitExposed(view)
    before = sys.getrefcount(None)
    for _ in range(200):
        view.viewport().repaint()
    assert sys.getrefcount(None) >= before - 50, "this Qt binding loses references to None"
