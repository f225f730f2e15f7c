from __future__ import annotations

import subprocess
import sys
import uuid

import keyring
import keyring.backends.fail
import pytest

from kapdesk.cli import main
from kapdesk.local.demo import DEMO_NAME
from kapdesk.local.demo_course import COURSE_NAME
from tests.conftest import PASSPHRASE


def _demo_patient(store):
    """The demo patient with a finished session and one running."""
    return next(p for p in store.patients() if p.current["display_name"] == DEMO_NAME)


@pytest.fixture(autouse=True)
def passphrase(monkeypatch):
    monkeypatch.setenv("KAPDESK_PASSPHRASE", PASSPHRASE)


def test_version_is_printed_without_touching_any_data(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "kapdesk", "--version"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.stdout.startswith("kapdesk ")
    assert list(tmp_path.iterdir()) == []


def test_verify_backup_restore_round_trip(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "demo"]) == 0
    assert main(["--data-dir", str(data), "verify"]) == 0
    assert "The record is intact." in capsys.readouterr().out
    backup = tmp_path / "b.kapbak"
    assert main(["--data-dir", str(data), "backup", str(backup)]) == 0
    assert "Backup written" in capsys.readouterr().out
    assert main(["--data-dir", str(tmp_path / "r"), "restore", str(backup)]) == 0
    assert "The record is intact." in capsys.readouterr().out


def test_refusals_are_sentences_on_stderr_with_exit_2(tmp_path, capsys, monkeypatch):
    keyring.set_keyring(keyring.backends.fail.Keyring())  # a headless machine: passphrase only
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "demo"]) == 0
    backup = tmp_path / "b.kapbak"
    assert main(["--data-dir", str(data), "backup", str(backup)]) == 0
    capsys.readouterr()
    assert main(["--data-dir", str(data), "restore", str(backup)]) == 2
    assert "never overwrites" in capsys.readouterr().err
    assert main(["--data-dir", str(data), "backup", str(backup)]) == 2
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setenv("KAPDESK_PASSPHRASE", "a wrong passphrase")
    assert main(["--data-dir", str(data), "verify"]) == 2
    assert "does not unlock" in capsys.readouterr().err


def test_kapdesk_home_chooses_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("KAPDESK_HOME", str(tmp_path / "home"))
    assert main(["demo"]) == 0
    assert main(["verify"]) == 0
    assert (tmp_path / "home" / "kapdesk.db").exists()
    assert (tmp_path / "home" / "logs" / "kapdesk.log").exists()


def test_demo_twice_adds_the_demo_patients_once(tmp_path, capsys):
    from kapdesk.store import RecordStore

    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "demo"]) == 0
    capsys.readouterr()
    assert main(["--data-dir", str(data), "demo"]) == 0  # the README's command, run again
    assert "The demo patients are already in" in capsys.readouterr().out
    with RecordStore.open(data, passphrase=lambda r: PASSPHRASE) as store:
        assert sorted(p.current["display_name"] for p in store.patients()) == [
            DEMO_NAME,
            COURSE_NAME,
        ]


def test_demo_adds_a_marked_patient_with_a_finished_and_a_running_session(tmp_path, capsys):
    from kapdesk.store import RecordStore

    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "demo"]) == 0
    assert "demo patient" in capsys.readouterr().out
    with RecordStore.open(data, passphrase=lambda r: PASSPHRASE) as store:
        names = sorted(p.current["display_name"] for p in store.patients())
        assert names == [DEMO_NAME, COURSE_NAME]  # and the course patient (issue 13)
        patient = _demo_patient(store)
        sessions = store.sessions(patient.id)
        assert [s["ended_at"] is None for s in sessions] == [True, False]
        finished = sessions[1]
        readings = store.entries("vitals", finished["id"])
        peak = max(readings, key=lambda r: r.current["systolic"])
        minutes = (peak.current["taken_at"] - finished["first_dose_at"]).total_seconds() / 60
        assert 25 <= minutes <= 55  # the rise peaks near +40 minutes
        assert readings[0].current["systolic"] in range(120, 136)  # baseline about 128/82
        assert [d.current["mg"] for d in store.entries("dose", finished["id"])] == [28, 28]
        # The running session's readings over 140/90 were flagged, as a session's are.
        running = sessions[0]
        high = {
            r.id
            for r in store.entries("vitals", running["id"])
            if r.current["systolic"] >= 140 or r.current["diastolic"] >= 90
        }
        flagged = {
            uuid.UUID(e["payload"]["vitals_id"])
            for e in store.session_events(running["id"])
            if e["kind"] == "alert"
        }
        assert high
        assert flagged == high
        assert store.verify().ok


