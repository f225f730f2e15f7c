"""What the course chart draws and says, as arrays and sentences: no Qt here.

One row per dosing session, x = its number in the course; NaN is a value not taken
(an incomplete scale, no dose, no pre-dose reading), so it draws as a gap, never as 0.
The marks (response, remission, a pre-dose above caution) are clinical/course.py's and
the scales' names and bands the instruments' (a clinic may have its own), not restated.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from kapdesk.clinical.course import CourseSession, SessionMarks
from kapdesk.clinical.self_report import Instrument

PLOTTED = ("phq9", "gad7")  # the scales drawn; any other scored one is in the words only


@dataclass(frozen=True)
class CourseSeries:
    """The course as the chart's arrays, oldest session first."""

    number: np.ndarray
    totals: dict[str, np.ndarray]  # per plotted scale; NaN where incomplete or not given
    given: dict[str, np.ndarray]  # bool: the scale was handed out (complete or not)
    marks: dict[str, list[str]]  # per plotted scale: "Rem", "R" or "" at each session
    item9: np.ndarray  # bool: PHQ-9 item 9 answered above 0
    dose_mg: np.ndarray
    pre_systolic: np.ndarray
    pre_diastolic: np.ndarray
    peak_systolic: np.ndarray
    peak_diastolic: np.ndarray
    pre_above_caution: np.ndarray  # bool
    counts: list[str]  # alerts and overrides in a few characters: "2A 1O"
    ticks: list[str]  # "3\n12 Nov"


def course_series(
    sessions: Sequence[CourseSession], marks: Mapping[uuid.UUID, SessionMarks]
) -> CourseSeries:
    """``sessions`` oldest first; ``marks`` by session id."""

    def column(values: Sequence[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype=float)

    marked = [marks.get(s.session_id) for s in sessions]
    return CourseSeries(
        number=np.array([s.number for s in sessions], dtype=float),
        totals={i: column([s.scores.get(i) for s in sessions]) for i in PLOTTED},
        given={i: np.array([i in s.scores for s in sessions], dtype=bool) for i in PLOTTED},
        marks={i: [mark_word(m, i) for m in marked] for i in PLOTTED},
        item9=np.array([(s.phq9_item9 or 0) > 0 for s in sessions], dtype=bool),
        dose_mg=column([s.dose_mg for s in sessions]),
        pre_systolic=column([s.pre_dose_systolic for s in sessions]),
        pre_diastolic=column([s.pre_dose_diastolic for s in sessions]),
        peak_systolic=column([s.peak_systolic for s in sessions]),
        peak_diastolic=column([s.peak_diastolic for s in sessions]),
        pre_above_caution=np.array(
            [m is not None and m.pre_dose_above_caution is not None for m in marked], dtype=bool
        ),
        counts=[counts_mark(s) for s in sessions],
        ticks=[f"{s.number}\n{_day(local_start(s))}" for s in sessions],
    )


def mark_word(marks: SessionMarks | None, instrument: str) -> str:
    mark = None if marks is None else marks.scores.get(instrument)
    if mark is None:
        return ""
    return "Rem" if mark.remission else "R" if mark.response else ""


def local_start(session: CourseSession) -> dt.datetime:
    return session.started_at.astimezone(ZoneInfo(session.zone_name))


def _day(moment: dt.datetime) -> str:
    return f"{moment.day} {moment:%b}"  # no %-d: Windows' strftime lacks it


def score_text(
    session: CourseSession,
    instrument: str,
    marks: SessionMarks | None,
    instruments: Mapping[str, Instrument],
) -> str:
    """E.g. "PHQ-9 4 minimal, response, remission"; says so when not scored."""
    known = instruments.get(instrument)
    name = known.name if known is not None else instrument
    if instrument not in session.scores:
        return f"{name} not given"
    total = session.scores[instrument]
    if total is None:
        return f"{name} incomplete, not scored"
    words = [f"{name} {total}"]
    if known is not None and (band := known.band_for(total)) is not None:
        words[0] += f" {band}"
    mark = None if marks is None else marks.scores.get(instrument)
    if mark is not None and mark.response:
        words.append("response")
    if mark is not None and mark.remission:
        words.append("remission")
    return ", ".join(words)


def dose_text(session: CourseSession) -> str:
    if session.dose_mg is None:
        return "no dose"
    text = f"{session.drug or 'dose'} {session.dose_mg:g} mg"
    if session.dose_mg_per_kg is not None:
        text += f" ({session.dose_mg_per_kg:.2f} mg/kg)"
    return text


def bp_text(session: CourseSession) -> str:
    def pair(systolic: int | None, diastolic: int | None) -> str:
        if systolic is None:
            return "none"
        return f"{systolic}/{diastolic}" if diastolic is not None else f"{systolic} systolic"

    pre = pair(session.pre_dose_systolic, session.pre_dose_diastolic)
    # "mean": the baseline of all the pre-dose readings (a flag names the last one).
    mean = " mean" if session.last_pre_dose else ""
    text = f"BP pre-dose{mean} {pre}, peak {pair(session.peak_systolic, session.peak_diastolic)}"
    if session.highest_diastolic is not None:
        text += f", highest diastolic {pair(*session.highest_diastolic)}"
    return text


def counts_text(session: CourseSession) -> str:
    """E.g. "2 alerts (1 urgent) · 1 override"; empty when there were none."""
    parts = []
    if session.alerts:
        parts.append(f"{session.alerts} alert{'s' * (session.alerts != 1)}")
        if session.urgent_alerts:
            parts[-1] += f" ({session.urgent_alerts} urgent)"
    if session.overrides:
        parts.append(f"{session.overrides} override{'s' * (session.overrides != 1)}")
    return " · ".join(parts)


def counts_mark(session: CourseSession) -> str:
    """The counts in the few characters that fit under a session: "2A 1O"."""
    parts = [f"{session.alerts}A"] * bool(session.alerts)
    return " ".join(parts + [f"{session.overrides}ov"] * bool(session.overrides))


def session_lines(
    session: CourseSession, marks: SessionMarks | None, instruments: Mapping[str, Instrument]
) -> list[str]:
    """What a person reads about one session: when, scores, dose, BP, alerts."""
    started = local_start(session)
    lines = [f"Session {session.number} · {started:%a} {started.day} {started:%b %Y}"]
    if not session.ended:
        lines[0] += " (in progress)"
    scales = [*PLOTTED, *sorted(set(session.scores) - set(PLOTTED))]
    lines += [score_text(session, i, marks, instruments) for i in scales]
    if (session.phq9_item9 or 0) > 0:
        lines.append(f"PHQ-9 item 9 answered {session.phq9_item9} (above 0)")
    lines += [dose_text(session), bp_text(session)]
    if marks is not None and marks.pre_dose_above_caution:
        lines.append(marks.pre_dose_above_caution)
    lines.append(counts_text(session) or "no alerts or overrides")
    return lines
