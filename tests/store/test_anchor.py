"""A record cut short at its end is still a valid audit chain; the anchor outside the
database, and the manifests of earlier backups, are what tell (store/anchor.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from kapdesk.cli import main
from kapdesk.store import RecordStore
from kapdesk.store.anchor import ANCHOR_FILE, AnchorFile
from kapdesk.store.engine import DATABASE_FILE, make_engine
from kapdesk.store.errors import MissingFileError, RecordIncompleteError, SchemaAlteredError
from kapdesk.store.vault import KeyVault, no_passphrase
from kapdesk.store.verify_folder import verify_folder
from tests.conftest import record_hashes


def _fill(store: RecordStore, count: int = 6):
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    for i in range(count):
        store.add_observation(session, f"observation {i}")
    return session


def _key(data_dir: Path) -> tuple[KeyVault, bytes]:
    vault = KeyVault.load(data_dir)
    return vault, vault.unlock(no_passphrase)


def _behind_kapdesks_back(data_dir: Path, *statements: str) -> None:
    """Change the record with its key, the guards dropped and put back exactly as they were."""
    _vault, key = _key(data_dir)
    engine = make_engine(data_dir / DATABASE_FILE, key)
    with engine.connect() as conn:
        guards = conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        ).all()
        for name, _sql in guards:
            conn.exec_driver_sql(f"DROP TRIGGER {name}")
        for statement in statements:
            conn.exec_driver_sql(statement)
        for _name, sql in guards:
            conn.exec_driver_sql(sql)
        conn.commit()
    engine.dispose()


def _verify(data_dir: Path):
    return verify_folder(data_dir, no_passphrase)


def test_deleting_the_newest_entries_with_their_events_is_detected(store, data_dir):
    session = _fill(store)
    store.close()
    _behind_kapdesks_back(
        data_dir,
        "DELETE FROM observations WHERE id IN (SELECT entity_id FROM audit_events "
        "ORDER BY seq DESC LIMIT 3)",
        "DELETE FROM audit_events WHERE seq > (SELECT max(seq) - 3 FROM audit_events)",
    )
    report = _verify(data_dir)
    # The shorter chain is intact in itself: only the anchor says something is missing.
    assert report.check("Audit chain").ok
    assert report.check("Records against the audit trail").ok
    anchor = report.check("End of the record against its anchor")
    assert not anchor.ok
    assert "the newest 3 audit events" in anchor.problems[0]
    before = record_hashes(data_dir)
    with pytest.raises(RecordIncompleteError, match="the newest 3 audit events"):
        RecordStore.open(data_dir)
    assert record_hashes(data_dir) == before
    assert session


def test_an_older_copy_of_the_database_put_in_place_is_detected(store, data_dir, tmp_path):
    _fill(store)
    store.close()
    older = tmp_path / "older.db"
    shutil.copyfile(data_dir / DATABASE_FILE, older)
    with RecordStore.open(data_dir) as store:
        [session] = [s["id"] for s in store.sessions()]
        store.add_observation(session, "written after the copy was taken")
    shutil.copyfile(older, data_dir / DATABASE_FILE)
    before = record_hashes(data_dir)
    with pytest.raises(RecordIncompleteError, match="older copy of the database") as refused:
        RecordStore.open(data_dir)
    assert "kapdesk accept-loss" in str(refused.value)
    assert record_hashes(data_dir) == before
    assert not _verify(data_dir).check("End of the record against its anchor").ok


def test_a_damaged_or_missing_anchor_is_refused(store, data_dir):
    _fill(store)
    store.close()
    anchor = data_dir / ANCHOR_FILE
    original = anchor.read_bytes()
    anchor.write_bytes(bytes(b ^ 0x01 for b in original))
    with pytest.raises(RecordIncompleteError, match="does not authenticate"):
        RecordStore.open(data_dir)
    anchor.unlink()
    with pytest.raises(RecordIncompleteError, match="is missing"):
        RecordStore.open(data_dir)
    anchor.write_bytes(original)
    RecordStore.open(data_dir).close()


def test_an_anchor_left_behind_by_a_crash_is_harmless(store, data_dir):
    """The kill can land between a commit and the anchor's move: the record is ahead."""
    _fill(store)
    store.close()
    vault, key = _key(data_dir)
    engine = make_engine(data_dir / DATABASE_FILE, key)
    with engine.connect() as conn:
        seq, event_hash = conn.execute(
            text("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1 OFFSET 2")
        ).one()
    engine.dispose()
    behind = AnchorFile(data_dir / ANCHOR_FILE, key, vault.database_id)
    behind.read()
    behind.write(seq, event_hash, store._now())
    behind.close()
    with RecordStore.open(data_dir) as reopened:
        assert reopened.verify().ok
    assert _verify(data_dir).ok