def test_restoring_an_older_backup_says_what_it_leaves_out(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "demo"]) == 0
    backup = tmp_path / "b.kapbak"
    assert main(["--data-dir", str(data), "backup", str(backup)]) == 0
    assert main(["--data-dir", str(data), "demo"]) == 0  # more entries after the backup
    capsys.readouterr()
    assert main(["--data-dir", str(tmp_path / "new"), "restore", str(backup)]) == 0
    out = capsys.readouterr().out
    assert "this computer had recorded up to audit event #" in out
    assert "not in the restored record" in out
    # The restore was asked for: the restored record opens, and says it is intact.
    assert main(["--data-dir", str(tmp_path / "new"), "verify"]) == 0


def test_a_backup_restored_beside_the_record_in_use_leaves_that_record_whole(tmp_path, capsys):
    """Tamper QA: the anchor's mirror outside the data folder was named by the record
    alone, and the copy restored into a new folder moved it back: the record in use then
    failed verify ("the newest 1 audit event ... missing"), refused backups, and offered
    to record a loss that never happened. Each copy now has its own."""
    live, copy = tmp_path / "live", tmp_path / "copy"
    assert main(["--data-dir", str(live), "demo"]) == 0
    backup = tmp_path / "live.kapbak"
    assert main(["--data-dir", str(live), "backup", str(backup)]) == 0
    assert main(["--data-dir", str(copy), "restore", str(backup)]) == 0
    # The note still says how far the record had come on this computer.
    assert "this computer had recorded up to audit event #" in capsys.readouterr().out
    for _ in range(2):  # both used from then on, each moving its own end
        for folder in (live, copy):
            assert main(["--data-dir", str(folder), "demo"]) == 0
            assert main(["--data-dir", str(folder), "verify"]) == 0
    assert main(["--data-dir", str(live), "backup", str(tmp_path / "again.kapbak")]) == 0


def test_export_writes_csv_into_a_new_folder_and_refuses_a_bad_id(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "demo"]) == 0
    assert main(["--data-dir", str(data), "export", str(tmp_path / "out")]) == 0
    said = capsys.readouterr().out
    assert "as CSV into" in said
    assert "plain text" in said
    assert (tmp_path / "out" / "vitals.csv").is_file()
    assert main(["--data-dir", str(data), "export", "--session", "nope", str(tmp_path / "x")]) == 2
    assert "is not a session id" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_report_writes_a_pdf_once_and_never_replaces_a_file(tmp_path, capsys):
    from kapdesk.store import RecordStore

    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "demo"]) == 0
    with RecordStore.open(data, passphrase=lambda r: PASSPHRASE) as store:
        patient = _demo_patient(store)
        finished = store.sessions(patient.id)[1]["id"]
    target = tmp_path / "report.pdf"
    assert main(["--data-dir", str(data), "report", str(finished), str(target)]) == 0
    assert target.read_bytes().startswith(b"%PDF")
    assert "not encrypted" in capsys.readouterr().out
    before = target.read_bytes()
    assert main(["--data-dir", str(data), "report", str(finished), str(target)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert target.read_bytes() == before


def test_export_fhir_writes_one_bundle_file_for_a_patient_or_a_session(tmp_path, capsys):
    import json

    from kapdesk.store import RecordStore

    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "demo"]) == 0
    with RecordStore.open(data, passphrase=lambda r: PASSPHRASE) as store:
        patient = _demo_patient(store)
    target = tmp_path / "patient.json"
    argv = ["--data-dir", str(data), "export", "--format", "fhir"]
    assert main([*argv, "--patient", str(patient.id), str(target)]) == 0
    assert "FHIR R4 Bundle" in capsys.readouterr().out
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    bundle = json.loads(target.read_text(encoding="utf-8"))
    assert bundle["resourceType"] == "Bundle"
    assert main([*argv, str(tmp_path / "all.json")]) == 2  # not the whole record at once
    assert "one patient" in capsys.readouterr().err
    assert main([*argv, "--patient", str(patient.id), str(target)]) == 2  # never replaced


