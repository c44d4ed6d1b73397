"""Keeping the daily rollup table true: incremented in the same transaction as each receipt
and response, and rebuilt from the raw rows by one INSERT ... SELECT (``rebuild-rollups``).

Increments are single upserts (``INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x``),
so concurrent writers never lose a count on SQLite or PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Table,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.calendar import month_start
from portal.db import precompiled
from portal.models import (
    Channel,
    DailyRollup,
    Receipt,
    Response,
    StaffMonthlyRollup,
    StoreDailyRollup,
    StoreMonthlyRollup,
)
from portal.models.rollups import CSAT_COLUMNS, NPS_COLUMNS, RATING_KEYS
from portal.question_rollups import rebuild_question_counts

_KEY = ("store_id", "staff_key", "day", "channel")
COUNT_COLUMNS = tuple(c.name for c in DailyRollup.__table__.columns if c.name not in _KEY)
#: The receipt funnel (issued, and answered through any channel) is counted here.
FUNNEL_CHANNEL = Channel.RECEIPT.value


@lru_cache(maxsize=16)
def _upsert_statement(dialect: str, model: Any, key: tuple[str, ...]) -> Any:
    """One statement per grain and dialect, the same shape for every increment: every
    counted column is added (most by 0). Compiled once (`portal.db.precompiled`): SQLAlchemy
    cannot cache an ``ON CONFLICT`` construct and would compile it on every increment."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # The table, not the mapped class: a plain Core statement skips the ORM's bulk path.
    columns = model.__table__.c
    values: dict[str, Any] = {
        name: bindparam(name, type_=columns[name].type) for name in (*key, *COUNT_COLUMNS)
    }
    if "changes" in columns:  # the staff month counts its writes (portal.hr.fingerprints)
        values["changes"] = literal_column("1")
    stmt = insert(model.__table__).values(values)
    updates = {name: columns[name] + stmt.excluded[name] for name in COUNT_COLUMNS}
    if "changes" in columns:
        updates["changes"] = columns["changes"] + literal_column("1")
    stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=updates)
    return precompiled(stmt, dialect)


def _upsert(session: Session, model: Any, key: dict[str, Any], increments: dict[str, int]) -> None:
    stmt = _upsert_statement(session.get_bind().dialect.name, model, tuple(key))
    session.connection().execute(
        stmt, {**key, **{name: increments.get(name, 0) for name in COUNT_COLUMNS}}
    )


def _count(
    session: Session,
    store_id: int,
    staff_key: int,
    day: date,
    channel: str,
    increments: dict[str, int],
) -> None:
    """Add ``increments`` to the staff-day, staff-month, store-day and store-month rows of
    ``day`` and ``channel``."""
    _upsert(
        session,
        DailyRollup,
        {"store_id": store_id, "staff_key": staff_key, "day": day, "channel": channel},
        increments,
    )
    # The staff month is its own upsert (not summed from the days when read): the monthly
    # ranking and a 12-month trend read 4,000 rows a month instead of 120,000.
    _upsert(
        session,
        StaffMonthlyRollup,
        {
            "store_id": store_id,
            "staff_key": staff_key,
            "month": month_start(day),
            "channel": channel,
        },
        increments,
    )
    _upsert(
        session,
        StoreDailyRollup,
        {"store_id": store_id, "day": day, "channel": channel},
        increments,
    )
    _upsert(
        session,
        StoreMonthlyRollup,
        {"store_id": store_id, "month": month_start(day), "channel": channel},
        increments,
    )


def count_receipt(session: Session, receipt: Receipt) -> None:
    """Add one issued receipt to its rollup rows (under the funnel's channel)."""
    _count(
        session,
        receipt.store_id,
        receipt.staff_id or 0,
        receipt.local_day,
        FUNNEL_CHANNEL,
        {"issued": 1},
    )


def response_increments(response: Response) -> dict[str, int]:
    """What one response adds to the rollup row of its day and channel."""
    increments = {
        "responses": 1,
        "problems": int(response.problem_reported),
        f"nps_{response.nps}": 1,
        f"csat_{response.csat}": 1,
    }
    for key in RATING_KEYS:
        value = getattr(response, f"rating_{key}")
        if value is not None:
            increments |= {f"{key}_n": 1, f"{key}_sum": value, f"{key}_sumsq": value * value}
    return increments


