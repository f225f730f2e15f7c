"""An unexpected error reaches the clinician in a window, without the error's message."""

from __future__ import annotations

import sys
import threading

from PySide6.QtWidgets import QApplication

from kapdesk.ui.crash_dialog import CrashReporter

PATIENT = "-".join(["Zyxwvut", "Testpatient"])  # made at run time: never in the source
READING = "/".join(["182", "104"])


def fail() -> None:
    raise ValueError(f"{PATIENT} {READING}")  # a message may carry patient data


def raise_here() -> None:
    try:
        fail()
    except ValueError:
        sys.excepthook(*sys.exc_info())


def test_an_error_is_shown_once_without_its_message(qtbot, tmp_path, monkeypatch):
    logged: list[str] = []
    monkeypatch.setattr(sys, "excepthook", lambda *args: logged.append("main"))
    monkeypatch.setattr(threading, "excepthook", lambda args: logged.append("thread"))
    reporter = CrashReporter(tmp_path / "logs")
    reporter.install()
    raise_here()
    qtbot.waitUntil(lambda: reporter.box is not None)
    box = reporter.box
    qtbot.addWidget(box)
    assert logged == ["main"]  # logged first, as before
    assert "Entries already saved are safe" in box.text()
    assert str(tmp_path / "logs" / "kapdesk.log") in box.informativeText()
    details = box.detailedText()
    assert "in fail" in details
    assert "ValueError" in details
    assert PATIENT not in details
    assert READING not in details
    raise_here()  # the same error again: no second window over the first
    qtbot.wait(50)
    assert reporter.box is box
    box.close()


def test_an_error_in_another_thread_reaches_the_window_too(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(threading, "excepthook", lambda args: None)
    reporter = CrashReporter(tmp_path / "logs")
    reporter.install()
    worker = threading.Thread(target=fail)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: reporter.box is not None)
    qtbot.addWidget(reporter.box)
    assert PATIENT not in reporter.box.detailedText()
    reporter.box.close()


def test_a_damaged_page_met_while_open_says_what_to_do(qtbot, tmp_path, monkeypatch):
    """Entering it again cannot help when a page of the record is damaged (tamper QA:
    opening a patient stored on one said only "unexpected error")."""
    import sqlcipher3
    from sqlalchemy.exc import DatabaseError

    monkeypatch.setattr(sys, "excepthook", lambda *args: None)
    reporter = CrashReporter(tmp_path / "logs")
    reporter.install()
    try:
        raise DatabaseError(
            "SELECT 1", {}, sqlcipher3.dbapi2.DatabaseError("database disk image is malformed")
        )
    except DatabaseError:
        sys.excepthook(*sys.exc_info())
    qtbot.waitUntil(lambda: reporter.box is not None)
    qtbot.addWidget(reporter.box)
    assert reporter.box.text().startswith("Part of the record's database file is damaged")
    assert "kapdesk verify" in reporter.box.text()
    assert "enter it again" not in reporter.box.text()
    assert reporter.box.windowTitle() == "kapdesk: part of the record is damaged"
    # Met again elsewhere (another traceback): said once (Xvfb QA: it came twice).
    first = reporter.box
    try:
        raise DatabaseError(
            "SELECT 2", {}, sqlcipher3.dbapi2.DatabaseError("database disk image is malformed")
        )
    except DatabaseError:
        sys.excepthook(*sys.exc_info())
    QApplication.processEvents()
    assert reporter.box is first
