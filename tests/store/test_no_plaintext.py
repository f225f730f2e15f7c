"""Nothing that identifies a patient, and no clinician's PIN or passphrase, is written in
plain text anywhere under the data folder, its backups or the state folder."""

from __future__ import annotations

import datetime as dt

from kapdesk.cli import main
from kapdesk.store import RecordStore
from tests.conftest import PASSPHRASE, fixed_passphrase

NAME = "Zyxwvut Testpatient"
NOTE = "Qvorpl said the colours were wonderful"
RECORD_NUMBER = "MRN-77665544"
COURSE_NOTE = "Integration: Wqxyzt spoke of the lighthouse"  # issue 13
SURVEY_TEXT = "Pfrumble came up, and my mother's kitchen"  # the patient's own words
# Clinicians' secrets (issue 14): kept only as Argon2id hashes inside the encrypted record.
CLINICIAN_PIN = "583920"
NEW_PIN = "604718"
CLINICIAN_PASSPHRASE = "Glimmering otter sings at dusk"


def _all_bytes(folder):
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            yield path, path.read_bytes()


def _assert_absent(folder):
    words = (
        NAME,
        NOTE,
        RECORD_NUMBER,
        COURSE_NOTE,
        SURVEY_TEXT,
        CLINICIAN_PIN,
        NEW_PIN,
        CLINICIAN_PASSPHRASE,
    )
    needles = [s.encode(enc) for s in words for enc in ("utf-8", "utf-16-le")]
    needles += [b"Zyxwvut", b"Qvorpl", b"Wqxyzt", b"Pfrumble"]
    checked = 0
    for path, data in _all_bytes(folder):
        checked += 1
        for needle in needles:
            assert needle not in data, f"{needle!r} found in plain text in {path}"
    return checked


def test_patient_details_and_clinician_secrets_never_reach_disk_in_plain_text(
    tmp_path, monkeypatch
):
    data_dir = tmp_path / "data"
    monkeypatch.setenv("KAPDESK_PASSPHRASE", PASSPHRASE)
    with RecordStore.open(
        data_dir, passphrase=fixed_passphrase, use_keyring=False, create=True
    ) as store:
        prescriber = store.create_account(
            "Ana Ruiz", credentials="MD", role="prescriber", secret=CLINICIAN_PIN
        )
        store.sign_in(prescriber, "pin")
        nurse = store.create_account(
            "Ben Cole", credentials="RN", role="nurse", secret=CLINICIAN_PASSPHRASE
        )
        store.note_unlock_refused(nurse, "lock")  # a wrong try is audited, not what was typed
        store.change_account(prescriber, reason="new PIN", secret=NEW_PIN)
        assert store.check_secret(nurse, CLINICIAN_PASSPHRASE)
        store.sign_in(nurse, "passphrase")
        patient = store.add_patient(
            NAME, date_of_birth=dt.date(1980, 1, 2), record_number=RECORD_NUMBER
        )
        session = store.start_session(patient, protocol="IM", zone_name="UTC")
        store.add_observation(session, NOTE, tags=["calm"])
        store.add_vitals(session, {"systolic": 133, "diastolic": 85})
        store.correct("patient", patient, {"display_name": NAME + " Jr"}, reason=NOTE)
        store.add_course_note(patient, "integration", COURSE_NOTE, session_id=session)
        store.add_session_event(
            session,
            "self_report",
            {"instrument": "reflection", "answers": {"what_came_up": SURVEY_TEXT}},
        )
        # Entries still in the write-ahead log (not yet checkpointed) are checked too.
        _assert_absent(data_dir)
    # The CLI paths write logs, backups and a restored copy: check them all.
    assert main(["--data-dir", str(data_dir), "verify"]) == 0
    backups = data_dir / "backups"
    backups.mkdir()
    assert main(["--data-dir", str(data_dir), "backup", str(backups / "b.kapbak")]) == 0
    restored = tmp_path / "restored"
    assert main(["--data-dir", str(restored), "restore", str(backups / "b.kapbak")]) == 0
    checked = _assert_absent(data_dir) + _assert_absent(restored)
    import os
    from pathlib import Path

    _assert_absent(Path(os.environ["XDG_STATE_HOME"]))  # the anchors' mirror
    names = {p.name for p in data_dir.rglob("*")}
    assert {"kapdesk.db", "vault.json", "kapdesk.log", "b.kapbak"} <= names
    assert checked >= 6
