"""Logging to a rotating file, and crash reports that cannot carry patient details.

Log lines are written by kapdesk's own code and never include names, notes or
readings. Exception messages are not trusted to be clean (a driver may quote a
value), so tracebacks are logged as the exception type and the stack only.
"""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import os
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import IO

LOG_FILE = "kapdesk.log"
CRASH_FILE = "crash.log"
_fault_file: IO[str] | None = None


class LogFile(logging.handlers.RotatingFileHandler):
    """The rotating log file. A line it cannot write (a full disk, a folder gone) is
    dropped with one sentence on stderr, not logging's default: a traceback, the call
    stack and the line's arguments, for every line after (tamper QA, full disk). Once a
    line is written again, a later failure is said again."""

    failing = False

    def emit(self, record: logging.LogRecord) -> None:
        self.failed = False
        super().emit(record)
        if not self.failed:
            self.failing = False

    def handleError(self, record: logging.LogRecord) -> None:
        self.failed = True
        if self.failing or not logging.raiseExceptions:
            return
        self.failing = True
        problem = sys.exc_info()[1]
        reason = getattr(problem, "strerror", None) or type(problem).__name__
        print(
            f"kapdesk: the log file {self.baseFilename} cannot be written ({reason}); "
            "log lines are left out until it can. If the disk is full, make room on it.",
            file=sys.stderr,
        )


def setup_logging(folder: Path, *, level: int = logging.INFO) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":
        folder.chmod(0o700)
    handler = LogFile(folder / LOG_FILE, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S%z")
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_kapdesk", False)]:
        root.removeHandler(old)
        old.close()
    handler._kapdesk = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if os.name == "posix":
        (folder / LOG_FILE).chmod(0o600)
    # Hard crashes (segfaults in a native library) dump the stack here: frames only.
    global _fault_file
    fd = os.open(folder / CRASH_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    crash_file = open(fd, "a", encoding="utf-8")  # noqa: SIM115 - open for the process
    faulthandler.enable(crash_file)
    if _fault_file is not None:
        _fault_file.close()
    _fault_file = crash_file


def safe_traceback(
    exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None
) -> str:
    """The exception's type and where it happened, without its message."""
    frames = "".join(traceback.format_list(traceback.extract_tb(tb)))
    return f"Traceback (message withheld):\n{frames}{exc_type.__module__}.{exc_type.__qualname__}"


def install_exception_hook() -> None:
    log = logging.getLogger("kapdesk.crash")

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.critical("unexpected error\n%s", safe_traceback(exc_type, exc, tb))
        print(
            "kapdesk met an unexpected error and logged where it happened (without any "
            "patient details). Entries already saved are safe.",
            file=sys.stderr,
        )

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        log.critical(
            "unexpected error in a thread\n%s",
            safe_traceback(args.exc_type, args.exc_value, args.exc_traceback),
        )

    sys.excepthook = hook
    threading.excepthook = thread_hook
