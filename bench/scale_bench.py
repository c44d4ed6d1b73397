"""Benchmark: the portal at scale (10 million responses on PostgreSQL), each figure beside a
reference measured in the same run.

Run as ``.venv/bin/python bench/scale_bench.py [--database-url URL] [--responses 10000000]
[--reuse] [--repeat 3] [--explain] [--no-exports] [--no-http]``.

The data set is `bench/dataset.py`'s synthetic chain in ``--database-url`` (default: the
``PORTAL_BENCH_DATABASE_URL`` environment variable; a ``sqlite:///`` URL works too). With
``--reuse`` a database that already holds stores is measured as it is; else it must be
empty and is filled first (`dataset.build_dataset`, COPY on PostgreSQL). In one run:

1. the references, straight SQL on ``responses``: the full-table GROUP BY by store and week,
   and a non-indexed scan (index scans switched off; SQLite: ``NOT INDEXED``) of the last
   complete month grouped by staff;
2. in-process through Flask's test client (`dashboard_bench.open_app`, signed in as the
   admin): the busiest store's page over 365 days and the chain page over 365 days (against
   the GROUP BY), HR's monthly ranking page and the staff page with its 12-month trend
   (against the month's scan); with ``--explain``, EXPLAIN (ANALYZE, BUFFERS) of each
   page's slowest statements (SQLite: EXPLAIN QUERY PLAN);
3. the responses export as CSV over the last ``--export-days`` days and over the whole
   data set, each in a fresh child process: rows/s and the peak RSS (the same peak for
   both, whatever their rows, is the proof that memory does not grow with rows);
4. the receipt API and the survey submit under gunicorn against a bare Flask app
   (`bench/scale_http.py`; the submit half is `bench/submit_bench.py` run on the same
   database). ``--no-http`` leaves them out.

The machine's other work moves absolute times; the ratios within a run hold better.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dashboard_bench import (  # bench/ is on sys.path when this file runs as a script
    FULL_SCAN_SQL,
    Clock,
    Row,
    Statements,
    http_get,
    measure,
    open_app,
)
from dataset import ADMIN_EMAIL, ADMIN_PASSWORD, TIMEZONE, DatasetInfo, build_dataset
from export_bench import peak_rss_mb, reset_peak_rss, rss_mb
from ranking_bench import RAW_SQL_NOT_INDEXED
from scale_http import http_rows
from sqlalchemy import Engine, event, text

from portal.calendar import local_today, next_month, previous_month
from portal.db import make_engine, utcnow

ENV_URL = "PORTAL_BENCH_DATABASE_URL"
PG_FULL_SCAN = (
    "SELECT store_id, date_trunc('week', submitted_at), count(*), sum((nps >= 9)::int), "
    "sum((nps <= 6)::int) FROM responses GROUP BY 1, 2"
)
PG_MONTH_SCAN = (
    "SELECT staff_id, count(*), sum((csat >= 4)::int), sum((nps >= 9)::int), "
    "sum((nps <= 6)::int) FROM responses WHERE local_day >= %s AND local_day < %s "
    "GROUP BY staff_id"
)
#: Planner switches for the "non-indexed" reference on PostgreSQL (this connection only).
NO_INDEXES = ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def describe(url: str, built: DatasetInfo | None) -> DatasetInfo:
    """The data set's facts as `dataset.DatasetInfo`, read from the database (a reused one
    has no sidecar): counts, days, the busiest store."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:

            def one(sql: str) -> Any:
                return conn.execute(text(sql)).one()

            stores, staff = one(
                "SELECT (SELECT count(*) FROM stores), (SELECT count(*) FROM staff)"
            )
            receipts, responses = one(
                "SELECT (SELECT count(*) FROM receipts), (SELECT count(*) FROM responses)"
            )
            first, last = one("SELECT min(local_day), max(local_day) FROM responses")
            code, busiest = one(
                "SELECT s.code, count(*) FROM responses r JOIN stores s ON s.id = r.store_id "
                "WHERE r.store_id = (SELECT store_id FROM store_monthly_rollups "
                "GROUP BY store_id ORDER BY sum(responses) DESC LIMIT 1) GROUP BY s.code"
            )
            rollups = one("SELECT count(*) FROM daily_rollups")[0]
    finally:
        engine.dispose()
    first, last = (d if isinstance(d, date) else date.fromisoformat(d) for d in (first, last))
    return DatasetInfo(
        url=url,
        stores=stores,
        staff=staff,
        receipts=receipts,
        responses=responses,
        comments=built.comments if built else 0,
        rollup_rows=rollups,
        days=(last - first).days + 1,
        seed=built.seed if built else 0,
        first_day=first.isoformat(),
        last_day=last.isoformat(),
        built_at=built.built_at if built else "",
        build_seconds=built.build_seconds if built else 0.0,
        busiest_store=code,
        busiest_store_responses=busiest,
        admin_email=ADMIN_EMAIL,
        admin_password=ADMIN_PASSWORD,
        api_token=built.api_token if built else "",
        reused=built is None,
    )


