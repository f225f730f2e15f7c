"""What the BP chart and the sedation strip draw: readings, doses and scores on one time axis."""

from __future__ import annotations

import math
from dataclasses import dataclass

from kapdesk.clinical.elapsed import format_t_plus
from kapdesk.clinical.scales import SCALES
from kapdesk.session.state import SessionState


@dataclass(frozen=True)
class ChartData:
    """Readings on a time axis of minutes from the first dose (or the start, before one)."""

    minutes: list[float]
    systolic: list[float]
    diastolic: list[float]
    heart_rate: list[float]
    mean_arterial: list[float]
    labels: list[str]
    dose_minutes: list[float]
    baseline: tuple[float, float] | None  # (systolic, diastolic) before the first dose
    axis: str = "minutes from first dose"  # what zero on the time axis is


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def chart_data(state: SessionState) -> ChartData:
    origin = state.first_dose_at or state.started_at
    axis = "minutes from first dose" if state.first_dose_at else "minutes from session start"
    data = ChartData([], [], [], [], [], [], [], state.baseline(), axis)
    for stored in state.readings():
        reading, at = stored.reading, stored.at
        data.minutes.append((at - origin).total_seconds() / 60)
        data.systolic.append(_number(reading.systolic))
        data.diastolic.append(_number(reading.diastolic))
        data.heart_rate.append(_number(reading.heart_rate))
        data.mean_arterial.append(_number(reading.mean_arterial_pressure))
        data.labels.append(f"{state.local_clock(at)}  {format_t_plus(at, state.first_dose_at)}")
    data.dose_minutes.extend((d.at - origin).total_seconds() / 60 for d in state.doses())
    return data


def scale_points(state: SessionState) -> list[tuple[float, str, int]]:
    """(minutes on the chart's axis, scale id, value) for the strip under the chart."""
    origin = state.first_dose_at or state.started_at
    return [
        ((s.at - origin).total_seconds() / 60, s.content.scale_id, s.content.answers[0])
        for s in state.scores()
        if s.content.scale_id in SCALES
    ]
