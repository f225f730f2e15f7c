"""kapdesk at ten clinic years, against the demo record and against same-run baselines.

Builds (once, cached outside the repository: benchmarks/scale_record.py) a record of
2,001 patients, 20,002 finished sessions and 1.18 M records through the store API;
``--quick`` uses a tenth of it (201 patients) for CI. Then measures, interleaved in
rounds so that drift on a shared 2-CPU machine touches every figure alike (medians):

- start-up to a painted main window with data: ``kapdesk`` in a child process (its real
  entry point, kapdesk.cli.main, with a shim that prints the time of the first paint of
  the main window and quits) against a child showing a bare Qt + pyqtgraph window;
- open a patient (select it in the patients page), search patients by name (type a
  name into the search line), open a finished session (its entries through the store;
  its read-only screen by Enter on its row in the session list, after a second there,
  as a clinician choosing it does, so the screen was made ahead, ui/review_ahead.py; and
  the same screen made on Enter, with nothing made ahead), in this process, offscreen;
- ``kapdesk export`` as CSV (time per 100,000 rows and peak memory: bounded);
- ``kapdesk verify`` (time and peak memory) and ``kapdesk backup`` (time), in child
  processes, against copying the database file (time) and a child that only imports
  the store (memory).

    python benchmarks/bench_scale.py [--quick] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import scale_record

DEMO_PASSPHRASE = "benchmark demo passphrase of several words"

# The first paint of the window, then quit: printed as one JSON line by the child.
PAINT_SHIM = r"""
import json, sys, time
marks = {}
WHAT = sys.argv[1]

def first_paint_filter():
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    class FirstPaint(QObject):
        def __init__(self):
            super().__init__()
            self.seen = False
        def eventFilter(self, watched, event):
            # Any widget's first paint: the whole window is painted in that one pass, and
            # the timer fires once the pass (and its flush) is over.
            if event.type() == QEvent.Type.Paint and not self.seen:
                self.seen = True
                QTimer.singleShot(0, self.report)
            return False
        def report(self):
            marks["painted"] = time.time()
            print("BENCH " + json.dumps(marks), flush=True)
            for window in QApplication.topLevelWidgets():
                # As after "Quit" in the question a session never ended asks (the demo
                # record's running one): quitting closes the windows first.
                if hasattr(window, "_quit_confirmed"):
                    window._quit_confirmed = True
            QApplication.quit()

    return FirstPaint()

if WHAT == "bare":
    from PySide6.QtWidgets import QApplication, QMainWindow
    import pyqtgraph as pg
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    plot = pg.PlotWidget()
    plot.plot([0, 10, 20, 30], [128, 140, 135, 126])
    window.setCentralWidget(plot)
    window.resize(1366, 768)
    first_paint = first_paint_filter()
    app.installEventFilter(first_paint)
    window.showMaximized()
    sys.exit(app.exec())

# kapdesk imports its modules itself, in its own order (which matters: see
# kapdesk/ui/__init__.py), from cli.main; the timing hooks go into each module as it is
# loaded, so nothing is imported early on its behalf.
import importlib.abc

def timed(owner, name, label):
    real = getattr(owner, name)
    def wrapper(*args, **kwargs):
        started = time.time()
        try:
            return real(*args, **kwargs)
        finally:
            marks[label] = marks.get(label, 0) + time.time() - started
    setattr(owner, name, wrapper)

def hook_launch(launch):
    marks["imported"] = time.time()
    # Who is at the keyboard (issue 14) waits for a person's typing, not for kapdesk: the
    # start-up figure is the record opened and the window painted.
    launch.sign_in_at_start = lambda store, clock: True

def hook_vault(vault):
    timed(vault.KeyVault, "unlock", "key_unlock_s")

def hook_record(record):
    real_open = record.RecordStore.open.__func__
    def open_(cls, *args, **kwargs):
        started = time.time()
        try:
            return real_open(cls, *args, **kwargs)
        finally:
            marks["store_open_s"] = time.time() - started
    record.RecordStore.open = classmethod(open_)

def hook_main_window(main_window):
    from PySide6.QtWidgets import QApplication
    real_init = main_window.MainWindow.__init__
    first_paint = first_paint_filter()
    def init(self, *args, **kwargs):
        started = time.time()
        real_init(self, *args, **kwargs)
        marks["window_built_s"] = time.time() - started
        QApplication.instance().installEventFilter(first_paint)
    main_window.MainWindow.__init__ = init

