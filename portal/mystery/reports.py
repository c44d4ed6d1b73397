"""Reads for the mystery-shop reports: a store's score trend and touchpoints set beside its
customer NPS and CSAT, the chain's touchpoint x store grid, and shopper reliability.

Only released reports (released, disputed, final) count in any figure. Means come from
count, sum and sum of squares computed in SQL (``GROUP BY``), so a page costs a few rows
per store and month, not one per visit; section scores are read from each visit's stored
``section_scores``. The one exception is shopper reliability, whose test needs each visit's
own deviation: it reads (shopper, store, score) of the period's released visits, three
numbers a visit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, extract, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from analysis.csat import csat_interval
from analysis.means import mean_interval
from analysis.mystery import (
    Correlation,
    ShopperReliability,
    ShopperScore,
    mystery_customer_correlation,
    shopper_reliability,
)
from analysis.nps import nps_interval
from analysis.results import Estimate
from portal.access import scope_to_user
from portal.calendar import Period, month_key, months_between, months_ending
from portal.dashboard.queries import totals_by_month
from portal.errors import DomainError
from portal.models import RELEASED_STATES, MysteryVisit, Store, SurveyVersion, User
from portal.mystery.visits import checklist_for_version
from surveys.definitions import LocalizedText
from surveys.strict import NotANumber, parse_int

#: Below this many released visits a mean is greyed and not compared (our choice: visits
#: are few and costly, so the bar is lower than the 30 answers of the customer figures).
MIN_VISITS = 3
#: A correlation over fewer months than this is not shown as a finding.
MIN_MONTHS = 4
#: Months a report may cover, ending with the current month.
MONTH_CHOICES = (6, 12)
DEFAULT_MONTHS = 12
#: Shopper reliability tests a shopper with at least this many comparable visits.
MIN_COMPARED_VISITS = 3


class InvalidMonths(DomainError):
    status = 400
    code = "invalid_period"
    message = _l("Choose 6 or 12 months.")


def parse_months(value: str | None) -> int:
    """``?months=`` as one of MONTH_CHOICES (the default when absent)."""
    if value is None or value == "":
        return DEFAULT_MONTHS
    try:
        months = parse_int(value)
    except NotANumber:
        raise InvalidMonths() from None
    if months not in MONTH_CHOICES:
        raise InvalidMonths()
    return months


def month_period(months: int, today: date) -> Period:
    """The last ``months`` calendar months, the current one (up to today) included."""
    return Period(months_ending(today, months)[0], today)


def month_labels(period: Period) -> list[str]:
    """``"2026-11"`` for every month the period touches, oldest first."""
    return [month_key(month) for month in months_between(period.start, period.end)]


# -- building blocks ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Moments:
    """Count, sum and sum of squares of some scores: enough for a mean and its t interval."""

    n: int = 0
    total: float = 0.0
    total_sq: float = 0.0

    def __add__(self, other: Moments) -> Moments:
        return Moments(self.n + other.n, self.total + other.total, self.total_sq + other.total_sq)

    @property
    def estimate(self) -> Estimate:
        """The mean with its t interval, clipped to the 0-100 scale scores live on (with
        two or three visits the interval is wide, and "40 - 120" helps nobody)."""
        est = mean_interval(self.n, self.total, max(0.0, self.total_sq))
        if est.low is None or est.high is None:
            return est
        return Estimate(est.value, max(0.0, est.low), min(100.0, est.high), est.n)


def _moment_columns(
    value: ColumnElement[Any] | InstrumentedAttribute[Any],
) -> list[ColumnElement[Any]]:
    # count() skips NULLs: a wholly N/A section, or a visit without a score, is no data.
    return [func.count(value), func.sum(value), func.sum(value * value)]


def _moments(row: Sequence[Any]) -> Moments:
    n, total, total_sq = row
    return Moments(int(n or 0), float(total or 0.0), float(total_sq or 0.0))


def _released_in(period: Period) -> list[ColumnElement[bool]]:
    return [
        MysteryVisit.state.in_(sorted(RELEASED_STATES)),
        MysteryVisit.visit_day >= period.start,
        MysteryVisit.visit_day <= period.end,
    ]


def _for_stores(stmt: Select[Any], store_ids: Iterable[int] | None) -> Select[Any]:
    return stmt if store_ids is None else stmt.where(MysteryVisit.store_id.in_(list(store_ids)))


def _section_value(key: str) -> ColumnElement[Any]:
    # JSON_EXTRACT on SQLite, ->> cast to float on PostgreSQL; a JSON null is SQL NULL.
    value: ColumnElement[Any] = MysteryVisit.section_scores[key].as_float()
    return value


@dataclass(frozen=True, slots=True)
class Touchpoint:
    """A checklist section as a column of the reports: its key and its title."""

    key: str
    title: LocalizedText


def touchpoints(
    session: Session, period: Period, store_ids: Iterable[int] | None
) -> tuple[Touchpoint, ...]:
    """The sections of the checklist versions that the period's released visits answered.

    Sections are matched by key across checklists and versions (the touchpoints greeting
    -> farewell are the same wherever they appear), in the order of the newest version,
    titled as there; keys only older versions have follow.
    """
    ids = _for_stores(
        select(MysteryVisit.checklist_version_id).where(*_released_in(period)).distinct(),
        store_ids,
    )
    versions = session.scalars(
        select(SurveyVersion).where(SurveyVersion.id.in_(ids)).order_by(SurveyVersion.id.desc())
    ).all()
    found: dict[str, Touchpoint] = {}
    for version in versions:
        for section in checklist_for_version(version).sections:
            found.setdefault(section.key, Touchpoint(section.key, section.title))
    return tuple(found.values())


# -- one store ------------------------------------------------------------------------------


def score_by_month(
    session: Session, store_ids: Iterable[int] | None, period: Period
) -> dict[str, Moments]:
    """Reported visit scores per month of the visit day (``"2026-11"``)."""
    year = extract("year", MysteryVisit.visit_day)
    month = extract("month", MysteryVisit.visit_day)
    stmt = _for_stores(
        select(year, month, *_moment_columns(MysteryVisit.score))
        .where(*_released_in(period))
        .group_by(year, month),
        store_ids,
    )
    return {
        f"{int(row[0]):04d}-{int(row[1]):02d}": _moments(row[2:])
        for row in session.execute(stmt).all()
    }


def section_moments(
    session: Session, store_ids: Iterable[int] | None, period: Period, keys: Sequence[str]
) -> dict[str, Moments]:
    """Section scores per touchpoint over the period's released visits (one row)."""
    if not keys:
        return {}
    columns = [c for key in keys for c in _moment_columns(_section_value(key))]
    row = session.execute(_for_stores(select(*columns).where(*_released_in(period)), store_ids))
    values = row.one()
    return {key: _moments(values[3 * i : 3 * i + 3]) for i, key in enumerate(keys)}