# --------------------------------------------------------------------------- references


def reference_rows(engine: Engine, month: date, repeat: int, clock: Clock) -> list[Row]:
    """The two references, on one plain connection of ``engine``."""
    postgres = engine.dialect.name == "postgresql"
    bounds = (month.isoformat(), next_month(month).isoformat())
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None

        def run(sql: str, params: Sequence[Any] = ()) -> Callable[[], Any]:
            return lambda: driver.execute(sql, params).fetchall()

        if postgres:
            full, scan = run(PG_FULL_SCAN), run(PG_MONTH_SCAN, bounds)
        else:
            full, scan = run(FULL_SCAN_SQL), run(RAW_SQL_NOT_INDEXED, bounds)
        rows = [
            measure(Row("reference: GROUP BY store, week, all rows", None), full, repeat, clock)
        ]
        if postgres:
            for name in NO_INDEXES:
                driver.execute(f"SET {name} = off")
        rows.append(
            measure(Row(f"reference: one month {month:%Y-%m}, no index", None), scan, repeat, clock)
        )
        conn.rollback()
    return rows


# --------------------------------------------------------------------------- pages


@dataclass
class Captured:
    statements: list[tuple[float, str, Any]]

    def before(self, _conn: Any, _cursor: Any, *_args: Any) -> None:
        self._started = time.perf_counter()

    def after(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            self.statements.append((time.perf_counter() - self._started, statement, parameters))


def page_rows(
    client: Any, info: DatasetInfo, month: date, statements: Statements, repeat: int, clock: Clock
) -> list[tuple[Row, str]]:
    """(row, the reference's label) per page."""
    today = local_today(TIMEZONE, utcnow())
    staff_id = busiest_staff(info.url, month)
    group, scan = (
        "reference: GROUP BY store, week, all rows",
        f"reference: one month {month:%Y-%m}, no index",
    )
    pages = (
        ("store page, 365 days", f"/stores/{info.busiest_store}?days=365", group),
        ("chain page, 365 days", "/chain?days=365", group),
        ("HR monthly ranking page", f"/hr/rankings?month={month:%Y-%m}", scan),
        ("HR staff page, 12-month trend", f"/hr/staff/{staff_id}?month={month:%Y-%m}", scan),
    )
    rows = []
    for label, url, reference in pages:
        row = measure(Row(label, None, url), http_get(client, url), repeat, clock, statements)
        rows.append((row, reference))
    log(f"  (today {today}, month {month:%Y-%m}, staff {staff_id})")
    return rows


def busiest_staff(url: str, month: date) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT staff_id FROM responses WHERE local_day >= :a AND local_day < :b "
                        "AND staff_id IS NOT NULL AND store_id = 1 GROUP BY staff_id "
                        "ORDER BY count(*) DESC LIMIT 1"
                    ),
                    {"a": month.isoformat(), "b": next_month(month).isoformat()},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def explain(engine: Engine, client: Any, rows: list[tuple[Row, str]], slowest: int = 3) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each page's ``slowest`` statements (one more request,
    its statements and parameters captured); EXPLAIN QUERY PLAN on SQLite."""
    postgres = engine.dialect.name == "postgresql"
    for row, _reference in rows:
        captured = Captured([])
        event.listen(engine, "before_cursor_execute", captured.before)
        event.listen(engine, "after_cursor_execute", captured.after)
        try:
            client.get(row.url).get_data()
        finally:
            event.remove(engine, "before_cursor_execute", captured.before)
            event.remove(engine, "after_cursor_execute", captured.after)
        print(f"\n=== EXPLAIN: {row.label} (GET {row.url}), {len(captured.statements)} statements")
        for seconds, statement, parameters in sorted(captured.statements, key=lambda s: -s[0])[
            :slowest
        ]:
            print(f"--- {seconds * 1e3:.1f} ms: {' '.join(statement.split())[:300]}")
            prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
            with engine.connect() as conn:
                plan = conn.exec_driver_sql(prefix + statement, parameters).all()
                conn.rollback()
            for line in plan:
                print("    " + str(line[0] if postgres else line[-1]))


# --------------------------------------------------------------------------- export


def export_child(url: str, first: str, last: str) -> dict[str, Any]:
    """One streamed CSV export in this (child) process: rows, seconds, RSS before and peak."""
    info = describe(url, None)
    with tempfile.TemporaryDirectory(prefix="scale-export-") as tmp:
        _app, engine, _statements, client = open_app(info, Path(tmp))
        result: dict[str, Any] = {"peak_reset": reset_peak_rss(), "rss_before_mb": rss_mb()}
        began = time.perf_counter()
        newlines = size = 0
        with client.get(f"/exports/responses.csv?from={first}&to={last}") as response:
            assert response.status_code == 200, response.status_code
            for chunk in response.response:  # as a WSGI server sends it, never joined
                newlines += chunk.count(b"\n")
                size += len(chunk)
        result.update(
            seconds=time.perf_counter() - began,
            rows=newlines - 1,
            bytes=size,
            peak_rss_mb=peak_rss_mb(),
        )
        engine.dispose()
    return result


def export_rows(info: DatasetInfo, days: int) -> list[dict[str, Any]]:
    last = date.fromisoformat(info.last_day)
    results = []
    for first in (last - timedelta(days=days - 1), date.fromisoformat(info.first_day)):
        log(f"  export {first} .. {last} ...")
        command = [sys.executable, __file__, "--child-export", info.url, str(first), str(last)]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        out = subprocess.run(command, capture_output=True, text=True, timeout=7200, env=env)
        if out.returncode != 0:
            raise SystemExit(f"export child failed:\n{out.stderr[-3000:]}")
        results.append({"first": str(first), **json.loads(out.stdout.strip().splitlines()[-1])})
    return results


# --------------------------------------------------------------------------- the run


def print_pages(references: list[Row], pages: list[tuple[Row, str]]) -> None:
    by_label = {row.label: row for row in references}
    print(f"{'':<44} {'median':>9} {'min':>9} {'n':>3} {'SQL':>5}  {'x reference':>11}")
    print(f"{'':<44} {'ms':>9} {'ms':>9} {'':>3} {'stmts':>5}")
    for row in references:
        print(
            f"{row.label:<44} {row.median_ms:9.1f} {min(row.times) * 1e3:9.1f} {len(row.times):>3}"
        )
    for row, reference in pages:
        if not row.times:
            print(f"{row.label:<44}  skipped ({row.skipped})")
            continue
        base = by_label[reference]
        ratio = row.median_ms / base.median_ms if base.times else float("nan")
        stmts = statistics.median(row.statements) if row.statements else 0
        print(
            f"{row.label:<44} {row.median_ms:9.1f} {min(row.times) * 1e3:9.1f} "
            f"{len(row.times):>3} {stmts:>5.0f}  {ratio:10.3f}x  "
            f"({reference.removeprefix('reference: ')})"
        )


def print_exports(results: list[dict[str, Any]]) -> None:
    print(
        f"\n{'responses export, CSV, streamed':<44} {'rows':>11} {'s':>8} {'rows/s':>9} "
        f"{'RSS MB':>8} {'peak MB':>8}"
    )
    for r in results:
        label = f"  from {r['first']}"
        rate = r["rows"] / r["seconds"] if r["seconds"] else 0.0
        print(
            f"{label:<44} {r['rows']:>11,} {r['seconds']:8.1f} {rate:9,.0f} "
            f"{r['rss_before_mb']:8.0f} {r['peak_rss_mb']:8.0f}"
        )
    if len(results) == 2 and results[0]["rows"]:
        grow = results[1]["peak_rss_mb"] - results[0]["peak_rss_mb"]
        times = results[1]["rows"] / results[0]["rows"]
        print(f"peak RSS with {times:.1f}x the rows: {grow:+.0f} MB")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(ENV_URL),
        help=f"the data set's database (or ${ENV_URL})",
    )
    parser.add_argument("--responses", type=int, default=10_000_000, help="responses to build")
    parser.add_argument("--stores", type=int, default=200, help="stores to build")
    parser.add_argument("--reuse", action="store_true", help="measure the data already there")
    parser.add_argument("--repeat", type=int, default=3, help="timed requests per page")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN each page's slowest SQL")
    parser.add_argument("--export-days", type=int, default=36, help="the shorter export, days")
    parser.add_argument("--no-http", action="store_true", help="skip the gunicorn measures")
    parser.add_argument("--no-exports", action="store_true", help="skip the two exports")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per app")
    parser.add_argument("--time-limit", type=float, default=3600.0, help="seconds for the pages")
    parser.add_argument("--child-export", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.child_export and not args.database_url:
        parser.error(f"--database-url or ${ENV_URL} is required")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_export:
        print(json.dumps(export_child(*args.child_export)))
        return 0
    started, load = time.monotonic(), os.getloadavg()[0]
    built = None
    if not args.reuse:
        built = build_dataset(args.database_url, responses=args.responses, stores=args.stores)
    info = describe(args.database_url, built)
    month = previous_month(local_today(TIMEZONE, utcnow()).replace(day=1))
    clock = Clock(args.time_limit)
    engine = make_engine(info.url)
    try:
        log("references ...")
        references = reference_rows(engine, month, args.repeat, clock)
    finally:
        engine.dispose()
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        _app, app_engine, statements, client = open_app(info, Path(tmp) / "instance")
        try:
            log("pages ...")
            pages = page_rows(client, info, month, statements, args.repeat, clock)
            statements.detach(app_engine)
            print(
                f"Data set: {info.responses:,} responses, {info.receipts:,} receipts, "
                f"{info.stores} stores, {info.staff:,} staff, days {info.first_day} .. "
                f"{info.last_day}; {app_engine.dialect.name}; busiest store {info.busiest_store} "
                f"({info.busiest_store_responses:,}); load avg at start {load:.2f}\n"
            )
            print_pages(references, pages)
            if args.explain:
                explain(app_engine, client, pages)
        finally:
            app_engine.dispose()
    if not args.no_exports:
        log("exports ...")
        print_exports(export_rows(info, args.export_days))
    if not args.no_http:
        for line in http_rows(info.url, args.seconds):
            print(line)
    print(
        f"\nTotal run time {time.monotonic() - started:.0f} s; "
        f"load avg at the end {os.getloadavg()[0]:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
