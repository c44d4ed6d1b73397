"""The PostgreSQL paths of the bench scripts, on tiny data: `bench/dataset.py
--database-url` loads with COPY (indexes and keys deferred, then restored) and
`bench/scale_bench.py --reuse` measures that database. Runs only in the PostgreSQL suite
(``PORTAL_TEST_DATABASE_URL``), on a fresh database of that server, dropped afterwards."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from portal.db import make_engine
from tests.conftest import _fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.bench,
    pytest.mark.skipif(
        not os.environ.get("PORTAL_TEST_DATABASE_URL"),
        reason="the PostgreSQL load needs PORTAL_TEST_DATABASE_URL",
    ),
]


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    url, drop = _fresh_postgres_database(os.environ["PORTAL_TEST_DATABASE_URL"])
    try:
        yield url
    finally:
        drop()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def _indexes(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(
                conn.execute(
                    text(
                        "SELECT indexname || ' ' || indexdef FROM pg_indexes "
                        "WHERE tablename IN ('receipts', 'responses')"
                    )
                ).scalars()
            ) | set(
                conn.execute(
                    text(
                        "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE conrelid::regclass::text IN ('receipts', 'responses')"
                    )
                ).scalars()
            )
    finally:
        engine.dispose()


def test_dataset_loads_postgresql_with_copy_and_scale_bench_measures_it(database: str) -> None:
    migrated, drop = _fresh_postgres_database(os.environ["PORTAL_TEST_DATABASE_URL"])
    try:
        from portal.schema import upgrade_database

        engine = make_engine(migrated)
        upgrade_database(engine)
        engine.dispose()
        schema = _indexes(migrated)
    finally:
        drop()

    built = _run(
        "bench/dataset.py", "--database-url", database, "--responses", "2000", "--stores", "5"
    )
    assert built.returncode == 0, built.stderr
    assert re.search(r"^responses\s+2000$", built.stdout, re.M)
    assert re.search(r"^receipts\s+2,600\s", built.stdout, re.M)  # the table sizes
    assert "deferred" in built.stderr and "analyzed" in built.stderr
    # Every index and constraint of the migrated schema is back, as it was.
    assert _indexes(database) == schema
    engine = make_engine(database)
    try:
        with engine.connect() as conn:
            counted = conn.execute(
                text("SELECT sum(responses) FROM store_daily_rollups")
            ).scalar_one()
            assert counted == 2000
            assert conn.execute(text("SELECT count(*) FROM responses")).scalar_one() == 2000
    finally:
        engine.dispose()

    measured = _run(
        *("bench/scale_bench.py", "--database-url", database, "--reuse", "--repeat", "1"),
        *("--explain", "--no-http"),
    )
    assert measured.returncode == 0, measured.stderr
    out = measured.stdout
    assert re.search(r"^store page, 365 days\s+[\d.]+\s+[\d.]+\s+1\s+\d+\s+[\d.]+x", out, re.M)
    assert re.search(r"^HR monthly ranking page\s+[\d.]+", out, re.M)
    assert "Buffers: shared" in out  # EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL
    assert re.search(r"^peak RSS with [\d.]+x the rows: [+-]\d+ MB$", out, re.M)
