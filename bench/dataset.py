"""A large synthetic chain for benchmarks: stores, staff, receipts and responses, fast.

Run as ``.venv/bin/python bench/dataset.py --out /tmp/bench-1m.sqlite3 [--responses N]``,
or import `build_dataset` / `reuse_or_build` (``bench/dashboard_bench.py`` does).

`build_dataset` makes a fresh database migrated with `portal.schema.upgrade_database` and
fills it in one transaction:

- ``stores`` stores in six regions (time zone Asia/Shanghai), ``staff_per_store`` staff
  each (a manager, supervisors, floor staff, cashiers);
- about 1.3 receipts per response over the last ``days`` store-local days (ending now),
  by weekday and opening hour, 3 % of them batch cards without a cashier; exactly
  ``responses`` of them answered, chosen by a per-store answer rate;
- responses drawn from a latent satisfaction (store quality + staff effect + noise, a few
  stores drifting over the last five weeks) cut into NPS, CSAT and the five ratings, with
  problem categories and comments (zh_CN and en) as unhappy and happy shoppers leave them;
- ``local_day`` and ``local_hour`` filled as the portal fills them;
- the daily rollup rebuilt once with `portal.rollups.rebuild_rollups`;
- one admin user (`portal.auth.operations.create_user`) and a personal API token
  (`portal.api_tokens.operations.create_api_token`);
- with ``custom_questions`` (``--custom-questions``) only: version 2 of the default survey
  with three custom questions answered on every response, their ``response_answers`` and
  ``question_daily_counts`` (`bench/custom_questions.py`; off by default, which it leaves
  as fast as before).

Random draws are vectorised with numpy, and nothing goes through the ORM but the admin,
the token and the survey version. Stores and staff are Core ``insert()`` executemanys;
receipts and responses one ``executemany`` per 20 000 rows on the session's connection,
with explicit ids (no id is read back) and values converted in bulk to what the column
types would send (see `Writer`: three times faster than Core's per-value processing).
On SQLite the build runs with ``synchronous=OFF``, WAL and foreign keys checked once at
the end (``PRAGMA foreign_key_check``) rather than per row. ``token_id``, ``short_code``
and ``transaction_id`` are cheap sequential strings (unique, within their columns'
lengths). The same seed gives the same rows except for their times, which end at the
moment of the build. 1M responses take about 100 s on a 2-core machine (a third of it
the rollup rebuild). PostgreSQL URLs work too (an empty database; sequences are moved
past the explicit ids).

`reuse_or_build` keeps a built SQLite file and a JSON sidecar (``PATH.json``: the
parameters, the admin login and the API token's secret) and reuses them when both exist.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from custom_questions import add_custom_answers  # bench/ is on sys.path as for the scripts
from dataset_draw import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    RECEIPTS_PER_RESPONSE,
    TIMEZONE,
    UTC_OFFSET,
    Receipts,
    Responses,
    draw_receipts,
    draw_responses,
    plan_chain,
    staff_name,
)
from dataset_pg import analyze, copy_rows, table_sizes
from dataset_write import Writer, check_round_trip, insert_receipts, insert_responses
from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from portal.api_tokens.operations import create_api_token
from portal.audit import CLI
from portal.auth.operations import create_user
from portal.db import make_engine
from portal.models import Role, Staff, Store
from portal.rollups import rebuild_rollups
from portal.schema import upgrade_database
from portal.versions import publish_survey_version
from surveys.loader import receipt_survey


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    url: str
    stores: int
    staff: int
    receipts: int
    responses: int
    comments: int
    rollup_rows: int
    days: int
    seed: int
    #: Store-local days covered, ISO dates.
    first_day: str
    last_day: str
    #: When the build ended (UTC, ISO) and how long it took.
    built_at: str
    build_seconds: float
    #: The store with the most responses, and that count.
    busiest_store: str
    busiest_store_responses: int
    admin_email: str
    admin_password: str
    #: The personal API token's secret (a benchmark's throwaway credential).
    api_token: str
    #: True when `reuse_or_build` found the file instead of building it.
    reused: bool = False
    #: Built with ``custom_questions``: the custom answer rows written (0 without).
    custom_questions: bool = False
    answer_rows: int = 0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def build_dataset(
    url: str,
    *,
    responses: int = 1_000_000,
    stores: int = 200,
    staff_per_store: int = 20,
    days: int = 365,
    seed: int = 1,
    custom_questions: bool = False,
) -> DatasetInfo:
    """Create and fill a fresh database at ``url`` (a SQLite file must not exist yet; any
    other database must be empty). Progress goes to stderr. ``custom_questions`` adds the
    three custom questions answered on every response (`bench/custom_questions.py`)."""
    if responses < 1 or stores < 1 or staff_per_store < 1 or days < 7:
        raise ValueError("need responses >= 1, stores >= 1, staff_per_store >= 1, days >= 7")
    path = _sqlite_path(url)
    if path is not None and path.exists():
        raise FileExistsError(f"{path} exists; build_dataset makes a fresh database")
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        upgrade_database(engine)
        with engine.connect() as conn:
            info = _fill(
                conn, url, responses, stores, staff_per_store, days, seed, started, custom_questions
            )
            if engine.dialect.name == "sqlite":
                conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if engine.dialect.name == "postgresql":
            analyze(engine)
    finally:
        engine.dispose()
    log(f"built in {info.build_seconds:.1f} s")
    return info


def _fill(
    conn: Connection,
    url: str,
    responses: int,
    stores: int,
    staff_per_store: int,
    days: int,
    seed: int,
    started: float,
    custom_questions: bool = False,
) -> DatasetInfo:
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        raw = conn.connection.driver_connection
        # For the build only (these are per connection, and this one is closed after it):
        # no fsync, a large page cache, and foreign keys checked once at the end rather
        # than per row (which doubled the insert time). SQLite ignores the foreign_keys
        # pragma inside a transaction, so it is set before the first statement.
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=OFF")
        raw.execute("PRAGMA cache_size=-1000000")
        raw.execute("PRAGMA temp_store=MEMORY")
        raw.execute("PRAGMA foreign_keys=OFF")
    session = Session(bind=conn)
    if session.scalar(select(func.count()).select_from(Store)):
        raise RuntimeError(f"{url} already has stores; build_dataset needs an empty database")
    rng = np.random.default_rng(seed)
    now_dt = datetime.now(UTC).replace(microsecond=0)
    now = int(now_dt.timestamp())
    receipt_count = max(responses, round(responses * RECEIPTS_PER_RESPONSE))

    log(f"drawing {receipt_count:,} receipts and {responses:,} responses (numpy) ...")
    chain = plan_chain(rng, stores, staff_per_store)
    receipts = draw_receipts(rng, chain, receipt_count, responses, days, now)
    answers = draw_responses(rng, chain, receipts, now)
    log(f"  drawn ({time.perf_counter() - started:.1f} s)")

    created = now_dt - timedelta(days=days + 1)
    session.execute(
        insert(Store.__table__),
        [
            {
                "id": i + 1,
                "code": chain.codes[i],
                "name": chain.names[i],
                "region": chain.regions[i],
                "timezone": TIMEZONE,
                "created_at": created,
            }
            for i in range(stores)
        ],
    )
    session.execute(
        insert(Staff.__table__),
        [
            {
                "id": s * staff_per_store + j + 1,
                "store_id": s + 1,
                "code": f"S{j + 1:03d}",
                "name": staff_name(s * staff_per_store + j),
                "position": chain.positions[j],
                "active": True,
                "created_at": created,
            }
            for s in range(stores)
            for j in range(staff_per_store)
        ],
    )
    version = publish_survey_version(session, receipt_survey(), created)
    admin = create_user(
        session,
        email=ADMIN_EMAIL,
        role=Role.ADMIN.value,
        password=ADMIN_PASSWORD,
        name="Bench admin",
        actor=CLI,
        now=now_dt,
    )
    token = create_api_token(session, admin, actor=CLI, now=now_dt, label="dashboard bench")
    session.flush()

    rollup_rows, answer_rows = _write_rows(
        session, receipts, answers, staff_per_store, version.id, seed, created, custom_questions
    )

    per_store = np.bincount(receipts.store[answers.receipt], minlength=stores)
    busiest = int(per_store.argmax())
    today = (now + UTC_OFFSET) // 86400
    epoch = date(1970, 1, 1)
    return DatasetInfo(
        url=url,
        stores=stores,
        staff=stores * staff_per_store,
        receipts=receipt_count,
        responses=responses,
        comments=sum(c is not None for c in answers.comment),
        rollup_rows=rollup_rows,
        days=days,
        seed=seed,
        first_day=(epoch + timedelta(days=today - days + 1)).isoformat(),
        last_day=(epoch + timedelta(days=today)).isoformat(),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - started, 1),
        busiest_store=chain.codes[busiest],
        busiest_store_responses=int(per_store[busiest]),
        admin_email=ADMIN_EMAIL,
        admin_password=ADMIN_PASSWORD,
        api_token=token.secret,
        custom_questions=custom_questions,
        answer_rows=answer_rows,
    )


def _write_rows(
    session: Session,
    receipts: Receipts,
    answers: Responses,
    staff_per_store: int,
    version_id: int,
    seed: int,
    created: datetime,
    custom_questions: bool,
) -> tuple[int, int]:
    """Write the receipts and responses (executemany; COPY on PostgreSQL, `dataset_pg`),
    the custom answers if asked, and the rollups; commit. The rollup and answer rows."""
    dialect = session.get_bind().dialect.name
    writer = Writer(session)
    answered_at = np.full(len(receipts.issued), -1, dtype=np.int64)
    answered_at[answers.receipt] = answers.submitted
    if dialect == "postgresql":
        copy_rows(session, receipts, answers, answered_at, staff_per_store, version_id)
    else:
        insert_receipts(writer, receipts, answered_at, staff_per_store, version_id)
        insert_responses(writer, answers, receipts, version_id, staff_per_store)
    check_round_trip(session, receipts, answers)
    answer_rows = 0
    if custom_questions:
        log("answering three custom questions on every response ...")
        answer_rows = add_custom_answers(
            session, writer.insert, seed=seed, published_at=created, log=log
        )
    if dialect == "sqlite":
        check_started = time.perf_counter()
        broken = session.execute(text("PRAGMA foreign_key_check")).all()
        if broken:
            raise RuntimeError(f"the data set breaks foreign keys: {broken[:5]}")
        log(f"  foreign keys checked ({time.perf_counter() - check_started:.1f} s)")
    if dialect == "postgresql":
        # Explicit ids leave the sequences behind; the app's next insert must not collide.
        for table in ("stores", "staff", "receipts", "responses"):
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
            )
        # The rollups' GROUP BY over every receipt and response sorts in memory, not on disk.
        session.execute(text("SET LOCAL work_mem = '512MB'"))
    log("rebuilding the rollups (portal.rollups.rebuild_rollups) ...")
    rollup_started = time.perf_counter()
    rollup_rows = rebuild_rollups(session)
    log(f"  {rollup_rows:,} rollup rows ({time.perf_counter() - rollup_started:.1f} s)")
    log("committing ...")
    session.commit()
    session.close()
    return rollup_rows, answer_rows


def add_custom_questions(url: str, *, seed: int = 1) -> int:
    """Answer the three custom questions of `bench/custom_questions.py` on every response
    of the data set at ``url`` (built without them), in one transaction; the answer rows."""
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            created = session.scalar(select(func.min(Store.created_at)))
            rows = add_custom_answers(
                session, Writer(session).insert, seed=seed, published_at=created, log=log
            )
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return rows


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def reuse_or_build(path: Path, **params: Any) -> DatasetInfo:
    """The data set in the SQLite file ``path``: reused when it and its JSON sidecar exist,
    else built (into a temporary name, renamed when complete, so that an interrupted build
    is never reused). ``params`` are `build_dataset`'s keyword arguments."""
    path = path.resolve()
    meta = sidecar(path)
    if path.exists() and meta.exists():
        info = DatasetInfo(**{**json.loads(meta.read_text()), "reused": True})
        wanted = {k: v for k, v in params.items() if getattr(info, k, v) != v}
        if wanted:
            log(f"note: reusing {path} built with different parameters than asked: {wanted}")
        log(f"reusing {path} ({info.responses:,} responses, built {info.built_at})")
        return info
    if path.exists():
        raise SystemExit(f"{path} exists but {meta.name} does not: remove it or pick another path")
    partial = path.with_name(path.name + ".building")
    for leftover in _sqlite_files(partial):
        leftover.unlink()
    info = build_dataset(f"sqlite:///{partial}", **params)
    os.replace(partial, path)
    info = DatasetInfo(**{**asdict(info), "url": f"sqlite:///{path}"})
    meta.write_text(json.dumps(asdict(info), ensure_ascii=False, indent=2))
    return info


