"""An HR officer's home: the award cycles still in review with their undecided
nominations, the appeals waiting for an answer, and who entered or left the coaching list
between the last two complete months.

The cycle counts are the award list's own grouped queries; the coaching change ranks the
two months once, as the coaching page does, with the policy in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from portal.access import scope_to_user
from portal.awards.queries import list_cycles
from portal.calendar import last_complete_month, previous_month
from portal.hr.queries import coaching_list, visible_ids
from portal.hr.ranking import (
    StaffRow,
    current_policy,
    parameters_of,
    policy_channels,
    rank_months,
)
from portal.models import Appeal, AwardCycle, CycleState, Nomination, SnapshotRow, User

#: Appeals listed; the cycle page holds the rest.
SHOWN = 10


@dataclass(frozen=True, slots=True)
class CycleWork:
    """A month's award cycle still in review."""

    month: date
    #: Nominations nobody has approved or rejected yet.
    pending: int
    decided: int


@dataclass(frozen=True, slots=True)
class AppealItem:
    appeal_id: int
    month: date
    staff_code: str
    staff_name: str
    store_code: str
    store_name: str
    raised_at: datetime
    reason: str
    #: The decision under appeal (a nomination state: approved or rejected).
    decision: str
    #: The reader took that decision, so a colleague has to answer (separation of duties).
    decided_by_reader: bool


@dataclass(frozen=True, slots=True)
class CoachingChanges:
    #: The last complete month, and the month before it.
    month: date
    previous: date
    entered: tuple[StaffRow, ...]
    left: tuple[StaffRow, ...]
    #: On the list in ``month``.
    listed: int


@dataclass(frozen=True, slots=True)
class HrHome:
    cycles: tuple[CycleWork, ...]
    appeals: tuple[AppealItem, ...]
    appeals_total: int
    coaching: CoachingChanges

    @property
    def nothing_waiting(self) -> bool:
        return not self.cycles and self.appeals_total == 0


def hr_home(session: Session, user: User, now: datetime) -> HrHome:
    """The award and coaching work waiting for ``user`` (HR) at ``now``."""
    appeals, total = list_open_appeals(session, user)
    return HrHome(
        cycles=tuple(
            CycleWork(s.cycle.month, s.pending, s.approved + s.rejected)
            for s in list_cycles(session, user)
            if s.cycle.state == CycleState.IN_REVIEW
        ),
        appeals=tuple(appeals),
        appeals_total=total,
        coaching=coaching_changes(session, user, now),
    )


def list_open_appeals(session: Session, user: User) -> tuple[list[AppealItem], int]:
    """Unanswered appeals of published cycles, the oldest first, and how many there are."""
    stmt = scope_to_user(
        select(
            Appeal.id,
            AwardCycle.month,
            SnapshotRow.staff_code,
            SnapshotRow.staff_name,
            SnapshotRow.store_code,
            SnapshotRow.store_name,
            Appeal.raised_at,
            Appeal.reason,
            Nomination.state,
            Nomination.decided_by_id,
        )
        .join(Nomination, Nomination.id == Appeal.nomination_id)
        .join(AwardCycle, AwardCycle.id == Nomination.cycle_id)
        .join(
            SnapshotRow,
            and_(
                SnapshotRow.cycle_id == Nomination.cycle_id,
                SnapshotRow.staff_id == Nomination.staff_id,
            ),
        )
        .where(Appeal.answered_at.is_(None), AwardCycle.state == CycleState.PUBLISHED),
        user,
        SnapshotRow.store_id,
    )
    rows = session.execute(stmt.order_by(Appeal.raised_at, Appeal.id)).all()
    items = [
        AppealItem(
            appeal_id=row[0],
            month=row[1],
            staff_code=row[2],
            staff_name=row[3],
            store_code=row[4],
            store_name=row[5],
            raised_at=row[6],
            reason=row[7],
            decision=row[8],
            decided_by_reader=row[9] == user.id,
        )
        for row in rows[:SHOWN]
    ]
    # Open appeals are few (one per decision at most, during a notice period): counting
    # the fetched rows is cheaper than a second query.
    return items, len(rows)


def coaching_changes(session: Session, user: User, now: datetime) -> CoachingChanges:
    """Who of the stores ``user`` sees is on the coaching list of the last complete month
    and was not on the month before's (entered), and the reverse (left)."""
    policy = current_policy(session)
    month = last_complete_month(session, now)
    before = previous_month(month)
    earlier, latest = rank_months(
        session,
        [before, month],
        scope=policy.scope,
        parameters=parameters_of(policy),
        channels=policy_channels(policy),
    )
    store_ids = visible_ids(session, user)
    was = {row.ranked.staff.staff_id: row.ranked.staff for row in coaching_list(earlier, store_ids)}
    now_on = {
        row.ranked.staff.staff_id: row.ranked.staff for row in coaching_list(latest, store_ids)
    }

    def ordered(people: list[StaffRow]) -> tuple[StaffRow, ...]:
        return tuple(sorted(people, key=lambda s: (s.store_code, s.code)))

    return CoachingChanges(
        month=month,
        previous=before,
        entered=ordered([s for i, s in now_on.items() if i not in was]),
        left=ordered([s for i, s in was.items() if i not in now_on]),
        listed=len(now_on),
    )
