"""The application icon, drawn from its source (kapdesk/resources/icons/kapdesk.svg).

Rendered with QtSvg at the sizes window managers ask for, so it needs no image-format
plugin in a frozen bundle. The installers' .ico and .icns come from the same file
(packaging/make_icons.py).
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from kapdesk.resources import resource

SIZES = (16, 24, 32, 48, 64, 128, 256)


def app_icon() -> QIcon:
    """kapdesk's icon; an empty icon if its source cannot be drawn (never an error)."""
    renderer = QSvgRenderer(QByteArray(resource("icons", "kapdesk.svg").read_bytes()))
    icon = QIcon()
    if not renderer.isValid():
        return icon
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        icon.addPixmap(QPixmap.fromImage(image))
    return icon