def check_size_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse a ``--repeat`` or ``--responses`` outside what the benchmarks support."""
    if not 1 <= args.repeat <= 50:
        parser.error("--repeat must be between 1 and 50")
    if not 1_000 <= args.responses <= 5_000_000:
        parser.error("--responses must be between 1000 and 5000000")


@contextmanager
def dataset_for(args: argparse.Namespace, prefix: str) -> Iterator[tuple[DatasetInfo, Path]]:
    """The data set a benchmark measures (``--reuse`` if given, else one built from
    ``--responses``, ``--stores`` and ``--seed``) and a scratch folder, removed afterwards
    with the data set it may hold."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        params = {"responses": args.responses, "stores": args.stores, "seed": args.seed}
        if args.reuse:
            yield reuse_or_build(args.reuse, **params), tmp
        else:
            yield build_dataset(f"sqlite:///{tmp / 'bench.sqlite3'}", **params), tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _sqlite_files(path: Path) -> list[Path]:
    candidates = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    return [p for p in candidates if p.exists()]


MAX_RESPONSES = 10_000_000


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="SQLite file to build or reuse")
    where.add_argument(
        "--database-url",
        help="an empty PostgreSQL database to fill with COPY "
        "(postgresql+psycopg://user@host:port/name; it must exist)",
    )
    parser.add_argument(
        "--responses",
        type=int,
        default=1_000_000,
        help=f"responses in the data set, 1000-{MAX_RESPONSES}",
    )
    parser.add_argument("--stores", type=int, default=200, help="stores in the data set")
    parser.add_argument("--staff-per-store", type=int, default=20, help="staff in each store")
    parser.add_argument(
        "--days", type=int, default=365, help="store-local days of data, ending now"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument(
        "--custom-questions",
        action="store_true",
        help="also answer three custom questions on every response",
    )
    args = parser.parse_args(argv)
    if not 1_000 <= args.responses <= MAX_RESPONSES:
        parser.error(f"--responses must be between 1000 and {MAX_RESPONSES}")
    params = {
        "responses": args.responses,
        "stores": args.stores,
        "staff_per_store": args.staff_per_store,
        "days": args.days,
        "seed": args.seed,
        "custom_questions": args.custom_questions,
    }
    if args.out:
        info = reuse_or_build(args.out, **params)
    else:
        info = build_dataset(args.database_url, **params)
    for key, value in asdict(info).items():
        if key not in ("admin_password", "api_token"):
            print(f"{key:<24} {value}")
    if args.database_url:
        print_table_sizes(args.database_url)


def print_table_sizes(url: str) -> None:
    """The largest tables of a PostgreSQL data set: rows, table and index sizes."""
    engine = make_engine(url)
    try:
        sizes = table_sizes(engine)
    finally:
        engine.dispose()
    print(f"{'table':<28} {'rows':>12} {'table MB':>10} {'indexes MB':>11}")
    for name, rows, table, index in sizes:
        print(f"{name:<28} {rows:>12,} {table / 2**20:>10,.0f} {index / 2**20:>11,.0f}")


if __name__ == "__main__":
    main()
