"""Themes: the dim one (default) for a darkened room, and a light one. Text scales as a whole."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtWidgets import QApplication

from kapdesk.resources import resource
from kapdesk.widgets.chart_colours import DIM, LIGHT, ChartColours


def scaled_px(px: int, scale: float) -> int:
    return round(px * scale)


def apply_theme(app: QApplication, name: str = "dark", scale: float = 1.0) -> None:
    sheet = resource("styles", f"{name}.qss").read_text(encoding="utf-8")
    # Every size in the sheets is in px, so one factor scales all the text.
    sheet = re.sub(r"(\d+)px", lambda m: f"{scaled_px(int(m.group(1)), scale)}px", sheet)
    # A ticked box shows a tick, not only a fill (QA: in a dim room a ticked box was hard
    # to tell from a focused empty one). PNG: drawn without an image-format plugin.
    icons = Path(str(resource("icons"))).as_posix()
    app.setStyleSheet(sheet.replace("{icons}", icons))


def chart_colours(name: str) -> ChartColours:
    return LIGHT if name == "light" else DIM
