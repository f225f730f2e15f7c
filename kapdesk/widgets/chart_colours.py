"""The charts' colours in the dim and the light theme: apart from the charts, so the
theme is set without importing pyqtgraph and numpy (start-up, issue 10)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChartColours:
    background: str
    foreground: str
    systolic: str
    diastolic: str
    heart_rate: str
    caution: str
    urgent: str
    baseline: str
    dose: str


DIM = ChartColours(
    background="#1c1b19",
    foreground="#cfc8b8",
    systolic="#e8e0cc",
    diastolic="#e8e0cc",
    heart_rate="#7fb3d5",
    caution="#d9a441",
    urgent="#ff8a65",
    baseline="#3a4a3a",
    dose="#b39ddb",
)
LIGHT = ChartColours(
    background="#fbfaf7",
    foreground="#2b2a27",
    systolic="#1f1e1c",
    diastolic="#1f1e1c",
    heart_rate="#1f5f8b",
    caution="#9a6500",
    urgent="#b3261e",
    baseline="#d8e6d2",
    dose="#5e35b1",
)
