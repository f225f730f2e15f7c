from __future__ import annotations

import zipfile

import pytest
from sqlalchemy import text

from kapdesk.store import RecordStore
from kapdesk.store.backup import read_manifest, restore_backup
from kapdesk.store.errors import BackupError, WrongPassphraseError
from tests.conftest import file_hashes, fixed_passphrase


def _fill(store):
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    store.add_vitals(session, {"systolic": 141, "diastolic": 91})
    return session


def test_a_backup_restores_into_an_empty_folder_with_everything(passphrase_store, tmp_path):
    session = _fill(passphrase_store)
    info = passphrase_store.backup(tmp_path / "clinic.kapbak")
    assert info.audit_events > 0
    manifest = read_manifest(info.path)
    assert manifest["database_id"] == passphrase_store.database_id
    assert manifest["key_method"] == "passphrase"
    target = tmp_path / "elsewhere"
    restore_backup(info.path, target, fixed_passphrase)
    with RecordStore.open(target, passphrase=fixed_passphrase) as restored:
        [reading] = restored.entries("vitals", session)
        assert reading.current["systolic"] == 141
        assert restored.verify().ok


def test_a_keyring_backup_restores_on_the_same_computer(store, tmp_path):
    _fill(store)
    info = store.backup(tmp_path / "k.kapbak")
    restore_backup(info.path, tmp_path / "copy", fixed_passphrase)
    with RecordStore.open(tmp_path / "copy") as restored:
        assert restored.count("vitals") == 1


def test_taking_a_backup_is_audited(store, tmp_path):
    store.backup(tmp_path / "a.kapbak")
    with store.engine.connect() as conn:
        last = conn.execute(
            text("SELECT action FROM audit_events ORDER BY seq DESC LIMIT 1")
        ).scalar_one()
    assert last == "backup"


def test_a_backup_never_replaces_an_existing_file(store, tmp_path):
    existing = tmp_path / "taken.kapbak"
    existing.write_bytes(b"someone else's file")
    with pytest.raises(BackupError, match="already exists"):
        store.backup(existing)
    assert existing.read_bytes() == b"someone else's file"


def test_restore_refuses_a_folder_that_holds_a_record(passphrase_store, tmp_path, data_dir):
    _fill(passphrase_store)
    info = passphrase_store.backup(tmp_path / "b.kapbak")
    passphrase_store.close()
    before = file_hashes(data_dir)
    with pytest.raises(BackupError, match="never overwrites"):
        restore_backup(info.path, data_dir, fixed_passphrase)
    assert file_hashes(data_dir) == before


def test_restore_with_the_wrong_passphrase_leaves_the_folder_empty(passphrase_store, tmp_path):
    info = passphrase_store.backup(tmp_path / "b.kapbak")
    target = tmp_path / "target"
    with pytest.raises(WrongPassphraseError):
        restore_backup(info.path, target, lambda r: None if r.error else "wrong passphrase!!")
    assert not target.exists()  # as it was: the folder restore made is gone again


@pytest.mark.parametrize(
    "content",
    [b"not a zip at all", None],
    ids=["garbage", "zip-with-other-files"],
)
def test_a_file_that_is_not_a_backup_is_refused(tmp_path, content):
    source = tmp_path / "x.kapbak"
    if content is None:
        with zipfile.ZipFile(source, "w") as archive:
            archive.writestr("hello.txt", "hi")
    else:
        source.write_bytes(content)
    with pytest.raises(BackupError, match="not a kapdesk backup"):
        restore_backup(source, tmp_path / "t", fixed_passphrase)
    assert not (tmp_path / "t").exists()


def test_a_portable_backup_of_a_keyring_record_restores_on_another_computer(
    store, tmp_path, memory_keyring
):
    session = _fill(store)
    info = store.backup(tmp_path / "portable.kapbak", recovery=lambda r: "recovery passphrase 1")
    assert info.portable
    assert read_manifest(info.path)["key_method"] == "passphrase"
    [key_hex] = memory_keyring.secrets.values()
    backup_bytes = info.path.read_bytes()
    assert key_hex.encode() not in backup_bytes
    assert bytes.fromhex(key_hex) not in backup_bytes  # wrapped, never in the clear
    memory_keyring.secrets.clear()  # another computer: its keyring knows nothing of this record
    target = tmp_path / "new-laptop"
    restore_backup(info.path, target, lambda r: "recovery passphrase 1")
    with RecordStore.open(target, passphrase=lambda r: "recovery passphrase 1") as restored:
        assert restored.entries("vitals", session)[0].current["systolic"] == 141
        assert restored.verify().ok


def test_a_plain_keyring_backup_says_it_is_not_portable(store, tmp_path, memory_keyring):
    info = store.backup(tmp_path / "local.kapbak")
    assert not info.portable
    memory_keyring.secrets.clear()
    with pytest.raises(Exception, match="not in this computer's keyring"):
        restore_backup(info.path, tmp_path / "elsewhere", fixed_passphrase)