HOOKS = {
    "kapdesk.ui.launch": hook_launch,
    "kapdesk.store.vault": hook_vault,
    "kapdesk.store.record": hook_record,
    "kapdesk.ui.main_window": hook_main_window,
}

class Hooks(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in HOOKS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        real_exec = spec.loader.exec_module
        def exec_module(module):
            real_exec(module)
            HOOKS[name](module)
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, Hooks())
marks["python"] = time.time()
from kapdesk import cli
sys.exit(cli.main(["--data-dir", sys.argv[2]]))
"""

PEAK_SHIM = r"""
import sys, time
started = time.time()
code = 0
try:
    if sys.argv[1] == "import-only":
        import kapdesk.store.verify_folder
    else:
        from kapdesk import cli
        code = cli.main(sys.argv[1:])
finally:
    # VmHWM: this program's own peak (ru_maxrss would count the benchmark's memory, kept
    # across fork and exec).
    status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
    print(f"BENCH {time.time() - started} {status}", file=sys.stderr, flush=True)
sys.exit(code)
"""


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def child_env(state: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_STATE_HOME=str(state),
        KAPDESK_PASSPHRASE=DEMO_PASSPHRASE,
    )
    return env


class Record:
    def __init__(self, name: str, folder: Path, passphrase: str, state: Path) -> None:
        self.name, self.folder, self.passphrase, self.state = name, folder, passphrase, state

    def env(self) -> dict[str, str]:
        env = child_env(self.state)
        env["KAPDESK_PASSPHRASE"] = self.passphrase
        return env


def demo_record(root: Path) -> Record:
    folder, state = root / "demo", root / "demo-state"
    env = child_env(state)
    subprocess.run(
        [sys.executable, "-m", "kapdesk", "--data-dir", str(folder), "demo"],
        env=env,
        check=True,
        capture_output=True,
    )
    return Record("demo record", folder, DEMO_PASSPHRASE, state)


def big_record(quick: bool) -> Record:
    patients = scale_record.FULL_PATIENTS // 10 if quick else scale_record.FULL_PATIENTS
    folder = scale_record.ensure_record(patients, say=lambda text: print(text, flush=True))
    size = (folder / "kapdesk.db").stat().st_size / 1e6
    return Record(
        f"{patients + 1}-patient record ({size:,.0f} MB)",
        folder,
        scale_record.PASSPHRASE,
        scale_record.state_folder(patients),
    )


def start_up(what: str, record: Record | None, bytecode: Path) -> dict[str, float]:
    """Start-up of a child, from compiled bytecode (``bytecode``, a folder the first,
    untimed, start fills) as an installed kapdesk runs: its bundle carries bytecode, while
    a shell with PYTHONDONTWRITEBYTECODE (CI's, this sandbox's) would make every start
    compile kapdesk's source again, which a clinic never pays."""
    args = [sys.executable, "-c", PAINT_SHIM, what]
    env = child_env(Path(tempfile.gettempdir()))
    if record is not None:
        args.append(str(record.folder))
        env = record.env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(bytecode)
    started = time.time()
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"{what} did not paint: {done.stderr[-2000:]}")
    marks = json.loads(line[6:])
    out = {"start_to_paint_s": marks["painted"] - started}
    if "imported" in marks:
        out["interpreter_s"] = marks["python"] - started
        out["imports_s"] = marks["imported"] - marks["python"]
        for key in ("key_unlock_s", "store_open_s", "window_built_s"):
            out[key] = marks.get(key, float("nan"))
    return out


def peak_run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak resident MiB) of a kapdesk command in a child process."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK_SHIM, *args], env=env, capture_output=True, text=True
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("BENCH "))
    if done.returncode != 0:
        raise RuntimeError(f"{args} failed: {done.stderr[-2000:]}")
    seconds, peak_kib = line.split()[1:]
    return float(seconds), float(peak_kib) / 1024


def file_copy_s(record: Record, scratch: Path) -> float:
    target = scratch / "copy.db"
    started = time.perf_counter()
    shutil.copyfile(record.folder / "kapdesk.db", target)
    with target.open("rb+") as handle:
        os.fsync(handle.fileno())
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


