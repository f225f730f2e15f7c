"""Checks of the whole record that run off the GUI thread: the periodic page check, and
"Verify the record" with its progress.

Each runs in a QThread on its own connection, so the window keeps answering and entries
are saved meanwhile (SQLite's write-ahead log lets a reader and the writer work at
once). Their results come back to the GUI thread as signals.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal
from PySide6.QtWidgets import QMainWindow, QProgressBar

from kapdesk.store.engine import IntegrityCheck
from kapdesk.store.verify import Progress, VerifyStopped

log = logging.getLogger(__name__)

# The first check soon after opening (not at once: the window paints first), then every
# few hours of a long clinic day. Two minutes let a record with a damaged page take a
# session's first entries before anything said so (tamper QA); the check runs on its own
# thread and connection, so entries are taken meanwhile.
FIRST_CHECK_MS = 10 * 1000
CHECK_EVERY_MS = 4 * 60 * 60 * 1000

# Short, so they fit a 1024x600 window whole; SQLite's own words go to the log (issue 10 QA).
# Entries are still taken, so the alert rules keep working in a live session; the damaged
# page itself is never rewritten (SQLCipher refuses a page that fails its check, and the
# write that needs it fails, said). The sentence says so: "note further entries on paper"
# beside entries still taken read as a contradiction (Xvfb QA).
DAMAGE_SENTENCE = (
    "The regular check found DAMAGE in the record's database file. Entries are still "
    "taken and checked, but note them on paper too; afterwards keep the data folder as it "
    "is, run “kapdesk verify”, and restore the latest backup into a new folder."
)
UNCHECKED_SENTENCE = (
    "The regular check could not read the record's database file. Note further entries "
    "on paper; keep the data folder as it is and run “kapdesk verify”."
)


class BackgroundJob(QThread):
    """Runs ``job(progress)`` in its own thread; ``done`` carries its result or its error."""

    progressed = Signal(str, int, int)
    done = Signal(object, object)  # (result, exception or None)

    def __init__(self, job: Callable[[Callable[[str, int, int], None]], Any]) -> None:
        super().__init__()
        self._job = job

    def run(self) -> None:
        try:
            result = self._job(self.progressed.emit)
        except Exception as exc:  # noqa: BLE001 - handed to the GUI thread, which says it
            if isinstance(exc, JobStopped | VerifyStopped):
                log.info("background job stopped")  # the window closed: not a failure
            else:
                log.error("background job failed: %s", type(exc).__name__)
            self.done.emit(None, exc)
            return
        self.done.emit(result, None)


class IntegrityWatch(QObject):
    """The check of every page (store/engine.py IntegrityCheck), soon after opening and
    then every few hours; ``failed`` carries the sentence to keep in the window."""

    failed = Signal(str)
    passed = Signal()

    def __init__(
        self,
        make_check: Callable[[], IntegrityCheck],
        *,
        first_ms: int = FIRST_CHECK_MS,
        every_ms: int = CHECK_EVERY_MS,
    ) -> None:
        super().__init__()
        self._make_check = make_check
        self._every_ms = every_ms
        self._check: IntegrityCheck | None = None
        self._job: BackgroundJob | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.check_now)
        self._timer.start(first_ms)

    @property
    def running(self) -> bool:
        return self._job is not None

    def check_now(self) -> None:
        if self._job is not None:
            return
        check = self._make_check()
        job = BackgroundJob(lambda _progress: check.run())
        job.done.connect(self._finished)
        self._check, self._job = check, job
        job.start()

    def _finished(self, problems: list[str] | None, error: Exception | None) -> None:
        job, self._job, self._check = self._job, None, None
        if job is not None:
            job.wait()
            job.deleteLater()
        if error is not None:
            log.error("the page check could not run: %s", type(error).__name__)
            self.failed.emit(UNCHECKED_SENTENCE)
            return  # a standing problem: no further checks until it is looked into
        if problems:
            log.error("the page check found damage: %s", "; ".join(problems[:5])[:600])
            self.failed.emit(DAMAGE_SENTENCE)
            return
        self.passed.emit()
        self._timer.start(self._every_ms)

    def stop(self) -> None:
        """Stop the timer and any check under way (it is interrupted, not waited out)."""
        self._timer.stop()
        job, check = self._job, self._check
        self._job = self._check = None
        if check is not None:
            check.interrupt()
        if job is not None:
            job.done.disconnect(self._finished)
            job.wait()
            job.deleteLater()


class JobStopped(Exception):
    """Raised inside a job's progress report when the window closes under it."""


class ProgressJob(QObject):
    """One job on the whole record at a time (verify, backup) in a thread, its progress in
    the window's status bar, and ``done(result, error)`` afterwards, on the GUI thread.

    In the status bar, not a window of its own: a progress window took the keyboard, and
    observations and readings typed while it showed were lost without a word (issue 10
    QA). The bar never takes the focus; the entry lines keep working."""

    def __init__(self, parent: QMainWindow) -> None:
        super().__init__(parent)
        self._parent = parent
        self._job: BackgroundJob | None = None
        self._done: Callable[[Any, Exception | None], None] | None = None
        self._title = ""
        self.progress: QProgressBar | None = None
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._job is not None

    @property
    def title(self) -> str:
        """What is under way ("Verifying the record"), or "" when nothing is."""
        return self._title if self._job is not None else ""

    def start(
        self,
        title: str,
        job: Callable[[Progress, Callable[[], bool]], Any],
        done: Callable[[Any, Exception | None], None],
    ) -> bool:
        """Start ``job(progress, stop)``; False (and nothing started) while one runs."""
        if self._job is not None:
            return False
        self._stopping, self._title, self._done = False, title, done
        progress = QProgressBar()
        progress.setObjectName("recordJob")
        progress.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        progress.setRange(0, 100)
        progress.setFormat(f"{title}… %p%")
        progress.setAccessibleName(title)
        progress.setMinimumWidth(360)

        def report(what: str, done_: int, total: int) -> None:
            if self._stopping:
                raise JobStopped
            worker.progressed.emit(what, done_, total)

        worker = BackgroundJob(lambda _emit: job(report, lambda: self._stopping))
        worker.progressed.connect(self._progressed)
        worker.done.connect(self._finished)
        self._job, self.progress = worker, progress
        self._parent.statusBar().addPermanentWidget(progress)
        progress.show()
        worker.start()
        return True

    def _progressed(self, what: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress.setFormat(f"{self._title}: {what} %p%")
            self.progress.setValue(100 * done // total if total else 100)

    def _finished(self, result: Any, error: Exception | None) -> None:
        job, progress, done = self._job, self.progress, self._done
        self._job = self.progress = self._done = None
        if job is not None:
            job.wait()
            job.deleteLater()
        if progress is not None:
            self._parent.statusBar().removeWidget(progress)
            progress.deleteLater()
        if done is not None and not isinstance(error, JobStopped | VerifyStopped):
            done(result, error)

    def stop(self) -> None:
        """End a job under way: it stops at its next step, and ``done`` is not called."""
        job = self._job
        if job is None:
            return
        self._stopping = True
        job.done.disconnect(self._finished)
        job.wait()
        self._finished(None, JobStopped())
