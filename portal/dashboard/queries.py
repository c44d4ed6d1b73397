"""Reads for the dashboards. Scores come from the daily rollup (cost grows with days x
stores, not with responses); categories, drivers and the hourly funnel read the raw rows
of one store and one period through their indexes (comments: `portal.dashboard.comments`).

Every read of answers takes ``channels``: the answer channels to count (empty: every
channel), applied in SQL by `portal.channels.channel_condition`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    bindparam,
    case,
    cast,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from analysis.results import NpsCounts
from portal.access import scope_to_user
from portal.calendar import Period, month_start
from portal.channels import channel_condition
from portal.dashboard.month_spans import month_reading, split_by_months
from portal.models import (
    DailyRollup,
    Receipt,
    Response,
    Staff,
    StaffMonthlyRollup,
    Store,
    StoreDailyRollup,
    StoreMonthlyRollup,
    User,
)
from portal.models.rollups import CSAT_COLUMNS, NPS_COLUMNS, RATING_KEYS
from portal.rollups import COUNT_COLUMNS


@dataclass(frozen=True, slots=True)
class RatingMoments:
    key: str
    n: int
    total: int
    total_sq: int


@dataclass(frozen=True, slots=True)
class Totals:
    """Everything a rollup row counts, summed over some rows."""

    counts: tuple[int, ...] = field(default=(0,) * len(COUNT_COLUMNS))

    def __getitem__(self, name: str) -> int:
        return self.counts[COUNT_COLUMNS.index(name)]

    def __add__(self, other: Totals) -> Totals:
        return Totals(tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)))

    def __sub__(self, other: Totals) -> Totals:
        return Totals(tuple(a - b for a, b in zip(self.counts, other.counts, strict=True)))

    @property
    def responses(self) -> int:
        return self["responses"]

    @property
    def nps(self) -> NpsCounts:
        return NpsCounts.from_scores([self[f"nps_{s}"] for s in range(11)])

    @property
    def csat_top2(self) -> int:
        return self["csat_4"] + self["csat_5"]

    @property
    def csat_n(self) -> int:
        return sum(self[f"csat_{s}"] for s in range(1, 6))

    @property
    def scores(self) -> ScoreCounts:
        return ScoreCounts(tuple(self[name] for name in SCORE_COLUMNS))

    def rating(self, key: str) -> RatingMoments:
        return RatingMoments(key, self[f"{key}_n"], self[f"{key}_sum"], self[f"{key}_sumsq"])

    @property
    def ratings(self) -> tuple[RatingMoments, ...]:
        return tuple(self.rating(key) for key in RATING_KEYS)


#: The counts NPS and CSAT are computed from.
SCORE_COLUMNS = (*NPS_COLUMNS, *CSAT_COLUMNS)


@dataclass(frozen=True, slots=True)
class ScoreCounts:
    """The NPS and CSAT counts alone (`SCORE_COLUMNS`): what a comparison with the rest of
    the chain needs, summed from 16 of the rollup's columns instead of all of them."""

    counts: tuple[int, ...] = field(default=(0,) * len(SCORE_COLUMNS))

    def __sub__(self, other: ScoreCounts) -> ScoreCounts:
        return ScoreCounts(tuple(a - b for a, b in zip(self.counts, other.counts, strict=True)))

    @property
    def nps(self) -> NpsCounts:
        return NpsCounts.from_scores(list(self.counts[:11]))

    @property
    def csat_top2(self) -> int:
        return self.counts[-2] + self.counts[-1]

    @property
    def csat_n(self) -> int:
        return sum(self.counts[11:])


def _sums(model: type[Any] = DailyRollup, columns: Sequence[str] = COUNT_COLUMNS) -> list[Any]:
    return [func.coalesce(func.sum(getattr(model, c)), 0) for c in columns]


def _totals(row: Sequence[Any]) -> Totals:
    return Totals(tuple(int(v or 0) for v in row))


