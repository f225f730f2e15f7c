"""The course chart of a patient with 100 dosing sessions, against bare pyqtgraph.

Target: the course view of 100 sessions drawn in under 100 ms: set_course and paint, on
an open chart (measure 1; the verdict is on it). The baseline, in the same run and at the
same size, is a bare pyqtgraph GraphicsLayoutWidget with three plots fed the same arrays
with plain plot() calls (two score lines, the dose bars, pre-dose and peak carets with
their bars) and painted the same way, so the ratio says what kapdesk's bands, words,
ticks, legends and selection cost on top of drawing the numbers. Runs alternate, so drift
touches both alike.

1. Redraw: an open chart given the course again (another patient's course, or this one's
   after a session).
2. First view: a chart made, shown, given the course and painted.
3. Redraw on a short window: as 1, at 1000x410 (a clinic laptop's 1024x600, less the
   title, the menus and the notes), where the chart is laid out short.

    python benchmarks/bench_course.py [--quick]     # --quick: 5 rounds instead of 21

QT_QPA_PLATFORM is offscreen unless the caller chose a platform.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from kapdesk.clinical.alerts import AlertThresholds
from kapdesk.clinical.course import CourseSession, summarise_course
from kapdesk.clinical.self_report_files import load_instruments
from kapdesk.resources import resource
from kapdesk.ui.theme import apply_theme
from kapdesk.widgets.course_chart import CourseChart

SESSIONS = 100
SIZE = (1366, 768)
SHORT_SIZE = (1000, 410)
TARGET_MS = 100.0


def synthetic_course(n: int) -> list[CourseSession]:
    """Six induction sessions twice a week, then weekly maintenance; scores falling into
    remission with a few incomplete questionnaires; BP creeping up; some alerts."""
    rng = np.random.default_rng(7)
    start = dt.datetime(2024, 1, 8, 14, 0, tzinfo=dt.UTC)
    sessions = []
    for i in range(n):
        days = 3.5 * i if i < 6 else 21 + 7 * (i - 6)
        phq9 = max(0, round(21 * np.exp(-i / 5) + 3 + rng.normal(0, 1.5)))
        gad7 = max(0, round(15 * np.exp(-i / 6) + 3 + rng.normal(0, 1.2)))
        systolic = round(122 + 0.25 * i + rng.normal(0, 4))
        sessions.append(
            CourseSession(
                session_id=uuid.uuid4(),
                number=i + 1,
                started_at=start + dt.timedelta(days=days),
                zone_name="Europe/London",
                protocol="IV infusion",
                ended=True,
                drug="ketamine",
                dose_mg=35.0 + 3.5 * (i % 4) if i % 17 else None,
                dose_mg_per_kg=0.5 + 0.05 * (i % 4) if i % 17 else None,
                pre_dose_systolic=systolic,
                pre_dose_diastolic=round(systolic * 0.63),
                peak_systolic=systolic + round(20 + rng.normal(0, 6)),
                peak_diastolic=round(systolic * 0.63) + 8,
                alerts=int(i % 9 == 4) * 2,
                urgent_alerts=int(i % 27 == 4),
                overrides=int(i % 13 == 5),
                scores={"phq9": None if i % 11 == 7 else phq9, "gad7": gad7},
                phq9_item9=1 if i in (0, 2) else 0,
            )
        )
    return sessions


class BareCourse(pg.GraphicsLayoutWidget):  # type: ignore[misc]
    """Three plots and plain plot() calls with the same arrays: the baseline. Cleared and
    plotted afresh each time, as plain pyqtgraph code would."""

    def __init__(self) -> None:
        super().__init__()
        self.plots = [self.addPlot(row=row, col=0) for row in range(3)]
        for plot in self.plots[:2]:
            plot.setXLink(self.plots[2])

    def draw(self, arrays: dict[str, np.ndarray]) -> None:
        scores, doses, bp = self.plots
        x = arrays["number"]
        for plot in self.plots:
            plot.clear()
        scores.plot(x, arrays["phq9"], symbol="o", connect="finite")
        scores.plot(x, arrays["gad7"], symbol="s", connect="finite")
        given = ~np.isnan(arrays["dose"])
        doses.addItem(pg.BarGraphItem(x=x[given], height=arrays["dose"][given], width=0.6))
        for offset, top, bottom in ((-0.17, "pre_sys", "pre_dia"), (0.17, "peak_sys", "peak_dia")):
            bp.plot(x + offset, arrays[top], pen=None, symbol="t")
            bp.plot(x + offset, arrays[bottom], pen=None, symbol="t1")
            ends = np.empty(2 * x.size)
            ends[0::2], ends[1::2] = arrays[top], arrays[bottom]
            bp.plot(np.repeat(x + offset, 2), ends, connect="pairs")


def arrays_of(sessions: list[CourseSession]) -> dict[str, np.ndarray]:
    def column(values: list[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype=float)

    return {
        "number": np.array([s.number for s in sessions], dtype=float),
        "phq9": column([s.scores.get("phq9") for s in sessions]),
        "gad7": column([s.scores.get("gad7") for s in sessions]),
        "dose": column([s.dose_mg for s in sessions]),
        "pre_sys": column([s.pre_dose_systolic for s in sessions]),
        "pre_dia": column([s.pre_dose_diastolic for s in sessions]),
        "peak_sys": column([s.peak_systolic for s in sessions]),
        "peak_dia": column([s.peak_diastolic for s in sessions]),
    }


class Course:
    """One course, for both: kapdesk's arguments and the baseline's arrays."""

    def __init__(self, n: int) -> None:
        self.sessions = synthetic_course(n)
        self.thresholds = AlertThresholds()
        # Made once, as the course view would: the chart is what is measured.
        self.summary = summarise_course(self.sessions, self.thresholds)
        self.instruments = load_instruments([resource("instruments")]).instruments
        self.arrays = arrays_of(self.sessions)

    def draw(self, widget: CourseChart | BareCourse) -> None:
        """Give the widget the course and paint it."""
        if isinstance(widget, CourseChart):
            widget.set_course(self.sessions, self.summary, self.instruments, self.thresholds)
        else:
            widget.draw(self.arrays)
        widget.grab()


def shown(
    widget: CourseChart | BareCourse, app: QApplication, size: tuple[int, int] = SIZE
) -> None:
    widget.resize(*size)
    widget.show()
    app.processEvents()


def closed(widget: CourseChart | BareCourse, app: QApplication) -> None:
    widget.close()
    widget.deleteLater()
    app.processEvents()


def redraws(
    app: QApplication, course: Course, rounds: int, size: tuple[int, int] = SIZE
) -> tuple[list[float], list[float]]:
    """An open chart given the course again, alternating with the baseline: ms each."""
    chart, bare = CourseChart(), BareCourse()
    for widget in (chart, bare):
        shown(widget, app, size)
        course.draw(widget)  # unmeasured: fonts and symbol images are made once a process
    ours: list[float] = []
    base: list[float] = []
    for _ in range(rounds):
        for widget, samples in ((bare, base), (chart, ours)):
            started = time.perf_counter()
            course.draw(widget)
            samples.append((time.perf_counter() - started) * 1000)
    for widget in (chart, bare):
        closed(widget, app)
    return ours, base


def first_views(app: QApplication, course: Course, rounds: int) -> tuple[list[float], list[float]]:
    """A new chart made, shown, given the course and painted, alternating: ms each."""
    ours: list[float] = []
    base: list[float] = []
    for _ in range(rounds):
        for make, samples in ((BareCourse, base), (CourseChart, ours)):
            started = time.perf_counter()
            widget = make()
            shown(widget, app)
            course.draw(widget)
            samples.append((time.perf_counter() - started) * 1000)
            closed(widget, app)
    return ours, base


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer rounds (CI)")
    rounds = 5 if parser.parse_args().quick else 21
    app = QApplication([])
    apply_theme(app)
    course = Course(SESSIONS)
    measures = (
        ("redraw (set_course + paint)", *redraws(app, course, rounds)),
        (
            "first view (new chart + show + set_course + paint)",
            *first_views(app, course, max(3, rounds // 3)),
        ),
        (
            f"redraw on a short window, {SHORT_SIZE[0]}x{SHORT_SIZE[1]}",
            *redraws(app, course, rounds, SHORT_SIZE),
        ),
    )
    print(
        f"Course chart, {SESSIONS} sessions at {SIZE[0]}x{SIZE[1]}, "
        f"QT_QPA_PLATFORM={os.environ['QT_QPA_PLATFORM']}:"
    )
    for name, ours, base in measures:
        print(f"  {name}, {len(ours)} alternating rounds:")
        print(
            f"    bare pyqtgraph (baseline)  median {statistics.median(base):6.1f} ms   "
            f"p90 {percentile(base, 0.9):6.1f} ms"
        )
        print(
            f"    kapdesk CourseChart        median {statistics.median(ours):6.1f} ms   "
            f"p90 {percentile(ours, 0.9):6.1f} ms   "
            f"({statistics.median(ours) / statistics.median(base):.2f}x the baseline)"
        )
    redraw = statistics.median(measures[0][1])
    verdict = "under" if redraw < TARGET_MS else "OVER"
    print(
        f"Verdict: set_course + paint of {SESSIONS} sessions takes {redraw:.0f} ms (median), "
        f"{verdict} the {TARGET_MS:.0f} ms target."
    )
    print(
        "  (A first view adds making pyqtgraph's plots and the window, as it does for bare\n"
        "  pyqtgraph: make the chart once and give it each patient's course.)"
    )
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
