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

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from analysis.csat import csat_interval
from analysis.nps import nps_interval
from analysis.results import Estimate
from analysis.targets import TargetStatus, target_status
from portal.calendar import Period
from portal.cases.service_level import case_counts
from portal.config import Settings
from portal.dashboard.queries import totals
from portal.db import utcnow
from portal.models import LOWER_IS_BETTER, Metric, Store
from portal.mystery.reports import Moments, score_by_month
from portal.targets.queries import resolution, resolve_target


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
    result = []
    for metric, estimate in found.items():
        target = resolve_target(session, metric, scopes, end)
        result.append(judge(metric, estimate, None if target is None else target.value))
    return result