def test_an_anchor_naming_another_history_is_refused(store, data_dir):
    _fill(store)
    store.close()
    vault, key = _key(data_dir)
    forged = AnchorFile(data_dir / ANCHOR_FILE, key, vault.database_id)
    current = forged.read()
    assert current is not None
    forged.write(current.seq, "ab" * 32, current.written_at)
    forged.close()
    with pytest.raises(RecordIncompleteError, match="is not the one kapdesk wrote"):
        RecordStore.open(data_dir)


def test_a_record_with_fewer_events_than_an_earlier_backup_is_reported(
    store, data_dir, tmp_path, capsys
):
    """A whole folder put back from an older copy (anchor and all) agrees with itself;
    the backups taken since still know how far the record had come."""
    session = _fill(store)
    store.close()
    old_copy = tmp_path / "old-copy"
    shutil.copytree(data_dir, old_copy)
    with RecordStore.open(data_dir) as store:
        store.add_observation(session, "after the old copy")
        (data_dir / "backups").mkdir()
        kept = store.backup(data_dir / "backups" / "kept.kapbak")
        elsewhere = store.backup(tmp_path / "usb.kapbak")
    for name in (DATABASE_FILE, ANCHOR_FILE):
        shutil.copyfile(old_copy / name, data_dir / name)
    RecordStore.open(data_dir).close()  # anchor and database agree
    report = _verify(data_dir)
    backups = report.check("Backups taken earlier")
    assert not backups.ok
    assert f"fewer than the {kept.audit_events} in the backup kept.kapbak" in backups.problems[0]
    capsys.readouterr()
    assert main(["--data-dir", str(data_dir), "verify", str(elsewhere.path)]) == 1
    out = capsys.readouterr().out
    assert "usb.kapbak" in out
    assert "kept.kapbak" in out


def test_verify_changes_nothing_and_appends_nothing(data_dir, capsys, monkeypatch):
    from tests.conftest import PASSPHRASE
    from tests.store.crashed import crash_with_entries

    crash_with_entries(data_dir)  # a write-ahead log full of entries: verify must not fold it
    monkeypatch.setenv("KAPDESK_PASSPHRASE", PASSPHRASE)
    before = record_hashes(data_dir)
    assert main(["--data-dir", str(data_dir), "verify"]) == 0
    assert "read-only" in capsys.readouterr().out
    assert record_hashes(data_dir) == before
    assert main(["--data-dir", str(data_dir), "verify"]) == 0
    assert record_hashes(data_dir) == before


# ------------------------------------------------ found by trying to break the record


def _open_with_mirror(data_dir: Path, mirror: Path, **kwargs) -> RecordStore:
    return RecordStore.open(data_dir, anchor_mirror=mirror, **kwargs)


def test_a_slot_that_does_not_authenticate_is_never_passed_over(store, data_dir):
    """Flipping the newest slot's MAC used to fall back, quietly, to the slot before."""
    _fill(store)
    store.close()
    anchor = data_dir / ANCHOR_FILE
    data = bytearray(anchor.read_bytes())
    newest = max(range(2), key=lambda i: int.from_bytes(data[i * 96 + 8 : i * 96 + 16], "big"))
    data[newest * 96 + 95] ^= 0x01
    anchor.write_bytes(bytes(data))
    with pytest.raises(RecordIncompleteError, match="does not authenticate"):
        RecordStore.open(data_dir)
    assert not _verify(data_dir).ok


@pytest.mark.parametrize("kind", ["symlink", "folder", "fifo"])
def test_an_anchor_that_is_not_a_plain_file_is_refused(store, data_dir, tmp_path, kind):
    _fill(store)
    store.close()
    anchor = data_dir / ANCHOR_FILE
    elsewhere = tmp_path / "copy.anchor"
    shutil.copyfile(anchor, elsewhere)
    anchor.unlink()
    if kind == "symlink":
        anchor.symlink_to(elsewhere)
    elif kind == "folder":
        anchor.mkdir()
    else:
        os.mkfifo(anchor)
    before = record_hashes(data_dir)
    with pytest.raises(RecordIncompleteError, match="cannot be trusted"):
        RecordStore.open(data_dir)  # and never hangs on a FIFO
    assert record_hashes(data_dir) == before


