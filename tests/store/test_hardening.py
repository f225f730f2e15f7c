"""One writer per record, a structure verify compares by its SQL, the record's own facts under
the audit trail, and key files that cannot hang the laptop or hide damage."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import alembic.op
import pytest
from sqlalchemy import text

from kapdesk.cli import main
from kapdesk.store import RecordStore, migrate
from kapdesk.store.backup import restore_backup
from kapdesk.store.engine import DATABASE_FILE, make_engine, preflight
from kapdesk.store.errors import (
    BackupError,
    DamagedKeyFileError,
    FolderUnusableError,
    InstanceLockedError,
    MissingFileError,
    SaveFailedError,
    SchemaAlteredError,
    WeakPassphraseError,
    WrongPassphraseError,
)
from kapdesk.store.lock import DataFolderLock
from kapdesk.store.vault import KeyVault, no_passphrase
from kapdesk.store.verify_folder import verify_folder
from tests.conftest import PASSPHRASE, file_hashes, fixed_passphrase, record_hashes


def _fill(store: RecordStore):
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    store.add_vitals(session, {"systolic": 132, "diastolic": 84})
    return session


def _with_key(data_dir: Path, *statements: str) -> None:
    """Run SQL on the record with its key, as someone who has it could."""
    key = KeyVault.load(data_dir).unlock(no_passphrase)
    engine = make_engine(data_dir / DATABASE_FILE, key)
    with engine.connect() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
        conn.commit()
    engine.dispose()


# --------------------------------------------------------------- one writer


def test_deleting_the_lock_file_does_not_let_a_second_kapdesk_in(store, data_dir):
    (data_dir / "kapdesk.lock").unlink()
    before = file_hashes(data_dir)
    with pytest.raises(InstanceLockedError, match="Another kapdesk"):
        RecordStore.open(data_dir)
    assert file_hashes(data_dir) == before
    store.close()
    RecordStore.open(data_dir).close()


def test_a_symlinked_lock_file_is_never_followed(store, data_dir, tmp_path):
    store.close()
    target = tmp_path / "precious.txt"
    target.write_text("not kapdesk's")
    (data_dir / "kapdesk.lock").unlink()
    (data_dir / "kapdesk.lock").symlink_to(target)
    with pytest.raises(FolderUnusableError, match="is a link to another file"):
        RecordStore.open(data_dir)
    with pytest.raises(FolderUnusableError, match="is a link to another file"):
        verify_folder(data_dir, no_passphrase)
    assert target.read_text() == "not kapdesk's"


def test_a_second_writer_that_got_past_the_lock_does_not_break_later_saves(
    store, data_dir, clock, monkeypatch
):
    """If the record is ever written by someone else meanwhile, each save continues the
    chain after their events instead of failing on a stale head for the rest of the day."""
    session = _fill(store)
    monkeypatch.setattr(DataFolderLock, "acquire", lambda self: None)
    with RecordStore.open(data_dir, clock=clock.now_utc) as intruder:
        intruder.add_observation(session, "written by the second kapdesk")
    store.add_observation(session, "the first kapdesk goes on saving")
    store.add_vitals(session, {"heart_rate": 80})
    texts = [v.current["text"] for v in store.entries("observation", session)]
    assert texts == ["written by the second kapdesk", "the first kapdesk goes on saving"]
    assert store.verify().ok


# ---------------------------------------------------------- structure and guards


def test_a_do_nothing_guard_under_the_right_name_is_caught(store, data_dir):
    _fill(store)
    store.close()
    _with_key(
        data_dir,
        "DROP TRIGGER vitals_readings_no_update",
        "CREATE TRIGGER vitals_readings_no_update BEFORE UPDATE ON vitals_readings "
        "BEGIN SELECT 1; END",
    )
    report = verify_folder(data_dir, no_passphrase)
    assert not report.ok
    assert "trigger vitals_readings_no_update differs from the one kapdesk created" in (
        report.render()
    )
    before = file_hashes(data_dir)
    with pytest.raises(SchemaAlteredError, match="changed outside kapdesk"):
        RecordStore.open(data_dir)
    assert file_hashes(data_dir) == before


def test_a_planted_trigger_that_swallows_inserts_is_refused_at_open(store, data_dir):
    _fill(store)
    store.close()
    _with_key(
        data_dir,
        "CREATE TRIGGER swallow BEFORE INSERT ON observations BEGIN SELECT RAISE(IGNORE); END",
    )
    assert (
        "trigger swallow was not created by kapdesk"
        in verify_folder(data_dir, no_passphrase).render()
    )
    with pytest.raises(SchemaAlteredError, match="trigger swallow"):
        RecordStore.open(data_dir)


def test_an_insert_that_writes_no_row_is_not_reported_saved(store, data_dir):
    """The trigger planted while kapdesk runs: the save fails with a sentence, nothing stored."""
    session = _fill(store)
    with store.engine.connect() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER swallow BEFORE INSERT ON observations BEGIN SELECT RAISE(IGNORE); END"
        )
        conn.commit()
    events_before = store._read_head()
    with pytest.raises(SaveFailedError, match="not stored as written"):
        store.add_observation(session, "would vanish")
    assert store.entries("observation", session) == []
    assert store._read_head() == events_before


def test_a_dropped_clinical_table_is_named_not_a_crash(store, data_dir, capsys, monkeypatch):
    _fill(store)
    store.close()
    _with_key(data_dir, "DROP TABLE vitals_readings")
    report = verify_folder(data_dir, no_passphrase)
    assert "table vitals_readings is missing: it was dropped" in report.render()
    assert main(["--data-dir", str(data_dir), "verify"]) == 1
    assert "vitals_readings is missing" in capsys.readouterr().out


def test_the_records_own_facts_are_under_the_audit_trail(store, data_dir):
    _fill(store)
    store.close()
    _with_key(
        data_dir,
        "DROP TRIGGER kapdesk_meta_no_update",
        "UPDATE kapdesk_meta SET value = 'kapdesk 9.9' WHERE name = 'created_by'",
        f"UPDATE alembic_version SET version_num = '{migrate.head_revision()}'",
    )
    # Put the guard back exactly, so only the content differs.
    guard = migrate.expected_schema(migrate.head_revision())[("trigger", "kapdesk_meta_no_update")]
    _with_key(data_dir, guard or "")
    rendered = verify_folder(data_dir, no_passphrase).render()
    assert "record fact (kapdesk_meta) created_by differs from what event" in rendered
    assert f"Structure and append-only guards: schema {migrate.head_revision()}" in rendered


def test_a_changed_schema_revision_is_named(store, data_dir):
    _fill(store)
    store.close()
    _with_key(
        data_dir, "DELETE FROM alembic_version", "INSERT INTO alembic_version VALUES ('0002')"
    )
    rendered = verify_folder(data_dir, no_passphrase).render()
    assert "schema revision (alembic_version) alembic_version differs from what event" in (rendered)


# ------------------------------------------------------------------ key files


def _passphrase_record(data_dir: Path) -> dict:
    RecordStore.open(data_dir, passphrase=fixed_passphrase, use_keyring=False, create=True).close()
    return json.loads((data_dir / "vault.json").read_text())


@pytest.mark.parametrize(
    ("setting", "value"),
    [("iterations", 100_000), ("memory_kib", 64 * 1024 * 1024), ("lanes", 0), ("memory_kib", 8)],
)
def test_key_derivation_settings_out_of_bounds_are_refused_at_once(data_dir, setting, value):
    vault = _passphrase_record(data_dir)
    vault["kdf"][setting] = value
    (data_dir / "vault.json").write_text(json.dumps(vault))
    before = file_hashes(data_dir)
    started = time.monotonic()
    with pytest.raises(MissingFileError, match=f"key-derivation setting .*{setting}"):
        RecordStore.open(data_dir, passphrase=fixed_passphrase, use_keyring=False)
    assert time.monotonic() - started < 30  # refused before deriving, not after minutes
    assert file_hashes(data_dir) == before


def test_a_damaged_wrapped_key_is_told_apart_from_a_wrong_passphrase(data_dir):
    vault = _passphrase_record(data_dir)
    wrapped = bytearray(vault["wrapped_key"].encode())
    wrapped[5] = ord("A") if wrapped[5] != ord("A") else ord("B")
    vault["wrapped_key"] = wrapped.decode()
    (data_dir / "vault.json").write_text(json.dumps(vault))
    before = file_hashes(data_dir)
    with pytest.raises(DamagedKeyFileError, match=r"passphrase is right.*key file was changed"):
        RecordStore.open(data_dir, passphrase=fixed_passphrase, use_keyring=False)
    with pytest.raises(WrongPassphraseError):
        RecordStore.open(
            data_dir, passphrase=lambda r: None if r.error else "not the passphrase at all"
        )
    assert file_hashes(data_dir) == before


def test_an_older_key_file_gets_its_passphrase_check_when_it_unlocks(data_dir):
    vault = _passphrase_record(data_dir)
    del vault["passphrase_check"]  # as an older kapdesk wrote it: neither check
    del vault["settings_check"]
    (data_dir / "vault.json").write_text(json.dumps(vault))
    with pytest.raises(WrongPassphraseError):  # without the check value: cannot tell
        RecordStore.open(data_dir, passphrase=lambda r: None if r.error else "wrong one, sorry")
    RecordStore.open(data_dir, passphrase=fixed_passphrase).close()
    upgraded = json.loads((data_dir / "vault.json").read_text())
    assert upgraded["passphrase_check"]
    assert upgraded["settings_check"]
    assert upgraded["wrapped_key"] == vault["wrapped_key"]
    RecordStore.open(data_dir, passphrase=fixed_passphrase).close()  # and opens as before


@pytest.mark.parametrize(
    "damage",
    [
        lambda v: v["kdf"].update(iterations=v["kdf"]["iterations"] + 1),
        lambda v: v["kdf"].update(memory_kib=v["kdf"]["memory_kib"] + 1),
        lambda v: v.update(passphrase_check="0" * len(v["passphrase_check"])),
    ],
)
def test_a_key_file_damaged_in_its_settings_is_not_called_a_wrong_passphrase(data_dir, damage):
    """A setting changed by one (tamper QA) was refused as "That passphrase does not unlock
    this record", and the clinician would hunt for a passphrase that was right."""
    vault = _passphrase_record(data_dir)
    damage(vault)
    (data_dir / "vault.json").write_text(json.dumps(vault))
    before = file_hashes(data_dir)
    with pytest.raises(DamagedKeyFileError, match="was changed or damaged"):
        RecordStore.open(data_dir, passphrase=fixed_passphrase)
    assert file_hashes(data_dir) == before


