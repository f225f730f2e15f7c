"""`kapdesk selftest`: the check an installer runs, on a scratch record it removes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from kapdesk.ui import selftest


def _scratch_folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("kapdesk-selftest-*"))


def test_the_selftest_walks_a_session_and_removes_its_scratch_record(qapp):
    before = _scratch_folders()
    said: list[str] = []
    assert selftest.run_selftest(said.append) == 0
    assert said[-1].startswith("All steps passed")
    assert "ok  the session screen opened" in said
    assert "ok  a typed reading was stored and shown in the log and the chart" in said
    assert "ok  the record verified (integrity, audit chain, anchor)" in said
    assert _scratch_folders() == before


def test_a_failing_step_says_which_and_the_rest_are_not_run(qapp, monkeypatch):
    # A bundle that lost its protocol files: the window starts, but the check stops there.
    from kapdesk.clinical.protocols import LoadResult

    monkeypatch.setattr(
        "kapdesk.ui.main_window.clinic_protocols",
        lambda _folder: LoadResult({}, ["spravato_rems.toml could not be read."]),
    )
    before = _scratch_folders()
    said: list[str] = []
    assert selftest.run_selftest(said.append) == 1
    assert said[-2] == (
        "FAILED: the monitoring protocols did not load: spravato_rems.toml could not be read."
    )
    assert not any("session screen" in line for line in said)
    assert _scratch_folders() == before
