"""Loads the dim (default) style sheet from resources/."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def apply_theme(app: QApplication, name: str = "dark") -> None:
    app.setStyleSheet((RESOURCES / "styles" / f"{name}.qss").read_text(encoding="utf-8"))
