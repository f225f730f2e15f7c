"""Schema migrations, run at open over the live connection."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect, text

MIGRATIONS = Path(__file__).with_name("migrations")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@functools.cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


@functools.cache
def known_revisions() -> frozenset[str]:
    return frozenset(
        rev.revision for rev in ScriptDirectory.from_config(_config()).walk_revisions()
    )


def current_revision(connection: Connection) -> str | None:
    """The schema revision stored in the database, or None for an empty database."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(connection: Connection, target: str = "head") -> None:
    config = _config()
    config.attributes["connection"] = connection
    command.upgrade(config, target)


# Tables SQLite itself may add (ANALYZE, PRAGMA optimize); they hold statistics only.
SQLITE_STATISTICS = {("table", "sqlite_stat1"), ("table", "sqlite_stat4")}
# alembic writes this table's DDL itself; its text may differ between alembic versions,
# so only its presence and its one row (covered by the audit trail) are compared.
VERSION_TABLE = "alembic_version"


@functools.cache
def expected_schema(revision: str) -> dict[tuple[str, str], str | None]:
    """Every table, index and trigger the migrations create up to ``revision``: their SQL.

    Built by running the migrations on an empty in-memory database (about 20 ms),
    so the expectation can never drift from what the migrations really create.
    """
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as connection:
            upgrade(connection, revision)
            rows = connection.execute(text("SELECT type, name, sql FROM sqlite_master")).all()
    finally:
        engine.dispose()
    return {(row[0], row[1]): row[2] for row in rows}


def schema_differences(present: dict[tuple[str, str], str | None], revision: str) -> list[str]:
    """Sentences naming each object kapdesk did not create, is missing, or was replaced."""
    expected = expected_schema(revision)
    problems = []
    for (kind, name), sql in sorted(present.items()):
        if (kind, name) in SQLITE_STATISTICS:
            continue
        if (kind, name) not in expected:
            problems.append(f"{kind} {name} was not created by kapdesk: it was added from outside")
        elif name != VERSION_TABLE and sql != expected[(kind, name)]:
            problems.append(f"{kind} {name} differs from the one kapdesk created: it was replaced")
    for kind, name in sorted(set(expected) - set(present)):
        problems.append(f"{kind} {name} is missing: it was dropped")
    return problems
