"""Creating and upgrading the database schema with Alembic, configured from code."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


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


def upgrade_database(bind: Engine | Connection, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` (``init-db`` and the test fixtures)."""
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
    else:
        command.upgrade(alembic_config(bind), revision)


def downgrade_database(bind: Engine | Connection, revision: str) -> None:
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            command.downgrade(alembic_config(connection), revision)
    else:
        command.downgrade(alembic_config(bind), revision)