def test_a_whole_folder_put_back_from_an_older_copy_is_seen_by_the_mirror(
    store, data_dir, tmp_path
):
    """Database and anchor rolled back together agree with each other; the mirror outside
    the data folder still knows how far the record had come."""
    mirror = tmp_path / "state" / "anchors"
    store.close()
    with _open_with_mirror(data_dir, mirror) as opened:
        _fill(opened)
    older = tmp_path / "older-folder"
    shutil.copytree(data_dir, older)
    with _open_with_mirror(data_dir, mirror) as opened:
        [session] = [s["id"] for s in opened.sessions()]
        opened.add_observation(session, "written after the copy")
    shutil.rmtree(data_dir)
    shutil.copytree(older, data_dir)
    RecordStore.open(data_dir).close()  # without the mirror the rollback is invisible
    with pytest.raises(RecordIncompleteError, match="are missing"):
        _open_with_mirror(data_dir, mirror)
    assert not verify_folder(data_dir, no_passphrase, mirror=mirror).ok


def test_a_removed_database_with_a_creation_marker_is_not_recreated(store, data_dir):
    """A marker only means an interrupted first creation in a folder nothing was ever
    written to; here the anchor says otherwise."""
    _fill(store)
    store.close()
    (data_dir / DATABASE_FILE).unlink()
    (data_dir / ".kapdesk.db.creating").touch()
    before = record_hashes(data_dir)
    with pytest.raises(MissingFileError, match=r"kapdesk\.db is missing"):
        RecordStore.open(data_dir)
    assert record_hashes(data_dir) == before
    assert not (data_dir / DATABASE_FILE).exists()


def test_a_record_with_its_anchor_entry_removed_is_refused(store, data_dir):
    _fill(store)
    store.close()
    _behind_kapdesks_back(data_dir, "DELETE FROM kapdesk_meta WHERE name = 'anchor'")
    (data_dir / ANCHOR_FILE).unlink()
    before = record_hashes(data_dir)
    with pytest.raises(SchemaAlteredError, match="anchor entry is gone"):
        RecordStore.open(data_dir)
    assert record_hashes(data_dir) == before


def test_one_missing_audit_event_is_said_in_the_singular():
    """Tamper QA: "the newest 1 audit event, and the entries they record, are missing"."""
    import datetime as dt

    from kapdesk.store.anchor import Anchor, compare_anchor

    anchor = Anchor(seq=8, hash="ab" * 32, written_at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
    said, missing = compare_anchor(
        anchor, damaged=None, beside_missing=False, head_seq=7, hash_at_anchor=None, anchored=True
    )
    assert missing == 1
    assert said is not None
    assert "the newest audit event, and what it records, are missing" in said
    assert "1 audit event" not in said


def test_an_anchor_file_gone_is_made_again_when_its_copy_proves_the_record_whole(
    data_dir, tmp_path
):
    """Tamper QA: with kapdesk.anchor gone and its copy outside the data folder naming the
    record's newest event, kapdesk refused the record and advised restoring the latest
    backup, which would have lost every entry made since."""
    mirror = tmp_path / "mirror"
    with RecordStore.open(data_dir, create=True, anchor_mirror=mirror) as store:
        store.add_patient("Ada Example")
    (data_dir / ANCHOR_FILE).unlink()
    with RecordStore.open(data_dir, anchor_mirror=mirror) as store:
        assert [p.current["display_name"] for p in store.patients()] == ["Ada Example"]
        store.add_patient("Ben Example")
        assert store.verify().ok
    assert (data_dir / ANCHOR_FILE).exists()
    # Without a copy that proves it, the file gone is still refused.
    (data_dir / ANCHOR_FILE).unlink()
    with pytest.raises(RecordIncompleteError, match=r"kapdesk\.anchor.*is missing"):
        RecordStore.open(data_dir, anchor_mirror=tmp_path / "elsewhere")


def test_an_anchor_that_cannot_be_moved_is_said_and_verify_says_it_is_behind(
    store, data_dir, monkeypatch
):
    """Tamper QA: with kapdesk.anchor made immutable, 36 entries each said only in the log
    that the anchor could not be moved, and verify then said "[ok] ... the anchor is at
    #11" of a record at #48."""
    _fill(store, 1)
    assert store.anchor_problem is None

    def refuse(*_args, **_kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(store._opened.anchor, "write", refuse)
    _fill(store, 4)
    assert store.anchor_problem is not None
    assert "could not update kapdesk.anchor in the data folder (Operation not permitted)" in (
        store.anchor_problem
    )
    store.close()
    report = _verify(data_dir)
    assert report.ok  # the record itself checks out
    [anchor] = [c for c in report.checks if c.name == "End of the record against its anchor"]
    assert "events behind" in anchor.summary
    assert "could not update kapdesk.anchor" in anchor.summary
