"""What keeps the record's costs from growing with its size (issue 10): grouped writes for
bulk loading, verify in step with the audit trail and its progress, the background check."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import text

from kapdesk.clinical.vitals import ValidationError
from kapdesk.store import RecordStore, verify
from kapdesk.store.engine import DATABASE_FILE, IntegrityCheck
from kapdesk.store.verify import CHANGING_KINDS


def _readings(store: RecordStore, count: int) -> list:
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    return [store.add_vitals(session, {"heart_rate": 60 + i % 60}) for i in range(count)]


def test_grouped_writes_store_and_audit_each_entry_as_alone(store):
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    with store.grouped():
        first = store.add_vitals(session, {"heart_rate": 72})
        with pytest.raises(ValidationError):
            store.add_vitals(session, {"heart_rate": 9999})  # refused, rolled back alone
        second = store.add_observation(session, "calm")
    assert [v.id for v in store.entries("vitals", session)] == [first]
    assert [v.id for v in store.entries("observation", session)] == [second]
    assert store.verify().ok


def test_a_failed_group_stores_nothing(store):
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    events = store.count("vitals")

    def give_up() -> None:
        with store.grouped():
            store.add_vitals(session, {"heart_rate": 72})
            raise RuntimeError("the caller gave up")

    with pytest.raises(RuntimeError):
        give_up()
    assert store.count("vitals") == events
    store.add_vitals(session, {"heart_rate": 73})  # the chain goes on from the stored head
    assert store.verify().ok


def test_verify_reports_progress_up_to_the_whole_audit_trail(store, monkeypatch):
    _readings(store, 30)
    monkeypatch.setattr(verify, "PROGRESS_EVERY", 7)
    calls: list[tuple[str, int, int]] = []
    assert store.verify(lambda what, done, total: calls.append((what, done, total))).ok
    trail = [(done, total) for what, done, total in calls if what == "audit trail"]
    assert trail[0][0] == 0
    assert [done for done, _total in trail] == sorted(done for done, _total in trail)
    assert trail[-1][0] == trail[-1][1] > 30
    assert {"every page", "records"} <= {what for what, _done, _total in calls}


def test_verify_pairs_rows_with_events_in_step_and_holds_nothing_on_an_intact_record(
    store, monkeypatch
):
    _readings(store, 40)
    held: list[int] = []
    real_finish = verify._TableStream.finish

    def finish(self):
        held.append(len(self.rows_waiting) + len(self.events_waiting))
        real_finish(self)

    monkeypatch.setattr(verify._TableStream, "finish", finish)
    assert store.verify().ok
    assert held
    assert max(held) == 0
    assert {"session"} == CHANGING_KINDS  # only sessions change after they are written


def _tamper(store: RecordStore, *statements: str) -> None:
    with store.engine.connect() as conn:
        for trigger in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        ).scalars():
            conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
        for statement in statements:
            conn.execute(text(statement))
        conn.commit()


def test_verify_finds_its_step_again_after_rows_deleted_and_added_in_the_middle(store, monkeypatch):
    ids = _readings(store, 40)
    monkeypatch.setattr(verify, "READ_AHEAD", 3)  # out of step much sooner than 2,000 rows
    _tamper(
        store,
        f"DELETE FROM vitals_readings WHERE id IN ('{ids[5]}', '{ids[6]}', '{ids[30]}')",
        f"UPDATE vitals_readings SET heart_rate = 61 WHERE id = '{ids[20]}'",
        "INSERT INTO vitals_readings SELECT 'aaaaaaaa-0000-4000-8000-000000000000', "
        "session_id, taken_at, systolic, diastolic, 99, spo2, respiratory_rate, temperature_c, "
        f"source, recorded_at, recorded_by FROM vitals_readings WHERE id = '{ids[1]}'",
    )
    problems = store.verify().check("Records against the audit trail").problems
    assert sorted(problems) == sorted(
        [
            f"vitals reading {ids[20]} differs from what event #{_seq(store, ids[20])} "
            "recorded: it was altered behind kapdesk's back",
            "vitals reading aaaaaaaa-0000-4000-8000-000000000000 has no audit event: it was "
            "added behind kapdesk's back",
            *(
                f"vitals reading {ids[i]} recorded in event #{_seq(store, ids[i])} is "
                "missing: it was deleted"
                for i in (5, 6, 30)
            ),
        ]
    )


def _seq(store: RecordStore, entity_id) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT seq FROM audit_events WHERE entity_id = :i"), {"i": str(entity_id)}
            ).scalar_one()
        )


def test_the_background_check_passes_an_intact_record_and_can_be_stopped(store, data_dir):
    _readings(store, 5)
    check = IntegrityCheck(data_dir / DATABASE_FILE, store._opened.key)
    assert check.run() == []
    check.interrupt()
    assert check.run() == []  # interrupted before it started: says nothing, checks nothing


def test_temporary_tables_and_sorts_stay_in_memory(store):
    """SQLCipher does not encrypt SQLite's temporary sort files: none may be written."""
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2
    assert store._writer.execute("PRAGMA temp_store").fetchone()[0] == 2


def test_a_backup_reports_progress_and_hashes_the_file_it_wrote(store, tmp_path, monkeypatch):
    import hashlib

    from kapdesk.store import backup

    _readings(store, 60)
    monkeypatch.setattr(backup, "STEP_PAGES", 2)  # several steps even for a small record
    calls: list[tuple[str, int, int]] = []
    info = store.backup(tmp_path / "b.kapbak", progress=lambda *call: calls.append(call))
    copying = [(done, total) for what, done, total in calls if what == "copying the record"]
    assert len(copying) > 2
    assert copying[-1][0] == copying[-1][1]
    assert calls[-1] == ("writing the backup file", calls[-1][2], calls[-1][2])
    assert info.sha256 == hashlib.sha256(info.path.read_bytes()).hexdigest()
    assert info.size == info.path.stat().st_size