@dataclass(frozen=True, slots=True)
class MonthRow:
    """One month of a store: the mystery mean beside the customers' NPS and CSAT."""

    label: str
    mystery: Estimate
    nps: Estimate
    csat: Estimate


@dataclass(frozen=True, slots=True)
class StoreMysteryReport:
    store: Store
    period: Period
    overall: Estimate
    months: tuple[MonthRow, ...]
    touchpoints: tuple[tuple[Touchpoint, Estimate], ...]
    #: Spearman's rho of the monthly mystery means with the monthly NPS / CSAT; n = months
    #: in which both exist.
    nps_correlation: Correlation
    csat_correlation: Correlation


def _correlation(months: Sequence[MonthRow], customer: str) -> Correlation:
    pairs = [
        (m.mystery.value, getattr(m, customer).value)
        for m in months
        if m.mystery.value is not None and getattr(m, customer).value is not None
    ]
    return mystery_customer_correlation([p[0] for p in pairs], [p[1] for p in pairs])


def store_report(session: Session, store: Store, period: Period) -> StoreMysteryReport:
    """A store's released visits over the period, month by month and by touchpoint."""
    mystery = score_by_month(session, [store.id], period)
    customers = {
        month.strftime("%Y-%m"): totals
        for month, totals in totals_by_month(session, [store.id], period)
    }
    months = []
    for label in month_labels(period):
        totals = customers.get(label)
        months.append(
            MonthRow(
                label=label,
                mystery=mystery.get(label, Moments()).estimate,
                nps=nps_interval(totals.nps) if totals else Estimate(None, None, None, 0),
                csat=(
                    csat_interval(totals.csat_top2, totals.csat_n)
                    if totals
                    else Estimate(None, None, None, 0)
                ),
            )
        )
    sections = touchpoints(session, period, [store.id])
    by_section = section_moments(session, [store.id], period, [t.key for t in sections])
    return StoreMysteryReport(
        store=store,
        period=period,
        overall=sum(mystery.values(), Moments()).estimate,
        months=tuple(months),
        touchpoints=tuple((t, by_section[t.key].estimate) for t in sections),
        nps_correlation=_correlation(months, "nps"),
        csat_correlation=_correlation(months, "csat"),
    )