def in_app_figures(record: Record, rounds: int) -> dict[str, list[float]]:
    """Open a patient, search, open a finished session: in this process, offscreen."""
    from PySide6.QtCore import QModelIndex, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from kapdesk.local.clock import SystemClock
    from kapdesk.local.settings import Settings
    from kapdesk.store import RecordStore
    from kapdesk.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    os.environ["XDG_STATE_HOME"] = str(record.state)
    store = RecordStore.open(
        record.folder,
        passphrase=lambda _request: record.passphrase,
        use_keyring=False,
        anchor_mirror=record.state / "kapdesk" / "anchors",
    )
    figures: dict[str, list[float]] = {}

    def timed(name: str, act: Callable[[], object]) -> None:
        started = time.perf_counter()
        act()
        app.processEvents()
        figures.setdefault(name, []).append(time.perf_counter() - started)

    try:
        window = MainWindow(store, Settings(record.folder), SystemClock())
        window.resize(1366, 768)
        window.show()
        idle(app)
        page = window.patients_page
        from sqlalchemy import text

        finished = (
            "SELECT p.display_name, s.id FROM sessions s JOIN patients p "
            "ON p.id = s.patient_id WHERE s.ended_at IS NOT NULL "
            "ORDER BY s.rowid LIMIT 1 OFFSET :o"
        )
        with store.engine.connect() as conn:
            count = conn.execute(
                text("SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL")
            ).scalar_one()
            # Sessions spread over the record's years (the demo record has one).
            picks = [
                conn.execute(text(finished), {"o": (count * (i + 1)) // (rounds + 1) % count}).one()
                for i in range(rounds)
            ]
        import uuid

        for name, session_id in picks:
            session = uuid.UUID(session_id)
            timed("search by name", lambda name=name: page.search.setText(name[: len(name) - 2]))
            page.patient_list.setCurrentIndex(QModelIndex())  # no patient chosen
            app.processEvents()
            timed(
                "open a patient",
                lambda: page.patient_list.setCurrentIndex(page.patient_list.model().index(0, 0)),
            )
            page.search.clear()
            app.processEvents()
            timed("open a finished session: its entries", lambda s=session: _load(store, s))
            # The clinician's way: the patient, Tab to their sessions, the row, a second
            # reading it, Enter.
            _choose(window, session)
            idle(app)
            timed(
                "open a finished session: chosen, then Enter",
                lambda: QTest.keyClick(page.session_list, Qt.Key.Key_Return),
            )
            assert window.workspace is not None
            assert window.workspace.service.id == session
            window.close_workspace()
            # Enter at once on a row: nothing made ahead. The keyboard leaves the session
            # list (Esc put it back on the session just read, where a screen would be made
            # ahead after 0.8 s), and the window settles as the clinician reads.
            page.patient_list.setFocus()
            idle(app)
            assert window.review_ahead.ready is None
            timed(
                "open a finished session: made on Enter",
                lambda s=session: window.open_session(s),
            )
            window.close_workspace()
            idle(app)
        window._quit_confirmed = True
        window.close()
        window.deleteLater()
        app.processEvents()
    finally:
        store.close()
    return figures


def idle(app) -> None:  # type: ignore[no-untyped-def]
    """The clinician reading the page for a second, the event loop running: what the
    main window does while nobody acts (its warm-up, the next session screen's chart,
    ui/chart_pool.py) is done then, as in use, and not counted in the next act."""
    from PySide6.QtTest import QTest

    QTest.qWait(1000)
    app.processEvents()


def _load(store, session_id) -> None:  # type: ignore[no-untyped-def]
    store.session(session_id)
    for kind in ("vitals", "observation", "dose", "scale_score"):
        store.entries(kind, session_id)
    store.session_events(session_id)
    store.infusion_stops(session_id)


def _choose(window, session_id) -> None:  # type: ignore[no-untyped-def]
    """The session's patient chosen, the keyboard on their session list, its row chosen."""
    page = window.patients_page
    patient = window.store.session(session_id)["patient_id"]
    page.search.setText(window.store.entry("patient", patient).current["display_name"])
    page.select_patient(patient)
    page.choose_session(session_id)
    if page.chosen_session() != session_id:
        raise RuntimeError("the session is not in its patient's list")


def report_start_up(starts: dict[str, list[dict[str, float]]], records: list[Record]) -> None:
    bare = median([s["start_to_paint_s"] for s in starts["bare"]])
    print("\nstart-up to a painted window with data (child process, offscreen, from bytecode)")
    print(f"  bare Qt + pyqtgraph window   {bare * 1000:7.0f} ms  (baseline)")
    for record in records:
        samples = starts[record.name]
        total = median([s["start_to_paint_s"] for s in samples])
        print(f"  {record.name:<28} {total * 1000:7.0f} ms  {total / bare:5.2f}x the bare window")
        for key in ("interpreter_s", "imports_s", "key_unlock_s", "store_open_s", "window_built_s"):
            part = median([s[key] for s in samples])
            print(f"      {key[:-2]:<24} {part * 1000:7.0f} ms")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a tenth of the record (CI)")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument(
        "--parts",
        default="start,app,verify",
        help="which parts to measure: start, app, verify (comma-separated)",
    )
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 5)
    slow_rounds = 2 if args.quick else 3
    root = Path(tempfile.mkdtemp(prefix="kapdesk-bench-scale-"))
    try:
        big = big_record(args.quick)
        demo = demo_record(root)
        records = [demo, big]
        print(f"records: {demo.name}; {big.name}; {rounds} rounds, medians", flush=True)

        parts = set(args.parts.split(","))
        starts: dict[str, list[dict[str, float]]] = {"bare": [], demo.name: [], big.name: []}
        bytecode = root / "bytecode"
        if "start" in parts:  # untimed: compiles each child's modules into ``bytecode``
            start_up("bare", None, bytecode)
            start_up("app", demo, bytecode)
        for _ in range(rounds if "start" in parts else 0):
            starts["bare"].append(start_up("bare", None, bytecode))
            for record in records:
                starts[record.name].append(start_up("app", record, bytecode))
        if "start" in parts:
            report_start_up(starts, records)
        for record in records if "app" in parts else []:
            figures = in_app_figures(record, rounds)
            print(f"\nin the app, {record.name} (medians of {rounds})")
            for name, samples in figures.items():
                print(f"  {name:<42} {median(samples) * 1000:8.1f} ms")

        if "verify" not in parts:
            return 0
        scratch = root / "scratch"
        scratch.mkdir()
        import_only = [peak_run(["import-only"], child_env(root))[1] for _ in range(slow_rounds)]
        print(f"\nverify and backup (child processes; medians of {slow_rounds})")
        print(f"  a child importing the store: peak {median(import_only):.0f} MiB (baseline)")
        for record in records:
            verify, backup, copy, export = [], [], [], []
            rows = 0
            for number in range(slow_rounds):
                copy.append(file_copy_s(record, scratch))
                verify.append(peak_run(["--data-dir", str(record.folder), "verify"], record.env()))
                target = scratch / f"b{number}.kapbak"
                backup.append(
                    peak_run(
                        ["--data-dir", str(record.folder), "backup", str(target)], record.env()
                    )
                )
                target.unlink()
                folder = scratch / f"e{number}"
                export.append(
                    peak_run(
                        ["--data-dir", str(record.folder), "export", str(folder)], record.env()
                    )
                )
                rows = sum(
                    sum(1 for _line in path.open(encoding="utf-8")) - 1
                    for path in folder.glob("*.csv")
                )
                shutil.rmtree(folder)
            floor = median(copy)
            verify_s = median([v[0] for v in verify])
            verify_mib = median([v[1] for v in verify])
            backup_s = median([b[0] for b in backup])
            print(f"  {record.name}")
            print(f"    copying the database file (baseline) {floor:8.2f} s")
            print(
                f"    kapdesk verify {verify_s:8.2f} s ({verify_s / floor:5.1f}x the copy), "
                f"peak {verify_mib:.0f} MiB ({verify_mib / median(import_only):.1f}x the "
                "import-only child)"
            )
            print(f"    kapdesk backup {backup_s:8.2f} s ({backup_s / floor:5.1f}x the copy)")
            export_s = median([e[0] for e in export])
            export_mib = median([e[1] for e in export])
            print(
                f"    kapdesk export (CSV) {export_s:8.2f} s for {rows:,} rows "
                f"({export_s / max(rows, 1) * 100_000:.2f} s per 100,000 rows), peak "
                f"{export_mib:.0f} MiB ({export_mib / median(import_only):.1f}x the import-only "
                "child: bounded, whatever the record's size)"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
