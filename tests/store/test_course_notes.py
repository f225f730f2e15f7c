"""Course notes (issue 13): dated, append-only, corrected by a new entry, one patient's."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from kapdesk.clinical.vitals import ValidationError


def test_a_note_is_kept_as_written_and_a_correction_sits_beside_it(store, clock):
    patient = store.add_patient("Note Patient")
    session = store.start_session(patient, protocol="IM injection", zone_name="Europe/London")
    note = store.add_course_note(
        patient, "integration", "Spoke about the river dream.", session_id=session
    )
    clock.advance(minutes=5)
    store.correct("course_note", note, {"text": "Spoke about the sea dream."}, reason="misheard")
    [view] = store.course_notes(patient)
    assert view.original["text"] == "Spoke about the river dream."
    assert view.current["text"] == "Spoke about the sea dream."
    assert view.current["session_id"] == session
    assert view.corrections[0].reason == "misheard"
    with store.engine.connect() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text("UPDATE course_notes SET text = 'changed'"))
    with store.engine.connect() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text("DELETE FROM course_notes"))


def test_a_note_about_another_patients_session_is_refused(store):
    first = store.add_patient("First Patient")
    second = store.add_patient("Second Patient")
    theirs = store.start_session(second, protocol="IM injection", zone_name="Europe/London")
    with pytest.raises(ValidationError, match="another patient's"):
        store.add_course_note(first, "integration", "Text", session_id=theirs)
    with pytest.raises(ValidationError, match="not a kind of course note"):
        store.add_course_note(first, "diagnosis", "Text")
    with pytest.raises(ValidationError, match="empty"):
        store.add_course_note(first, "goal", "   ")
    assert store.course_notes(first) == []


def test_a_note_is_audited_and_verifies(store):
    patient = store.add_patient("Audit Patient")
    store.add_course_note(patient, "goal", "Sleep through the night.")
    assert store.verify().ok
