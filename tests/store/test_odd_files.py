"""Whatever stands where a record's file should be (a folder, a FIFO, a link, absurd JSON),
opening and verify answer with a sentence, never a crash or a hang, and change nothing."""

from __future__ import annotations

import json
import os
import shutil
import zipfile

import pytest

from kapdesk.cli import main
from kapdesk.store import RecordStore
from kapdesk.store import wal as walformat
from kapdesk.store.backup import restore_backup
from kapdesk.store.errors import BackupError, StoreError
from kapdesk.store.verify_folder import verify_folder
from tests.conftest import PASSPHRASE, fixed_passphrase, record_hashes


@pytest.fixture
def record(passphrase_store, data_dir):
    patient = passphrase_store.add_patient("Ada Example")
    session = passphrase_store.start_session(patient, protocol="IM", zone_name="UTC")
    passphrase_store.add_observation(session, "calm")
    passphrase_store.close()
    return data_dir


def _replace(path, kind):
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    if kind == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)


@pytest.mark.parametrize("name", ["kapdesk.db", "kapdesk.db-wal", "vault.json"])
@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_file_replaced_by_a_folder_or_a_fifo(record, name, kind):
    _replace(record / name, kind)
    before = record_hashes(record)
    with pytest.raises(StoreError) as refused:
        RecordStore.open(record, passphrase=fixed_passphrase)
    assert "nothing was changed" in str(refused.value).lower()
    with pytest.raises(StoreError):
        verify_folder(record, fixed_passphrase)
    assert record_hashes(record) == before


def test_a_database_that_is_a_link_is_refused(record, tmp_path):
    """Tamper QA: a kapdesk.db linked to a file elsewhere opened, and its write-ahead log
    went beside the target, outside the owner-only folder and out of the checks' sight."""
    target = tmp_path / "elsewhere.db"
    (record / "kapdesk.db").rename(target)
    (record / "kapdesk.db").symlink_to(target)
    before = record_hashes(record)
    with pytest.raises(StoreError, match="is a link to another file") as refused:
        RecordStore.open(record, passphrase=fixed_passphrase)
    assert "nothing was changed" in str(refused.value)
    with pytest.raises(StoreError, match="is a link to another file"):
        verify_folder(record, fixed_passphrase)
    assert record_hashes(record) == before
    assert not (tmp_path / "elsewhere.db-wal").exists()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda doc: doc["kdf"].update(salt=5), "damaged"),
        (lambda doc: doc.update(nonce=None), "damaged"),
        (lambda doc: doc.update(wrapped_key=[1]), "damaged"),
        (lambda doc: doc["kdf"].update(memory_kib=10**5000), "damaged"),
        (lambda doc: doc["kdf"].update(lanes=True), "key-derivation setting"),
    ],
    ids=["salt-number", "nonce-null", "key-list", "huge-number", "lanes-bool"],
)
def test_a_key_file_with_absurd_values(record, change, words):
    path = record / "vault.json"
    doc = json.loads(path.read_text())
    change(doc)
    import sys

    sys.set_int_max_str_digits(0)  # to write the 5000-digit number; kapdesk must refuse it
    try:
        path.write_text(json.dumps(doc))
    finally:
        sys.set_int_max_str_digits(4300)
    before = record_hashes(record)
    with pytest.raises(StoreError, match=words):
        RecordStore.open(record, passphrase=fixed_passphrase)
    assert record_hashes(record) == before


def test_a_key_file_nested_absurdly_deep(record):
    (record / "vault.json").write_text("[" * 20000 + "]" * 20000)
    with pytest.raises(StoreError, match=r"vault\.json"):
        RecordStore.open(record, passphrase=fixed_passphrase)


def test_pieces_of_a_record_without_its_database_are_never_built_over(data_dir, capsys):
    data_dir.mkdir()
    stray_log = data_dir / "kapdesk.db-wal"
    stray_log.write_bytes(os.urandom(50_000))
    before = record_hashes(data_dir)
    with pytest.raises(StoreError, match="holds pieces of a record"):
        RecordStore.open(data_dir, passphrase=fixed_passphrase, create=True)
    assert record_hashes(data_dir) == before