def test_the_cli_warns_and_offers_portable_backups(store, data_dir, tmp_path, capsys, monkeypatch):
    from kapdesk.cli import main

    store.close()
    assert main(["--data-dir", str(data_dir), "backup", str(tmp_path / "a.kapbak")]) == 0
    assert "restores on this computer only" in capsys.readouterr().out
    monkeypatch.setenv("KAPDESK_RECOVERY_PASSPHRASE", "a long recovery phrase")
    assert (
        main(["--data-dir", str(data_dir), "backup", "--portable", str(tmp_path / "b.kapbak")]) == 0
    )
    assert "restores on any computer" in capsys.readouterr().out


def test_a_backup_onto_a_read_only_disk_says_so(store, tmp_path, monkeypatch):
    """Tamper QA: onto a write-protected USB stick, the clean-up's unlink of a copy never
    made raised "read-only file system" itself, and the sentence became "kapdesk met an
    unexpected error". The disk refuses every write, as a read-only mount does."""
    import errno
    from pathlib import Path

    from kapdesk.store import backup

    def read_only(*_args, **_kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(backup, "_copy_database", read_only)
    (tmp_path / "stick").mkdir()
    target = tmp_path / "stick" / "clinic.kapbak"
    unlink = Path.unlink

    def unlink_on_the_stick(path, *args, **kwargs):
        if path.parent == target.parent:
            raise OSError(errno.EROFS, "Read-only file system")
        return unlink(path, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", unlink_on_the_stick)
    with pytest.raises(BackupError, match="Read-only file system") as caught:
        store.backup(target)
    assert "Check the space and permissions there" in str(caught.value)
    assert not target.exists()


def test_a_backup_onto_a_full_disk_says_so_and_leaves_nothing(store, tmp_path, monkeypatch):
    """SQLite's own "database or disk is full", from the copy, ended in an unexpected
    error (tamper QA: a backup onto a full 3 MB disk)."""
    import sqlcipher3

    from kapdesk.store import backup

    def full(*_args, **_kwargs):
        raise sqlcipher3.OperationalError("database or disk is full")

    monkeypatch.setattr(backup, "_copy_database", full)
    (tmp_path / "backups").mkdir()
    target = tmp_path / "backups" / "full.kapbak"
    with pytest.raises(BackupError, match="database or disk is full") as caught:
        store.backup(target)
    assert "Check the space" in str(caught.value)
    assert list(target.parent.iterdir()) == []  # no backup, no partial copy


def test_a_backup_stopped_hard_leaves_nothing_behind_for_long(store, tmp_path):
    """Tamper QA: killed backups left hidden .partial files of 100 MB or more, removed
    only by a later backup of the same name; the app names each backup anew."""
    import os
    import time

    folder = tmp_path / "stick"
    folder.mkdir()
    stale = [
        ".kapdesk-2026-11-27-1010.kapbak.partial",
        ".kapdesk-2026-11-27-1010.kapbak.db.partial",
        ".kapdesk-2026-11-27-1010.kapbak.db.partial-journal",
    ]
    fresh = ".kapdesk-2026-11-27-1200.kapbak.db.partial"  # a backup under way elsewhere
    others = ["notes.txt", ".download.partial", "kapdesk-old.kapbak.partial"]
    for name in [*stale, fresh, *others]:
        (folder / name).write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    for name in [*stale, *others]:
        os.utime(folder / name, (two_hours_ago, two_hours_ago))
    store.backup(folder / "today.kapbak")
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted([fresh, *others, "today.kapbak"])


def test_a_restore_unpacks_into_a_file_only_its_owner_may_read(
    passphrase_store, tmp_path, monkeypatch
):
    """Tamper QA: the database was unpacked into a file others could read (0644), made
    private only afterwards, and a restore stopped hard left it so."""
    import os
    import stat

    from kapdesk.store import backup

    _fill(passphrase_store)
    info = passphrase_store.backup(tmp_path / "clinic.kapbak")
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    # A restore stopped hard before left its part behind, readable by others.
    (target / ".kapdesk.db.restoring").write_bytes(b"part of an earlier restore")
    (target / ".kapdesk.db.restoring").chmod(0o644)
    modes = []
    real_fsync = os.fsync

    def fsync(descriptor):
        modes.append(stat.S_IMODE(os.fstat(descriptor).st_mode))
        return real_fsync(descriptor)

    monkeypatch.setattr(backup.os, "fsync", fsync)
    restore_backup(info.path, target, fixed_passphrase)
    assert modes, "nothing was unpacked"
    assert modes[0] == 0o600  # the unpacked database, as it was written
    assert not (target / ".kapdesk.db.restoring").exists()


def test_a_restore_without_room_for_the_record_is_refused_before_anything_is_made(
    passphrase_store, tmp_path, monkeypatch
):
    """Tamper QA: on a nearly full disk the files were unpacked whole, then the record
    could not open and the restore was said to have failed; a retry found "parts of a
    record" there."""
    from collections import namedtuple

    from kapdesk.store import backup

    _fill(passphrase_store)
    info = passphrase_store.backup(tmp_path / "clinic.kapbak")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(backup.shutil, "disk_usage", lambda _p: usage(1 << 30, 0, 300_000))
    target = tmp_path / "elsewhere"
    with pytest.raises(BackupError, match=r"has 0\.3 MB free, and restoring this backup needs"):
        restore_backup(info.path, target, fixed_passphrase)
    assert not target.exists()
    monkeypatch.undo()
    restore_backup(info.path, target, fixed_passphrase)  # with room, as ever
