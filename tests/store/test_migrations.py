from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from kapdesk.store import RecordStore, migrate
from kapdesk.store.backup import read_manifest
from kapdesk.store.models import Base
from kapdesk.store.verify import expected_guards


def test_the_migrated_schema_matches_the_models(store):
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        triggers = set(
            conn.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'")).scalars()
        )
    assert differences == []
    assert triggers == expected_guards()


def test_a_record_with_data_is_backed_up_before_migrating(store, data_dir, monkeypatch, clock):
    patient = store.add_patient("Ada Example")
    store.start_session(patient, protocol="IM", zone_name="UTC")
    store.close()
    upgraded = []
    # Pretend this kapdesk has a schema newer than the record's.
    monkeypatch.setattr(migrate, "head_revision", lambda: "0002")
    monkeypatch.setattr(migrate, "upgrade", lambda connection: upgraded.append(True))
    with RecordStore.open(data_dir, clock=clock.now_utc) as reopened:
        assert reopened.count("patient") == 1
    [backup] = (data_dir / "backups").iterdir()
    assert backup.name.startswith("before-schema-0002-")
    assert read_manifest(backup)["audit_events"] >= 4
    assert upgraded == [True]