def count_correction(session: Session, response: Response, before: dict[str, int]) -> None:
    """Move a corrected response's counts: ``before`` (`response_increments` of its answers
    before the correction) out of its day's rows, its answers now in, in one upsert per
    grain. Its day, channel, store and staff member stay, and so does the receipt funnel."""
    after = response_increments(response)
    change = {name: after.get(name, 0) - before.get(name, 0) for name in {*before, *after}}
    _count(
        session,
        response.store_id,
        response.staff_id or 0,
        response.local_day,
        response.channel,
        {name: n for name, n in change.items() if n},
    )


def count_response(session: Session, response: Response, receipt: Receipt | None) -> None:
    """Add one response: to the day it was given under its channel, and, when it answered a
    receipt, as "answered" to the receipt's day under the funnel's channel."""
    increments = response_increments(response)
    staff_key = response.staff_id or 0
    channel = response.channel
    if receipt is not None and (receipt.local_day, FUNNEL_CHANNEL) == (
        response.local_day,
        channel,
    ):
        # The usual case: a receipt answered the same day, one set of upserts.
        _count(
            session,
            response.store_id,
            staff_key,
            response.local_day,
            channel,
            increments | {"issued_answered": 1},
        )
        return
    _count(session, response.store_id, staff_key, response.local_day, channel, increments)
    if receipt is not None:
        _count(
            session,
            receipt.store_id,
            staff_key,
            receipt.local_day,
            FUNNEL_CHANNEL,
            {"issued_answered": 1},
        )


def _sums_from_responses() -> Any:
    r = Response
    columns: list[Any] = [
        r.store_id.label("store_id"),
        func.coalesce(r.staff_id, literal_column("0")).label("staff_key"),
        r.local_day.label("day"),
        r.channel.label("channel"),
        literal(0).label("issued"),
        literal(0).label("issued_answered"),
        func.count().label("responses"),
        func.sum(case((r.problem_reported, 1), else_=0)).label("problems"),
    ]
    columns += [
        func.sum(case((r.nps == score, 1), else_=0)).label(name)
        for score, name in enumerate(NPS_COLUMNS)
    ]
    columns += [
        func.sum(case((r.csat == score, 1), else_=0)).label(name)
        for score, name in enumerate(CSAT_COLUMNS, start=1)
    ]
    for key in RATING_KEYS:
        rating = getattr(r, f"rating_{key}")
        columns += [
            func.count(rating).label(f"{key}_n"),
            func.coalesce(func.sum(rating), 0).label(f"{key}_sum"),
            func.coalesce(func.sum(rating * rating), 0).label(f"{key}_sumsq"),
        ]
    return select(*columns).group_by(
        r.store_id, func.coalesce(r.staff_id, literal_column("0")), r.local_day, r.channel
    )


def _sums_from_receipts() -> Any:
    columns: list[Any] = [
        Receipt.store_id.label("store_id"),
        func.coalesce(Receipt.staff_id, literal_column("0")).label("staff_key"),
        Receipt.local_day.label("day"),
        literal(FUNNEL_CHANNEL).label("channel"),
        func.count().label("issued"),
        func.count(Receipt.answered_at).label("issued_answered"),
    ]
    columns += [literal(0).label(name) for name in COUNT_COLUMNS[2:]]
    return select(*columns).group_by(
        Receipt.store_id, func.coalesce(Receipt.staff_id, literal_column("0")), Receipt.local_day
    )