@pytest.mark.parametrize("weak", ["aaaaaaaaaaaa", "123456789012", "passwordpassword"])
def test_weak_passphrases_are_refused_with_a_reason(data_dir, weak):
    with pytest.raises(WeakPassphraseError, match="too easy to guess") as refused:
        RecordStore.open(data_dir, passphrase=lambda r: weak, use_keyring=False, create=True)
    assert "uncommon words" in str(refused.value)
    assert not (data_dir / DATABASE_FILE).exists()
    assert not (data_dir / "vault.json").exists()


# -------------------------------------------------------------------- backups


def test_a_backup_with_a_damaged_database_is_refused_and_leaves_no_trace(
    passphrase_store, tmp_path
):
    _fill(passphrase_store)
    info = passphrase_store.backup(tmp_path / "b.kapbak")
    data = bytearray(info.path.read_bytes())
    middle = data.find(b"kapdesk.db", 200) + 5000  # inside the stored database member
    data[middle] ^= 0xFF
    damaged = tmp_path / "damaged.kapbak"
    damaged.write_bytes(bytes(data))
    target = tmp_path / "restored"
    with pytest.raises(BackupError, match="damaged"):
        restore_backup(damaged, target, fixed_passphrase)
    assert not target.exists()
    existing = tmp_path / "existing-empty"
    existing.mkdir()
    with pytest.raises(BackupError, match="damaged"):
        restore_backup(damaged, existing, fixed_passphrase)
    assert [p.name for p in existing.iterdir() if p.name != "kapdesk.lock"] == []


