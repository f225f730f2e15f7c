"""Changes made behind the app's back (with the key, triggers dropped) are caught by verify."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from kapdesk.cli import main
from kapdesk.store import RecordStore


@pytest.fixture
def populated(store: RecordStore):
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    ids = [store.add_vitals(session, {"systolic": 120 + i, "diastolic": 80}) for i in range(3)]
    store.add_observation(session, "calm")
    return store, ids


def _tamper(store: RecordStore, *statements: str) -> None:
    with store.engine.connect() as conn:
        for trigger in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        ).scalars():
            conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
        for statement in statements:
            conn.execute(text(statement))
        conn.commit()


def _problems(store: RecordStore) -> str:
    report = store.verify()
    assert not report.ok
    return report.render()


def test_an_intact_record_verifies(populated):
    store, _ = populated
    assert store.verify().ok


def test_altering_a_reading_is_named(populated):
    store, ids = populated
    _tamper(store, f"UPDATE vitals_readings SET systolic = 99 WHERE id = '{ids[1]}'")
    rendered = _problems(store)
    assert f"vitals reading {ids[1]} differs from what event" in rendered
    assert "trigger vitals_readings_no_update is missing" in rendered


def test_deleting_a_reading_is_named(populated):
    store, ids = populated
    _tamper(store, f"DELETE FROM vitals_readings WHERE id = '{ids[0]}'")
    assert f"vitals reading {ids[0]} recorded in event" in _problems(store)
    assert "it was deleted" in _problems(store)


def test_inserting_behind_the_app_is_named(populated):
    store, _ = populated
    _tamper(
        store,
        "INSERT INTO observations SELECT 'aaaaaaaa-0000-4000-8000-000000000000', session_id, "
        "observed_at, 'forged', tags, recorded_at, recorded_by FROM observations LIMIT 1",
    )
    assert "observation aaaaaaaa-0000-4000-8000-000000000000 has no audit event" in _problems(store)


def _seq_of(store: RecordStore, action: str, kind: str) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT seq FROM audit_events WHERE action = :a AND entity_kind = :k"),
                {"a": action, "k": kind},
            ).scalar_one()
        )


def test_altering_an_audit_event_is_named(populated):
    store, _ = populated
    seq = _seq_of(store, "create", "session")
    _tamper(store, f"UPDATE audit_events SET actor_id = NULL WHERE seq = {seq}")
    assert f"event #{seq} (create session) was altered" in _problems(store)


def test_deleting_an_audit_event_is_named(populated):
    store, _ = populated
    seq = _seq_of(store, "create", "patient")
    _tamper(store, f"DELETE FROM audit_events WHERE seq = {seq}")
    rendered = _problems(store)
    assert f"event #{seq} is missing: audit history was deleted" in rendered  # one: singular
    _tamper(store, f"DELETE FROM audit_events WHERE seq = {seq + 1}")
    assert f"events #{seq}–#{seq + 1} are missing" in _problems(store)


def test_the_cli_exits_nonzero_and_names_the_problem(populated, data_dir, capsys):
    store, ids = populated
    _tamper(store, f"UPDATE vitals_readings SET diastolic = 10 WHERE id = '{ids[2]}'")
    store.close()
    assert main(["--data-dir", str(data_dir), "verify"]) == 1
    out = capsys.readouterr().out
    assert f"vitals reading {ids[2]} differs" in out
    assert "FAILED verification" in out


def test_altering_or_deleting_a_course_note_or_a_survey_answer_is_named(populated):
    """Issue 13: the course notes and the patient's answers are under the audit chain
    like every entry."""
    store, _ = populated
    patient = store.patients()[0].id
    session = store.sessions(patient)[0]["id"]
    note = store.add_course_note(patient, "integration", "Spoke of the river.")
    answer = store.add_session_event(
        session, "self_report", {"instrument": "phq9", "answers": {"9": 2}, "total": 14}
    )
    _tamper(
        store,
        f"UPDATE course_notes SET text = 'Spoke of nothing.' WHERE id = '{note}'",
        f"UPDATE session_events SET payload = replace(payload, '14', '0') WHERE id = '{answer}'",
    )
    rendered = _problems(store)
    assert f"course note {note} differs from what event" in rendered
    assert f"session event {answer} differs from what event" in rendered
    assert "trigger course_notes_no_update is missing" in rendered


def test_every_kind_of_entry_has_words_for_the_verify_report():
    from kapdesk.store.models import ENTITY_TABLES
    from kapdesk.store.verify import KIND_LABELS

    assert set(ENTITY_TABLES) <= set(KIND_LABELS)


def test_sqlite_s_own_lines_are_cut_to_the_first_ten():
    """Tamper QA: a damaged page printed a hundred "Tree 29 page ..." lines."""
    from kapdesk.store.verify import _first_of

    lines = [f"Tree 29 page {n} cell 0: invalid page number" for n in range(120)]
    shown = _first_of(lines)
    assert shown[:10] == lines[:10]
    assert shown[10:] == ["… and 110 more of SQLite's lines like these"]
    assert _first_of(lines[:3]) == lines[:3]