def rebuild_rollups(session: Session, store_ids: Iterable[int] | None = None) -> int:
    """Recompute the rollup rows (of ``store_ids``, or all) from receipts and responses, and
    the daily counts of custom questions from their answers
    (`portal.question_rollups.rebuild_question_counts`).

    Returns the number of staff-day rollup rows written.
    """
    ids = None if store_ids is None else list(store_ids)
    responses, receipts = _sums_from_responses(), _sums_from_receipts()
    if ids is not None:
        responses = responses.where(Response.store_id.in_(ids))
        receipts = receipts.where(Receipt.store_id.in_(ids))
    for model in (DailyRollup, StoreDailyRollup):
        clear = delete(model)
        if ids is not None:
            clear = clear.where(model.store_id.in_(ids))
        session.execute(clear)
    both = union_all(receipts, responses).subquery()
    # Receipt counts and response counts of one store-staff-day-channel land in one row.
    merged = select(
        both.c.store_id,
        both.c.staff_key,
        both.c.day,
        both.c.channel,
        *(cast(func.sum(both.c[name]), Integer).label(name) for name in COUNT_COLUMNS),
    ).group_by(both.c.store_id, both.c.staff_key, both.c.day, both.c.channel)
    _insert_from(session, DailyRollup, [*_KEY, *COUNT_COLUMNS], merged)
    # The coarser grains are sums of the finest one.
    staff_days = select(
        DailyRollup.store_id, DailyRollup.day, DailyRollup.channel, *_summed(DailyRollup)
    ).group_by(DailyRollup.store_id, DailyRollup.day, DailyRollup.channel)
    if ids is not None:
        staff_days = staff_days.where(DailyRollup.store_id.in_(ids))
    _insert_from(
        session, StoreDailyRollup, ["store_id", "day", "channel", *COUNT_COLUMNS], staff_days
    )
    sum_staff_months(session, ids)
    sum_store_months(session, ids)
    rebuild_question_counts(session, ids)
    # Count afterwards: drivers disagree on rowcount for INSERT ... SELECT (psycopg: -1).
    written = select(func.count()).select_from(DailyRollup)
    if ids is not None:
        written = written.where(DailyRollup.store_id.in_(ids))
    return int(session.scalar(written) or 0)


def sum_staff_months(session: Session, store_ids: Iterable[int] | None = None) -> None:
    """Replace the staff-month rows (of ``store_ids``, or all) by the sums of the staff-day
    rows, by one INSERT ... SELECT: for ``rebuild-rollups``, and for data written straight
    into ``daily_rollups`` (the bench's and the tests' worlds)."""
    ids = None if store_ids is None else list(store_ids)
    # The rows written here count as one more write than any row had: every month they
    # touch gets a new fingerprint (portal.hr.fingerprints), even with equal sums.
    written = (session.scalar(select(func.max(StaffMonthlyRollup.changes))) or 0) + 1
    clear = delete(StaffMonthlyRollup)
    if ids is not None:
        clear = clear.where(StaffMonthlyRollup.store_id.in_(ids))
    session.execute(clear)
    _insert_staff_months(session, ids, written)


def sum_store_months(session: Session, store_ids: Iterable[int] | None = None) -> None:
    """Replace the store-month rows (of ``store_ids``, or all) by the sums of the store-day
    rows: for ``rebuild-rollups``, and for tests' worlds written straight into
    ``store_daily_rollups`` (period reads subtract days from months, so the two grains
    must agree)."""
    ids = None if store_ids is None else list(store_ids)
    clear = delete(StoreMonthlyRollup)
    if ids is not None:
        clear = clear.where(StoreMonthlyRollup.store_id.in_(ids))
    session.execute(clear)
    month = _month_expression(session, StoreDailyRollup.day)
    sums = select(
        StoreDailyRollup.store_id, month, StoreDailyRollup.channel, *_summed(StoreDailyRollup)
    ).group_by(StoreDailyRollup.store_id, month, StoreDailyRollup.channel)
    if ids is not None:
        sums = sums.where(StoreDailyRollup.store_id.in_(ids))
    columns = ["store_id", "month", "channel", *COUNT_COLUMNS]
    _insert_from(session, StoreMonthlyRollup, columns, sums)


def _insert_staff_months(session: Session, ids: list[int] | None, written: int) -> None:
    month = _month_expression(session, DailyRollup.day)
    day = DailyRollup
    changes = literal(written, Integer).label("changes")
    sums = select(day.store_id, day.staff_key, month, day.channel, changes, *_summed(day)).group_by(
        day.store_id, day.staff_key, month, day.channel
    )
    if ids is not None:
        sums = sums.where(day.store_id.in_(ids))
    columns = ["store_id", "staff_key", "month", "channel", "changes", *COUNT_COLUMNS]
    _insert_from(session, StaffMonthlyRollup, columns, sums)


def _summed(model: type[Any]) -> list[Any]:
    return [cast(func.sum(getattr(model, name)), Integer).label(name) for name in COUNT_COLUMNS]


def _insert_from(session: Session, model: type[Any], columns: list[str], query: Any) -> None:
    table = model.__table__
    assert isinstance(table, Table)
    session.execute(table.insert().from_select(columns, query))


def _month_expression(session: Session, day: Any) -> Any:
    """The first day of ``day``'s month, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", day), Date).label("month")
    return func.date(day, "start of month").label("month")
