"""A store manager's home: the cases waiting for them (overdue first, with how late),
mystery-shop reports of their stores still open to dispute or whose dispute is being
decided, award decisions about their staff on public notice, and today's figures of each
of their stores.

Counts are grouped queries and the lists are short (`SHOWN` items, the rest one click
away on the full list), so the page costs the same number of queries whatever the number
of cases, reports or stores (one more pair per extra time zone among the stores).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from analysis.csat import csat_interval
from analysis.nps import nps_interval
from analysis.results import Estimate
from portal.access import scope_to_user
from portal.awards.queries import list_cycles
from portal.calendar import Period, local_today
from portal.cases.queries import UNFINISHED, overdue_condition
from portal.dashboard.channel_split import ChannelMix, answers_of, counts_in_order, summed
from portal.dashboard.queries import Totals, totals_by_store, totals_by_store_and_channel
from portal.models import (
    Case,
    CaseState,
    CycleState,
    MysteryVisit,
    Response,
    Store,
    User,
    VisitState,
)
from portal.mystery.queries import visible_visits

#: Items listed per kind of work; the full lists hold the rest.
SHOWN = 10
#: The "recent" figures next to today's: the last 7 store-local days, today included.
RECENT_DAYS = 7


@dataclass(frozen=True, slots=True)
class CaseItem:
    case_id: int
    state: str
    store_code: str
    store_name: str
    timezone: str
    category: str | None
    #: Why it opened (comma-separated keys, as on the case).
    reasons: str
    #: The customer's comment or the complaint taken by hand (masked when shown).
    summary: str
    nps: int | None
    due_at: datetime
    #: How long past the first-response deadline; None while still within it.
    late_by: timedelta | None


@dataclass(frozen=True, slots=True)
class CaseWork:
    overdue: tuple[CaseItem, ...]
    overdue_total: int
    #: Open or in progress and not overdue, the nearest deadline first.
    waiting: tuple[CaseItem, ...]
    waiting_total: int


@dataclass(frozen=True, slots=True)
class ReportItem:
    """A released mystery-shop report the manager may still dispute, or one they disputed
    that waits for the reviewer's decision."""

    visit_id: int
    store_code: str
    store_name: str
    timezone: str
    visit_day: date | None
    score: float | None
    grade: str | None
    dispute_until: datetime | None
    disputed: bool


@dataclass(frozen=True, slots=True)
class AwardNotice:
    """A month's award decisions about the manager's staff, on public notice: the manager
    may appeal until ``notice_until``."""

    month: date
    notice_until: datetime
    approved: int
    rejected: int
    #: Appeals on these decisions still waiting for HR's answer.
    open_appeals: int


@dataclass(frozen=True, slots=True)
class StoreToday:
    code: str
    name: str
    #: The store's own calendar day.
    day: date
    answers_today: int
    receipts_today: int
    #: Over the last `RECENT_DAYS` days: one day is too few answers to read a score.
    nps_recent: Estimate
    csat_recent: Estimate
    #: The answers of each channel behind the recent scores (the note when mixed).
    channels: ChannelMix = ChannelMix()


@dataclass(frozen=True, slots=True)
class ManagerHome:
    cases: CaseWork
    reports: tuple[ReportItem, ...]
    notices: tuple[AwardNotice, ...]
    stores: tuple[StoreToday, ...]

    @property
    def nothing_waiting(self) -> bool:
        work = self.cases.overdue_total + self.cases.waiting_total
        return work == 0 and not self.reports and not self.notices


def manager_home(session: Session, user: User, now: datetime) -> ManagerHome:
    """Everything waiting for ``user`` (a manager) at ``now``, of their stores only."""
    return ManagerHome(
        cases=list_case_work(session, user, now),
        reports=tuple(list_open_reports(session, user, now)),
        notices=tuple(list_award_notices(session, user, now)),
        stores=tuple(list_store_days(session, user, now)),
    )


# -- cases ----------------------------------------------------------------------------------


def list_case_work(session: Session, user: User, now: datetime) -> CaseWork:
    """The unfinished cases of ``user``'s stores: overdue ones (longest overdue first) and
    the others (nearest deadline first), `SHOWN` of each with both totals."""
    overdue = overdue_condition(now)
    waiting = and_(Case.state.in_(UNFINISHED), not_(overdue))
    counts = select(func.count().filter(overdue), func.count().filter(waiting)).where(
        Case.state.in_(UNFINISHED)
    )
    overdue_total, waiting_total = session.execute(scope_to_user(counts, user, Case.store_id)).one()
    return CaseWork(
        overdue=_cases(session, user, overdue, now),
        overdue_total=int(overdue_total),
        waiting=_cases(session, user, waiting, now),
        waiting_total=int(waiting_total),
    )


