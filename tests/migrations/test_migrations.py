"""Migrations build exactly the models' schema, and every one can be undone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from portal.db import Base
from portal.schema import downgrade_database, upgrade_database


def test_head_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_empty_and_upgrade_again(fresh_engine):
    downgrade_database(fresh_engine, "base")
    assert set(inspect(fresh_engine).get_table_names()) <= {"alembic_version"}
    upgrade_database(fresh_engine)
    assert set(Base.metadata.tables) <= set(inspect(fresh_engine).get_table_names())
