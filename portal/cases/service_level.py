"""The service-level panel of a store: how fast and how well its cases are handled.

Owns `service_level`, the figures on the store dashboard's case panel: cases opened,
the share answered within the deadline, the median hours to the first response and to
the resolution, complaints per 1,000 receipts and the recovery rate (from follow-up
answers and phone return visits), each with its n. Counts are SQL aggregates; the two
medians are taken in Python from the per-case times of one store and one period (see
`_durations`).

The period is the store's own calendar days: a case belongs to the period when it was
opened between the store-local midnight that starts the first day and the one that ends
the last day. Shares carry Wilson intervals (`analysis.csat.wilson_interval`).
"""

from __future__ import annotations

import statistics
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, or_, select, union_all
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from analysis.csat import wilson_interval
from analysis.results import Estimate
from portal.calendar import Period, local_midnight
from portal.dashboard.queries import issued
from portal.errors import NotFound
from portal.models import Case, FollowUp, PhoneOutcome, PhoneVisit, Store

#: Follow-up answers (1-5) that count as a recovered customer.
RECOVERED_MIN_SCORE = 4


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    """One store's case handling over one period.

    Every figure is an `Estimate` whose ``n`` says what it rests on; the two medians have
    no interval (``low``/``high`` are ``None``).
    """

    #: Cases opened in the period (survey and counter complaints alike).
    cases_opened: int
    #: Percent of cases answered by their deadline. n = cases due in the period whose
    #: outcome is known: answered, or unanswered and past due. A case not yet due and not
    #: yet answered may still make it, so it is left out rather than counted as late.
    answered_within_deadline: Estimate
    #: Median hours from opening to the first contact; n = cases opened in the period that
    #: have one. Cases still waiting are not in it, so a recent period reads optimistic;
    #: the deadline share above counts them.
    median_hours_to_first_response: Estimate
    #: Median hours from opening to the resolution; n = cases opened in the period that
    #: are resolved (or closed after being resolved).
    median_hours_to_resolution: Estimate
    #: Cases opened per 1,000 receipts issued in the period; n = receipts issued.
    complaint_rate_per_1000: Estimate
    #: Percent of cases whose customer said the problem was solved, for cases opened in the
    #: period; n = those cases on which the customer said either way, in a follow-up answer
    #: (4-5 of 5: solved) or on an answered phone return visit ("solved?" yes/no), each case
    #: once, by its latest answer (`_recovery`).
    recovery_rate: Estimate


