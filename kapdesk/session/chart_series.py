"""What the BP chart and the sedation strip draw: readings, doses and scores on one time axis."""

from __future__ import annotations

import math
from array import array

import numpy as np

from kapdesk.clinical.elapsed import format_t_plus
from kapdesk.clinical.instants import from_micros, to_micros
from kapdesk.clinical.scales import SCALES
from kapdesk.clinical.vitals import mean_arterial
from kapdesk.session.entries import StoredVitals
from kapdesk.session.state import SessionState


class Column:
    """Floats appended one at a time into a numpy array that doubles when full: a new
    reading costs the same at the 21,600th as at the first, and the chart gets an array
    without converting a list (issue 10)."""

    def __init__(self) -> None:
        self._data = np.empty(64)
        self._size = 0

    def append(self, value: float) -> None:
        if self._size == self._data.size:
            grown = np.empty(self._data.size * 2)
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        self._data[self._size] = value
        self._size += 1

    def extend(self, values: list[float] | np.ndarray) -> None:
        """Many at once (a session read from the record): one conversion, not one a value."""
        added = np.asarray(values, dtype=float)
        if self._size + added.size > self._data.size:
            grown = np.empty(max(self._data.size * 2, self._size + added.size))
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        self._data[self._size : self._size + added.size] = added
        self._size += added.size

    @property
    def values(self) -> np.ndarray:
        return self._data[: self._size]

    def __len__(self) -> int:
        return self._size


class ChartData:
    """Readings on a time axis of minutes from the first dose (or the start, before one).

    Built once from the session, then extended reading by reading while each new one is
    the newest; the hover text of a reading is made only when asked for.
    """

    def __init__(self, state: SessionState) -> None:
        self._state = state
        self.origin = state.first_dose_at or state.started_at
        self.axis = (
            "minutes from first dose" if state.first_dose_at else "minutes from session start"
        )
        self._columns = {name: Column() for name in COLUMNS}
        self.dose_minutes = [(d.at - self.origin).total_seconds() / 60 for d in state.doses()]
        self.baseline = state.baseline()
        # Straight from the readings' columns (session/readings.py): numpy does each in one
        # step, where a value at a time took a tenth of a second at six hours (issue 10).
        readings = state.readings()
        self._micros = array("q", readings.micros())  # for the hover labels; appended to below
        micros = np.array(self._micros, dtype=np.int64)  # a copy: a view would pin its size
        systolic = np.asarray(readings.column("systolic"), dtype=float)  # None: NaN
        diastolic = np.asarray(readings.column("diastolic"), dtype=float)
        for name, column in (
            ("minutes", (micros - to_micros(self.origin)) / 60e6),
            ("systolic", systolic),
            ("diastolic", diastolic),
            ("heart_rate", np.asarray(readings.column("heart_rate"), dtype=float)),
            ("mean_arterial", mean_arterial(systolic, diastolic)),  # NaN where one is missing
        ):
            self._columns[name].extend(column)

    def append(self, stored: StoredVitals) -> None:
        reading, at = stored.reading, stored.at
        columns = self._columns
        columns["minutes"].append((at - self.origin).total_seconds() / 60)
        columns["systolic"].append(_number(reading.systolic))
        columns["diastolic"].append(_number(reading.diastolic))
        columns["heart_rate"].append(_number(reading.heart_rate))
        columns["mean_arterial"].append(_number(reading.mean_arterial_pressure))
        self._micros.append(to_micros(at))

    def fits(self, stored: StoredVitals) -> bool:
        """Whether ``stored`` can be appended: it is the newest, T0 has not moved, and it
        does not join the pre-dose baseline (a reading typed late with a time before the
        dose, the newest all the same: the chart kept the old baseline, Xvfb QA)."""
        dosed = self._state.first_dose_at
        origin = dosed or self._state.started_at
        if dosed is not None and stored.at < dosed:
            return False
        return origin == self.origin and (
            not self._micros or to_micros(stored.at) >= self._micros[-1]
        )

    def label(self, index: int) -> str:
        """The hover text of reading ``index``: its clock time and T+."""
        at = from_micros(self._micros[index])
        return f"{self._state.local_clock(at)}  {format_t_plus(at, self._state.first_dose_at)}"

    def __len__(self) -> int:
        return len(self._micros)

    @property
    def minutes(self) -> np.ndarray:
        return self._columns["minutes"].values

    @property
    def systolic(self) -> np.ndarray:
        return self._columns["systolic"].values

    @property
    def diastolic(self) -> np.ndarray:
        return self._columns["diastolic"].values

    @property
    def heart_rate(self) -> np.ndarray:
        return self._columns["heart_rate"].values

    @property
    def mean_arterial(self) -> np.ndarray:
        return self._columns["mean_arterial"].values


COLUMNS = ("minutes", "systolic", "diastolic", "heart_rate", "mean_arterial")


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def chart_data(state: SessionState) -> ChartData:
    return ChartData(state)


def scale_points(state: SessionState) -> list[tuple[float, str, int]]:
    """(minutes on the chart's axis, scale id, value) for the strip under the chart."""
    origin = state.first_dose_at or state.started_at
    return [
        ((s.at - origin).total_seconds() / 60, s.content.scale_id, s.content.answers[0])
        for s in state.scores()
        if s.content.scale_id in SCALES
    ]
