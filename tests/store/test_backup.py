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
    assert not (target / "kapdesk.db").exists()
    assert [p.name for p in target.iterdir() if p.name != "kapdesk.lock"] == []


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