#: Which rollup tables serve a read: the daily grain (a ``day`` column) for the days at
#: either end, the monthly one (a ``month`` column) for the whole months in between.
STORE_GRAINS: tuple[type[Any], type[Any]] = (StoreDailyRollup, StoreMonthlyRollup)
STAFF_GRAINS: tuple[type[Any], type[Any]] = (DailyRollup, StaffMonthlyRollup)


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a period read's statement depends on; its days and store ids are parameters,
    so that the statement is built once per shape (`_statement`)."""

    keys: tuple[str, ...]
    columns: tuple[str, ...]
    grains: tuple[type[Any], type[Any]]
    added: int
    months: bool
    removed: int
    by_store: bool
    channels: tuple[str, ...]


def _part(
    shape: _Shape, model: type[Any], date_column: str, name: str, sign: int = 1
) -> Select[Any]:
    when = getattr(model, date_column)
    sums = _sums(model, shape.columns)
    part = (
        select(*(getattr(model, k) for k in shape.keys), *(s if sign > 0 else -s for s in sums))
        .where(
            when >= bindparam(f"{name}_start", type_=Date),
            when <= bindparam(f"{name}_end", type_=Date),
            channel_condition(model.channel, shape.channels),
        )
        .group_by(*(getattr(model, k) for k in shape.keys))
    )
    if not shape.by_store:
        return part
    return part.where(model.store_id.in_(bindparam("store_ids", expanding=True)))


@lru_cache(maxsize=128)
def _statement(shape: _Shape) -> Select[Any]:
    """The sums of ``shape.columns`` per ``shape.keys`` group (without keys: one row of
    totals), from the edge days' parts and the whole months' part.

    Cached: a statement of 66 summed columns over three parts costs about 10 ms of Python
    to build and as much again for SQLAlchemy's cache key on each new object; the same
    object's key is kept. Only the statement is kept, never a figure.
    """
    daily, monthly = shape.grains
    parts = [_part(shape, daily, "day", f"added{i}") for i in range(shape.added)]
    if shape.months:
        parts.append(_part(shape, monthly, "month", "months"))
    parts += [_part(shape, daily, "day", f"removed{i}", -1) for i in range(shape.removed)]
    union = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    parted = list(union.c)
    keys, counts = parted[: len(shape.keys)], parted[len(shape.keys) :]
    if not keys:
        return select(*(func.coalesce(func.sum(c), 0) for c in counts))
    grouped = select(*keys, *(func.sum(c) for c in counts)).group_by(*keys)
    if not shape.removed:
        return grouped
    # A group whose only rows lie on removed days nets to zero: leave it out, as a read of
    # the period's days would. Every rollup row counts something (an issued receipt, an
    # answer), so a group with rows in the period has a count other than zero.
    return grouped.having(or_(*(func.sum(c) != 0 for c in counts)))


def _period_read(
    period: Period,
    *keys: str,
    store_ids: Iterable[int] | None = None,
    channels: Sequence[str] = (),
    columns: Sequence[str] = COUNT_COLUMNS,
    grains: tuple[type[Any], type[Any]] = STORE_GRAINS,
) -> tuple[Select[Any], dict[str, Any]]:
    """The statement and its parameters for the period's counts of ``channels`` (empty:
    every channel) in ``columns``: one row per ``keys`` group (``store_id``,
    ``staff_key``, ``channel``), or one row of totals without keys; read from ``grains``
    (daily, monthly) as `month_reading` says.

    The store and channel filters go into each part, where the primary keys can serve them.
    """
    reading = month_reading(period)
    shape = _Shape(
        keys=keys,
        columns=tuple(columns),
        grains=grains,
        added=len(reading.added),
        months=reading.months is not None,
        removed=len(reading.removed),
        by_store=store_ids is not None,
        channels=tuple(str(c) for c in channels),
    )
    params: dict[str, Any] = {}
    for i, span in enumerate(reading.added):
        params |= {f"added{i}_start": span.start, f"added{i}_end": span.end}
    if reading.months is not None:
        params |= {"months_start": reading.months.start, "months_end": reading.months.end}
    for i, span in enumerate(reading.removed):
        params |= {f"removed{i}_start": span.start, f"removed{i}_end": span.end}
    if store_ids is not None:
        params["store_ids"] = list(store_ids)
    return _statement(shape), params


def totals(
    session: Session,
    store_ids: Iterable[int] | None,
    period: Period,
    channels: Sequence[str] = (),
) -> Totals:
    """Summed rollups of some stores (``None``: every store) over a period."""
    stmt, params = _period_read(period, store_ids=store_ids, channels=channels)
    return _totals(session.execute(stmt, params).one())


def score_counts(
    session: Session,
    store_ids: Iterable[int] | None,
    period: Period,
    channels: Sequence[str] = (),
) -> ScoreCounts:
    """`totals`' NPS and CSAT counts alone, read from those columns only."""
    stmt, params = _period_read(
        period, store_ids=store_ids, channels=channels, columns=SCORE_COLUMNS
    )
    return ScoreCounts(tuple(int(v or 0) for v in session.execute(stmt, params).one()))