def _cases(session: Session, user: User, condition: Any, now: datetime) -> tuple[CaseItem, ...]:
    stmt = (
        select(
            Case.id,
            Store.code,
            Store.name,
            Store.timezone,
            Case.category,
            Case.reasons,
            Case.summary,
            Response.nps,
            Case.first_response_due_at,
            Case.state,
        )
        .join(Store, Store.id == Case.store_id)
        .outerjoin(Response, Response.id == Case.response_id)
        .where(condition)
        .order_by(Case.first_response_due_at, Case.id)
        .limit(SHOWN)
    )
    items = []
    for row in session.execute(scope_to_user(stmt, user, Case.store_id)):
        due = row.first_response_due_at
        items.append(
            CaseItem(
                case_id=row.id,
                state=row.state,
                store_code=row.code,
                store_name=row.name,
                timezone=row.timezone,
                category=row.category,
                reasons=row.reasons,
                summary=row.summary,
                nps=row.nps,
                due_at=due,
                late_by=now - due if due < now and row.state == CaseState.OPEN else None,
            )
        )
    return tuple(items)


# -- mystery-shop reports -------------------------------------------------------------------


def list_open_reports(session: Session, user: User, now: datetime) -> list[ReportItem]:
    """Released reports of ``user``'s stores still inside their dispute window (the
    nearest end first), then the ones disputed and waiting for a decision."""
    open_to_dispute = and_(
        MysteryVisit.state == VisitState.RELEASED, MysteryVisit.dispute_until > now
    )
    disputed = MysteryVisit.state == VisitState.DISPUTED
    stmt = (
        visible_visits(user)
        .with_only_columns(
            MysteryVisit.id,
            Store.code,
            Store.name,
            Store.timezone,
            MysteryVisit.visit_day,
            MysteryVisit.score,
            MysteryVisit.grade,
            MysteryVisit.dispute_until,
            MysteryVisit.state,
        )
        .join(Store, Store.id == MysteryVisit.store_id)
        .where(or_(open_to_dispute, disputed))
        .order_by(sql_case((disputed, 1), else_=0), MysteryVisit.dispute_until, MysteryVisit.id)
        .limit(SHOWN)
    )
    return [
        ReportItem(
            visit_id=row.id,
            store_code=row.code,
            store_name=row.name,
            timezone=row.timezone,
            visit_day=row.visit_day,
            score=row.score,
            grade=row.grade,
            dispute_until=None if row.state == VisitState.DISPUTED else row.dispute_until,
            disputed=row.state == VisitState.DISPUTED,
        )
        for row in session.execute(stmt)
    ]


# -- award notices --------------------------------------------------------------------------


def list_award_notices(session: Session, user: User, now: datetime) -> list[AwardNotice]:
    """Months whose decisions about ``user``'s staff are on public notice at ``now``,
    with what was decided (the award list's own grouped counts)."""
    notices = []
    for summary in list_cycles(session, user):
        cycle = summary.cycle
        if cycle.state != CycleState.PUBLISHED or cycle.notice_until is None:
            continue
        if now >= cycle.notice_until or summary.approved + summary.rejected == 0:
            continue
        notices.append(
            AwardNotice(
                month=cycle.month,
                notice_until=cycle.notice_until,
                approved=summary.approved,
                rejected=summary.rejected,
                open_appeals=summary.open_appeals,
            )
        )
    return notices


# -- today's figures ------------------------------------------------------------------------


def list_store_days(session: Session, user: User, now: datetime) -> list[StoreToday]:
    """Each open store of ``user``'s: today's answers and receipts and the last
    `RECENT_DAYS` days' NPS and CSAT with their n, all from the store-day rollup.

    "Today" is each store's own calendar day; stores sharing a time zone share the two
    grouped reads of the dashboards' `totals_by_store`.
    """
    zones = session.scalars(scope_to_user(select(Store.timezone).distinct(), user, Store.id))
    days = sorted({local_today(zone, now) for zone in zones})
    found: list[StoreToday] = []
    for day in days:
        recent = Period(day - timedelta(days=RECENT_DAYS - 1), day)
        week = {
            store.id: split for store, split in totals_by_store_and_channel(session, user, recent)
        }
        for store, today in totals_by_store(session, user, Period(day, day)):
            if store.closed_at is not None or local_today(store.timezone, now) != day:
                continue
            found.append(_store_today(store, day, today, week.get(store.id, {})))
    return sorted(found, key=lambda s: s.code)


def _store_today(
    store: Store, day: date, today: Totals, recent_split: dict[str, Totals]
) -> StoreToday:
    recent = summed(recent_split)
    return StoreToday(
        code=store.code,
        name=store.name,
        day=day,
        answers_today=today.responses,
        receipts_today=today["issued"],
        nps_recent=nps_interval(recent.nps),
        csat_recent=csat_interval(recent.csat_top2, recent.csat_n),
        channels=ChannelMix(counts=counts_in_order(answers_of(recent_split))),
    )
