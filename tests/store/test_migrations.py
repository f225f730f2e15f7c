from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from kapdesk.store import RecordStore, migrate, opening, schema_head
from kapdesk.store.backup import read_manifest, restore_backup
from kapdesk.store.engine import DATABASE_FILE, make_engine, preflight
from kapdesk.store.lock import DataFolderLock
from kapdesk.store.models import APPEND_ONLY_TABLES, Base
from kapdesk.store.vault import KeyVault
from tests.conftest import PASSPHRASE, fixed_passphrase


def test_the_migrated_schema_matches_the_models(store):
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        triggers = set(
            conn.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'")).scalars()
        )
    assert differences == []
    guards = {f"{table}_no_{op}" for table in APPEND_ONLY_TABLES for op in ("update", "delete")}
    assert triggers == guards | {"sessions_set_once", "sessions_no_delete"}


def _record_at_schema_0001(folder, clock):
    """A record as kapdesk with only the first schema would have written it."""
    opening.prepare_folder(folder)
    lock = DataFolderLock(folder)
    lock.acquire()
    vault, key = KeyVault.create(folder, fixed_passphrase, use_keyring=False)
    opened = opening._initialise(folder, vault, key, now=clock.now_utc, lock=lock, schema="0001")
    opened.close()


def test_an_older_record_is_backed_up_then_migrated(data_dir, clock):
    _record_at_schema_0001(data_dir, clock)
    # kapdesk of schema 0001 could store entries; the current code writes the same tables.
    # An older record that holds nothing is migrated without a backup.
    RecordStore.open(data_dir, passphrase=fixed_passphrase, clock=clock.now_utc).close()
    assert not (data_dir / "backups").exists()

    older = data_dir.parent / "older"
    _record_at_schema_0001(older, clock)
    engine = make_engine(older / DATABASE_FILE, KeyVault.load(older).unwrap(PASSPHRASE))
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
    store = RecordStore.open(older, passphrase=fixed_passphrase, clock=clock.now_utc)
    with store, store.engine.connect() as conn:
        assert (
            migrate.current_revision(conn) == migrate.head_revision() == schema_head.HEAD_REVISION
        )
        assert "infusion_stops" in set(
            conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars()
        )
    [backup] = (older / "backups").iterdir()
    assert backup.name.startswith(f"before-schema-{migrate.head_revision()}-")
    manifest = read_manifest(backup)
    assert manifest["audit_events"] == 1
    restored = data_dir.parent / "restored"
    restore_backup(backup, restored, fixed_passphrase)
    check = preflight(restored / DATABASE_FILE, KeyVault.load(restored).unwrap(PASSPHRASE))
    assert check.revision == "0001"


def test_the_head_schema_kept_as_data_is_what_the_migrations_create():
    """Opening compares the structure with store/schema_head.py, without Alembic; after a
    new migration, regenerate it with migrate.head_schema_source()."""
    from kapdesk.store import schema_head

    revisions = migrate.script_revisions()
    assert revisions == schema_head.KNOWN_REVISIONS
    assert revisions[-1] == schema_head.HEAD_REVISION == migrate.head_revision()
    assert migrate.migrated_schema(revisions[-1]) == schema_head.HEAD_SCHEMA


def test_opening_a_current_record_does_not_import_alembic_or_numpy(data_dir):
    """Alembic is loaded only when a migration is due, numpy once a session's readings
    are read (issue 10: start-up time; numpy is ~10 MiB and ~100 ms)."""
    import subprocess
    import sys

    # A passphrase-protected record: the test's in-memory keyring is not the child's.
    RecordStore.open(data_dir, passphrase=fixed_passphrase, use_keyring=False, create=True).close()
    script = (
        "import sys\n"
        "from kapdesk.store import RecordStore\n"
        f"RecordStore.open({str(data_dir)!r}, use_keyring=False,\n"
        f"                 passphrase=lambda request: {PASSPHRASE!r}).close()\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in ('alembic', 'numpy')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