def totals_by_channel(
    session: Session,
    store_ids: Iterable[int] | None,
    period: Period,
    channels: Sequence[str] = (),
) -> dict[str, Totals]:
    """Summed rollups of some stores over a period, per channel (channels without rows
    are absent): one GROUP BY channel."""
    stmt, params = _period_read(period, "channel", store_ids=store_ids, channels=channels)
    return {row[0]: _totals(row[1:]) for row in session.execute(stmt, params).all()}


def totals_by_store(
    session: Session,
    user: User,
    period: Period,
    region: str | None = None,
    channels: Sequence[str] = (),
) -> list[tuple[Store, Totals]]:
    """Every store ``user`` may see (optionally of one region), with its totals."""
    sums, params = _period_read(period, "store_id", channels=channels)
    rows = sums.subquery()
    stmt = select(Store, *list(rows.c)[1:]).outerjoin(rows, rows.c.store_id == Store.id)
    if region:
        stmt = stmt.where(Store.region == region)
    stmt = scope_to_user(stmt.order_by(Store.region, Store.code), user, Store.id)
    return [(row[0], _totals(row[1:])) for row in session.execute(stmt, params).all()]


def totals_by_store_and_channel(
    session: Session,
    user: User,
    period: Period,
    region: str | None = None,
    channels: Sequence[str] = (),
) -> list[tuple[Store, dict[str, Totals]]]:
    """Every store ``user`` may see (optionally of one region), with its totals per
    channel (empty for a store without answers or receipts)."""
    sums, params = _period_read(period, "store_id", "channel", channels=channels)
    rows = sums.subquery()
    stmt = select(Store, *list(rows.c)[1:]).outerjoin(rows, rows.c.store_id == Store.id)
    if region:
        stmt = stmt.where(Store.region == region)
    stmt = scope_to_user(stmt.order_by(Store.region, Store.code, Store.id), user, Store.id)
    found: dict[int, tuple[Store, dict[str, Totals]]] = {}
    for row in session.execute(stmt, params).all():
        store, channel = row[0], row[1]
        per_channel = found.setdefault(store.id, (store, {}))[1]
        if channel is not None:
            per_channel[channel] = _totals(row[2:])
    return list(found.values())


def totals_by_day(
    session: Session,
    store_ids: Iterable[int] | None,
    period: Period,
    channels: Sequence[str] = (),
) -> list[tuple[date, Totals]]:
    """Daily totals (days without rows are absent); callers bucket them into weeks."""
    stmt = (
        select(StoreDailyRollup.day, *_sums(StoreDailyRollup))
        .where(
            StoreDailyRollup.day >= period.start,
            StoreDailyRollup.day <= period.end,
            channel_condition(StoreDailyRollup.channel, channels),
        )
        .group_by(StoreDailyRollup.day)
        .order_by(StoreDailyRollup.day)
    )
    if store_ids is not None:
        stmt = stmt.where(StoreDailyRollup.store_id.in_(list(store_ids)))
    return [(row[0], _totals(row[1:])) for row in session.execute(stmt).all()]


