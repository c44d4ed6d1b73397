"""The weekly figures alerts judge: per store and store-local week (Monday to Sunday), the
NPS, satisfaction and complaint-rate counts, read from the daily rollups and the cases.

Each metric that alerts know is described once here (`WEEKLY`): its figure in the metric's
display unit, and for the control charts the share it charts (detractors for NPS, the
answers below 4 for satisfaction, cases per receipt for the complaint rate), always a
share where higher is worse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.trends import week_start
from portal.calendar import Period, local_day, local_midnight, local_today, previous_month
from portal.dashboard.queries import week_index
from portal.models import Case, Metric, Store
from portal.models.rollups import StoreDailyRollup

#: Weeks before the judged one that form the control charts' baseline (at most).
BASELINE_WEEKS = 26
#: A control chart judges only with this many baseline weeks that had answers.
MIN_BASELINE_WEEKS = 12
#: Below this many answers (receipts, for the complaint rate) a week is not judged.
MIN_N = 30
MIN_RECEIPTS = 200


@dataclass(frozen=True, slots=True)
class WeekCounts:
    """One store's counts over one store-local week."""

    nps_n: int = 0
    detractors: int = 0
    promoters: int = 0
    csat_n: int = 0
    csat_top2: int = 0
    issued: int = 0
    cases: int = 0

    def __add__(self, other: WeekCounts) -> WeekCounts:
        return WeekCounts(*(a + b for a, b in zip(self._values(), other._values(), strict=True)))

    def _values(self) -> tuple[int, ...]:
        return (
            self.nps_n,
            self.detractors,
            self.promoters,
            self.csat_n,
            self.csat_top2,
            self.issued,
            self.cases,
        )


@dataclass(frozen=True, slots=True)
class WeeklyMetric:
    """How a metric reads a week: ``figure`` (value in the metric's unit, n) and ``share``
    (the count and n a control chart charts)."""

    figure: Callable[[WeekCounts], tuple[float | None, int]]
    share: Callable[[WeekCounts], tuple[int, int]]
    min_n: int


def _nps(w: WeekCounts) -> tuple[float | None, int]:
    if not w.nps_n:
        return None, 0
    return 100.0 * (w.promoters - w.detractors) / w.nps_n, w.nps_n


def _csat(w: WeekCounts) -> tuple[float | None, int]:
    return (100.0 * w.csat_top2 / w.csat_n if w.csat_n else None), w.csat_n


def _complaints(w: WeekCounts) -> tuple[float | None, int]:
    return (100.0 * w.cases / w.issued if w.issued else None), w.issued


WEEKLY: dict[Metric, WeeklyMetric] = {
    Metric.NPS: WeeklyMetric(_nps, lambda w: (w.detractors, w.nps_n), MIN_N),
    Metric.CSAT: WeeklyMetric(_csat, lambda w: (w.csat_n - w.csat_top2, w.csat_n), MIN_N),
    # A case opened by hand may have no receipt behind it: never more cases than receipts.
    Metric.COMPLAINT_RATE: WeeklyMetric(
        _complaints, lambda w: (min(w.cases, w.issued), w.issued), MIN_RECEIPTS
    ),
}


#: Metrics too sparse for a weekly figure (a store has a few cases and visits a week),
#: judged by threshold on the last complete month instead, with their minimum n (cases
#: whose outcome is known, or released visits).
MONTHLY_MIN_N: dict[Metric, int] = {
    Metric.FIRST_RESPONSE: 10,
    Metric.RECOVERY_RATE: 10,
    Metric.MYSTERY_SCORE: 2,
}


def last_complete_month(store: Store, now: datetime) -> tuple[date, date]:
    """The first and last day of the last month that is over on the store's own clock."""
    month = Period.of_month(previous_month(local_today(store.timezone, now)))
    return month.start, month.end


def last_complete_week(store: Store, now: datetime) -> date:
    """The Monday of the last week that is over on the store's own clock."""
    return week_start(local_today(store.timezone, now)) - timedelta(weeks=1)


def weekly_counts(
    session: Session, stores: Sequence[Store], first: date, last: date
) -> dict[int, dict[date, WeekCounts]]:
    """Per store, per week starting on a Monday from ``first`` to ``last`` (both
    Mondays): the week's counts; weeks without any row are absent."""
    if not stores:
        return {}
    ids = [s.id for s in stores]
    end = last + timedelta(days=6)
    r = StoreDailyRollup
    week = week_index(session, r.day, first)
    rows = session.execute(
        select(
            r.store_id,
            week,
            func.sum(sum(getattr(r, f"nps_{s}") for s in range(11))),
            func.sum(sum(getattr(r, f"nps_{s}") for s in range(7))),
            func.sum(r.nps_9 + r.nps_10),
            func.sum(r.csat_1 + r.csat_2 + r.csat_3 + r.csat_4 + r.csat_5),
            func.sum(r.csat_4 + r.csat_5),
            func.sum(r.issued),
        )
        .where(r.store_id.in_(ids), r.day >= first, r.day <= end)
        .group_by(r.store_id, week)
    ).all()
    out: dict[int, dict[date, WeekCounts]] = {}
    for store_id, index, *sums in rows:
        monday = first + timedelta(weeks=int(index))
        out.setdefault(store_id, {})[monday] = WeekCounts(*(int(v or 0) for v in sums))
    zones = {s.id: s.timezone for s in stores}
    # Cases are counted on the store's day they were opened: a day's margin each side of
    # the UTC range covers every zone.
    opened = session.execute(
        select(Case.store_id, Case.opened_at).where(
            Case.store_id.in_(ids),
            Case.opened_at >= local_midnight(first - timedelta(days=1)),
            Case.opened_at < local_midnight(end + timedelta(days=2)),
        )
    ).all()
    for store_id, at in opened:
        day = local_day(at, zones[store_id])
        if first <= day <= end:
            week = out.setdefault(store_id, {})
            key = week_start(day)
            week[key] = week.get(key, WeekCounts()) + WeekCounts(cases=1)
    return out
