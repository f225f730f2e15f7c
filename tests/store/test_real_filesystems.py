"""Full and read-only disks for real: a small tmpfs, filled or mounted read-only.

Mounting needs root (CI runs as root); elsewhere these skip and the
simulated cases in test_failures.py still run.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from kapdesk.cli import main
from kapdesk.store import RecordStore
from kapdesk.store.errors import DiskFullError, FolderUnusableError, SaveFailedError
from tests.conftest import PASSPHRASE, file_hashes, fixed_passphrase
from tests.store.crashed import crash_with_entries


# 3 MiB: a record with its write-ahead log of 20 entries, and the 1 MiB opening wants free.
@pytest.fixture
def small_disk(tmp_path: Path):
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _open(folder: Path) -> RecordStore:
    return RecordStore.open(folder, passphrase=fixed_passphrase, use_keyring=False, create=True)


def test_a_really_full_disk_stores_nothing_and_recovers(small_disk):
    store = _open(small_disk / "data")
    try:
        patient = store.add_patient("Ada Example")
        session = store.start_session(patient, protocol="IM", zone_name="UTC")
        store.add_observation(session, "before the disk filled")
        stats = os.statvfs(small_disk)
        filler = small_disk / "filler"
        filler.write_bytes(bytes(stats.f_bavail * stats.f_frsize - 8192))
        with pytest.raises(SaveFailedError, match="the disk is full"):
            store.add_observation(session, "x" * 19_000)
        assert store.count("observation") == 1
        filler.unlink()
        store.add_observation(session, "after space was freed")
        texts = [v.current["text"] for v in store.entries("observation", session)]
        assert texts == ["before the disk filled", "after space was freed"]
        assert store.verify().ok
    finally:
        store.close()


def test_a_read_only_disk_is_refused_with_a_sentence(small_disk):
    folder = small_disk / "data"
    with _open(folder) as store:
        store.add_patient("Ada Example")
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    before = file_hashes(folder)
    with pytest.raises(FolderUnusableError, match=r"cannot be used .*Read-only"):
        _open(folder)
    assert file_hashes(folder) == before


def _fill_disk(mount: Path, leave: int) -> Path:
    stats = os.statvfs(mount)
    filler = mount / "filler"
    filler.write_bytes(bytes(max(0, stats.f_bavail * stats.f_frsize - leave)))
    return filler


def test_a_full_disk_at_open_says_so_and_keeps_the_record(small_disk):
    folder = small_disk / "data"
    session, entries = crash_with_entries(folder, count=20)  # entries only in the log
    filler = _fill_disk(small_disk, leave=64 * 1024)
    before = file_hashes(folder)
    with pytest.raises(DiskFullError) as refused:
        _open(folder)
    sentence = str(refused.value)
    assert "is full" in sentence
    assert "MB free" in sentence
    assert "needs at least" in sentence
    assert "the record was not opened, and nothing in it was changed" in sentence
    assert "damaged" not in sentence
    assert file_hashes(folder) == before
    filler.unlink()
    with _open(folder) as store:
        assert [v.id for v in store.entries("observation", session)] == entries
        assert store.verify().ok


def test_the_command_line_says_read_only_with_exit_2(small_disk, capsys, monkeypatch):
    folder = small_disk / "data"
    with _open(folder) as store:
        store.add_patient("Ada Example")
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    monkeypatch.setenv("KAPDESK_PASSPHRASE", PASSPHRASE)
    assert main(["--data-dir", str(folder), "backup", str(small_disk.parent / "b.kapbak")]) == 2
    err = capsys.readouterr().err
    assert "the disk is read-only" in err
    assert "unexpected" not in err
