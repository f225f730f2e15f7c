"""An unexpected error reaches the clinician in a window, without the error's message."""

from __future__ import annotations

import sys
import threading

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