def period_bounds(period: Period, zone: str) -> tuple[datetime, datetime]:
    """The UTC instants ``[start, end)`` of a period of store-local days.

    Midnight is taken on the store's clock, so a day may last 23 or 25 hours across a
    daylight-saving change.
    """
    start = local_midnight(period.start, zone)
    end = local_midnight(period.end + timedelta(days=1), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def service_level(
    session: Session, store_id: int, period: Period, *, now: datetime
) -> ServiceLevel:
    """The service-level figures of one store over one period.

    ``now`` decides which unanswered cases are already past their deadline. Four small
    queries: the case counts, the per-case times for the medians, the customers' answers
    on whether the problem was solved (follow-ups and phone visits) and the receipts
    issued (from the store rollups).

    Raises
    ------
    NotFound
        No store with this id.
    """
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound(_l("No such store."))
    start, end = period_bounds(period, store.timezone)
    counts = _zone_counts(session, [store_id], period, start, end, now)
    to_contact, to_resolve = _durations(session, store_id, start, end)
    return ServiceLevel(
        cases_opened=counts.opened,
        answered_within_deadline=counts.answered_within_deadline(),
        median_hours_to_first_response=_median(to_contact),
        median_hours_to_resolution=_median(to_resolve),
        complaint_rate_per_1000=counts.complaint_rate(1000),
        recovery_rate=counts.recovery_rate(),
    )


@dataclass(frozen=True, slots=True)
class CaseCounts:
    """The counts behind the service-level shares, summed over some stores (each store's
    period taken on its own clock), and the shares they give."""

    #: Cases opened in the period.
    opened: int = 0
    #: Cases due in the period whose outcome is known, and those answered by the deadline.
    due_known: int = 0
    due_met: int = 0
    #: Cases opened in the period on which the customer said whether it was solved, and
    #: those whose latest word was "solved".
    asked: int = 0
    recovered: int = 0
    #: Receipts issued in the period.
    receipts: int = 0

    def __add__(self, other: CaseCounts) -> CaseCounts:
        return CaseCounts(
            *(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__)
        )

    def answered_within_deadline(self, scale: int = 100) -> Estimate:
        """Cases answered by their deadline, of those due whose outcome is known."""
        return _share(self.due_met, self.due_known, scale)

    def complaint_rate(self, scale: int = 100) -> Estimate:
        """Cases opened per ``scale`` receipts issued."""
        return _share(self.opened, self.receipts, scale)

    def recovery_rate(self, scale: int = 100) -> Estimate:
        """Cases the customer called solved, of those they said either way on."""
        return _share(self.recovered, self.asked, scale)


def case_counts(
    session: Session, store_ids: Collection[int], period: Period, *, now: datetime
) -> CaseCounts:
    """The service-level counts of some stores over one period of store-local days.

    Stores are taken a time zone at a time, so that each store's days start at its own
    midnight; a chain in one zone costs one round of queries.
    """
    zones = session.execute(
        select(Store.timezone, Store.id).where(Store.id.in_(list(store_ids)))
    ).all()
    by_zone: dict[str, list[int]] = {}
    for zone, store_id in zones:
        by_zone.setdefault(zone, []).append(store_id)
    total = CaseCounts()
    for zone, ids in sorted(by_zone.items()):
        start, end = period_bounds(period, zone)
        total += _zone_counts(session, ids, period, start, end, now)
    return total


def _zone_counts(
    session: Session,
    store_ids: list[int],
    period: Period,
    start: datetime,
    end: datetime,
    now: datetime,
) -> CaseCounts:
    """`CaseCounts` of stores that share one clock (``[start, end)`` in UTC)."""
    opened_in = and_(Case.opened_at >= start, Case.opened_at < end)
    due_in = and_(Case.first_response_due_at >= start, Case.first_response_due_at < end)
    answered = Case.first_contact_at.is_not(None)
    opened, due_known, due_met = session.execute(
        select(
            func.count().filter(opened_in),
            func.count().filter(due_in, or_(answered, Case.first_response_due_at < now)),
            func.count().filter(due_in, Case.first_contact_at <= Case.first_response_due_at),
        ).where(Case.store_id.in_(store_ids), or_(opened_in, due_in))
    ).one()
    recovered, asked = _recovery(session, store_ids, opened_in)
    receipts = issued(session, store_ids, period)
    return CaseCounts(
        opened=int(opened),
        due_known=int(due_known),
        due_met=int(due_met),
        asked=asked,
        recovered=recovered,
        receipts=int(receipts or 0),
    )


def _recovery(
    session: Session, store_ids: list[int], opened_in: ColumnElement[bool]
) -> tuple[int, int]:
    """(recovered, asked): of the cases opened in the period on which the customer said
    afterwards whether the problem was solved, those whose latest word was "solved".

    The customer says it in a follow-up answer (4-5 of 5: solved) or on an answered phone
    return visit ("was your problem solved?" yes). A case asked twice (a follow-up, then a
    call; or two calls) counts once, by its latest answer, as its return visit does.
    """
    said = union_all(
        select(
            FollowUp.case_id.label("case_id"),
            FollowUp.answered_at.label("at"),
            sql_case((FollowUp.score >= RECOVERED_MIN_SCORE, 1), else_=0).label("solved"),
        ).where(FollowUp.answered_at.is_not(None)),
        select(
            PhoneVisit.case_id.label("case_id"),
            PhoneVisit.called_at.label("at"),
            sql_case((PhoneVisit.problem_solved.is_(True), 1), else_=0).label("solved"),
        ).where(
            PhoneVisit.case_id.is_not(None),
            PhoneVisit.outcome == PhoneOutcome.ANSWERED,
            PhoneVisit.problem_solved.is_not(None),
        ),
    ).subquery()
    order = (said.c.at.desc(), said.c.solved)
    latest = (
        select(
            said.c.case_id,
            said.c.solved,
            func.row_number().over(partition_by=said.c.case_id, order_by=order).label("nth"),
        )
        .join(Case, Case.id == said.c.case_id)
        .where(Case.store_id.in_(store_ids), opened_in)
        .subquery()
    )
    recovered, asked = session.execute(
        select(func.count().filter(latest.c.solved == 1), func.count()).where(latest.c.nth == 1)
    ).one()
    return int(recovered), int(asked)


def _durations(
    session: Session, store_id: int, start: datetime, end: datetime
) -> tuple[list[float], list[float]]:
    """Hours to the first contact and to the resolution of the cases opened in
    ``[start, end)`` that have them.

    A median is not portable SQL (PostgreSQL has ``percentile_cont``, SQLite nothing),
    and neither is the difference of two timestamps in hours, so the times come back per
    case. That is bounded: one store's cases of one period, a few thousand rows at most
    for a year, read through the store's index.
    """
    rows = session.execute(
        select(Case.opened_at, Case.first_contact_at, Case.resolved_at).where(
            Case.store_id == store_id,
            Case.opened_at >= start,
            Case.opened_at < end,
            or_(Case.first_contact_at.is_not(None), Case.resolved_at.is_not(None)),
        )
    ).all()
    hour = timedelta(hours=1)
    to_contact = [(contact - opened) / hour for opened, contact, _ in rows if contact is not None]
    to_resolve = [
        (resolved - opened) / hour for opened, _, resolved in rows if resolved is not None
    ]
    return to_contact, to_resolve


def _median(hours: list[float]) -> Estimate:
    if not hours:
        return Estimate(value=None, low=None, high=None, n=0)
    return Estimate(value=statistics.median(hours), low=None, high=None, n=len(hours))


def _share(k: int, n: int, scale: int) -> Estimate:
    """k of n as a Wilson estimate, scaled (100: percent, 1000: per thousand)."""
    if n == 0:
        return Estimate(value=None, low=None, high=None, n=0)
    if k > n:
        # More cases than receipts (a store that takes complaints at the counter but
        # issues no survey receipts): a rate, but not a proportion with an interval.
        return Estimate(value=scale * k / n, low=None, high=None, n=n)
    e = wilson_interval(k, n)
    if e.value is None or e.low is None or e.high is None:
        return e
    return Estimate(value=scale * e.value, low=scale * e.low, high=scale * e.high, n=n)
