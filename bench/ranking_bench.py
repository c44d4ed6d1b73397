"""Benchmark: the monthly staff ranking on a large chain, against raw SQL on responses.

Run as ``.venv/bin/python bench/ranking_bench.py [--responses 1000000] [--repeat 5]
[--reuse /tmp/bench-1m.sqlite3] [--month YYYY-MM] [--bare]``.

In one run, in-process:

1. builds the synthetic chain of ``bench/dataset.py`` (200 stores, 20 staff each, 1.3
   receipts per response over 365 days, rollup rebuilt) in a temporary SQLite file, or
   reuses ``--reuse PATH`` (built there when missing). A reused file made before the
   mystery and award tables existed is migrated to the current schema first (tables
   added, nothing else changed; the run says so);
2. unless ``--bare``, adds inside a transaction that is rolled back at the end (the file
   is left as it was) what the data set lacks and a real month has: 0-2 released mystery
   visits with a staff observation for each staff member, and a substantiated complaint
   for one in a hundred, so that every signal of the ranking has data;
3. times the raw SQL baselines on the same connection: ``SELECT staff_id, count(*),
   sum(csat >= 4), sum(nps >= 9), sum(nps <= 6) FROM responses WHERE local_day in the
   month GROUP BY staff_id`` as written, and the same with ``NOT INDEXED``;
4. times ``portal.hr.ranking.rank_month`` for that month: once the first time (the month
   is ranked and stored, `portal.hr.stored`), then ``--repeat`` runs, a new session each,
   that read the stored month back, split into parts by wrapping the functions: reading
   (``_read_signals`` + ``_staff_rows``: the SQL of the staff-month rollup and the other
   signals, and the staff list, with the time inside ``cursor.execute`` beside it), the
   fingerprint (`portal.hr.fingerprints`), the funnel check and ``rank_staff`` (0 when
   read back), the stored ranking read back and the rest (the inputs, the digest);
5. times the staff page's 12-month trend (``portal.hr.queries.staff_trend``) the first
   time and from the stored months, the staff page's two rankings together (``rank_month``
   + ``staff_trend``), and, the old way, ``rank_months`` over 12 months with nothing
   stored or read back;
6. prints one table: target (rank_month < 500 ms), median, min and max, and the ratio of
   each median to the raw SQL's; then issue 15's two ratios against the ``NOT INDEXED``
   scan of the month: the monthly ranking (<= 1x) and the staff page with its trend
   (<= 2x). Default month: the last month wholly inside the data set's days.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from dataset import (  # bench/ is on sys.path when this file runs as a script
    ADMIN_EMAIL,
    DatasetInfo,
    check_size_arguments,
    dataset_for,
)
from sqlalchemy import Connection, Engine, event, func, insert, select, text
from sqlalchemy.orm import Session

import portal.hr.fingerprints as fingerprints_module
import portal.hr.ranking as ranking_module
import portal.hr.stored as stored_module
from portal.calendar import (
    month_start,
    months_ending,
    next_month,
    parse_month,
    previous_month,
)
from portal.db import make_engine
from portal.hr.queries import staff_trend
from portal.hr.ranking import (
    current_policy,
    parameters_of,
    rank_month,
    rank_months,
)
from portal.models import Case, MysteryVisit, Staff, StaffObservation, User
from portal.schema import upgrade_database
from portal.versions import publish_survey_version
from surveys.checklists import get_checklist

TARGET_MS = 500.0
RAW_SQL = (
    "SELECT staff_id, count(*), sum(csat >= 4), sum(nps >= 9), sum(nps <= 6) "
    "FROM responses WHERE local_day >= ? AND local_day < ? GROUP BY staff_id"
)
RAW_SQL_NOT_INDEXED = RAW_SQL.replace("FROM responses", "FROM responses NOT INDEXED")
#: The functions timed as parts of rank_month: (module, name) -> part.
PARTS = {
    (ranking_module, "_read_signals"): "reading",
    (ranking_module, "_staff_rows"): "reading",
    (fingerprints_module, "month_fingerprints"): "fingerprint",
    (ranking_module, "_flagged_staff"): "funnel",
    (ranking_module, "rank_staff"): "rank_staff",
    (stored_module, "load"): "stored",
    (stored_module, "save"): "stored",
}
#: The targets of issue 15, as multiples of the NOT INDEXED scan of one month.
RANKING_TARGET, STAFF_PAGE_TARGET = 1.0, 2.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Row:
    label: str
    target_ms: float | None = None
    times: list[float] = field(default_factory=list)
    indent: int = 0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1e3


@dataclass
class Parts:
    """Seconds per part of the current rank_month call, and time in cursor.execute."""

    seconds: dict[str, float] = field(default_factory=dict)
    sql: float = 0.0
    _started: float = 0.0

    def clear(self) -> None:
        self.seconds.clear()
        self.sql = 0.0

    def before(self, *_args: Any) -> None:
        self._started = time.perf_counter()

    def after(self, *_args: Any) -> None:
        self.sql += time.perf_counter() - self._started


@contextmanager
def timed_parts(parts: Parts, connection: Connection) -> Iterator[None]:
    """Wrap the module's functions so that each call adds its time to ``parts``."""
    originals = {key: getattr(*key) for key in PARTS}

    def wrap(name: tuple[Any, str], function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                key = PARTS[name]
                parts.seconds[key] = parts.seconds.get(key, 0.0) + time.perf_counter() - started

        return timed

    for name, function in originals.items():
        setattr(name[0], name[1], wrap(name, function))
    event.listen(connection, "before_cursor_execute", parts.before)
    event.listen(connection, "after_cursor_execute", parts.after)
    try:
        yield
    finally:
        event.remove(connection, "before_cursor_execute", parts.before)
        event.remove(connection, "after_cursor_execute", parts.after)
        for name, function in originals.items():
            setattr(name[0], name[1], function)


def schema_version(path: Path) -> str:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        try:
            return str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])
        except sqlite3.Error:
            return "none"


