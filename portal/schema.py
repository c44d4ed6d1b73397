"""Creating and upgrading the database schema with Alembic, configured from code."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, column, inspect, select, table, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Alembic's record of the revisions applied.
VERSION_TABLE = table("alembic_version", column("version_num"))
#: The key of the PostgreSQL advisory lock that serialises migrations ("MIGRATE!").
MIGRATION_LOCK_KEY = 0x4D49_4752_4154_4521


def alembic_config(bind: Engine | Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # Date-prefixed files sort in the order they were written (indico's template).
    cfg.set_main_option(
        "file_template",
        "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(rev)s_%%(slug)s",
    )
    if isinstance(bind, Engine):
        cfg.set_main_option("sqlalchemy.url", bind.url.render_as_string(hide_password=False))
    else:
        cfg.attributes["connection"] = bind
    return cfg


def _migrate(bind: Engine | Connection, step: Callable[[Config], None]) -> None:
    if isinstance(bind, Connection):
        step(alembic_config(bind))
        return
    with bind.connect() as connection:
        raw = connection.connection.driver_connection if bind.dialect.name == "sqlite" else None
        if raw is not None:
            # Batch migrations copy a table and drop the old one; with foreign keys on,
            # dropping a parent table cascades into its children and deletes their rows.
            # SQLite ignores this pragma inside a transaction, so set it before BEGIN.
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                if bind.dialect.name == "postgresql":
                    # Two servers running init-db at once: the second waits here, then
                    # finds the schema at head and has nothing to do.
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                    )
                step(alembic_config(connection))
                if raw is not None:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration left broken references: {broken[:5]}")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def upgrade_database(bind: Engine | Connection, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` (``init-db`` and the test fixtures)."""
    _migrate(bind, lambda cfg: command.upgrade(cfg, revision))


def downgrade_database(bind: Engine | Connection, revision: str) -> None:
    _migrate(bind, lambda cfg: command.downgrade(cfg, revision))


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


@cache
def code_heads() -> frozenset[str]:
    """The migration heads this code expects (read from ``migrations/versions`` once)."""
    return frozenset(_scripts().get_heads())


@cache
def code_revisions() -> frozenset[str]:
    """Every revision this code knows; a database at another one was migrated by newer code."""
    return frozenset(script.revision for script in _scripts().walk_revisions())


def database_heads(conn: Connection) -> frozenset[str]:
    """The revisions the database is at (empty before ``init-db``).

    Read from Alembic's table directly: its ``MigrationContext`` logs two lines each time,
    and a readiness probe asks every few seconds.
    """
    if not inspect(conn).has_table(VERSION_TABLE.name):
        return frozenset()
    return frozenset(conn.execute(select(VERSION_TABLE.c.version_num)).scalars())
