"""A damaged write-ahead log must never silently drop acknowledged entries.

SQLite stops replaying a log at its first bad frame and, at the next checkpoint,
drops the rest for good. kapdesk reads the log itself first (store/wal.py): damage
in the middle (committed transactions after it) or a cut-short log (the anchor is
ahead of the record) is refused with every file left as it was; a write torn by a
crash (only the entry in flight) still opens with every acknowledged entry.
"""

from __future__ import annotations

import struct

import pytest
from sqlalchemy import text

from kapdesk.cli import main
from kapdesk.store import RecordStore
from kapdesk.store import wal as walformat
from kapdesk.store.errors import RecordIncompleteError
from kapdesk.store.verify_folder import verify_folder
from tests.conftest import PASSPHRASE, file_hashes, fixed_passphrase, record_hashes
from tests.store.crashed import crash_with_entries, wal_path

FRAME = walformat.FRAME_HEADER_BYTES + 4096


def _open(data_dir, **kwargs) -> RecordStore:
    return RecordStore.open(data_dir, passphrase=fixed_passphrase, use_keyring=False, **kwargs)


def _flip_middle(data_dir) -> None:
    log = wal_path(data_dir)
    data = bytearray(log.read_bytes())
    frames = (len(data) - walformat.HEADER_BYTES) // FRAME
    # A byte inside the page of the middle frame: its checksum no longer matches.
    data[walformat.HEADER_BYTES + (frames // 2) * FRAME + 2000] ^= 0x40
    log.write_bytes(bytes(data))


def test_the_crashed_log_is_read_as_intact(data_dir):
    crash_with_entries(data_dir)
    state = walformat.inspect(wal_path(data_dir))
    assert state.frames > 40
    assert state.first_invalid_frame is None
    assert not state.damaged


def test_one_flipped_byte_mid_log_is_refused_and_changes_nothing(data_dir):
    _session, entries = crash_with_entries(data_dir)
    _flip_middle(data_dir)
    before = file_hashes(data_dir)
    with pytest.raises(RecordIncompleteError) as refused:
        _open(data_dir)
    sentence = str(refused.value)
    assert "write-ahead log" in sentence
    assert "damaged at frame" in sentence
    assert "copy the whole data folder" in sentence
    assert "Nothing was changed" in sentence
    # How many saved transactions follow the damage: about half of the 40 entries.
    state = walformat.inspect(wal_path(data_dir))
    assert 15 <= state.acknowledged_after_break <= len(entries)
    assert f"at least {state.acknowledged_after_break} saved transactions" in sentence
    assert file_hashes(data_dir) == before


def test_a_log_cut_in_half_is_refused_and_changes_nothing(data_dir):
    crash_with_entries(data_dir)
    log = wal_path(data_dir)
    log.write_bytes(log.read_bytes()[: log.stat().st_size // 2])
    # Cut at half, the log still looks like a clean crash; only the anchor tells.
    assert not walformat.inspect(log).damaged
    before = file_hashes(data_dir)
    with pytest.raises(RecordIncompleteError, match=r"the newest \d+ audit events") as refused:
        _open(data_dir)
    assert "are missing" in str(refused.value)
    assert file_hashes(data_dir) == before


def test_a_damaged_log_header_is_refused(data_dir):
    crash_with_entries(data_dir)
    log = wal_path(data_dir)
    data = bytearray(log.read_bytes())
    data[18] ^= 0x01  # a salt byte: SQLite would ignore the whole log
    log.write_bytes(bytes(data))
    before = file_hashes(data_dir)
    with pytest.raises(RecordIncompleteError, match="header of the write-ahead log"):
        _open(data_dir)
    assert file_hashes(data_dir) == before


def _append_torn_frame(data_dir) -> None:
    """What a power cut in the middle of the next write leaves: a frame of this log's
    generation whose page never fully reached the disk (its checksum fails)."""
    log = wal_path(data_dir)
    data = log.read_bytes()
    last = data[-FRAME:]
    page, _size = struct.unpack(">II", last[:8])
    torn = struct.pack(">II", page, 0) + last[8:24] + bytes(2048) + last[24 + 2048 :]
    log.write_bytes(data + torn[: FRAME // 2 + 1000])


def test_a_torn_final_frame_opens_with_every_acknowledged_entry(data_dir):
    session, entries = crash_with_entries(data_dir)
    _append_torn_frame(data_dir)
    state = walformat.inspect(wal_path(data_dir))
    assert not state.damaged
    with _open(data_dir) as store:
        stored = [v.id for v in store.entries("observation", session)]
        assert stored == entries
        assert store.verify().ok


def test_a_torn_whole_frame_after_the_last_commit_is_not_damage(data_dir):
    session, entries = crash_with_entries(data_dir)
    log = wal_path(data_dir)
    data = bytearray(log.read_bytes())
    last = bytes(data[-FRAME:])
    # The same frame again, as a commit of a transaction in flight, with its page torn.
    torn = bytearray(last)
    torn[24 + 100] ^= 0xFF
    log.write_bytes(bytes(data) + bytes(torn))
    state = walformat.inspect(log)
    assert state.first_invalid_frame == state.frames - 1
    assert not state.damaged
    with _open(data_dir) as store:
        assert [v.id for v in store.entries("observation", session)] == entries


def test_frames_of_an_older_generation_after_a_restart_are_not_damage(data_dir, clock):
    """After a checkpoint SQLite rewrites the log from its start under new salts; the old
    frames behind the new ones are stale, not damage."""
    with _open(data_dir, create=True) as store:
        patient = store.add_patient("Ada Example")
        session = store.start_session(patient, protocol="IM", zone_name="UTC")
        store._writer.execute("PRAGMA wal_autocheckpoint = 40").fetchall()
        for i in range(120):
            store.add_observation(session, f"observation {i}")
        state = walformat.inspect(wal_path(data_dir))
        assert state.stale_frames > 0  # the previous generation's frames behind the live ones
        assert not state.damaged
        assert store.verify().ok


def test_verify_reports_a_damaged_log_without_changing_anything(data_dir, capsys, monkeypatch):
    crash_with_entries(data_dir)
    _flip_middle(data_dir)
    before = record_hashes(data_dir)
    report = verify_folder(data_dir, fixed_passphrase)
    assert not report.ok
    assert "saved transactions follow the damage" in report.render()
    monkeypatch.setenv("KAPDESK_PASSPHRASE", PASSPHRASE)
    assert main(["--data-dir", str(data_dir), "verify"]) == 1
    assert "Write-ahead log: damaged" in capsys.readouterr().out
    assert record_hashes(data_dir) == before


def test_accepting_the_loss_keeps_the_damaged_log_and_records_the_reason(data_dir):
    session, entries = crash_with_entries(data_dir)
    _flip_middle(data_dir)
    damaged_log = wal_path(data_dir).read_bytes()
    with _open(data_dir, accept_loss="disk fault; folder copied to USB 7") as store:
        kept = sorted(data_dir.glob("kapdesk.db-wal.damaged-*"))
        assert len(kept) == 1
        assert kept[0].read_bytes() == damaged_log
        survivors = [v.id for v in store.entries("observation", session)]
        assert survivors == entries[: len(survivors)]
        assert len(survivors) < len(entries)
        with store.engine.connect() as conn:
            _action, details = conn.execute(
                text("SELECT action, details FROM audit_events WHERE action = 'loss_accepted'")
            ).one()
        assert "disk fault; folder copied to USB 7" in details
        assert '"acknowledged_after_damage"' in details
        assert store.verify().ok
    # Accepted once: the record opens normally from now on.
    with _open(data_dir) as store:
        assert store.verify().ok


@pytest.mark.parametrize("reason", ["", "   ", "\u200b"])
def test_accepting_a_loss_needs_a_reason(data_dir, reason):
    """Tamper QA: `accept-loss --reason ""` went ahead, and the audit trail's one word on
    why entries were given up was "reason": ""."""
    crash_with_entries(data_dir)
    _flip_middle(data_dir)
    before = file_hashes(data_dir)
    with pytest.raises(Exception, match="The reason for accepting the loss") as refused:
        _open(data_dir, accept_loss=reason)
    assert "Nothing was changed" in str(refused.value)
    assert file_hashes(data_dir) == before


def test_accept_loss_on_a_complete_record_is_refused(passphrase_store, data_dir):
    passphrase_store.close()
    before = file_hashes(data_dir)
    with pytest.raises(Exception, match="no missing or damaged entries") as refused:
        _open(data_dir, accept_loss="just in case")
    assert file_hashes(data_dir) == before
    # Tamper QA: said of a record with a damaged page, which accepting cannot mend.
    assert "damaged page, accepting a loss cannot mend it" in str(refused.value)


def _older_log_put_back(data_dir) -> tuple[object, list, bytes]:
    """A log left by a crash, copied aside (as a backup or sync tool does file by file);
    the record then opened, written to and closed (the log folded in); the old copy put
    back beside the newer database (Xvfb QA)."""
    session, entries = crash_with_entries(data_dir)
    old_log = wal_path(data_dir).read_bytes()
    with _open(data_dir) as store:
        entries += [store.add_observation(session, f"later {i}") for i in range(30)]
    assert not wal_path(data_dir).exists() or wal_path(data_dir).stat().st_size == 0
    wal_path(data_dir).write_bytes(old_log)
    return session, entries, old_log


def test_a_log_older_than_the_database_is_set_aside_and_nothing_is_lost(data_dir):
    """QA: kapdesk said the newest 31 audit events were missing, and accepting the loss
    folded the old log in over the 30 entries written since: the database alone was
    complete all along. Now the old log is kept aside under another name, the record
    opens with every entry, and the audit trail and the window say what was done."""
    session, entries, old_log = _older_log_put_back(data_dir)
    with _open(data_dir) as store:
        assert [v.id for v in store.entries("observation", session)] == entries
        kept = sorted(data_dir.glob("kapdesk.db-wal.older-*"))
        assert len(kept) == 1
        assert kept[0].read_bytes() == old_log
        assert store.older_log is not None
        assert store.older_log["events_it_would_undo"] >= 30
        with store.engine.connect() as conn:
            details = conn.execute(
                text("SELECT details FROM audit_events WHERE action = 'older_log_set_aside'")
            ).scalar_one()
        assert kept[0].name in details
        assert store.verify().ok
    from kapdesk.store.opening import older_log_sentence

    said = older_log_sentence(store.older_log)
    assert "older than the database" in said
    assert kept[0].name in said
    assert "complete without it" in said


def test_accept_loss_with_a_log_older_than_the_database_loses_nothing(
    data_dir, capsys, monkeypatch
):
    session, entries, _old_log = _older_log_put_back(data_dir)
    monkeypatch.setenv("KAPDESK_PASSPHRASE", PASSPHRASE)
    code = main(["--data-dir", str(data_dir), "accept-loss", "--reason", "log put back"])
    assert code == 0
    assert "older than the database" in capsys.readouterr().out
    with _open(data_dir) as store:
        assert [v.id for v in store.entries("observation", session)] == entries
        with store.engine.connect() as conn:
            accepted = conn.execute(
                text("SELECT count(*) FROM audit_events WHERE action = 'loss_accepted'")
            ).scalar_one()
        assert accepted == 0  # nothing was lost, so no loss was accepted


def test_verify_says_a_log_older_than_the_database_is_set_aside_at_the_next_open(
    data_dir, capsys, monkeypatch
):
    _older_log_put_back(data_dir)
    before = record_hashes(data_dir)
    monkeypatch.setenv("KAPDESK_PASSPHRASE", PASSPHRASE)
    assert main(["--data-dir", str(data_dir), "verify"]) == 2
    err = capsys.readouterr().err
    assert "older than the database" in err
    assert "The database alone is complete" in err
    assert record_hashes(data_dir) == before


ANOTHER_COPY_WRITER = """
import os, sys, uuid
from kapdesk.store import RecordStore
store = RecordStore.open(sys.argv[1], passphrase=lambda r: sys.argv[2], use_keyring=False)
for i in range(20):
    store.add_observation(uuid.UUID(sys.argv[3]), "another copy %d" % i)
os.kill(os.getpid(), 9)
"""


def test_another_copys_log_is_set_aside_and_this_records_entries_stay(data_dir, tmp_path):
    """Tamper QA: two copies of one record; one killed with 20 entries in its log, the
    other written to (3 entries) and closed. The first's log put beside the second was
    blamed on the database ("the database was replaced by a different copy"), and
    accepting "the loss" folded it in: the 3 entries were gone from the record. The
    database alone reaches its anchor: the log is set aside, as an older one is."""
    import shutil
    import subprocess
    import sys

    with _open(data_dir, create=True) as store:
        patient = store.add_patient("Ada Example")
        session = store.start_session(patient, protocol="IM", zone_name="UTC")
    other = tmp_path / "other copy"
    shutil.copytree(data_dir, other)
    killed = subprocess.run(
        [sys.executable, "-c", ANOTHER_COPY_WRITER, str(other), PASSPHRASE, str(session)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr
    with _open(data_dir) as store:
        ours = [store.add_observation(session, f"ours {i}") for i in range(3)]
    stray = wal_path(other).read_bytes()
    wal_path(data_dir).write_bytes(stray)
    with pytest.raises(Exception, match="another copy's of this record"):
        verify_folder(data_dir, fixed_passphrase)
    with _open(data_dir) as store:
        assert [v.id for v in store.entries("observation", session)] == ours
        kept = sorted(data_dir.glob("kapdesk.db-wal.older-*"))
        assert [k.read_bytes() for k in kept] == [stray]
        assert store.older_log is not None
        assert store.older_log["diverges"] is True
        assert store.verify().ok
    from kapdesk.store.opening import older_log_sentence

    said = older_log_sentence(store.older_log)
    assert "another copy's of this record" in said
    assert kept[0].name in said
