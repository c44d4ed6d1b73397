"""Migrations build exactly the models' schema, and every one can be undone."""

from __future__ import annotations

from datetime import date

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

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


def test_0002_fills_local_days_from_each_store_time_zone(fresh_engine):
    """Upgrade with data: rows written before 0002 get their store-local day."""

    downgrade_database(fresh_engine, "0001")
    with fresh_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO stores (id, code, name, region, timezone, created_at) VALUES "
                "(1, 'SH', 's', '', 'Asia/Shanghai', '2026-01-01 00:00:00'),"
                "(2, 'NY', 'n', '', 'America/New_York', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO survey_versions "
                "(id, survey_key, content_hash, definition, published_at) "
                "VALUES (1, 'receipt', 'h', '{}', '2026-01-01 00:00:00')"
            )
        )
        for rid, store in ((1, 1), (2, 2)):
            # 2026-03-01 20:30 UTC: 2 March in Shanghai, 1 March in New York.
            conn.execute(
                text(
                    "INSERT INTO receipts (id, token_id, short_code, store_id, transaction_id, "
                    "issued_at, expires_at, source, created_at, answered_at) VALUES "
                    f"({rid}, 't{rid}', 'c{rid}', {store}, 'T', '2026-03-01 20:30:00', "
                    "'2026-04-01 00:00:00', 'api', '2026-03-01 20:30:00', '2026-03-01 20:30:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO responses (id, receipt_id, survey_version_id, store_id, "
                    "submitted_at, locale, nps, csat, problem_reported) VALUES "
                    f"({rid}, {rid}, 1, {store}, '2026-03-01 20:30:00', 'en', 9, 5, false)"
                )
            )
    upgrade_database(fresh_engine)
    with fresh_engine.connect() as conn:
        days = dict(conn.execute(text("SELECT store_id, local_day FROM responses")).all())
        receipt_days = dict(conn.execute(text("SELECT store_id, local_day FROM receipts")).all())
        hours = dict(conn.execute(text("SELECT store_id, local_hour FROM receipts")).all())
    as_date = {k: v if isinstance(v, date) else date.fromisoformat(v) for k, v in days.items()}
    assert as_date == {1: date(2026, 3, 2), 2: date(2026, 3, 1)}
    assert len(receipt_days) == 2
    assert hours == {1: 4, 2: 15}  # 04:30 in Shanghai, 15:30 in New York
