"""`kapdesk selftest`: does this installation work on this computer?

For the person who installs kapdesk (a clinic's IT, or the build's own check of a
frozen bundle, issue 11): the whole path a clinician takes, on a scratch record in a
temporary folder that is removed afterwards. The clinic's record, its keyring entry
and its anchor copy are never touched.

Each step prints one line; the first that fails says what failed and the exit code
is 1. The steps: Qt starts on this display; a new encrypted record is created and
the demo patient added; the style sheets and protocols load; the main window paints
and offers the demo's running session; resuming it opens the session screen; a
reading typed there is stored and shown in the log and the chart; the session's
report is written as a PDF; the record verifies.
"""

from __future__ import annotations

import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from kapdesk import __version__
from kapdesk.local.clock import SystemClock
from kapdesk.local.demo import create_demo
from kapdesk.local.settings import Settings
from kapdesk.store import RecordStore
from kapdesk.store.verify_folder import verify_folder
from kapdesk.ui.app_icon import app_icon
from kapdesk.ui.main_window import MainWindow
from kapdesk.ui.theme import apply_theme

TYPED = "128/82 72 98"


class SelfTestFailed(Exception):
    """A step did not do what it should: the sentence says which and what was seen."""


def run_selftest(out: Callable[[str], None] = print) -> int:
    """Run every step; 0 if all passed, 1 if one failed (the rest are not run)."""
    out(f"kapdesk {__version__} self-test (a scratch record, removed afterwards)")
    scratch = Path(tempfile.mkdtemp(prefix="kapdesk-selftest-"))
    try:
        _steps(scratch, out)
    except SelfTestFailed as failed:
        out(f"FAILED: {failed}")
        out("kapdesk is not working on this computer; send this output to your support.")
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out("All steps passed: kapdesk works on this computer. The scratch record was removed.")
    return 0


def _check(ok: bool, sentence: str) -> None:
    if not ok:
        raise SelfTestFailed(sentence)


def _steps(scratch: Path, out: Callable[[str], None]) -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    out(f"ok  Qt {app.platformName()} platform started")
    icon = app_icon()
    _check(not icon.isNull(), "the application icon could not be drawn")
    app.setWindowIcon(icon)

    data, anchors = scratch / "data", scratch / "anchors"
    passphrase = secrets.token_urlsafe(24)  # the scratch record's only key, never kept
    clock = SystemClock()
    store = RecordStore.open(
        data,
        passphrase=lambda _request: passphrase,
        clock=clock.now_utc,
        login_name="self-test",
        use_keyring=False,  # the clinic's keyring is not touched
        create=True,
        anchor_mirror=anchors,
    )
    with store:
        _finished, session_id = create_demo(store, clock.now_utc())
        out("ok  an encrypted record was created and the demo patient added")

        settings = Settings(data)
        apply_theme(app, settings.get("theme"), settings.get("font_scale"))
        _check("background" in app.styleSheet(), "the style sheets did not load")
        window = MainWindow(store, settings, clock)
        _check(
            not window.protocol_problems and "SPRAVATO REMS" in window.protocols,
            "the monitoring protocols did not load: " + " ".join(window.protocol_problems),
        )
        out(f"ok  style sheets and {len(window.protocols)} monitoring protocols loaded")
        window.resize(1024, 600)
        window.show()
        QTest.qWaitForWindowExposed(window, 5000)
        app.processEvents()
        _check(not window.grab().isNull(), "the main window did not paint")
        _check(
            window.patients_page.resumable == session_id,
            "the main window did not offer the demo's running session",
        )
        out("ok  the main window painted and offered the running session")

        window.resume_session(session_id)
        app.processEvents()
        workspace = window.workspace
        _check(
            workspace is not None and window.pages.currentWidget() is workspace,
            "resuming the session did not open the session screen",
        )
        assert workspace is not None
        out("ok  the session screen opened")

        line = workspace.vitals.line
        line.setText(TYPED)
        QTest.keyClick(line, Qt.Key.Key_Return)
        app.processEvents()
        newest = workspace.log_model.entry_at(0)
        _check(
            newest.kind == "vitals" and "BP 128/82" in newest.text,
            f"a typed reading was not shown in the log (the newest entry: {newest.text!r})",
        )
        stored = workspace.service.state.readings()[-1]
        _check(
            stored.reading.systolic == 128 and stored.reading.spo2 == 98,
            "a typed reading was not stored as typed",
        )
        drawn = workspace.chart.bp_points()
        _check(
            bool(drawn) and drawn[-1][1:] == (128, 82),
            "the blood pressure chart did not draw the typed reading",
        )
        out("ok  a typed reading was stored and shown in the log and the chart")

        from kapdesk.ui.report import report_facts, write_pdf

        report = scratch / "report.pdf"
        pages = write_pdf(workspace.service, report_facts(workspace.service, "self-test"), report)
        _check(
            pages >= 1 and report.read_bytes().startswith(b"%PDF"),
            "the session report could not be written as a PDF",
        )
        out(f"ok  the session's report was written as a PDF ({pages} pages)")

        window._quit_confirmed = True  # as after "Quit" in the question a running session asks
        window.close()
        window.deleteLater()
        app.processEvents()

    report = verify_folder(data, lambda _request: passphrase, mirror=anchors)
    _check(report.ok, "the record did not verify:\n" + report.render())
    out("ok  the record verified (integrity, audit chain, anchor)")
