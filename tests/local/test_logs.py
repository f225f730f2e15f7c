"""The log file on a full disk: one sentence, not a traceback per line."""

from __future__ import annotations

import errno
import io
import logging
from pathlib import Path

import pytest

from kapdesk.local.logs import LOG_FILE, setup_logging


class FullDisk(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def log_file(tmp_path):
    setup_logging(tmp_path)
    root = logging.getLogger()
    handler = next(h for h in root.handlers if getattr(h, "_kapdesk", False))
    yield handler
    root.removeHandler(handler)
    handler.close()


def test_a_full_disk_is_said_once_and_logging_carries_on_after(log_file, capsys):
    log = logging.getLogger("kapdesk.test")
    writable = log_file.stream
    log_file.stream = FullDisk()
    for n in range(3):
        log.info("line %d of a full disk", n)
    said = capsys.readouterr().err
    assert said.count("\n") == 1, said
    assert "cannot be written (No space left on device)" in said
    assert "make room" in said
    assert "Logging error" not in said
    assert "Traceback" not in said
    assert "line 0" not in said  # nothing of the line itself

    log_file.stream = writable
    log.info("room again")
    log_file.flush()
    assert "room again" in Path(log_file.baseFilename).read_text()
    assert capsys.readouterr().err == ""

    log_file.stream = FullDisk()
    log.info("full once more")
    assert "cannot be written" in capsys.readouterr().err  # a new failure is said again
    log_file.stream = writable
    assert Path(log_file.baseFilename).name == LOG_FILE
