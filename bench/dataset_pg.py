"""Writing the synthetic chain's receipts and responses to PostgreSQL with COPY.

`bench/dataset.py` calls `copy_rows` when its database is PostgreSQL (``--database-url
postgresql+psycopg://...``). On an empty, freshly migrated database and inside the build's
transaction it:

1. drops the two tables' foreign keys, unique constraints and secondary indexes (keeping
   the primary keys), remembering their definitions: maintaining a B-tree per row costs
   far more than building it once from sorted data;
2. streams the rows with psycopg 3's ``cursor.copy()`` in PostgreSQL's text format, built
   in chunks of `CHUNK` rows from the numpy arrays of `bench/dataset_draw.py` (values
   converted in bulk, one ``write`` per chunk), with a tqdm progress bar on stderr;
3. restores the indexes and constraints from their definitions (each one a single pass;
   the foreign keys are validated by one join each), with a larger
   ``maintenance_work_mem`` for the build.

The rollups are then rebuilt by the portal's own `portal.rollups.rebuild_rollups` (one
``INSERT ... SELECT`` per grain) and, after the commit, `analyze` runs VACUUM (ANALYZE):
the planner's statistics and the visibility map (index-only scans). About 10 million
responses (13 million receipts) fit in memory as arrays (a few GB at the peak of the draw).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from dataset_draw import (
    CATEGORIES,
    RATING_COLUMNS,
    SOURCE,
    TOKEN_DAYS,
    UTC_OFFSET,
    Receipts,
    Responses,
)
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from tqdm import tqdm

from portal.models import Receipt, Response

CHUNK = 100_000
NULL = "\\N"
TABLES = ("receipts", "responses")


@dataclass(frozen=True, slots=True)
class Deferred:
    """An index or constraint dropped for the load, with the statement that restores it."""

    table: str
    name: str
    kind: str  # "foreign key", "unique", "index"
    restore: str


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _escape(value: str) -> str:
    # COPY's text format: backslash, tab and line ends must be escaped.
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _ints(values: np.ndarray) -> list[str]:
    """Integers as text; negative values (the arrays' "none") become NULL."""
    out: list[str] = list(map(str, values.tolist()))
    for i in np.flatnonzero(values < 0).tolist():
        out[i] = NULL
    return out


def _stamps(seconds: np.ndarray) -> list[str]:
    """UTC epoch seconds as ``timestamptz`` text; negative seconds become NULL."""
    texts = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s").tolist()
    out = [t + "+00" for t in texts]
    for i in np.flatnonzero(seconds < 0).tolist():
        out[i] = NULL
    return out


def _days(seconds: np.ndarray) -> list[str]:
    return np.datetime_as_string(((seconds + UTC_OFFSET) // 86400).astype("datetime64[D]")).tolist()


def _chunks(count: int) -> Iterator[tuple[int, int]]:
    for start in range(0, count, CHUNK):
        yield start, min(count, start + CHUNK)


def deferred_objects(session: Session) -> list[Deferred]:
    """The foreign keys, unique constraints and secondary indexes of the two tables."""
    rows = session.execute(
        text(
            "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE c.conrelid::regclass::text = ANY(:tables) "
            "AND c.contype IN ('f', 'u') ORDER BY c.contype"
        ),
        {"tables": list(TABLES)},
    ).all()
    found = [
        Deferred(
            table,
            name,
            "foreign key" if kind == "f" else "unique",
            f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}',
        )
        for table, name, kind, definition in rows
    ]
    indexes = session.execute(
        text(
            "SELECT i.indrelid::regclass::text, c.relname, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid::regclass::text = ANY(:tables) AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
        ),
        {"tables": list(TABLES)},
    ).all()
    found += [Deferred(table, name, "index", definition) for table, name, definition in indexes]
    return found


def _drop(session: Session, objects: Sequence[Deferred]) -> None:
    # Foreign keys first: a unique constraint may not go while a key depends on it.
    for item in sorted(objects, key=lambda o: ("foreign key", "unique", "index").index(o.kind)):
        if item.kind == "index":
            session.execute(text(f'DROP INDEX "{item.name}"'))
        else:
            session.execute(text(f'ALTER TABLE {item.table} DROP CONSTRAINT "{item.name}"'))


def _restore(session: Session, objects: Sequence[Deferred]) -> None:
    session.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
    order = ("unique", "index", "foreign key")
    for item in tqdm(
        sorted(objects, key=lambda o: order.index(o.kind)),
        desc="indexes and keys",
        unit="object",
        file=sys.stderr,
    ):
        session.execute(text(item.restore))


def _copy(session: Session, table: str, names: Sequence[str], total: int, rows: Any) -> None:
    """COPY ``table`` from ``rows``, an iterator of (row count, text chunk)."""
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with (
        cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy,
        tqdm(total=total, desc=table, unit="row", unit_scale=True, file=sys.stderr) as bar,
    ):
        for count, chunk in rows:
            copy.write(chunk)
            bar.update(count)


def _lines(columns: list[list[str]]) -> str:
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def _receipt_chunks(
    receipts: Receipts, answered_at: np.ndarray, staff_per_store: int, version_id: int
) -> Iterator[tuple[int, str]]:
    staff_ids = np.where(
        receipts.staff >= 0, receipts.store * staff_per_store + receipts.staff + 1, -1
    )
    for a, b in _chunks(len(receipts.issued)):
        issued = receipts.issued[a:b]
        issued_at = _stamps(issued)
        yield (
            b - a,
            _lines(
                [
                    list(map(str, range(a + 1, b + 1))),
                    [f"b{i:015d}" for i in range(a, b)],
                    [f"c{i:015d}" for i in range(a, b)],
                    _ints(receipts.store[a:b] + 1),
                    _ints(staff_ids[a:b]),
                    [f"T{i:011d}" for i in range(a, b)],
                    issued_at,
                    _days(issued),
                    _ints((issued + UTC_OFFSET) // 3600 % 24),
                    _stamps(issued + TOKEN_DAYS * 86400),
                    _ints(receipts.total_cents[a:b]),
                    [SOURCE] * (b - a),
                    [str(version_id)] * (b - a),
                    issued_at,
                    _stamps(answered_at[a:b]),
                ]
            ),
        )


RECEIPT_COLUMNS = (
    *("id", "token_id", "short_code", "store_id", "staff_id", "transaction_id", "issued_at"),
    *("local_day", "local_hour", "expires_at", "total_cents", "source", "survey_version_id"),
    *("created_at", "answered_at"),
)
RESPONSE_COLUMNS = (
    *("id", "receipt_id", "survey_version_id", "store_id", "staff_id", "submitted_at"),
    *("local_day", "locale", "nps", "csat", "problem_reported", "problem_category", "comment"),
    *("redeemed_at", "redeemed_by_user_id", "channel", "kiosk_id", "client_id"),
    *("entered_by_user_id", *RATING_COLUMNS),
)


def _response_chunks(
    responses: Responses, receipts: Receipts, version_id: int, staff_per_store: int
) -> Iterator[tuple[int, str]]:
    store = receipts.store[responses.receipt]
    staff = receipts.staff[responses.receipt]
    staff_ids = np.where(staff >= 0, store * staff_per_store + staff + 1, -1)
    categories = [NULL, *CATEGORIES]  # index + 1: -1 (no problem) becomes NULL
    comments: dict[str | None, str] = {None: NULL}
    for a, b in _chunks(len(responses.receipt)):
        submitted = responses.submitted[a:b]
        nulls = [NULL] * (b - a)
        columns = [
            list(map(str, range(a + 1, b + 1))),
            _ints(responses.receipt[a:b] + 1),
            [str(version_id)] * (b - a),
            _ints(store[a:b] + 1),
            _ints(staff_ids[a:b]),
            _stamps(submitted),
            _days(submitted),
            ["en" if e else "zh_CN" for e in responses.english[a:b].tolist()],
            _ints(responses.nps[a:b]),
            _ints(responses.csat[a:b]),
            ["t" if c >= 0 else "f" for c in responses.category[a:b].tolist()],
            [categories[c + 1] for c in responses.category[a:b].tolist()],
            [
                comments.get(c) or comments.setdefault(c, _escape(c or ""))
                for c in responses.comment[a:b]
            ],
            _stamps(responses.redeemed[a:b]),
            nulls,
            # One answer in eight through the typed code, as in the demo.
            ["code" if i % 8 == 0 else "receipt" for i in range(a, b)],
            nulls,
            nulls,
            nulls,
        ]
        # 0 is "not answered" in the drawn ratings.
        ratings = responses.ratings[a:b]
        columns += [_ints(np.where(ratings[:, k] > 0, ratings[:, k], -1)) for k in range(5)]
        yield b - a, _lines(columns)


def copy_rows(
    session: Session,
    receipts: Receipts,
    responses: Responses,
    answered_at: np.ndarray,
    staff_per_store: int,
    version_id: int,
) -> None:
    """Load the receipts and responses with COPY, their indexes and keys deferred to the end
    (see the module's docstring). Runs in the session's transaction."""
    for table, names in (
        (Receipt.__table__, RECEIPT_COLUMNS),
        (Response.__table__, RESPONSE_COLUMNS),
    ):
        missing = set(table.columns.keys()) - set(names)
        if missing:
            raise ValueError(f"{table.name}: no values for {sorted(missing)}")
    deferred = deferred_objects(session)
    _drop(session, deferred)
    log(f"  deferred {len(deferred)} indexes and constraints of receipts and responses")
    started = time.perf_counter()
    _copy(
        session,
        "receipts",
        RECEIPT_COLUMNS,
        len(receipts.issued),
        _receipt_chunks(receipts, answered_at, staff_per_store, version_id),
    )
    _copy(
        session,
        "responses",
        RESPONSE_COLUMNS,
        len(responses.receipt),
        _response_chunks(responses, receipts, version_id, staff_per_store),
    )
    log(f"  copied ({time.perf_counter() - started:.1f} s)")
    started = time.perf_counter()
    _restore(session, deferred)
    log(f"  indexes and keys restored ({time.perf_counter() - started:.1f} s)")


def analyze(engine: Engine, on: Callable[[str], None] = log) -> None:
    """VACUUM (ANALYZE) the whole database (after the build's commit): the planner's
    statistics, and the visibility map without which no index-only scan pays (a database
    that has served a while has both from autovacuum; one just loaded by COPY has neither,
    and its pages read several times slower than the portal's do in production)."""
    started = time.perf_counter()
    # VACUUM cannot run inside a transaction block.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE)"))
    on(f"  vacuumed and analyzed ({time.perf_counter() - started:.1f} s)")


def table_sizes(engine: Engine) -> list[tuple[str, int, int, int]]:
    """(table, rows estimated, table bytes, index bytes) of the largest tables."""
    with engine.connect() as conn:
        return [
            (name, int(rows), int(table), int(index))
            for name, rows, table, index in conn.execute(
                text(
                    "SELECT c.relname, c.reltuples, pg_table_size(c.oid), pg_indexes_size(c.oid) "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind = 'r' AND n.nspname = current_schema() "
                    "ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 12"
                )
            )
        ]
