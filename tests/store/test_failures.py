"""Each way opening or writing can fail: a distinct error, a sentence, and files unchanged."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import text

from kapdesk.store import RecordStore, StoreError
from kapdesk.store.engine import DATABASE_FILE, PAGE_SIZE, IntegrityCheck
from kapdesk.store.errors import (
    DamagedDatabaseError,
    InstanceLockedError,
    KeyMissingError,
    MissingFileError,
    NewerVersionError,
    NotADatabaseError,
    PassphraseUnavailableError,
    SaveFailedError,
    WeakPassphraseError,
    WrongKeyError,
    WrongPassphraseError,
)
from kapdesk.store.vault import KEYRING_SERVICE
from kapdesk.store.verify_folder import verify_folder
from tests.conftest import PASSPHRASE, file_hashes, fixed_passphrase


def _populate(store: RecordStore) -> object:
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="Europe/Berlin")
    for minute in range(5):
        store.add_vitals(session, {"systolic": 130 + minute, "diastolic": 80, "heart_rate": 70})
    return session


def _crash_with_wal(data_dir: Path) -> None:
    """Leave a record as a killed kapdesk would: entries only in the write-ahead log."""
    script = textwrap.dedent(
        f"""
        import os
        from kapdesk.store import RecordStore
        store = RecordStore.open({str(data_dir)!r}, passphrase=lambda r: {PASSPHRASE!r},
                                 use_keyring=False, create=True)
        patient = store.add_patient("Ada Example")
        os.kill(os.getpid(), 9)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=False)
    assert (data_dir / f"{DATABASE_FILE}-wal").stat().st_size > 0


def _open_passphrase(data_dir: Path, passphrase, *, create: bool = False) -> RecordStore:
    return RecordStore.open(data_dir, passphrase=passphrase, use_keyring=False, create=create)


def test_wrong_passphrase_after_a_crash_changes_nothing(data_dir):
    _crash_with_wal(data_dir)
    before = file_hashes(data_dir)
    with pytest.raises(WrongPassphraseError, match="does not unlock"):
        _open_passphrase(data_dir, lambda r: "not the passphrase at all")
    assert file_hashes(data_dir) == before
    with _open_passphrase(data_dir, fixed_passphrase) as store:
        assert store.count("patient") == 1


def test_wrong_passphrase_is_asked_again_and_the_right_one_opens(passphrase_store, data_dir):
    passphrase_store.close()
    answers = iter(["wrong passphrase one", PASSPHRASE])
    asked = []

    def source(request):
        asked.append(request.error)
        return next(answers)

    with _open_passphrase(data_dir, source) as store:
        assert store.verify().ok
    assert asked[0] is None
    assert "does not unlock" in asked[1]


def test_no_passphrase_given_is_its_own_error(passphrase_store, data_dir):
    passphrase_store.close()
    before = file_hashes(data_dir)
    with pytest.raises(PassphraseUnavailableError, match="KAPDESK_PASSPHRASE"):
        _open_passphrase(data_dir, lambda r: None)
    assert file_hashes(data_dir) == before


def test_a_short_new_passphrase_is_refused_and_nothing_is_created(data_dir):
    with pytest.raises(WeakPassphraseError, match="at least 12"):
        _open_passphrase(data_dir, lambda r: "short", create=True)
    assert not (data_dir / DATABASE_FILE).exists()


def test_key_missing_from_the_keyring(store, data_dir, memory_keyring):
    _populate(store)
    store.close()
    memory_keyring.secrets.clear()
    before = file_hashes(data_dir)
    with pytest.raises(KeyMissingError, match="not in this computer's keyring"):
        RecordStore.open(data_dir)
    assert file_hashes(data_dir) == before


def test_a_foreign_key_in_the_keyring(store, data_dir, memory_keyring):
    _populate(store)
    store.close()
    [entry] = memory_keyring.secrets
    memory_keyring.secrets[entry] = "ab" * 32
    before = file_hashes(data_dir)
    with pytest.raises(WrongKeyError, match="does not belong"):
        RecordStore.open(data_dir)
    assert file_hashes(data_dir) == before


def _replace_database(data_dir: Path, content: bytes) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{data_dir / DATABASE_FILE}{suffix}").unlink(missing_ok=True)
    (data_dir / DATABASE_FILE).write_bytes(content)


