"""Workspace responsiveness, offscreen.

1. Enter-to-visible: from pressing Enter on an observation to the entry being
   committed durably and painted in the log (median and p99 over N entries), in a
   SPRAVATO REMS session with the clock timer running (issue 10).
   Target (issue 3): p99 under 30 ms on the 2-core machine. A six-hour session's
   entries are in benchmarks/bench_long_session.py.
2. Chart redraw with 10, 500 and 20,000 readings: kapdesk's BPChart (carets,
   bars, heart rate, thresholds, baseline, dose lines, newest emphasised)
   against bare pyqtgraph plotting the same arrays (carets, bars, dots), each
   set and rendered with grab(), alternating, same run.
   Target: at most 1.3 times the bare figure.

    python benchmarks/bench_workspace.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from kapdesk.local.clock import SystemClock
from kapdesk.local.settings import DEFAULT_QUICK_TAGS
from kapdesk.session.protocols import clinic_protocols
from kapdesk.session.service import SessionService
from kapdesk.store import RecordStore
from kapdesk.ui.theme import apply_theme
from kapdesk.ui.workspace import SessionWorkspace
from kapdesk.widgets.bp_chart import BPChart


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def enter_to_visible(app: QApplication, n: int) -> list[float]:
    root = Path(tempfile.mkdtemp(prefix=".bench-", dir=Path.cwd()))
    try:
        store = RecordStore.open(
            root, passphrase=lambda r: "benchmark passphrase", use_keyring=False, create=True
        )
        patient = store.add_patient("Benchmark Patient", weight_kg=70)
        protocol = clinic_protocols(root).protocols["SPRAVATO REMS"]
        session = store.start_session(patient, protocol=protocol.name, zone_name="UTC")
        clock = SystemClock()
        service = SessionService(
            store, session, clock=clock.now_utc, monotonic=clock.monotonic, protocol=protocol
        )
        # The clock timer runs, as in a session: its ticks fall between the entries.
        workspace = SessionWorkspace(service, quick_tags=list(DEFAULT_QUICK_TAGS))
        workspace.resize(1366, 768)
        workspace.show()
        app.processEvents()
        line = workspace.observation.line
        samples = []
        for i in range(n + 20):
            line.setText(f"observation {i}: calm, breathing slowly, eyes closed")
            start = time.perf_counter()
            QTest.keyClick(line, Qt.Key.Key_Return)
            workspace.log_view.viewport().repaint()  # painted, not just queued
            elapsed = time.perf_counter() - start
            app.processEvents()  # the clock timer fires when its 500 ms are up
            assert workspace.log_model.entry_at(0).text.startswith(f"observation {i}:")
            if i >= 20:
                samples.append(elapsed)
        workspace.release()
        workspace.close()
        workspace.deleteLater()
        app.processEvents()
        store.close()
        return samples
    finally:
        shutil.rmtree(root, ignore_errors=True)


def arrays(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    minutes = np.linspace(-20, 240, n)
    systolic = 128 + 30 * np.exp(-(((minutes - 40) / 35) ** 2)) + rng.normal(0, 4, n)
    diastolic = systolic - 45 + rng.normal(0, 3, n)
    heart_rate = 72 + rng.normal(0, 5, n)
    return {
        "minutes": minutes,
        "systolic": systolic.round(),
        "diastolic": diastolic.round(),
        "heart_rate": heart_rate.round(),
        "mean_arterial": (diastolic + (systolic - diastolic) / 3),
    }


class BareChart(pg.PlotWidget):  # type: ignore[misc]
    """pyqtgraph with the same arrays and nothing else: the baseline."""

    def __init__(self) -> None:
        super().__init__()
        self.systolic = self.plot(pen=None, symbol="t", symbolSize=16)
        self.diastolic = self.plot(pen=None, symbol="t1", symbolSize=16)
        self.heart_rate = self.plot(pen=None, symbol="o", symbolSize=10)
        self.bars = self.plot(connect="pairs")

    def set(self, data: dict[str, np.ndarray]) -> None:
        x = data["minutes"]
        self.systolic.setData(x, data["systolic"])
        self.diastolic.setData(x, data["diastolic"])
        self.heart_rate.setData(x, data["heart_rate"])
        bar_y = np.empty(2 * x.size)
        bar_y[0::2], bar_y[1::2] = data["systolic"], data["diastolic"]
        self.bars.setData(np.repeat(x, 2), bar_y)


def redraw(app: QApplication, sizes: list[int], repeats: int) -> list[tuple[int, float, float]]:
    ours, bare = BPChart(), BareChart()
    for chart in (ours, bare):
        chart.resize(800, 450)
        chart.show()
    app.processEvents()
    results = []
    labels_cache: dict[int, list[str]] = {}
    for n in sizes:
        data = arrays(n)
        labels_cache[n] = [f"{m:.0f} min" for m in data["minutes"]]
        ours_times, bare_times = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            bare.set(data)
            bare.grab()
            bare_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            ours.set_readings(
                data["minutes"],
                data["systolic"],
                data["diastolic"],
                data["heart_rate"],
                data["mean_arterial"],
                labels_cache[n],
            )
            ours.set_doses([0.0, 5.0])
            ours.set_baseline((128.0, 82.0))
            ours.grab()
            ours_times.append(time.perf_counter() - start)
        results.append((n, statistics.median(ours_times), statistics.median(bare_times)))
    for chart in (ours, bare):
        chart.close()
        chart.deleteLater()
    app.processEvents()
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer samples (CI)")
    args = parser.parse_args()
    app = QApplication([])
    apply_theme(app)
    n = 100 if args.quick else 300
    samples = enter_to_visible(app, n)
    print(f"Enter-to-visible, {n} observations (commit + log repaint):")
    print(
        f"  median {statistics.median(samples) * 1000:6.2f} ms   "
        f"p99 {percentile(samples, 0.99) * 1000:6.2f} ms   (target p99 < 30 ms)"
    )
    print("BP chart redraw (set data + render), median of repeats:")
    for size, ours, bare in redraw(app, [10, 500, 20_000], 5 if args.quick else 15):
        print(
            f"  {size:>6} readings   kapdesk {ours * 1000:7.2f} ms   bare pyqtgraph "
            f"{bare * 1000:7.2f} ms   ratio {ours / bare:5.2f}x   (target <= 1.3)"
        )
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