def add_write_counter(engine: Engine) -> bool:
    """Give a file migrated to 0014 before the staff-month rows had their write counter
    (``changes``, `portal.hr.fingerprints`) the column and its index, as 0014 now creates
    them. True when it was missing."""
    with engine.begin() as conn:
        names = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(staff_monthly_rollups)")}
        if "changes" in names:
            return False
        conn.exec_driver_sql(
            "ALTER TABLE staff_monthly_rollups ADD COLUMN changes INTEGER NOT NULL DEFAULT 0"
        )
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_staff_monthly_rollups_month")
        conn.exec_driver_sql(
            "CREATE INDEX ix_staff_monthly_rollups_month ON staff_monthly_rollups (month, changes)"
        )
        conn.exec_driver_sql("DELETE FROM stored_rankings")
    return True


def add_month_signals(session: Session, month: date, seed: int) -> tuple[int, int]:
    """Released mystery visits (0-2 per staff member, one observation each) and a few
    substantiated complaints in ``month``, flushed in the caller's transaction."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    shopper = session.scalar(select(User.id).where(User.email == ADMIN_EMAIL))
    version = publish_survey_version(session, get_checklist("retail-standard"), now)
    staff = session.execute(select(Staff.id, Staff.store_id).order_by(Staff.id)).all()
    days = (next_month(month) - month).days
    visit_id = (session.scalar(select(func.max(MysteryVisit.id))) or 0) + 1
    visits: list[dict[str, Any]] = []
    observations: list[dict[str, Any]] = []
    for staff_id, store_id in staff:
        for _ in range(int(rng.choice(3, p=(0.4, 0.4, 0.2)))):
            day = month + timedelta(days=int(rng.integers(days)))
            score = float(np.clip(rng.normal(80, 12), 0, 100))
            visits.append(
                {
                    "id": visit_id,
                    "store_id": store_id,
                    "shopper_id": shopper,
                    "checklist_version_id": version.id,
                    "checklist_key": "retail-standard",
                    "window_start": day,
                    "window_end": day,
                    "daypart": "morning",
                    "state": "released",
                    "visit_day": day,
                    "score": score,
                    "answers": {},
                    "flags": [],
                    "section_scores": {},
                }
            )
            observations.append(
                {
                    "visit_id": visit_id,
                    "staff_id": staff_id,
                    "store_id": store_id,
                    "visit_day": day,
                    "sections": ["checkout"],
                    "score": score,
                }
            )
            visit_id += 1
    if visits:
        session.execute(insert(MysteryVisit), visits)
        session.execute(insert(StaffObservation), observations)
    cases = []
    for staff_id, store_id in staff:
        if rng.random() < 0.01:
            resolved = datetime.combine(month, datetime.min.time(), UTC) + timedelta(
                days=int(rng.integers(days - 1)), hours=6
            )
            cases.append(
                {
                    "store_id": store_id,
                    "staff_id": staff_id,
                    "source": "manual",
                    "state": "closed",
                    "opened_at": resolved - timedelta(days=1),
                    "first_response_due_at": resolved,
                    "resolved_at": resolved,
                    "closed_at": resolved,
                    "substantiated": True,
                }
            )
    if cases:
        session.execute(insert(Case), cases)
    session.flush()
    return len(visits), len(cases)


def default_month(info: DatasetInfo) -> date:
    """The last month wholly inside the data set's days, or, with less than a month of
    data, the month of its last day (the data set ends on the day it was built, so the
    month before that is the last complete one whenever the data reach back that far)."""
    first, last = date.fromisoformat(info.first_day), date.fromisoformat(info.last_day)
    month = previous_month(month_start(last))
    return month if month >= first else month_start(last)


def time_raw(conn: Connection, sql: str, month: date, repeat: int) -> Row:
    row = Row(f"raw SQL: GROUP BY staff, one month{' NOT INDEXED' if 'NOT' in sql else ''}")
    bounds = (month.isoformat(), next_month(month).isoformat())
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.execute(sql, bounds).fetchall()  # warm-up
    for _ in range(repeat):
        started = time.perf_counter()
        driver.execute(sql, bounds).fetchall()
        row.times.append(time.perf_counter() - started)
    return row


def run(args: argparse.Namespace, info: DatasetInfo, load: float, started: float) -> None:
    path = Path(info.url.removeprefix("sqlite:///"))
    before = schema_version(path)
    engine: Engine = make_engine(info.url)
    upgrade_database(engine)
    after = schema_version(path)
    migrated = f"migrated {before} -> {after}" if before != after else f"schema {after}"
    if add_write_counter(engine):
        migrated += ", write counter added to staff_monthly_rollups"
    month = parse_month(args.month) if args.month else default_month(info)
    if month is None:
        raise SystemExit("--month must be YYYY-MM")
    with engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        added = (0, 0) if args.bare else add_month_signals(session, month, args.seed)
        responses = session.scalar(
            text("SELECT count(*) FROM responses WHERE local_day >= :a AND local_day < :b"),
            {"a": month.isoformat(), "b": next_month(month).isoformat()},
        )
        plans = [
            " / ".join(
                r[-1]
                for r in conn.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {sql}", (month.isoformat(), next_month(month).isoformat())
                )
            )
            for sql in (RAW_SQL, RAW_SQL_NOT_INDEXED)
        ]
        log("raw SQL ...")
        raw = time_raw(conn, RAW_SQL, month, args.repeat)
        raw_table = time_raw(conn, RAW_SQL_NOT_INDEXED, month, args.repeat)

        policy = current_policy(session)
        parameters = parameters_of(policy)
        log("rank_month ...")
        begun = time.perf_counter()
        # The first time: the month is ranked, and stored (the month is over).
        first = Session(bind=conn, join_transaction_mode="create_savepoint")
        result = rank_month(first, month, scope=policy.scope, parameters=parameters)
        first.commit()  # releases its savepoint: kept until the outer rollback
        first.close()
        cold = Row("rank_month, first time (ranked, stored)", times=[time.perf_counter() - begun])
        total = Row("rank_month (one month)", TARGET_MS)
        rows = {
            key: Row(label, indent=2)
            for key, label in (
                ("reading", "reading: SQL + rows to values"),
                ("sql", "of which inside cursor.execute (all parts)"),
                ("fingerprint", "fingerprint (portal.hr.fingerprints)"),
                ("funnel", "funnel check (analysis.funnel)"),
                ("rank_staff", "rank_staff (analysis.ranking)"),
                ("stored", "stored ranking read back (portal.hr.stored)"),
                ("rest", "rest: inputs, digest, results"),
            )
        }
        rows["sql"].indent = 4
        parts = Parts()
        timed = ("reading", "fingerprint", "funnel", "rank_staff", "stored")
        with timed_parts(parts, conn):
            for _ in range(args.repeat):
                parts.clear()
                run_session = Session(bind=conn, join_transaction_mode="create_savepoint")
                begun = time.perf_counter()
                result = rank_month(run_session, month, scope=policy.scope, parameters=parameters)
                elapsed = time.perf_counter() - begun
                run_session.commit()
                run_session.close()
                total.times.append(elapsed)
                for key in timed:
                    rows[key].times.append(parts.seconds.get(key, 0.0))
                rows["sql"].times.append(parts.sql)
                rows["rest"].times.append(elapsed - sum(parts.seconds.get(k, 0.0) for k in timed))

        log("12-month trend ...")
        light = dataclasses.replace(parameters, draws=1)
        window = months_ending(month, 12)
        person = max(result.rows, key=lambda r: r.score.n).staff.staff_id
        begun = time.perf_counter()
        first = Session(bind=conn, join_transaction_mode="create_savepoint")
        staff_trend(first, person, month, scope=policy.scope, parameters=parameters)
        first.commit()
        first.close()
        cold_trend = Row(
            "staff page trend, first time (ranked, stored)",
            times=[time.perf_counter() - begun],
        )
        trend = Row("staff page trend: 12 stored months (staff_trend)")
        page = Row("staff page: rank_month + its 12-month trend")
        for _ in range(max(1, min(args.repeat, 3))):
            run_session = Session(bind=conn, join_transaction_mode="create_savepoint")
            begun = time.perf_counter()
            rank_month(run_session, month, scope=policy.scope, parameters=parameters)
            middle = time.perf_counter()
            staff_trend(run_session, person, month, scope=policy.scope, parameters=parameters)
            ended = time.perf_counter()
            run_session.commit()
            run_session.close()
            trend.times.append(ended - middle)
            page.times.append(ended - begun)
        log("the old way: rank_months over 12 months, no gates, not stored ...")
        old_trend = Row("12 months ranked afresh (rank_months, no gates)")
        stored_load = stored_module.load
        stored_module.load = lambda *_a, **_k: None  # as before: nothing read back
        stored_save = stored_module.save
        stored_module.save = lambda *_a, **_k: None
        try:
            begun = time.perf_counter()
            rank_months(session, window, scope=policy.scope, parameters=light, gates=False)
            old_trend.times.append(time.perf_counter() - begun)
        finally:
            stored_module.load, stored_module.save = stored_load, stored_save
        session.close()
        outer.rollback()
    engine.dispose()

    scores = [r.score for r in result.rows]
    print(
        f"Data set: {info.responses:,} responses, {info.stores} stores, {info.staff:,} staff, "
        f"{info.rollup_rows:,} staff-day rollup rows, days {info.first_day} .. {info.last_day}; "
        f"{'reused' if info.reused else 'built'} ({path}, {migrated})"
    )
    print(
        f"Month {month:%Y-%m}: {responses:,} responses; {len(scores):,} staff scored, "
        f"{sum(s.rank is not None for s in scores):,} ranked, "
        f"{sum(s.eligible for s in scores):,} eligible, {sum(s.proposed for s in scores)} "
        f"proposed, {sum(s.coaching for s in scores)} on the coaching list; "
        f"m = {result.ranking.m:.1f} ({result.ranking.m_source}); scope {policy.scope}"
    )
    print(
        "Added for the run and rolled back: "
        + (
            "nothing (--bare)"
            if args.bare
            else f"{added[0]:,} released mystery visits, {added[1]} substantiated complaints"
        )
    )
    print(
        f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}; load avg (1 min) at "
        f"start {load:.2f}; {args.repeat} timed runs after 1 warm-up (trend: "
        f"{len(trend.times)})\n"
    )
    print(f"{'':<52}{'target':>8}{'median':>9}{'min':>9}{'max':>9}{'x raw':>8}")
    print(f"{'':<52}{'ms':>8}{'ms':>9}{'ms':>9}{'ms':>9}{'SQL':>8}")
    for row in (raw, raw_table, cold, total, *rows.values(), cold_trend, trend, page, old_trend):
        target = f"< {row.target_ms:.0f}" if row.target_ms else "—"
        label = " " * row.indent + row.label
        ratio = row.median_ms / raw.median_ms
        verdict = ""
        if row.target_ms:
            verdict = "  OK" if row.median_ms < row.target_ms else "  MISS"
        print(
            f"{label:<52}{target:>8}{row.median_ms:>9.1f}{min(row.times) * 1e3:>9.1f}"
            f"{max(row.times) * 1e3:>9.1f}{ratio:>7.2f}x{verdict}"
        )
    print(f"\nrank_month / raw SQL (medians): {total.median_ms / raw.median_ms:.2f}")
    print("\nAgainst the NOT INDEXED scan of one month (issue 15's targets, medians):")
    for label, row, target in (
        ("monthly ranking (rank_month)", total, RANKING_TARGET),
        ("staff page with its 12-month trend", page, STAFF_PAGE_TARGET),
    ):
        ratio = row.median_ms / raw_table.median_ms
        verdict = "OK" if ratio <= target else "MISS"
        print(f"  {label:<44}{ratio:>7.2f}x  (target <= {target:.0f}x)  {verdict}")
    print("Query plans: " + " | ".join(plans))
    print(
        f"Total run time {time.monotonic() - started:.0f} s; "
        f"load avg (1 min) at the end {os.getloadavg()[0]:.2f}"
    )


def main() -> None:
    started = time.monotonic()
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--responses", type=int, default=1_000_000, help="responses in the data set, 1000-5000000"
    )
    parser.add_argument("--stores", type=int, default=200, help="stores in the data set")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs (1-50)")
    parser.add_argument("--reuse", type=Path, help="SQLite file: reused if there, else built there")
    parser.add_argument("--month", help="YYYY-MM; without it, the last complete month of the data")
    parser.add_argument("--bare", action="store_true", help="no mystery visits or complaints")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    args = parser.parse_args()
    check_size_arguments(parser, args)
    load = os.getloadavg()[0]
    with dataset_for(args, "ranking-bench-") as (info, _tmp):
        run(args, info, load, started)


if __name__ == "__main__":
    main()