@pytest.mark.parametrize(
    ("content", "error", "words"),
    [
        (os.urandom(PAGE_SIZE * 3), NotADatabaseError, "cannot be read"),
        (b"SQLite format 3\x00" + bytes(PAGE_SIZE - 16), NotADatabaseError, "unencrypted"),
        (b"", DamagedDatabaseError, "truncated"),
        (os.urandom(PAGE_SIZE + 100), DamagedDatabaseError, "truncated"),
    ],
    ids=["random-bytes", "plain-sqlite", "empty", "partial-page"],
)
def test_a_file_that_is_not_this_record(store, data_dir, content, error, words):
    store.close()
    _replace_database(data_dir, content)
    before = file_hashes(data_dir)
    with pytest.raises(error, match=words):
        RecordStore.open(data_dir)
    assert file_hashes(data_dir) == before


def test_a_truncated_database(store, data_dir):
    _populate(store)
    store.close()
    database = data_dir / DATABASE_FILE
    data = database.read_bytes()
    assert len(data) >= 2 * PAGE_SIZE
    database.write_bytes(data[: len(data) // PAGE_SIZE // 2 * PAGE_SIZE or PAGE_SIZE])
    before = file_hashes(data_dir)
    with pytest.raises(
        (DamagedDatabaseError, NotADatabaseError), match=r"damaged|cannot be read"
    ) as refused:
        RecordStore.open(data_dir)
    # No log is named where there is none beside it (QA).
    assert "write-ahead log" not in str(refused.value)
    assert file_hashes(data_dir) == before


def _damage_page(database: Path, page: int) -> None:
    data = bytearray(database.read_bytes())
    where = page * PAGE_SIZE + 500
    data[where : where + 16] = bytes(16)
    database.write_bytes(bytes(data))


def _populated_with_observations(store, data_dir) -> Path:
    session = _populate(store)
    for index in range(200):
        store.add_observation(session, f"observation number {index} " * 10)
    store.close()
    database = data_dir / DATABASE_FILE
    assert database.stat().st_size // PAGE_SIZE > 4
    return database


def test_a_corrupted_page_that_opening_reads_is_refused(store, data_dir):
    database = _populated_with_observations(store, data_dir)
    _damage_page(database, 0)  # the schema page: every open reads it
    before = file_hashes(data_dir)
    with pytest.raises((DamagedDatabaseError, NotADatabaseError), match="damaged") as caught:
        RecordStore.open(data_dir)
    assert "backup" in str(caught.value)
    assert file_hashes(data_dir) == before


def test_a_corrupted_page_elsewhere_is_found_by_the_full_check_and_by_verify(store, data_dir):
    """Opening reads a handful of pages, not the whole file (issue 10); the check of every
    page is the background check's (IntegrityCheck) and verify's, and both name it."""
    database = _populated_with_observations(store, data_dir)
    # Two thirds in: an observations page. Opening reads the schema, the newest audit leaf
    # and the first ones (the record's facts); the middle page became one of those when
    # the schema grew a table (issue 13), so the test names where it damages.
    _damage_page(database, database.stat().st_size // PAGE_SIZE * 2 // 3)
    with RecordStore.open(data_dir) as reopened:
        problems = IntegrityCheck(database, reopened._opened.key).run()
        assert problems
        report = reopened.verify()
    assert not report.ok
    assert not report.check("SQLite integrity check").ok
    assert "FAILED verification" in report.render()


def test_verify_reports_a_damaged_page_wherever_it_is(store, data_dir, clock, tmp_path):
    """A damaged page (here in the demo record, where tamper QA found it) made SQLite
    answer "malformed" to every query after its checks, and verify, where every message
    about damage points, ended in an unexpected error. It reports the damage."""
    import shutil

    from kapdesk.local.demo import create_demo

    create_demo(store, clock.now_utc())
    store.close()
    pages = (data_dir / DATABASE_FILE).stat().st_size // PAGE_SIZE
    reported, refusals = 0, []
    for page in range(2, pages, 3):
        copy = tmp_path / f"page{page}"
        shutil.copytree(data_dir, copy)
        with (copy / DATABASE_FILE).open("r+b") as database:
            database.seek(page * PAGE_SIZE + 144)
            database.write(b"\xde\xad\xbe\xef")
        # As "kapdesk verify" does: read only, the record never opened for writing.
        try:
            report = verify_folder(copy, fixed_passphrase, mirror=tmp_path / "m")
        except StoreError as refused:  # a sentence that says what to do
            refusals.append(str(refused))
            continue
        assert not report.ok, page
        assert "FAILED verification" in report.render()
        reported += 1
    assert reported >= 3
    assert all("backup" in refusal for refusal in refusals), refusals


def test_an_export_meeting_a_damaged_page_says_what_to_do(
    store, data_dir, clock, tmp_path, capsys, monkeypatch
):
    """Tamper QA: `kapdesk export` (and report, backup) reaching a damaged data page ended
    in "kapdesk met an unexpected error ... Entries already saved are safe", exit 1. The
    damage is said, with what to do, whichever page it is in."""
    from kapdesk.cli import main
    from kapdesk.local.demo import create_demo
    from kapdesk.store.errors import DAMAGED_PAGE

    create_demo(store, clock.now_utc())
    store.close()
    monkeypatch.setenv("KAPDESK_PASSPHRASE", PASSPHRASE)
    pages = (data_dir / DATABASE_FILE).stat().st_size // PAGE_SIZE
    damage_said = 0
    for page in range(2, pages, 4):
        copy = tmp_path / f"page{page}"
        shutil.copytree(data_dir, copy)
        with (copy / DATABASE_FILE).open("r+b") as database:
            database.seek(page * PAGE_SIZE + 144)
            database.write(b"\xde\xad\xbe\xef")
        code = main(["--data-dir", str(copy), "export", str(tmp_path / f"export{page}")])
        said = capsys.readouterr().err
        if code == 0:
            continue  # a page the export does not read (an index, free space)
        assert code == 2, (page, said)
        assert said.strip(), page  # a sentence, never a traceback
        damage_said += DAMAGED_PAGE in said
    assert damage_said >= 1


def test_a_database_this_user_cannot_read_is_named_with_what_to_do(store, data_dir, monkeypatch):
    """chmod 000 on kapdesk.db gave an unexpected error (tamper QA; a test run as root
    cannot take its own read permission away, so the denial is made here)."""
    _populate(store)
    store.close()
    before = file_hashes(data_dir)
    real_open = Path.open

    def denied(self, *args, **kwargs):
        if self.name == DATABASE_FILE:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(StoreError, match="no permission to read it") as caught:
        RecordStore.open(data_dir)
    assert "nothing was changed" in str(caught.value)
    monkeypatch.undo()
    assert file_hashes(data_dir) == before


def test_verify_on_a_full_disk_says_the_disk_is_full_not_the_record_damaged(
    store, data_dir, tmp_path, monkeypatch
):
    """With no room for SQLite's index of its write-ahead log, verify called an intact
    record "damaged or belongs to another record" (tamper QA, a full 3 MB disk)."""
    import collections
    import shutil as shutil_module

    _populate(store)
    store.close()
    before = file_hashes(data_dir)
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil_module, "disk_usage", lambda _path: usage(3 << 20, 3 << 20, 0))
    with pytest.raises(StoreError, match="is full") as caught:
        verify_folder(data_dir, fixed_passphrase, mirror=tmp_path / "m")
    assert "says nothing about the record itself" in str(caught.value)
    assert file_hashes(data_dir) == before


def test_a_record_from_a_newer_kapdesk(store, data_dir):
    with store.engine.connect() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        conn.commit()
    store.close()
    before = file_hashes(data_dir)
    with pytest.raises(NewerVersionError, match=r"newer kapdesk \(schema 9999\)"):
        RecordStore.open(data_dir)
    assert file_hashes(data_dir) == before


def test_the_folder_is_held_by_another_instance(store, data_dir):
    before = file_hashes(data_dir)
    with pytest.raises(InstanceLockedError, match="Another kapdesk"):
        RecordStore.open(data_dir)
    assert file_hashes(data_dir) == before
    store.close()
    RecordStore.open(data_dir).close()


def test_another_process_holding_the_folder_is_refused(store, data_dir):
    store.close()
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from kapdesk.store.lock import DataFolderLock
        held = DataFolderLock(Path({str(data_dir)!r}))
        held.acquire()
        print("locked", flush=True)
        sys.stdin.readline()
        """
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = file_hashes(data_dir)
        with pytest.raises(InstanceLockedError, match="Another kapdesk"):
            RecordStore.open(data_dir)
        assert file_hashes(data_dir) == before
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    # The lock dies with its process: the folder opens again.
    RecordStore.open(data_dir).close()


def test_missing_key_file_or_database_is_never_recreated(store, data_dir):
    _populate(store)
    store.close()
    (data_dir / "vault.json").rename(data_dir / "vault.json.aside")
    before = file_hashes(data_dir)
    with pytest.raises(MissingFileError, match="key file"):
        RecordStore.open(data_dir)
    assert file_hashes(data_dir) == before
    (data_dir / "vault.json.aside").rename(data_dir / "vault.json")
    (data_dir / DATABASE_FILE).rename(data_dir / "kapdesk.db.aside")
    before = file_hashes(data_dir)
    with pytest.raises(MissingFileError, match="database file"):
        RecordStore.open(data_dir)
    assert file_hashes(data_dir) == before


def test_a_used_record_is_never_made_anew_after_its_files_go(data_dir, tmp_path):
    """Tamper QA: with kapdesk.db and kapdesk.anchor gone and a leftover of an interrupted
    creation, opening made a new empty record under the used id: the guard looked for
    this computer's mirror by the name mirrors had before they were named by folder."""
    mirror = tmp_path / "mirror"
    with RecordStore.open(data_dir, create=True, anchor_mirror=mirror) as store:
        store.add_patient("Ada Example")
    (data_dir / DATABASE_FILE).unlink()
    (data_dir / "kapdesk.anchor").unlink()
    (data_dir / ".kapdesk.db.creating").write_text("")
    before = file_hashes(data_dir)
    with pytest.raises(MissingFileError, match="this computer has written to this record"):
        RecordStore.open(data_dir, anchor_mirror=mirror)
    assert file_hashes(data_dir) == before
    assert not (data_dir / DATABASE_FILE).exists()


def test_a_damaged_key_file(store, data_dir):
    store.close()
    vault = json.loads((data_dir / "vault.json").read_text())
    vault["format"] = "something-else"
    (data_dir / "vault.json").write_text(json.dumps(vault))
    before = file_hashes(data_dir)
    with pytest.raises(MissingFileError, match="damaged"):
        RecordStore.open(data_dir)
    assert file_hashes(data_dir) == before


def test_a_full_disk_stores_nothing_and_says_so(store, data_dir):
    session = _populate(store)
    before_counts = store.count("observation"), store.verify().checks[3].summary
    with store.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
    # SQLite reports SQLITE_FULL exactly as for a full disk once max_page_count is reached.
    for connection in _pool_connections(store):
        connection.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(SaveFailedError, match="disk is full") as caught:
        store.add_observation(session, "x" * 19_000)
    assert "unchanged" in str(caught.value)
    for connection in _pool_connections(store):
        connection.execute("PRAGMA max_page_count = 1073741823")
    assert (store.count("observation"), store.verify().checks[3].summary) == before_counts
    store.add_observation(session, "written once space is back")
    assert store.verify().ok


def test_a_read_only_record_stores_nothing_and_says_so(store):
    session = _populate(store)
    before = store.count("vitals")
    for connection in _pool_connections(store):
        connection.execute("PRAGMA query_only = ON")
    with pytest.raises(SaveFailedError, match="cannot be written to"):
        store.add_vitals(session, {"heart_rate": 72})
    for connection in _pool_connections(store):
        connection.execute("PRAGMA query_only = OFF")
    assert store.count("vitals") == before
    store.add_vitals(session, {"heart_rate": 72})
    assert store.verify().ok


def _pool_connections(store: RecordStore):
    """Every connection the store may write through: its writer and its pool's."""
    yield store._writer
    raw = store.engine.raw_connection()
    try:
        yield raw.driver_connection
    finally:
        raw.close()


def test_keyring_entry_holds_the_key_and_the_key_file_does_not(store, data_dir, memory_keyring):
    [(service, user)] = memory_keyring.secrets
    assert service == KEYRING_SERVICE
    key_hex = memory_keyring.secrets[(service, user)]
    assert key_hex not in (data_dir / "vault.json").read_text()


def test_store_errors_share_one_base():
    for error in (WrongPassphraseError(), KeyMissingError(), WrongKeyError()):
        assert isinstance(error, StoreError)
        assert "nothing was changed" in str(error)


def test_a_write_into_a_damaged_database_does_not_ask_to_enter_it_again():
    """Opening a record with a damaged page failed writing the sign-in with "enter it
    again" (tamper QA): for damage, the sentence says what helps."""
    import sqlcipher3

    from kapdesk.store.writing import _save_failed

    damaged = sqlcipher3.DatabaseError("database disk image is malformed")
    damaged.sqlite_errorname = "SQLITE_CORRUPT"
    sentence = str(_save_failed("the clinician", damaged))
    assert "database file is damaged" in sentence
    assert "kapdesk verify" in sentence
    assert "enter it again" not in sentence


@pytest.mark.parametrize("gone", ["deleted", "renamed"])
def test_entries_are_refused_once_the_folder_is_gone_from_under_the_open_record(
    store, data_dir, tmp_path, gone
):
    """Tamper QA: with the data folder deleted (or renamed) while kapdesk ran, entries kept
    going into the open file and were said stored; at the next start they were nowhere.
    Each is refused with what happened and what to do; a renamed folder is not written."""
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    if gone == "deleted":
        shutil.rmtree(data_dir)
    else:
        moved = tmp_path / "moved"
        data_dir.rename(moved)
        before = file_hashes(moved)
    with pytest.raises(SaveFailedError, match=r"no longer at .*deleted, renamed or moved") as why:
        store.add_observation(session, "typed after the folder went")
    assert "Note entries on paper" in str(why.value)
    assert "Nothing was stored" in str(why.value)
    if gone == "renamed":
        assert file_hashes(moved) == before


def test_a_write_ahead_log_deleted_under_the_open_record_is_rescued_and_writes_stop(
    store, data_dir, tmp_path, clock
):
    """Tamper QA: with kapdesk.db-wal deleted while kapdesk ran (a clean-up or sync tool),
    entries went on into the deleted file, each said saved, and a crash then lost every
    one since the last checkpoint (97 entries). The next save finds it gone, puts what the
    deleted file holds into the database file, and refuses with what to do."""
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    for minute in range(5):
        clock.advance(minutes=1)
        store.add_observation(session, f"note {minute}")
    wal = data_dir / (DATABASE_FILE + "-wal")
    assert wal.exists()
    wal.unlink()
    with pytest.raises(SaveFailedError, match="removed the record's write-ahead log") as why:
        store.add_observation(session, "typed after the log went")
    assert "The entries saved before are safe in the record" in str(why.value)
    assert "quit kapdesk and start it again" in str(why.value)
    with pytest.raises(SaveFailedError, match="write-ahead log"):
        store.add_observation(session, "and again")  # still refused, not taken
    # As after a crash now: the database file alone holds the five notes, nothing more.
    copy = tmp_path / "after-a-crash"
    shutil.copytree(data_dir, copy)
    assert not (copy / (DATABASE_FILE + "-wal")).exists()
    again = RecordStore.open(copy, clock=clock.now_utc, login_name="dr.test")
    try:
        notes = [v.current["text"] for v in again.entries("observation", session)]
        assert notes == [f"note {minute}" for minute in range(5)]
    finally:
        again.close()


@pytest.mark.parametrize("kind", ["vitals", "observation", "scale_score", "dose"])
def test_an_entry_dated_before_its_session_began_is_refused(store, clock, kind):
    """Tamper QA: a reading sent thirty days back was stored, counted as pre-dose in the
    baseline and alerted on; only the typed clock-time path refused such a time. A time
    of year 1 failed with Python's own words."""
    import datetime as dt

    from kapdesk.clinical.vitals import ValidationError

    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="Europe/Berlin")
    clock.advance(minutes=10)
    add = {
        "vitals": lambda at: store.add_vitals(
            session, {"systolic": 200, "diastolic": 120}, taken_at=at
        ),
        "observation": lambda at: store.add_observation(session, "late note", observed_at=at),
        "scale_score": lambda at: store.add_scale_score(session, "moaas", [4], scored_at=at),
        "dose": lambda at: store.add_dose(session, drug="ketamine", route="im", mg=50, given_at=at),
    }[kind]
    for at in (clock.now_utc() - dt.timedelta(days=30), dt.datetime(1, 1, 1, tzinfo=dt.UTC)):
        with pytest.raises(ValidationError, match=r"before this session began \(2026-03-02 10:00"):
            add(at)
    assert store.entries(kind, session) == []
    add(clock.now_utc() - dt.timedelta(minutes=5))  # after it began: taken
    assert len(store.entries(kind, session)) == 1


@pytest.mark.parametrize("cut", ["truncated", "header overwritten"])
def test_a_write_ahead_log_cut_short_under_the_open_record_stops_the_writes(
    store, data_dir, clock, cut
):
    """Tamper QA: with kapdesk.db-wal truncated while kapdesk ran, SQLite went on writing
    after the cut, each entry said saved, and the log's header gone, all 12 were lost at
    the next start. The next save finds it and refuses, without copying the gap in."""
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    store.add_observation(session, "before the cut")
    wal = data_dir / (DATABASE_FILE + "-wal")
    if cut == "truncated":
        os.truncate(wal, 0)
    else:
        with open(wal, "r+b") as log_file:
            log_file.write(b"\0" * 32)
    with pytest.raises(SaveFailedError, match="cut the record's write-ahead log") as why:
        store.add_observation(session, "after the cut")
    assert "copy those entries from the log on screen onto paper" in str(why.value)
    with pytest.raises(SaveFailedError, match="cut the record's write-ahead log"):
        store.add_observation(session, "and again")


def test_a_write_ahead_log_that_grows_and_is_checkpointed_is_not_taken_for_a_cut_one(
    store, data_dir, clock
):
    """SQLite's own checkpoints start the log again from its beginning without shrinking
    it: hundreds of entries, past several automatic checkpoints, all taken."""
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    wal = data_dir / (DATABASE_FILE + "-wal")
    sizes = []
    for index in range(600):
        store.add_observation(session, f"note {index} " + "x" * 3000)
        sizes.append(wal.stat().st_size)
    assert len(store.entries("observation", session)) == 600
    # The log was started again from its beginning at least once (it stopped growing).
    assert sizes[-1] == sizes[-2]


def test_a_correction_keeps_an_entrys_time_within_its_session_and_a_doses_as_it_was(store, clock):
    """Tamper QA: corrections moved a reading, a note and a dose thirty days before their
    session (the screens refused only typed times); the FHIR export then sent the dose
    before its encounter began."""
    import datetime as dt

    from kapdesk.clinical.vitals import ValidationError

    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    clock.advance(minutes=10)
    reading = store.add_vitals(session, {"systolic": 128, "diastolic": 82})
    note = store.add_observation(session, "settled")
    dose = store.add_dose(session, drug="ketamine", route="im", mg=50)
    month_ago = clock.now_utc() - dt.timedelta(days=30)
    for kind, entry, field in (
        ("vitals", reading, "taken_at"),
        ("observation", note, "observed_at"),
    ):
        with pytest.raises(ValidationError, match="before this session began"):
            store.correct(kind, entry, {field: month_ago}, reason="r")
        store.correct(kind, entry, {field: clock.now_utc() - dt.timedelta(minutes=5)}, reason="r")
    with pytest.raises(ValidationError, match="A dose's time is not corrected: it sets T0"):
        store.correct(
            "dose", dose, {"given_at": clock.now_utc() - dt.timedelta(minutes=5)}, reason="r"
        )
    assert store.entry("dose", dose).corrections == ()
    clock.advance(minutes=30)
    store.end_session(session)
    clock.advance(minutes=30)
    with pytest.raises(ValidationError, match="after this session ended"):
        store.correct("vitals", reading, {"taken_at": clock.now_utc()}, reason="r")


@pytest.mark.parametrize("kind", ["alert", "screening", "discharge", "self_report"])
def test_a_session_event_dated_before_its_session_began_is_refused(store, clock, kind):
    """Tamper QA: an alert, a screening, a discharge and a self-report went in dated thirty
    days before their session: the kinds allowed after the end skipped the check."""
    import datetime as dt

    from kapdesk.clinical.vitals import ValidationError

    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    clock.advance(minutes=10)
    with pytest.raises(ValidationError, match="before this session began"):
        store.add_session_event(
            session, kind, {"note": "x"}, at=clock.now_utc() - dt.timedelta(days=30)
        )
    assert store.session_events(session) == []
