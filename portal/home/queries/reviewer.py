"""A reviewer's home: the QA queue (filed reports waiting for review, longest waiting
first, with the automatic checks that flagged them), the disputes stores raised, and the
open stores that have no mystery visit planned this month.

Counts are grouped queries and the lists are short (`SHOWN` each); the full queue is the
mystery visit list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from portal.access import scope_to_user
from portal.ballot.queries import RuleCount, count_held
from portal.calendar import Period, chain_today, month_start
from portal.models import MysteryVisit, Store, User, VisitDispute, VisitState
from portal.mystery.queries import visible_visits

#: Items listed per kind of work; the full lists hold the rest.
SHOWN = 10
#: Filed reports waiting for a reviewer (a dispute is listed on its own).
QUEUE_STATES = (VisitState.SUBMITTED, VisitState.IN_REVIEW)


@dataclass(frozen=True, slots=True)
class QueueItem:
    visit_id: int
    state: str
    store_code: str
    store_name: str
    timezone: str
    submitted_at: datetime | None
    #: The automatic checks' keys (shown in words: `portal.mystery.forms.FLAG_LABELS`).
    flags: tuple[str, ...]
    #: Who took the review (in review only), and whether that is the reader.
    reviewer: str | None
    mine: bool


@dataclass(frozen=True, slots=True)
class DisputeItem:
    visit_id: int
    store_code: str
    store_name: str
    timezone: str
    raised_at: datetime
    #: The checklist item queried, or None for the whole report.
    item_key: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class StoreToVisit:
    code: str
    name: str
    region: str
    #: Assignments at this store this month that shoppers declined.
    declined: int


@dataclass(frozen=True, slots=True)
class ReviewerHome:
    queue: tuple[QueueItem, ...]
    queue_total: int
    disputes: tuple[DisputeItem, ...]
    disputes_total: int
    #: The month the stores below have no visit in (its first day).
    month: date
    to_schedule: tuple[StoreToVisit, ...]
    to_schedule_total: int
    #: Answers held as suspected ballot stuffing, per rule.
    held: tuple[RuleCount, ...]

    @property
    def held_total(self) -> int:
        return sum(c.held for c in self.held)

    @property
    def nothing_waiting(self) -> bool:
        waiting = self.queue_total + self.disputes_total + self.to_schedule_total
        return waiting + self.held_total == 0


def reviewer_home(session: Session, user: User, now: datetime) -> ReviewerHome:
    """The review work waiting at ``now`` for ``user`` (a reviewer or an admin)."""
    counts = dict(
        session.execute(
            visible_visits(user)
            .with_only_columns(MysteryVisit.state, func.count())
            .where(MysteryVisit.state.in_([*QUEUE_STATES, VisitState.DISPUTED]))
            .group_by(MysteryVisit.state)
        )
        .tuples()
        .all()
    )
    month = month_start(chain_today(session, now))
    to_schedule, to_schedule_total = list_stores_to_visit(session, user, month)
    return ReviewerHome(
        queue=tuple(list_queue(session, user)),
        queue_total=sum(int(counts.get(state, 0)) for state in QUEUE_STATES),
        disputes=tuple(list_disputes(session, user)),
        disputes_total=int(counts.get(VisitState.DISPUTED, 0)),
        month=month,
        to_schedule=tuple(to_schedule),
        to_schedule_total=to_schedule_total,
        held=tuple(count_held(session, user)),
    )


def list_queue(session: Session, user: User) -> list[QueueItem]:
    """Filed reports waiting for review, the longest waiting first."""
    reviewer = aliased(User)
    stmt = (
        visible_visits(user)
        .with_only_columns(
            MysteryVisit.id,
            MysteryVisit.state,
            Store.code,
            Store.name,
            Store.timezone,
            MysteryVisit.submitted_at,
            MysteryVisit.flags,
            MysteryVisit.reviewer_id,
            reviewer.name.label("reviewer_name"),
            reviewer.email.label("reviewer_email"),
        )
        .join(Store, Store.id == MysteryVisit.store_id)
        .outerjoin(reviewer, reviewer.id == MysteryVisit.reviewer_id)
        .where(MysteryVisit.state.in_(QUEUE_STATES))
        .order_by(MysteryVisit.submitted_at, MysteryVisit.id)
        .limit(SHOWN)
    )
    items = []
    for row in session.execute(stmt):
        taken = row.state == VisitState.IN_REVIEW and row.reviewer_id is not None
        items.append(
            QueueItem(
                visit_id=row.id,
                state=row.state,
                store_code=row.code,
                store_name=row.name,
                timezone=row.timezone,
                submitted_at=row.submitted_at,
                flags=tuple(row.flags or ()),
                reviewer=(row.reviewer_name or row.reviewer_email) if taken else None,
                mine=taken and row.reviewer_id == user.id,
            )
        )
    return items


def list_disputes(session: Session, user: User) -> list[DisputeItem]:
    """Disputed reports waiting for a decision, the oldest dispute first."""
    stmt = (
        visible_visits(user)
        .with_only_columns(
            MysteryVisit.id,
            Store.code,
            Store.name,
            Store.timezone,
            VisitDispute.raised_at,
            VisitDispute.item_key,
            VisitDispute.reason,
        )
        .join(Store, Store.id == MysteryVisit.store_id)
        .join(VisitDispute, VisitDispute.visit_id == MysteryVisit.id)
        .where(MysteryVisit.state == VisitState.DISPUTED)
        .order_by(VisitDispute.raised_at, MysteryVisit.id)
        .limit(SHOWN)
    )
    return [
        DisputeItem(
            visit_id=row.id,
            store_code=row.code,
            store_name=row.name,
            timezone=row.timezone,
            raised_at=row.raised_at,
            item_key=row.item_key,
            reason=row.reason,
        )
        for row in session.execute(stmt)
    ]


def list_stores_to_visit(
    session: Session, user: User, month: date
) -> tuple[list[StoreToVisit], int]:
    """Open stores with no visit planned, under way or done in ``month`` (declined and
    cancelled assignments do not count), those a shopper declined first; and how many."""
    last_day = Period.of_month(month).end
    in_month = (
        MysteryVisit.store_id == Store.id,
        MysteryVisit.window_start <= last_day,
        MysteryVisit.window_end >= month,
    )
    planned = (
        select(MysteryVisit.id)
        .where(
            *in_month,
            MysteryVisit.state.not_in([VisitState.DECLINED, VisitState.CANCELLED]),
        )
        .exists()
    )
    declined = (
        select(func.count(MysteryVisit.id))
        .where(*in_month, MysteryVisit.state == VisitState.DECLINED)
        .correlate(Store)
        .scalar_subquery()
    )
    unvisited = scope_to_user(
        select(Store.id).where(Store.closed_at.is_(None), ~planned), user, Store.id
    )
    total = session.scalar(select(func.count()).select_from(unvisited.subquery()))
    stmt = (
        unvisited.with_only_columns(Store.code, Store.name, Store.region, declined)
        .order_by(declined.desc(), Store.region, Store.code)
        .limit(SHOWN)
    )
    rows = [
        StoreToVisit(code=row[0], name=row[1], region=row[2], declined=int(row[3] or 0))
        for row in session.execute(stmt)
    ]
    return rows, int(total or 0)
