"""The upgrade fixtures as the tests and the generator use them: the Alembic revisions in
order, loading a fixture (``tests/migrations/fixtures/NNNN.sql``) into a database at its
revision, and reading every table back for comparison.

A fixture is plain SQL that runs unchanged on SQLite and PostgreSQL: one multi-row
``INSERT`` per table, statements ending with ``;`` at the end of a line, timestamps in UTC
written as SQLAlchemy stores them on SQLite (``2026-10-12 03:40:00.000000``).
"""

from __future__ import annotations

import re
from contextlib import nullcontext
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, select

from portal.schema import MIGRATIONS

FIXTURES = Path(__file__).resolve().parent / "fixtures"

#: One table's rows, each a tuple in the order of the table's columns at the fixture's
#: revision, ordered by primary key.
Rows = list[tuple[Any, ...]]


@cache
def _revisions() -> tuple[str, ...]:
    script = ScriptDirectory(str(MIGRATIONS))
    return tuple(rev.revision for rev in reversed(list(script.walk_revisions())))


def revisions() -> list[str]:
    """Every revision of the Alembic script directory, oldest first."""
    return list(_revisions())


def fixture_path(revision: str) -> Path:
    return FIXTURES / f"{revision}.sql"


def fixture_revisions() -> list[str]:
    """The revisions that have a fixture, oldest first."""
    have = {path.stem for path in FIXTURES.glob("*.sql")}
    return [rev for rev in revisions() if rev in have]


def statements(sql: str) -> list[str]:
    """The statements of a fixture file (each ends with ``;`` at the end of a line; the
    generator makes sure no value contains that)."""
    return [part.strip() for part in sql.split(";\n") if _has_code(part)]


def _has_code(part: str) -> bool:
    return any(line.strip() and not line.lstrip().startswith("--") for line in part.splitlines())


def load_fixture(engine: Engine, revision: str) -> None:
    """Run the fixture of ``revision`` in one transaction of ``engine``'s database, which
    must be at that revision and empty."""
    load_sql(engine, fixture_path(revision).read_text(encoding="utf-8"))


def load_sql(engine: Engine, sql: str) -> None:
    with engine.begin() as conn:
        # The DB-API cursor itself, without parameters: a "%" in a shopper's comment is
        # text, not a placeholder (psycopg would read it as one through SQLAlchemy).
        raw: Any = conn.connection.driver_connection
        postgres = engine.dialect.name == "postgresql"
        if postgres:
            # The fixtures' timestamps are UTC, as the portal writes them.
            raw.execute("SET LOCAL TIME ZONE 'UTC'")
        ordered = statements(sql)
        # Some migrations seed rows (0011: the default survey and its version 1); the
        # fixture holds the whole database, those rows included, so they go first (in
        # the reverse of the fixture's foreign-key order).
        for table in reversed(_inserted_tables(ordered)):
            raw.execute(f"DELETE FROM {table}")
        for statement in ordered:
            raw.execute(statement)
        if postgres:
            _advance_sequences(raw, engine)


def _inserted_tables(ordered: list[str]) -> list[str]:
    """The tables the statements insert into, in order."""
    found = (re.match(r"(?:--[^\n]*\n|\s)*INSERT INTO (\w+)", stmt) for stmt in ordered)
    return list(dict.fromkeys(match.group(1) for match in found if match))


def _advance_sequences(raw: Any, engine: Engine) -> None:
    # Rows inserted with their ids leave each serial's sequence at 1; a real database's
    # sequences are past its highest id, so the next insert at head must not collide.
    metadata = MetaData()
    metadata.reflect(engine)
    for table in metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key:
            raw.execute(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), max(id)) "
                f"FROM {table.name}"
            )


def reflect_schema(bind: Engine | Connection, only: list[str] | None = None) -> MetaData:
    """The tables of the database as it is now (its revision's schema), without Alembic's
    own. The tables can be read again after a migration as long as their columns exist."""
    metadata = MetaData()
    metadata.reflect(bind, only=only)
    if "alembic_version" in metadata.tables:
        metadata.remove(metadata.tables["alembic_version"])
    return metadata


def columns_of(metadata: MetaData) -> dict[str, list[str]]:
    return {name: [c.name for c in table.columns] for name, table in metadata.tables.items()}


def table_columns(bind: Engine | Connection) -> dict[str, list[str]]:
    """Each table's column names (the schema of the database's revision)."""
    return columns_of(reflect_schema(bind))


def read_tables(bind: Engine | Connection, schema: MetaData | None = None) -> dict[str, Rows]:
    """Every row of every table of ``schema`` (by default, the database's own now), ordered
    by primary key, with timestamps as aware UTC datetimes on both databases."""
    tables = (schema or reflect_schema(bind)).tables
    rows: dict[str, Rows] = {}
    with bind.connect() if isinstance(bind, Engine) else nullcontext(bind) as conn:
        for name, table in tables.items():
            query = select(table).order_by(*table.primary_key.columns)
            rows[name] = [tuple(_utc(v) for v in row) for row in conn.execute(query)]
    return rows


def _utc(value: Any) -> Any:
    # SQLite hands back naive UTC, PostgreSQL aware datetimes.
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value
