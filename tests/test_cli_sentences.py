"""Each folder a clinic can get wrong: its own sentence, exit 2, nothing changed or created."""

from __future__ import annotations

import os

import pytest

from kapdesk.cli import main
from tests.conftest import PASSPHRASE, record_hashes


@pytest.fixture(autouse=True)
def passphrase(monkeypatch):
    monkeypatch.setenv("KAPDESK_PASSPHRASE", PASSPHRASE)


@pytest.fixture
def record(tmp_path):
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "demo"]) == 0
    return data


@pytest.mark.parametrize("verb", [["verify"], ["backup", "b.kapbak"], ["demo"]])
def test_a_data_dir_that_is_a_file(tmp_path, capsys, verb):
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("a file someone typed instead of the folder")
    argv = ["--data-dir", str(not_a_folder), *verb]
    if verb[0] == "backup":
        argv[-1] = str(tmp_path / "b.kapbak")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err
    assert "unexpected" not in err
    assert not_a_folder.read_text() == "a file someone typed instead of the folder"


@pytest.mark.parametrize("verb", ["verify", "backup"])
def test_a_mistyped_data_dir_creates_nothing(tmp_path, capsys, verb):
    typo = tmp_path / "kapdsk-data"
    argv = ["--data-dir", str(typo), verb] + (
        [str(tmp_path / "b.kapbak")] if verb == "backup" else []
    )
    assert main(argv) == 2
    assert "There is no kapdesk record in" in capsys.readouterr().err
    assert not typo.exists()
    assert not (tmp_path / "b.kapbak").exists()


def test_a_database_that_is_a_folder(record, capsys):
    database = record / "kapdesk.db"
    database.rename(record / "kapdesk.db.real")
    database.mkdir()
    before = record_hashes(record)
    assert main(["--data-dir", str(record), "verify"]) == 2
    assert "is a folder, not a database file" in capsys.readouterr().err
    assert record_hashes(record) == before


def test_restore_given_a_folder(record, tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path / "new"), "restore", str(record)]) == 2
    assert "is a folder, not a backup file" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_a_folder_of_another_user(record, capsys):
    os.chown(record, 65534, 65534)
    try:
        before = record_hashes(record)
        assert main(["--data-dir", str(record), "verify"]) == 2
        assert "belongs to another user account" in capsys.readouterr().err
        assert record_hashes(record) == before
        assert os.stat(record).st_uid == 65534  # not taken over
    finally:
        os.chown(record, 0, 0)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("", "is set but empty"),
        ("walrus\udcff quinoa bramble", "not text in UTF-8"),  # a byte 0xff, as os gives it
    ],
)
@pytest.mark.parametrize("verb", [["verify"], ["export", "out"]])
def test_a_passphrase_variable_that_cannot_be_one(tmp_path, capsys, monkeypatch, value, said, verb):
    """Tamper QA: a passphrase of bytes that are not UTF-8 crashed ("unexpected error"),
    and an empty one read "does not unlock this record"."""
    import keyring
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())  # a headless machine: passphrase only
    assert main(["--data-dir", str(tmp_path / "pp"), "demo"]) == 0
    record = tmp_path / "pp"
    monkeypatch.setenv("KAPDESK_PASSPHRASE", value)
    before = record_hashes(record)
    argv = ["--data-dir", str(record), *verb]
    if verb[0] == "export":
        argv[-1] = str(tmp_path / "out")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert said in err
    assert "unexpected" not in err
    assert record_hashes(record) == before


def test_a_folder_of_other_files_is_left_as_it_was(tmp_path, capsys):
    """Tamper QA: "demo" into a shared folder (or /) made it private and put a record
    and a logs folder among its files."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "rota.txt").write_text("Monday: Dana")
    shared.chmod(0o775)
    assert main(["--data-dir", str(shared), "demo"]) == 2
    err = capsys.readouterr().err
    assert "already holds other files (rota.txt)" in err
    assert "nothing was changed" in err
    assert [p.name for p in shared.iterdir()] == ["rota.txt"]  # no logs folder either
    assert shared.stat().st_mode & 0o777 == 0o775


def test_demo_patients_never_go_into_a_clinic_s_record(tmp_path, capsys):
    """Tamper QA: "demo" on a record holding a real patient added two demo patients and
    a session never ended, for good (entries are never taken out)."""
    from kapdesk.store import RecordStore

    data = tmp_path / "data"
    with RecordStore.open(data, passphrase=lambda _r: PASSPHRASE, create=True) as store:
        store.add_patient("Real Person")
    assert main(["--data-dir", str(data), "demo"]) == 2
    err = capsys.readouterr().err
    assert "holds a clinic's record (1 patient)" in err
    assert "Nothing was added" in err
    with RecordStore.open(data, passphrase=lambda _r: PASSPHRASE) as store:
        assert [p.current["display_name"] for p in store.patients()] == ["Real Person"]
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM sessions").scalar_one() == 0


def test_a_name_with_bytes_that_are_not_text_is_refused_before_anything_is_made(
    record, tmp_path, capsys
):
    """Tamper QA: a folder name with a stray byte (\\xff) met the audit trail as "an
    unexpected error"; as the data folder, it left a key file behind."""
    stray = os.fsdecode(b"\xff")
    for argv in (
        ["--data-dir", str(record), "export", str(tmp_path / f"out_{stray}")],
        ["--data-dir", str(tmp_path / f"new_{stray}"), "demo"],
    ):
        before = record_hashes(record)
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "holds bytes that are not text (UTF-8)" in err
        assert "\\udcff" in err  # the name, as it can be printed
        assert "unexpected" not in err
        assert record_hashes(record) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_verify_says_what_it_does_not_use_and_what_is_not_there(record, tmp_path, capsys):
    """Tamper QA: verify with --clinician and a wrong PIN exited 0 without a word, and a
    backup named that does not exist was "not a backup file"."""
    argv = ["--data-dir", str(record), "--clinician", "Nobody", "verify"]
    assert main(argv) == 0
    assert "signing anyone in: --clinician is not used" in capsys.readouterr().err
    missing = tmp_path / "nonexist.kapbak"
    assert main(["--data-dir", str(record), "verify", str(missing)]) == 2
    assert f"{missing} does not exist; nothing was verified" in capsys.readouterr().err
