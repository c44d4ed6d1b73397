"""Writing the synthetic chain's receipts and responses with ``executemany`` (SQLite, and the
custom answers on any database): see `Writer`. PostgreSQL's receipts and responses go
through COPY instead (`bench/dataset_pg.py`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from dataset_draw import (
    CATEGORIES,
    CHUNK,
    RATING_COLUMNS,
    SOURCE,
    TOKEN_DAYS,
    UTC_OFFSET,
    Receipts,
    Responses,
)
from sqlalchemy import Table
from sqlalchemy.orm import Session

from portal.models import Receipt, Response


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- writing them ---------------------------------------------------------------------------


class Writer:
    """Column-wise chunks of rows, executed as one driver ``executemany`` per chunk.

    The INSERT is the table's own columns; values are converted in bulk (numpy) to what
    the portal's column types would send: on SQLite, text in SQLAlchemy's storage format
    (``2026-11-22 08:15:00.000000`` for UTC datetimes, ``2026-11-22`` for dates), elsewhere
    aware datetimes and dates. This skips SQLAlchemy's per-value bind processing, which
    took most of the time; `check_round_trip` reads rows back through the ORM.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        self.marker = "?" if self.sqlite else "%s"

    def timestamps(self, seconds: np.ndarray) -> list[Any]:
        """UTC epoch seconds to column values; negative seconds become NULL."""
        missing = seconds < 0
        stamps = seconds.astype("datetime64[s]")
        if self.sqlite:
            values: list[Any] = [
                v.replace("T", " ") for v in np.datetime_as_string(stamps, unit="us").tolist()
            ]
        else:
            values = [v.replace(tzinfo=UTC) for v in stamps.astype("datetime64[us]").tolist()]
        if missing.any():
            for i in np.flatnonzero(missing).tolist():
                values[i] = None
        return values

    def local_days(self, seconds: np.ndarray) -> list[Any]:
        days = ((seconds + UTC_OFFSET) // 86400).astype("datetime64[D]")
        return np.datetime_as_string(days).tolist() if self.sqlite else days.tolist()

    def insert(self, table: Table, columns: dict[str, Sequence[Any]]) -> None:
        names = list(columns)
        missing = set(table.columns.keys()) - set(names)
        if missing:
            raise ValueError(f"{table.name}: no values for {sorted(missing)}")
        sql = (
            f"INSERT INTO {table.name} ({', '.join(names)}) "
            f"VALUES ({', '.join([self.marker] * len(names))})"
        )
        rows = list(zip(*columns.values(), strict=True))
        self.session.connection().exec_driver_sql(sql, rows)


def _chunks(count: int) -> Iterator[tuple[int, int]]:
    for start in range(0, count, CHUNK):
        yield start, min(count, start + CHUNK)


def _progress(label: str, done: int, total: int, started: float) -> None:
    if done == total or done % (CHUNK * 10) == 0:
        log(f"  {label}: {done:>9,} / {total:,}  ({time.perf_counter() - started:5.1f} s)")


def _nullable_ids(values: np.ndarray) -> list[int | None]:
    return [None if v < 0 else v for v in values.tolist()]


def insert_receipts(
    writer: Writer,
    receipts: Receipts,
    answered_at: np.ndarray,
    staff_per_store: int,
    version_id: int,
) -> None:
    table = Receipt.__table__
    total, started = len(receipts.issued), time.perf_counter()
    staff_ids = np.where(
        receipts.staff >= 0, receipts.store * staff_per_store + receipts.staff + 1, -1
    )
    for a, b in _chunks(total):
        issued = receipts.issued[a:b]
        issued_at = writer.timestamps(issued)
        writer.insert(
            table,
            {
                "id": range(a + 1, b + 1),
                "token_id": [f"b{i:015d}" for i in range(a, b)],
                "short_code": [f"c{i:015d}" for i in range(a, b)],
                "store_id": (receipts.store[a:b] + 1).tolist(),
                "staff_id": _nullable_ids(staff_ids[a:b]),
                "transaction_id": [f"T{i:011d}" for i in range(a, b)],
                "issued_at": issued_at,
                "local_day": writer.local_days(issued),
                "local_hour": ((issued + UTC_OFFSET) // 3600 % 24).tolist(),
                "expires_at": writer.timestamps(issued + TOKEN_DAYS * 86400),
                "total_cents": receipts.total_cents[a:b].tolist(),
                "source": [SOURCE] * (b - a),
                "survey_version_id": [version_id] * (b - a),
                "created_at": issued_at,
                "answered_at": writer.timestamps(answered_at[a:b]),
            },
        )
        _progress("receipts", b, total, started)


def insert_responses(
    writer: Writer,
    responses: Responses,
    receipts: Receipts,
    version_id: int,
    staff_per_store: int,
) -> None:
    table = Response.__table__
    total, started = len(responses.receipt), time.perf_counter()
    store = receipts.store[responses.receipt]
    staff = receipts.staff[responses.receipt]
    staff_ids = np.where(staff >= 0, store * staff_per_store + staff + 1, -1)
    categories = [None, *CATEGORIES]  # index + 1: -1 (no problem) becomes None
    for a, b in _chunks(total):
        submitted = responses.submitted[a:b]
        columns: dict[str, Sequence[Any]] = {
            "id": range(a + 1, b + 1),
            "receipt_id": (responses.receipt[a:b] + 1).tolist(),
            "survey_version_id": [version_id] * (b - a),
            "store_id": (store[a:b] + 1).tolist(),
            "staff_id": _nullable_ids(staff_ids[a:b]),
            "submitted_at": writer.timestamps(submitted),
            "local_day": writer.local_days(submitted),
            "locale": ["en" if e else "zh_CN" for e in responses.english[a:b].tolist()],
            "nps": responses.nps[a:b].tolist(),
            "csat": responses.csat[a:b].tolist(),
            "problem_reported": (responses.category[a:b] >= 0).tolist(),
            "problem_category": [categories[c + 1] for c in responses.category[a:b].tolist()],
            "comment": responses.comment[a:b],
            "redeemed_at": writer.timestamps(responses.redeemed[a:b]),
            "redeemed_by_user_id": [None] * (b - a),
            # One answer in eight through the typed code, as in the demo.
            "channel": ["code" if i % 8 == 0 else "receipt" for i in range(a, b)],
            "kiosk_id": [None] * (b - a),
            "client_id": [None] * (b - a),
            "entered_by_user_id": [None] * (b - a),
        }
        for column, key in enumerate(RATING_COLUMNS):
            columns[key] = [v or None for v in responses.ratings[a:b, column].tolist()]
        writer.insert(table, columns)
        _progress("responses", b, total, started)


def check_round_trip(session: Session, receipts: Receipts, responses: Responses) -> None:
    """Read the first and last rows back through the ORM: same times, days and ids."""
    for i in (0, len(receipts.issued) - 1):
        row = session.get(Receipt, i + 1)
        expected = datetime.fromtimestamp(int(receipts.issued[i]), UTC)
        local = expected + timedelta(seconds=UTC_OFFSET)
        if row is None or row.issued_at != expected:
            raise RuntimeError(f"receipt {i + 1} did not read back as written")
        if (row.local_day, row.local_hour) != (local.date(), local.hour):
            raise RuntimeError(f"receipt {i + 1}: wrong local day or hour")
    for i in (0, len(responses.receipt) - 1):
        answer = session.get(Response, i + 1)
        expected = datetime.fromtimestamp(int(responses.submitted[i]), UTC)
        if answer is None or answer.submitted_at != expected:
            raise RuntimeError(f"response {i + 1} did not read back as written")
        if answer.receipt_id != int(responses.receipt[i]) + 1 or answer.nps != int(
            responses.nps[i]
        ):
            raise RuntimeError(f"response {i + 1}: wrong receipt or score")
    session.expunge_all()