def test_a_record_is_made_only_in_a_folder_of_its_own(data_dir):
    """Tamper QA: made in a shared folder (or in /) a record went in among the folder's
    files, and the folder was made private (0700), locking others out of theirs."""
    data_dir.mkdir()
    (data_dir / "rota.txt").write_text("Monday: Dana")
    (data_dir / "scans").mkdir()
    data_dir.chmod(0o775)
    before = record_hashes(data_dir)
    with pytest.raises(StoreError, match=r"already holds other files \(rota\.txt, scans\)"):
        RecordStore.open(data_dir, passphrase=fixed_passphrase, create=True)
    assert record_hashes(data_dir) == before
    assert sorted(p.name for p in data_dir.iterdir()) == ["rota.txt", "scans"]
    assert data_dir.stat().st_mode & 0o777 == 0o775
    # What a clinic puts there first (its protocols), and the system's hidden files, are
    # a folder of kapdesk's own.
    for name in ("rota.txt", "scans"):
        shutil.rmtree(data_dir / name) if name == "scans" else (data_dir / name).unlink()
    (data_dir / "protocols").mkdir()
    (data_dir / ".DS_Store").write_bytes(b"\0")
    RecordStore.open(data_dir, passphrase=fixed_passphrase, create=True).close()
    assert (data_dir / "kapdesk.db").exists()


def test_a_backup_is_never_restored_over_pieces_of_a_record(record, tmp_path):
    with RecordStore.open(record, passphrase=fixed_passphrase) as store:
        info = store.backup(tmp_path / "b.kapbak")
    (record / "kapdesk.db").rename(tmp_path / "lost.db")  # the database lost, its log kept
    (record / "kapdesk.db-wal").write_bytes(b"\0" * 100)
    before = record_hashes(record)
    with pytest.raises(BackupError, match="parts of one"):
        restore_backup(info.path, record, fixed_passphrase)
    assert record_hashes(record) == before


def test_verify_says_which_backup_it_cannot_read_and_still_checks_the_record(
    record, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("KAPDESK_PASSPHRASE", PASSPHRASE)
    with RecordStore.open(record, passphrase=fixed_passphrase) as store:
        info = store.backup(tmp_path / "b.kapbak")
    with zipfile.ZipFile(info.path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(parts["manifest.json"])
    manifest["audit_events"] = "abc"
    parts["manifest.json"] = json.dumps(manifest).encode()
    odd = tmp_path / "odd.kapbak"
    with zipfile.ZipFile(odd, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    # A backup that would not restore is not passed over (tamper QA: "The record is
    # intact", exit 0); the record itself is still checked, and said to hold.
    assert main(["--data-dir", str(record), "verify", str(odd)]) == 1
    said = capsys.readouterr().out
    assert "odd.kapbak has a damaged manifest" in said
    assert "take a new backup" in said
    assert main(["--data-dir", str(record), "verify", str(tmp_path)]) == 2
    assert "is not a backup file" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["cut in half", "cut by 10 bytes", "a byte changed"])
def test_verify_fails_a_named_backup_that_would_not_restore(
    record, tmp_path, capsys, monkeypatch, damage
):
    """Tamper QA: verify passed these three while restore refused each."""
    monkeypatch.setenv("KAPDESK_PASSPHRASE", PASSPHRASE)
    with RecordStore.open(record, passphrase=fixed_passphrase) as store:
        info = store.backup(tmp_path / "b.kapbak")
    data = bytearray(info.path.read_bytes())
    if damage == "cut in half":
        data = data[: len(data) // 2]
    elif damage == "cut by 10 bytes":
        data = data[:-10]
    else:
        with zipfile.ZipFile(info.path) as archive:
            member = next(i for i in archive.infolist() if i.filename.endswith(".db"))
        data[member.header_offset + 30 + len(member.filename) + member.compress_size // 2] ^= 0x10
    info.path.write_bytes(bytes(data))
    assert main(["--data-dir", str(record), "verify", str(info.path)]) == 1
    said = capsys.readouterr().out
    assert "b.kapbak" in said
    assert "take a new backup" in said
    assert "The record is intact" not in said


def test_a_huge_log_of_zeros_is_read_without_running_out_of_memory(record):
    log = record / "kapdesk.db-wal"
    with log.open("wb") as handle:
        handle.truncate(1 << 30)  # sparse: 1 GiB on paper, nothing on disk
    state = walformat.inspect(log)
    assert state.header_damaged
    assert not state.damaged
    assert state.replayed_bytes == 0
    report = verify_folder(record, fixed_passphrase)
    assert "holds nothing SQLite would read" in report.render()
    # Opening needs room for what would be replayed, not for a gigabyte of zeros.
    RecordStore.open(record, passphrase=fixed_passphrase).close()


def test_a_passphrase_longer_than_the_estimator_reads_is_accepted(data_dir):
    long_one = "the quiet room with the green chair by the window " * 2
    assert len(long_one) > 72
    RecordStore.open(
        data_dir, passphrase=lambda r: long_one, use_keyring=False, create=True
    ).close()
    RecordStore.open(data_dir, passphrase=lambda r: long_one).close()