def test_portable_on_a_passphrase_record_says_why_it_is_not_needed(
    passphrase_store, data_dir, tmp_path, capsys, monkeypatch
):
    passphrase_store.close()
    monkeypatch.setenv("KAPDESK_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("KAPDESK_RECOVERY_PASSPHRASE", "a different recovery phrase")
    target = tmp_path / "p.kapbak"
    assert main(["--data-dir", str(data_dir), "backup", "--portable", str(target)]) == 0
    out = capsys.readouterr().out
    assert "--portable changes nothing" in out
    assert "KAPDESK_RECOVERY_PASSPHRASE was not used" in out
    restore_backup(target, tmp_path / "r", fixed_passphrase)  # the record's own passphrase


def test_the_failed_migration_names_its_backup_and_retrying_works(data_dir, clock, monkeypatch):
    from tests.store.test_migrations import _record_at_schema_0001

    _record_at_schema_0001(data_dir, clock)
    key = KeyVault.load(data_dir).unwrap(PASSPHRASE)
    engine = make_engine(data_dir / DATABASE_FILE, key)
    with engine.connect() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_events (seq, at, action, details, prev_hash, hash)"
                " VALUES (1, '2026-03-02T09:00:00.000000Z', 'unlock', '{}', :g, :h)"
            ),
            {"g": "0" * 64, "h": "1" * 64},
        )
        conn.commit()
    engine.dispose()
    real_execute = alembic.op.execute

    def fails_in_the_last_revision(statement, *args, **kwargs):
        if "session_events" in str(statement):  # revision 0003, after 0002 has run
            raise RuntimeError("the disk went away")
        return real_execute(statement, *args, **kwargs)

    monkeypatch.setattr(alembic.op, "execute", fails_in_the_last_revision)
    with pytest.raises(Exception, match="stays at schema 0001") as failed:
        RecordStore.open(data_dir, passphrase=fixed_passphrase, clock=clock.now_utc)
    [backup] = (data_dir / "backups").iterdir()
    assert str(backup) in str(failed.value)
    assert failed.value.exit_code == 2
    assert preflight(data_dir / DATABASE_FILE, key).revision == "0001"  # rolled back whole
    monkeypatch.setattr(alembic.op, "execute", real_execute)
    # The same second: the next backup needs a name of its own.
    with (
        RecordStore.open(data_dir, passphrase=fixed_passphrase, clock=clock.now_utc) as store,
        store.engine.connect() as conn,
    ):
        assert migrate.current_revision(conn) == migrate.head_revision()
    assert len(list((data_dir / "backups").iterdir())) == 2


def test_files_stay_private_with_the_anchor(passphrase_store, data_dir):
    for name in ("kapdesk.anchor",):
        assert (data_dir / name).stat().st_mode & 0o777 == 0o600
    assert os.stat(data_dir).st_mode & 0o777 == 0o700
    assert record_hashes(data_dir)