def test_an_entry_saved_during_a_backup_neither_restarts_it_nor_enters_it(
    store, tmp_path, monkeypatch
):
    from kapdesk.store import backup
    from kapdesk.store.backup import read_manifest, restore_backup
    from tests.conftest import fixed_passphrase

    _readings(store, 60)
    monkeypatch.setattr(backup, "STEP_PAGES", 2)
    with store.engine.connect() as conn:
        head = int(conn.exec_driver_sql("SELECT max(seq) FROM audit_events").scalar_one())
        session_id = conn.exec_driver_sql("SELECT id FROM sessions").scalar_one()
    saved: list[object] = []
    restarts: list[int] = []

    def during(what: str, done: int, total: int) -> None:
        if what == "copying the record":
            if restarts and done < restarts[-1]:
                pytest.fail("the copy started again")
            restarts.append(done)
            if len(saved) < 3:
                saved.append(store.add_observation(uuid.UUID(session_id), "said meanwhile"))

    info = store.backup(tmp_path / "b.kapbak", progress=during)
    assert len(saved) == 3
    assert read_manifest(info.path)["audit_events"] == head  # the moment it began
    restored = tmp_path / "restored"
    restore_backup(info.path, restored, fixed_passphrase)
    with RecordStore.open(restored, passphrase=fixed_passphrase) as copy:
        assert copy.count("observation") == 0
        assert copy.verify().ok


def _rows_as_columns(store: RecordStore, session) -> list[list]:
    """A session's readings read row by row, as columns: what vitals_table must give."""
    from kapdesk.store.reads import READING_COLUMNS

    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT {', '.join(READING_COLUMNS)} FROM vitals_readings"
            " WHERE session_id = ? ORDER BY rowid",
            (str(session),),
        ).fetchall()
    return [list(column) for column in zip(*rows, strict=True)]


def test_a_sessions_readings_read_as_columns_are_each_value_as_stored(store, clock):
    """Opening a long session reads each column joined into one text (issue 10): every
    value must come back as a row gives it: whole numbers as int, a temperature's double
    exactly, NULL as None, a device's name holding the separator, in the order written."""
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    store.add_vitals(session, {"systolic": 128, "diastolic": 82, "heart_rate": 71, "spo2": 98})
    clock.advance(minutes=6)
    store.add_vitals(session, {"heart_rate": 64, "spo2": 96}, source="Monitor, bed 3 — ü")
    store.add_vitals(
        session, {"temperature_c": 36.65, "respiratory_rate": 14}, source="Monitor, bed 3 — ü"
    )
    store.add_vitals(  # taken before the others, written after them
        session,
        {"systolic": 131, "diastolic": 84, "temperature_c": 37.2},
        taken_at=clock.now_utc() - dt.timedelta(minutes=5),
    )
    columns, corrected = store.vitals_table(session)
    assert columns == _rows_as_columns(store, session)
    assert columns[7] == [None, None, 36.65, 37.2]  # temperature, exactly
    assert [type(v) for v in columns[2]] == [int, type(None), type(None), int]
    assert columns[8][1] == "Monitor, bed 3 — ü"
    assert corrected == set()
    # A reading corrected since: its id is among those whose values are read anew; the
    # row keeps the values first written.
    store.correct("vitals", uuid.UUID(columns[0][2]), {"respiratory_rate": 16}, reason="miscount")
    again, corrected = store.vitals_table(session)
    assert again == columns
    assert corrected == {columns[0][2]}
    empty = store.start_session(patient, protocol="IM", zone_name="UTC")
    assert store.vitals_table(empty) == ([[] for _ in columns], set())


def test_readings_damaged_behind_kapdesks_back_are_read_as_the_record_holds_them(store):
    """A value holding the separator, text in a number's column: the columns are still
    each value as stored (verify reports the damage; opening the session must not mix
    up one reading's values with another's)."""
    ids = _readings(store, 5)
    with store.engine.connect() as conn:
        session = conn.exec_driver_sql("SELECT session_id FROM vitals_readings").scalar()
    _tamper(store, f"UPDATE vitals_readings SET spo2 = 'high' WHERE id = '{ids[1]}'")
    columns, _corrected = store.vitals_table(session)
    assert columns == _rows_as_columns(store, session)
    assert columns[5][1] == "high"
    _tamper(
        store,
        f"UPDATE vitals_readings SET recorded_at = recorded_at || ',x' WHERE id = '{ids[3]}'",
    )
    columns, _corrected = store.vitals_table(session)
    assert columns == _rows_as_columns(store, session)
    assert columns[0] == [str(i) for i in ids]


def test_readings_joined_out_of_the_order_written_are_put_back_in_it():
    """SQLite does not promise the order a group_concat joins rows in: the rowids read
    with them put the readings back in the order written."""
    from kapdesk.store.reads import _split_readings

    joined = (2, "7,3", "b,a", "T2,T1", "130,120", "85,80", "nan,70", "97,98", "nan,nan")
    found = (*joined, "nan,36.5", "6D,6D", "c,c", "R2,R1", "10")  # source "m"; b corrected
    assert _split_readings(found) == (
        [
            ["a", "b"],
            ["T1", "T2"],
            [120, 130],
            [80, 85],
            [70, None],
            [98, 97],
            [None, None],
            [36.5, None],
            ["m", "m"],
            ["c", "c"],
            ["R1", "R2"],
        ],
        {"b"},
    )
