"""The six targeted figures of some stores over some days, each judged against its target.

`scorecard` is what the monthly review, the alerts and the scorecard page call: one
`TargetedFigure` per `Metric`, in the metric's display unit, with its 95 % interval and n,
the target in force on the last day and the status the interval gives
(`analysis.targets.target_status`).

Where each figure comes from (nothing here writes its own SQL):

* NPS and CSAT: the rollups (`portal.dashboard.queries.totals`), adjusted-Wald and Wilson
  intervals; ``channels`` filters these two only (cases, receipts and visits have no
  answer channel);
* complaint rate, first response within the deadline, recovery rate: the case service
  level (`portal.cases.service_level.case_counts`), Wilson intervals in percent;
* mystery score: the mean released visit score with its t interval
  (`portal.mystery.reports.score_by_month`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from analysis.csat import csat_interval
from analysis.nps import nps_interval
from analysis.results import Estimate
from analysis.targets import TargetStatus, target_status
from portal.calendar import Period
from portal.cases.service_level import ServiceLevel, case_counts
from portal.config import Settings
from portal.dashboard.queries import totals
from portal.dashboard.reports import ChainReport, Headline
from portal.db import utcnow
from portal.models import LOWER_IS_BETTER, Metric, Store, Target
from portal.mystery.reports import Moments, score_by_month
from portal.targets.queries import Scope, resolution, target_book


@dataclass(frozen=True)
class TargetedFigure:
    """One metric's figure with the target it is judged by (``None``: no target applies,
    and then ``status`` is ``None`` too)."""

    metric: Metric
    estimate: Estimate
    target: float | None
    status: TargetStatus | None

    @property
    def lower_is_better(self) -> bool:
        return self.metric in LOWER_IS_BETTER


def judge(metric: Metric, estimate: Estimate, target: float | None) -> TargetedFigure:
    """A figure and its status against ``target`` (no target: no status)."""
    if target is None:
        return TargetedFigure(metric, estimate, None, None)
    status = target_status(estimate.low, estimate.high, target, metric in LOWER_IS_BETTER)
    return TargetedFigure(metric, estimate, target, status)


def figures(
    session: Session,
    store_ids: Collection[int],
    period: Period,
    *,
    channels: Sequence[str] = (),
    now: datetime,
) -> dict[Metric, Estimate]:
    """The six figures of some stores over a period, untargeted."""
    ids = list(store_ids)
    answers = totals(session, ids, period, channels)
    cases = case_counts(session, ids, period, now=now)
    visits = sum(score_by_month(session, ids, period).values(), Moments())
    return {
        Metric.NPS: nps_interval(answers.nps),
        Metric.CSAT: csat_interval(answers.csat_top2, answers.csat_n),
        Metric.COMPLAINT_RATE: cases.complaint_rate(100),
        Metric.FIRST_RESPONSE: cases.answered_within_deadline(100),
        Metric.RECOVERY_RATE: cases.recovery_rate(100),
        Metric.MYSTERY_SCORE: visits.estimate,
    }


def scorecard(
    session: Session,
    settings: Settings,
    *,
    store_ids: Collection[int],
    start: date,
    end: date,
    target_store: Store | None = None,
    target_region_id: int | None = None,
    channels: Sequence[str] = (),
    now: datetime | None = None,
) -> list[TargetedFigure]:
    """The six figures of ``store_ids`` over the store-local days ``start`` .. ``end``, in
    `Metric` order, each judged by the target in force on ``end``.

    The target is resolved for ``target_store`` (its own, else its region's, else the
    chain's), else for ``target_region_id`` (the region's, else the chain's), else the
    chain's. ``now`` (default: the present) decides which unanswered cases are already
    late; pass it in tests and when rebuilding a past month. ``settings`` is taken so the
    callers need not change when a figure comes to depend on one.
    """
    del settings  # no figure depends on a setting yet (see the docstring)
    period = Period(start, end)
    scopes = resolution(session, store=target_store, region_id=target_region_id)
    found = figures(session, store_ids, period, channels=channels, now=now or utcnow())
    targets = targets_in_force(session, scopes, end)
    return [judge(metric, estimate, targets[metric]) for metric, estimate in found.items()]


def targets_in_force(
    session: Session, scopes: tuple[Scope, ...], day: date
) -> dict[Metric, float | None]:
    """Each metric's target for ``scopes`` (most specific first) on ``day``."""
    book = target_book(session, day)
    return {metric: _value(book.resolve(metric, scopes)) for metric in Metric}


def _value(target: Target | None) -> float | None:
    return None if target is None else target.value


def judge_store_figures(
    session: Session, store: Store, day: date, estimates: Mapping[Metric, Estimate]
) -> dict[str, TargetedFigure]:
    """Figures a page already computed for one store, each judged by the store's target in
    force on ``day``; keyed by the metric's value for the templates. Every estimate must be
    in its metric's display unit (complaint rate in percent of receipts)."""
    targets = targets_in_force(session, resolution(session, store=store), day)
    return {m.value: judge(m, e, targets[m]) for m, e in estimates.items()}


def rescaled(estimate: Estimate, factor: float) -> Estimate:
    """The same estimate in another unit (per 1,000 to percent: 0.1)."""

    def times(x: float | None) -> float | None:
        return None if x is None else x * factor

    return Estimate(times(estimate.value), times(estimate.low), times(estimate.high), estimate.n)


def store_targets(
    session: Session, store: Store, period: Period, headline: Headline, service: ServiceLevel
) -> dict[str, TargetedFigure]:
    """The store page's figures that have targets (the headline's NPS and CSAT, the case
    panel's shares), judged by the store's targets in force on the period's last day."""
    return judge_store_figures(
        session,
        store,
        period.end,
        {
            Metric.NPS: headline.nps,
            Metric.CSAT: headline.csat,
            Metric.COMPLAINT_RATE: rescaled(service.complaint_rate_per_1000, 0.1),
            Metric.FIRST_RESPONSE: service.answered_within_deadline,
            Metric.RECOVERY_RATE: service.recovery_rate,
        },
    )


@dataclass(frozen=True, slots=True)
class ChainTargets:
    """The chain page's NPS and CSAT judged by their targets: the headline by the region's
    (else the chain's), each store's row by the store's own resolution; keyed by metric
    value, and per store id."""

    total: dict[str, TargetedFigure]
    stores: dict[int, dict[str, TargetedFigure]]


def chain_targets(session: Session, report: ChainReport, region: str | None) -> ChainTargets:
    """Judge the chain page's figures with the targets in force on the period's last day,
    read once for every store shown."""
    book = target_book(session, report.period.end)
    region_id = book.region_ids.get(region) if region else None
    headline = {Metric.NPS: report.total.nps, Metric.CSAT: report.total.csat}
    total = {
        m.value: judge(m, e, _value(book.for_region(m, region_id))) for m, e in headline.items()
    }
    stores = {
        row.store.id: {
            m.value: judge(m, e, _value(book.for_store(m, row.store)))
            for m, e in ((Metric.NPS, row.headline.nps), (Metric.CSAT, row.headline.csat))
        }
        for row in report.rows
    }
    return ChainTargets(total, stores)