def totals_by_month(
    session: Session,
    store_ids: Iterable[int] | None,
    period: Period,
    channels: Sequence[str] = (),
) -> list[tuple[date, Totals]]:
    """Monthly totals; the partial months at either end come from the daily rollup."""
    edges, months = split_by_months(period)
    result: dict[date, Totals] = {}
    if months is not None:
        stmt = (
            select(StoreMonthlyRollup.month, *_sums(StoreMonthlyRollup))
            .where(
                StoreMonthlyRollup.month >= months.start,
                StoreMonthlyRollup.month <= months.end,
                channel_condition(StoreMonthlyRollup.channel, channels),
            )
            .group_by(StoreMonthlyRollup.month)
        )
        if store_ids is not None:
            stmt = stmt.where(StoreMonthlyRollup.store_id.in_(list(store_ids)))
        for row in session.execute(stmt).all():
            result[row[0]] = _totals(row[1:])
    for edge in edges:
        for day, day_totals in totals_by_day(session, store_ids, edge, channels):
            month = month_start(day)
            result[month] = result.get(month, Totals()) + day_totals
    return sorted(result.items())


def weekly_detractors_by_store(
    session: Session, user: User, period: Period, channels: Sequence[str] = ()
) -> dict[int, list[tuple[date, int, int]]]:
    """Per visible store, per week of the period: (week start, detractors, responses).

    ``period.start`` must be a Monday; weeks are grouped in SQL so that the chain page
    reads stores x weeks rows, not stores x days.
    """
    detractors = sum(getattr(StoreDailyRollup, f"nps_{s}") for s in range(7))
    week = week_index(session, StoreDailyRollup.day, period.start)
    stmt = (
        select(
            StoreDailyRollup.store_id,
            week,
            func.sum(detractors),
            func.sum(StoreDailyRollup.responses),
        )
        .where(
            StoreDailyRollup.day >= period.start,
            StoreDailyRollup.day <= period.end,
            channel_condition(StoreDailyRollup.channel, channels),
        )
        .group_by(StoreDailyRollup.store_id, week)
    )
    stmt = scope_to_user(stmt, user, StoreDailyRollup.store_id)
    result: dict[int, list[tuple[date, int, int]]] = {}
    for store_id, index, d, n in session.execute(stmt).all():
        start = period.start + timedelta(weeks=int(index))
        result.setdefault(store_id, []).append((start, int(d or 0), int(n or 0)))
    return result


def week_index(session: Session, day: Any, monday: date) -> Any:
    """Whole weeks from ``monday`` to ``day``, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return ((day - monday) / 7).label("week")
    return cast((func.julianday(day) - func.julianday(monday.isoformat())) / 7, Integer).label(
        "week"
    )


@dataclass(frozen=True, slots=True)
class StaffTotals:
    staff_id: int | None
    code: str
    name: str
    totals: Totals


def totals_by_staff(
    session: Session, store_id: int, period: Period, channels: Sequence[str] = ()
) -> list[StaffTotals]:
    """Per staff member of a store (and the batch cards, staff 0): the staff months of the
    period's whole months plus the staff days at either end."""
    stmt, params = _period_read(
        period, "staff_key", store_ids=[store_id], channels=channels, grains=STAFF_GRAINS
    )
    names = {s.id: s for s in session.scalars(select(Staff).where(Staff.store_id == store_id))}
    found = []
    for row in session.execute(stmt, params).all():
        staff = names.get(row[0])
        found.append(
            StaffTotals(
                staff_id=row[0] or None,
                code=staff.code if staff else "—",
                name=staff.name if staff else "",
                totals=_totals(row[1:]),
            )
        )
    return sorted(found, key=lambda s: (s.code, s.staff_id or 0))