def test_a_backup_and_an_export_are_signed_by_the_clinician_named(tmp_path, capsys, monkeypatch):
    """Issue 14: --clinician NAME with their own secret signs the audit event; a wrong
    secret does nothing but audit the refusal."""
    import json

    from sqlalchemy import text

    from kapdesk.store import RecordStore

    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "demo"]) == 0
    with RecordStore.open(data) as store:
        ana = store.create_account("Ana Ruiz", credentials="MD", role="prescriber", secret="482916")
    capsys.readouterr()
    backup = tmp_path / "b.kapbak"
    monkeypatch.setenv("KAPDESK_CLINICIAN_SECRET", "111111")
    args = ["--data-dir", str(data), "--clinician", "ana ruiz", "backup", str(backup)]
    assert main(args) == 2
    assert "not Ana Ruiz, MD's PIN or passphrase; nothing was done" in capsys.readouterr().err
    assert not backup.exists()
    monkeypatch.setenv("KAPDESK_CLINICIAN_SECRET", "482916")
    assert main(args) == 0
    assert (
        main(
            [
                "--data-dir",
                str(data),
                "--clinician",
                "Ana Ruiz, MD",
                "export",
                str(tmp_path / "csv"),
            ]
        )
        == 0
    )
    with RecordStore.open(data) as store, store.engine.connect() as conn:
        events = {
            action: (actor, details)
            for action, actor, details in conn.execute(
                text("SELECT action, actor_id, details FROM audit_events ORDER BY seq")
            )
        }
    assert events["backup"][0] == str(ana)
    assert events["export"][0] == str(ana)
    assert json.loads(events["unlock_refused"][1])["where"] == "command_line"


def test_a_check_copy_that_cannot_be_written_is_said_on_stderr(tmp_path, capsys, monkeypatch):
    """Tamper QA: a state folder the anchor's copy could not be written in was said only
    in the log; the command still does its work."""
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "demo"]) == 0
    blocked = tmp_path / "state"
    blocked.write_text("")  # a file where the folder should be: refused even to root
    monkeypatch.setenv("XDG_STATE_HOME", str(blocked))
    capsys.readouterr()
    assert main(["--data-dir", str(data), "backup", str(tmp_path / "b.kapbak")]) == 0
    said = capsys.readouterr()
    assert "could not write the record's check copy" in said.err
    assert "Backup written" in said.out


def test_pins_refused_in_a_row_make_the_command_line_wait_as_the_lock_screen_does(
    tmp_path, capsys, monkeypatch
):
    """Tamper QA: six wrong PINs through the command line took eight seconds, and the
    right one was taken at once: the lock screen's growing wait did not apply."""
    from kapdesk import cli
    from kapdesk.store import RecordStore

    data = tmp_path / "data"
    with RecordStore.open(data, create=True) as store:
        store.create_account("Ana Ruiz", credentials="MD", role="prescriber", secret="482916")
    waited: list[float] = []
    monkeypatch.setattr(cli, "_pause", waited.append)
    args = ["--data-dir", str(data), "--clinician", "Ana Ruiz", "backup"]
    monkeypatch.setenv("KAPDESK_CLINICIAN_SECRET", "000000")
    for attempt in range(6):
        assert main([*args, str(tmp_path / f"{attempt}.kapbak")]) == 2
    assert waited == [2, 4]  # none after the first three, then 2, 4, 8 ... as on screen
    assert "5 PINs or passphrases refused in a row: waiting 4 s" in capsys.readouterr().err
    monkeypatch.setenv("KAPDESK_CLINICIAN_SECRET", "482916")
    assert main([*args, str(tmp_path / "right.kapbak")]) == 0  # the right PIN, after its wait
    assert waited == [2, 4, 8]
    assert main([*args, str(tmp_path / "next.kapbak")]) == 0  # signed in: the count is over
    assert waited == [2, 4, 8]
