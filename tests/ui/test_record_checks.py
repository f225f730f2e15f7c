"""The record at ten clinic years (issue 10): the patients page reads only what it shows,
verify runs off the GUI thread, and the page check in the background never fails quietly."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from kapdesk.local.settings import Settings
from kapdesk.store import RecordStore
from kapdesk.store.verify import Check, VerifyReport, VerifyStopped
from kapdesk.ui import main_window as main_window_module
from kapdesk.ui.main_window import MainWindow
from kapdesk.ui.record_checks import IntegrityWatch


@pytest.fixture
def many_patients(store: RecordStore, clock) -> list:
    ids = []
    for number, name in enumerate(["Ada Lovelace", "Zoë Ångström", "Ben Okafor", "Cara Diaz"]):
        clock.advance(minutes=1)
        ids.append(store.add_patient(name, record_number=f"MRN-{number}"))
    return ids


def _window(qtbot, store, data_dir, clock) -> MainWindow:
    window = MainWindow(store, Settings(data_dir), clock)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _listed(window: MainWindow) -> list[str]:
    model = window.patients_page.patients
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def test_the_page_lists_the_latest_patients_and_finds_any_by_name(
    qtbot, store, data_dir, clock, many_patients, monkeypatch
):
    monkeypatch.setattr(main_window_module, "PATIENTS_SHOWN", 2)
    # The whole table is never read into the window.
    monkeypatch.setattr(RecordStore, "patients", lambda self: pytest.fail("all patients read"))
    window = _window(qtbot, store, data_dir, clock)
    assert _listed(window) == ["Cara Diaz  ·  MRN-3", "Ben Okafor  ·  MRN-2"]
    assert "2 patients seen most recently, of 4" in window.patients_page.list_note.text()
    qtbot.keyClicks(window.patients_page.search, "zOË")
    assert _listed(window) == ["Zoë Ångström  ·  MRN-1"]
    assert window.patients_page.selected_patient() == many_patients[1]
    window.patients_page.search.setText("mrn-0")
    assert _listed(window) == ["Ada Lovelace  ·  MRN-0"]
    window.patients_page.search.setText("mrn")  # four match; two are listed, and it says so
    assert len(_listed(window)) == 2
    assert "More than 2 patients match" in window.patients_page.list_note.text()
    window.patients_page.search.setText("nobody")
    assert _listed(window) == []
    assert "No patient" in window.patients_page.list_note.text()


def test_a_corrected_name_is_found_and_the_old_one_is_not(
    qtbot, store, data_dir, clock, many_patients
):
    store.correct("patient", many_patients[0], {"display_name": "Ada King"}, reason="married")
    window = _window(qtbot, store, data_dir, clock)
    window.patients_page.search.setText("king")
    assert _listed(window) == ["Ada King  ·  MRN-0"]
    window.patients_page.search.setText("lovelace")
    assert _listed(window) == []


class FakeCheck:
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        self.interrupted = False

    def run(self) -> list[str]:
        return self.problems

    def interrupt(self) -> None:
        self.interrupted = True


def test_a_failed_page_check_stays_in_the_window(qtbot, store, data_dir, clock):
    window = _window(qtbot, store, data_dir, clock)
    watch = IntegrityWatch(lambda: FakeCheck(["page 7: checksum mismatch"]), first_ms=0)
    window.watch_integrity(watch)
    qtbot.waitUntil(lambda: window.integrity_alarm.isVisible())
    sentence = window.integrity_alarm.text()
    assert "found DAMAGE" in sentence
    assert "page 7" not in sentence  # SQLite's words go to the log, not to the clinician
    assert "Entries are still taken and checked, but note them on paper too" in sentence
    assert "keep the data folder as it is" in sentence
    assert "restore the latest backup" in sentence
    window.resize(1024, 544)  # whole on a small clinic laptop
    QApplication.processEvents()
    alarm = window.integrity_alarm
    assert alarm.height() >= alarm.heightForWidth(alarm.width())
    window.show_verdict("Settings saved.")  # other news does not replace it
    assert window.integrity_alarm.text() == sentence
    assert window.statusBar().isVisible()


def test_a_page_check_that_cannot_run_is_said_too(qtbot, store, data_dir, clock):
    class Unreadable(FakeCheck):
        def run(self) -> list[str]:
            raise OSError("gone")

    window = _window(qtbot, store, data_dir, clock)
    window.watch_integrity(IntegrityWatch(lambda: Unreadable([]), first_ms=0))
    qtbot.waitUntil(lambda: window.integrity_alarm.isVisible())
    assert "could not read" in window.integrity_alarm.text()


def test_an_intact_record_passes_the_real_check_and_it_is_scheduled_again(
    qtbot, store, data_dir, clock, many_patients
):
    window = _window(qtbot, store, data_dir, clock)
    watch = IntegrityWatch(store.integrity_check, first_ms=0, every_ms=3_600_000)
    with qtbot.waitSignal(watch.passed, timeout=20_000):
        window.watch_integrity(watch)
    assert not window.integrity_alarm.isVisible()
    assert watch._timer.isActive()  # the next check, hours later
    window.close()  # stops it: no timer or thread outlives the window
    assert not watch._timer.isActive()
    assert not watch.running


def test_verify_from_the_menu_runs_off_the_gui_thread_with_progress(
    qtbot, store, data_dir, clock, many_patients
):
    window = _window(qtbot, store, data_dir, clock)
    window.patients_page.patient_list.setFocus()
    focused = QApplication.focusWidget()
    window.run_verify()
    job = window.record_job
    assert job.running
    assert job.progress is not None
    # In the status bar, never taking the keyboard: a progress window took it, and what
    # was typed meanwhile was lost (issue 10 QA).
    assert job.progress.focusPolicy() == Qt.FocusPolicy.NoFocus
    assert job.progress.window() is window
    assert QApplication.focusWidget() is focused
    window.run_verify()  # a second request while one runs starts nothing more
    assert "Verifying the record is under way" in window.verdict.text()
    qtbot.waitUntil(lambda: window.verdict.text() == "The record is intact.", timeout=20_000)
    assert not job.running
    assert "Records against the audit trail" in window.verdict.toolTip()


def test_a_backup_from_the_menu_is_written_off_the_gui_thread_and_audited(
    qtbot, store, data_dir, clock, many_patients, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog

    from kapdesk.store.backup import read_manifest

    target = tmp_path / "today.kapbak"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), ""))
    window = _window(qtbot, store, data_dir, clock)
    window.back_up()
    assert window.record_job.running
    qtbot.waitUntil(lambda: window.verdict.text().startswith("Backup written"), timeout=20_000)
    assert str(target) in window.verdict.text()
    assert read_manifest(target)["database_id"] == store.database_id
    with store.engine.connect() as conn:
        actions = conn.exec_driver_sql("SELECT action FROM audit_events").scalars().all()
    assert actions[-1] == "backup"
    window.back_up()  # the same file again: refused with a sentence, nothing replaced
    qtbot.waitUntil(lambda: "already exists" in window.verdict.text(), timeout=20_000)


def test_closing_the_window_stops_a_verification_under_way(
    qtbot, store, data_dir, clock, many_patients
):
    window = _window(qtbot, store, data_dir, clock)
    window.run_verify()
    window.close()  # no events run in between: the job's end cannot have been heard yet
    box = window.quit_box
    assert box is not None  # quitting names what it stops (issue 10 QA)
    assert box.text() == "Verifying the record is under way."
    assert box.informativeText() == "Quitting stops it: the record is not checked."
    assert window.record_job.running  # asking stops nothing
    [leave] = [b for b in box.buttons() if b.text() == "&Quit (Alt+Q)"]
    leave.click()
    assert not window.record_job.running
    assert window.verdict.text() == ""  # stopped: nothing concluded


def test_a_verification_stopped_midway_concludes_nothing(store, many_patients):
    with pytest.raises(VerifyStopped):
        store.verify(stop=lambda: True)
    assert store.verify().ok  # the connection it used is as good as before


def test_an_export_from_the_menu_warns_it_is_plain_text_and_is_audited(
    qtbot, store, data_dir, clock, many_patients, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    asked = []

    def question(_parent, _title, text, *_args):
        asked.append(text)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "question", question)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path))
    window = _window(qtbot, store, data_dir, clock)
    window.export_csv()
    assert "plain text" in asked[0]
    qtbot.waitUntil(lambda: window.verdict.text().startswith("Exported"), timeout=20_000)
    [folder] = tmp_path.glob("kapdesk-export-*")
    assert (folder / "patients.csv").read_text(encoding="utf-8").count("\n") == 1 + len(
        many_patients
    )
    assert "plain-text CSV" in window.verdict.text()
    assert str(folder) in window.verdict.toolTip()
    with store.engine.connect() as conn:
        actions = conn.exec_driver_sql("SELECT action FROM audit_events").scalars().all()
    assert actions[-1] == "export"


def test_a_failed_verification_says_what_failed_where_the_keyboard_reaches(
    qtbot, store, data_dir, clock
):
    """What failed was only in the verdict's tooltip, out of reach without a mouse
    (tamper QA). A failed verification opens a box that names the failed checks."""
    window = _window(qtbot, store, data_dir, clock)
    report = VerifyReport(
        [
            Check("SQLite integrity check", [], "ok"),
            Check("Audit chain", ["event #200 is missing: audit history was deleted"]),
        ]
    )
    window._verified(report, None)
    box = window.verify_box
    assert box is not None
    assert box.isVisible()
    assert "FAILED verification" in box.text()
    assert "Audit chain" in box.informativeText()
    assert "audit history was deleted" in box.detailedText()
    box.close()
    window._verified(VerifyReport([Check("SQLite integrity check", [], "ok")]), None)
    assert window.verdict.text() == "The record is intact."
    assert window.verify_box is box  # none opened for an intact record


def test_a_failed_export_takes_the_place_of_the_session_screens_last_sentence(
    qtbot, store, data_dir, clock, many_patients, tmp_path
):
    """QA: a CSV export refused by a read-only folder was said only in the status bar,
    under "REMS form saved: ..." from the act before, which still stood above the entry
    lines of the session screen."""
    session = store.start_session(many_patients[0], protocol="IM injection", zone_name="UTC")
    window = _window(qtbot, store, data_dir, clock)
    window.open_session(session)
    workspace = window.workspace
    assert workspace is not None
    workspace.say("REMS form saved: /tmp/rems.pdf.")
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("x")
    window.export_csv(folder=not_a_folder)
    qtbot.waitUntil(lambda: not window.record_job.running, timeout=20_000)
    said = workspace.message_text()
    assert "REMS form saved" not in said
    assert "nothing was written" in said or "removed" in said, said
    assert not list(tmp_path.glob("**/kapdesk-export-*"))
    window.close_workspace()


def test_a_check_copy_that_cannot_be_written_is_said_in_the_window(
    qtbot, data_dir, clock, tmp_path
):
    """The anchor's copy outside the data folder tells an older copy of the record put
    back from the record as it was; a state folder it could not be written in was said
    only in the log (tamper QA)."""
    state = tmp_path / "state"
    state.write_text("")  # a file where the folder should be: refused even to root
    store = RecordStore.open(
        data_dir,
        clock=clock.now_utc,
        login_name="dr.test",
        create=True,
        anchor_mirror=state / "anchors",
    )
    try:
        store.add_patient("Ada Example")
        window = _window(qtbot, store, data_dir, clock)
        said = window.verdict.text()
        assert "could not write the record's check copy" in said
        assert str(state / "anchors") in said
        assert "Entries are stored as usual" in said
        assert window.statusBar().isVisible()
        state.unlink()  # put right: the next write makes the copy, and nothing is said
        store.add_patient("Ben Example")
        assert store.anchor_mirror_problem is None
        assert list((state / "anchors").glob("*anchor"))
    finally:
        store.close()


def test_a_clock_behind_the_record_is_said_when_it_opens(qtbot, data_dir, clock, tmp_path):
    """Tamper QA: opened with the clock three days behind, new entries were dated before
    the ones already made, the audit trail ran backwards, and nothing said so."""
    import datetime as dt

    from kapdesk.local.clock import FakeClock

    with RecordStore.open(data_dir, clock=clock.now_utc, create=True) as store:
        store.add_patient("Ada Example")
        assert store.clock_behind is None
    behind = FakeClock(clock.now_utc() - dt.timedelta(days=3))
    with RecordStore.open(data_dir, clock=behind.now_utc) as store:
        said = store.clock_behind
        assert said is not None
        assert "clock says 2026-02-27 09:00 UTC" in said
        assert "last written at 2026-03-02 09:00 UTC" in said
        assert "Set this computer's date and time right" in said
        window = _window(qtbot, store, data_dir, behind)
        assert said in window.verdict.text()
        window.close()
    # A clock a little behind (set right by the network since) is not.
    other = tmp_path / "other"
    with RecordStore.open(other, clock=clock.now_utc, create=True) as store:
        store.add_patient("Ada Example")
    slightly = FakeClock(clock.now_utc() - dt.timedelta(minutes=2))
    with RecordStore.open(other, clock=slightly.now_utc) as store:
        assert store.clock_behind is None