def issued(session: Session, store_ids: Iterable[int], period: Period) -> int:
    """Receipts issued by some stores over a period (every channel: the funnel's counts
    are kept under one), from the ``issued`` column of the store months and days alone."""
    stmt, params = _period_read(period, store_ids=store_ids, columns=("issued",))
    return int(session.execute(stmt, params).scalar() or 0)


# --- raw rows of one store and one period ------------------------------------------------


def category_counts(
    session: Session, store_id: int, period: Period, channels: Sequence[str] = ()
) -> dict[str, int]:
    stmt = (
        select(Response.problem_category, func.count())
        .where(
            Response.store_id == store_id,
            Response.local_day >= period.start,
            Response.local_day <= period.end,
            Response.problem_category.is_not(None),
            channel_condition(Response.channel, channels),
        )
        .group_by(Response.problem_category)
    )
    return {key: int(n) for key, n in session.execute(stmt).all()}


def submitted_near(period: Period) -> tuple[Any, ...]:
    """UTC bounds on ``submitted_at`` a day wider than the period's store-local days (no
    zone is a day off UTC): they leave the rows alone and let the ``(store_id,
    submitted_at)`` index serve a newest-first read of a store's period."""
    low = datetime.combine(period.start - timedelta(days=1), time(), tzinfo=UTC)
    high = datetime.combine(period.end + timedelta(days=2), time(), tzinfo=UTC)
    return (Response.submitted_at >= low, Response.submitted_at < high)


#: The key-driver analysis reads at most this many of the newest answers of the period.
DRIVER_SAMPLE = 5000


def driver_rows(
    session: Session, store_id: int, period: Period, channels: Sequence[str] = ()
) -> list[tuple[Any, ...]]:
    """(nps, rating_friendliness, ..., rating_knowledge) of the period's newest answers."""
    columns = [Response.nps, *(getattr(Response, f"rating_{k}") for k in RATING_KEYS)]
    stmt = (
        select(*columns)
        .where(
            Response.store_id == store_id,
            Response.local_day >= period.start,
            Response.local_day <= period.end,
            channel_condition(Response.channel, channels),
            *submitted_near(period),
        )
        .order_by(Response.submitted_at.desc(), Response.id.desc())
        .limit(DRIVER_SAMPLE)
    )
    return [tuple(row) for row in session.execute(stmt).all()]


#: Day parts on the store's clock: (key, first hour, last hour).
DAY_PARTS = (("morning", 0, 10), ("midday", 11, 13), ("afternoon", 14, 17), ("evening", 18, 23))


def funnel_by_day_part(
    session: Session, store: Store, period: Period
) -> list[tuple[str, int, int]]:
    """(day part, receipts issued, of which answered) for a store's period, counted from
    the ``(store_id, local_day, local_hour, answered_at)`` index alone."""
    part = case(
        *((Receipt.local_hour <= last, key) for key, _first, last in DAY_PARTS[:-1]),
        else_=DAY_PARTS[-1][0],
    )
    stmt = (
        select(part, func.count(), func.count(Receipt.answered_at))
        .where(
            Receipt.store_id == store.id,
            Receipt.local_day >= period.start,
            Receipt.local_day <= period.end,
        )
        .group_by(part)
    )
    found = {key: (int(n), int(a)) for key, n, a in session.execute(stmt).all()}
    return [(key, *found.get(key, (0, 0))) for key, _f, _l in DAY_PARTS]


def visible_store(session: Session, user: User, code: str) -> Store | None:
    """The store with this code if ``user`` may see it (one answer for absent and hidden)."""
    stmt = scope_to_user(select(Store).where(Store.code == code), user, Store.id)
    store: Store | None = session.scalar(stmt)
    return store


def visible_store_ids_in(session: Session, user: User, region: str | None) -> list[int]:
    stmt = select(Store.id)
    if region:
        stmt = stmt.where(Store.region == region)
    return list(session.scalars(scope_to_user(stmt, user, Store.id)))


def regions(session: Session, user: User) -> list[str]:
    stmt = scope_to_user(select(Store.region).distinct(), user, Store.id)
    return sorted(r for r in session.scalars(stmt) if r)