def released_visits(store_id: int, period: Period) -> Select[tuple[MysteryVisit]]:
    """The store's released visits of the period, newest first (paginate the result)."""
    return (
        select(MysteryVisit)
        .options(selectinload(MysteryVisit.checklist_version))
        .where(MysteryVisit.store_id == store_id, *_released_in(period))
        .order_by(MysteryVisit.visit_day.desc(), MysteryVisit.id.desc())
    )


# -- the chain ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoreRow:
    store: Store
    overall: Estimate
    #: One estimate per touchpoint of the report, in its order.
    sections: tuple[Estimate, ...]


@dataclass(frozen=True, slots=True)
class ChainMysteryReport:
    period: Period
    region: str | None
    touchpoints: tuple[Touchpoint, ...]
    #: Stores with at least one released visit in the period, by region and code.
    rows: tuple[StoreRow, ...]
    overall: Estimate
    #: Every store's visits together, per touchpoint.
    totals: tuple[Estimate, ...]


def visible_store_ids(session: Session, user: User, region: str | None) -> list[int]:
    stmt = select(Store.id)
    if region:
        stmt = stmt.where(Store.region == region)
    return list(session.scalars(scope_to_user(stmt, user, Store.id)))


def chain_report(
    session: Session, user: User, period: Period, region: str | None
) -> ChainMysteryReport:
    """Touchpoint means per store (the heat map) over the stores ``user`` may see."""
    store_ids = visible_store_ids(session, user, region)
    sections = touchpoints(session, period, store_ids)
    columns = [
        *_moment_columns(MysteryVisit.score),
        *(c for t in sections for c in _moment_columns(_section_value(t.key))),
    ]
    stmt = (
        select(MysteryVisit.store_id, *columns)
        .where(*_released_in(period), MysteryVisit.store_id.in_(store_ids))
        .group_by(MysteryVisit.store_id)
    )
    sums = {row[0]: row[1:] for row in session.execute(stmt).all()}
    stores = session.scalars(
        select(Store).where(Store.id.in_(list(sums))).order_by(Store.region, Store.code)
    ).all()
    overall = Moments()
    totals = [Moments() for _ in sections]
    rows = []
    for store in stores:
        row = sums[store.id]
        score = _moments(row[:3])
        parts = [_moments(row[3 + 3 * i : 6 + 3 * i]) for i in range(len(sections))]
        overall += score
        totals = [a + b for a, b in zip(totals, parts, strict=True)]
        rows.append(StoreRow(store, score.estimate, tuple(p.estimate for p in parts)))
    return ChainMysteryReport(
        period=period,
        region=region,
        touchpoints=sections,
        rows=tuple(rows),
        overall=overall.estimate,
        totals=tuple(t.estimate for t in totals),
    )


@dataclass(frozen=True, slots=True)
class ShopperRow:
    """A shopper's reliability with who they are (shown to reviewers and admins only)."""

    shopper: User
    reliability: ShopperReliability


def shopper_rows(
    session: Session, user: User, period: Period, region: str | None
) -> tuple[ShopperRow, ...]:
    """Each shopper's scores against the other shoppers' at the same stores.

    Outliers first, then by how far the shopper is from the others.
    """
    store_ids = visible_store_ids(session, user, region)
    stmt = select(MysteryVisit.shopper_id, MysteryVisit.store_id, MysteryVisit.score).where(
        *_released_in(period),
        MysteryVisit.store_id.in_(store_ids),
        MysteryVisit.score.is_not(None),
    )
    scores = [
        ShopperScore(shopper_id, store_id, float(score))
        for shopper_id, store_id, score in session.execute(stmt).all()
    ]
    results = shopper_reliability(scores, min_visits=MIN_COMPARED_VISITS)
    people = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_([r.shopper_id for r in results])))
    }
    rows = [ShopperRow(people[r.shopper_id], r) for r in results]
    rows.sort(
        key=lambda row: (
            not row.reliability.outlier,
            -abs(row.reliability.mean_deviation or 0.0),
            row.shopper.id,
        )
    )
    return tuple(rows)
