"""The demo chain's service-star awards: two months driven through the real operations at
backdated times, so that their snapshots, event chain and audit entries are the portal's
own. The month before the last complete one went the whole way (opened and ranked, one
nomination added by hand by the second HR login and approved by the first, one proposal
rejected for attendance, published, appealed by the store's manager, the appeal answered
by the second HR login, and final); the last complete month is open and in HR review (two
proposals approved, one rejected with a reason, the rest waiting for a decision).

The final month always ends with an approved nomination, hence a certificate, however few
answers it holds: a small demo (or one built late in a month, when its window starts
inside the final month) may leave nobody with enough answers to be eligible, and whether
the best person reaches the floor then depends on the hour the demo was drawn at. HR's
hand-added nomination does not depend on it: it goes to the best eligible person the
ranking did not propose, else to the best person short only of answers (an exception the
product allows; a substantiated complaint still bars).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.access import managers_of
from portal.audit import Actor
from portal.awards.appeals import answer_appeal, appeal
from portal.awards.decisions import add_nomination, decide_nomination
from portal.awards.operations import finalise_due, open_cycle, publish_cycle
from portal.calendar import last_complete_month, next_month, previous_month, zone
from portal.hr.ranking import IneligibleReason
from portal.models import (
    AppealOutcome,
    AwardCycle,
    Nomination,
    NominationSource,
    SnapshotRow,
    Staff,
    User,
)

APPROVE_MANUAL = "门店经理与多位顾客书面表扬：主动帮助老年顾客使用自助收银，耐心细致。"
REJECT_ATTENDANCE = "本月考勤记录有两次迟到，按评选条件（全勤、无违纪）本月不予评选。"
REJECT_TRAINING = "本月未完成服务规范复训，按评选条件暂缓，下月可再参评。"
APPROVE_EXCEPTION = "已核实表扬记录与顾客来信，同意破格授予。"
APPEAL_REASON = "两次迟到均为门店安排的盘点加班后调休，考勤系统未及时更新，请复核。"
APPEAL_ANSWER = "已与考勤专员核对：调休审批在迟到之后才补录，按规定仍计迟到，维持原决定。"
APPROVE_NOTE = "排名前列，服务评价稳定，同意授予。"


@dataclass(frozen=True, slots=True)
class AwardsDemo:
    """What the demo left: the final month, the month in review, and counts."""

    final_month: date
    review_month: date
    nominations: int
    decided: int


def _at(day: date, hour: int) -> datetime:
    """``hour`` o'clock on ``day`` in the chain's time zone."""
    return datetime.combine(day, time(hour), zone())


def _manager_of(session: Session, store_id: int) -> User | None:
    return next(iter(managers_of(session, store_id)), None)


def _proposals(session: Session, cycle: AwardCycle) -> list[tuple[Nomination, SnapshotRow]]:
    """The cycle's nominations with their rows, best ranked first."""
    return [
        (nomination, row)
        for nomination, row in session.execute(
            select(Nomination, SnapshotRow)
            .join(
                SnapshotRow,
                (SnapshotRow.cycle_id == Nomination.cycle_id)
                & (SnapshotRow.staff_id == Nomination.staff_id),
            )
            .where(Nomination.cycle_id == cycle.id)
            .order_by(SnapshotRow.q10.desc(), Nomination.id)
        ).tuples()
    ]


def _to_reject(
    session: Session, pairs: list[tuple[Nomination, SnapshotRow]], manager: User | None
) -> int | None:
    """Which proposal fails the attendance gate: the lowest ranked proposal (never the
    best) of a store with a manager who can appeal, else the lowest ranked one."""
    candidates = [
        index
        for index, (nomination, _row) in enumerate(pairs)
        if index > 0 and nomination.source == NominationSource.PROPOSED
    ]

    def appealable(index: int) -> bool:
        store_id = pairs[index][1].store_id
        if manager is not None:
            return any(store.id == store_id for store in manager.stores)
        return _manager_of(session, store_id) is not None

    preferred = [index for index in candidates if appealable(index)] or candidates
    return preferred[-1] if preferred else None


def _hand_added(session: Session, cycle: AwardCycle) -> Staff:
    """Whom HR's second login adds by hand: the best eligible person the ranking did not
    propose, else the best one short only of answers, so that the month always has an
    approved nomination (see the module docstring)."""
    rows = session.scalars(
        select(SnapshotRow)
        .join(Staff, Staff.id == SnapshotRow.staff_id)
        .where(
            SnapshotRow.cycle_id == cycle.id,
            SnapshotRow.proposed.is_(False),
            Staff.active.is_(True),
        )
        .order_by(
            SnapshotRow.eligible.desc(),
            SnapshotRow.q10.desc(),
            SnapshotRow.n.desc(),
            SnapshotRow.staff_id,
        )
    )
    candidate = next(
        (row for row in rows if set(row.reasons) <= {IneligibleReason.TOO_FEW_ANSWERS}), None
    )
    if candidate is None:
        raise ValueError(f"the awards demo finds nobody to nominate in {cycle.month:%Y-%m}")
    return session.get_one(Staff, candidate.staff_id)


def _final_month(
    session: Session, month: date, *, hr: User, hr2: User, manager: User | None
) -> tuple[int, int]:
    opened = _at(next_month(month), 9) + timedelta(days=2)
    cycle = open_cycle(session, month, actor=Actor.of_user(hr), now=opened)
    add_nomination(
        session,
        cycle,
        _hand_added(session, cycle),
        justification=APPROVE_MANUAL,
        actor=Actor.of_user(hr2),
        now=opened + timedelta(hours=2),
    )
    decided_at = opened + timedelta(days=1)
    pairs = _proposals(session, cycle)
    rejected_index = _to_reject(session, pairs, manager)
    for index, (nomination, _row) in enumerate(pairs):
        reject = index == rejected_index
        manual = nomination.source == NominationSource.MANUAL
        decide_nomination(
            session,
            nomination,
            approve=not reject,
            reason=REJECT_ATTENDANCE if reject else APPROVE_EXCEPTION if manual else APPROVE_NOTE,
            actor=Actor.of_user(hr),
            now=decided_at + timedelta(minutes=5 * index),
        )
    rejected = None if rejected_index is None else pairs[rejected_index]
    published = opened + timedelta(days=2)
    publish_cycle(session, cycle, actor=Actor.of_user(hr), now=published)
    if rejected is not None:
        nomination, row = rejected
        objector = manager if manager is not None else _manager_of(session, row.store_id)
        if objector is not None and any(store.id == row.store_id for store in objector.stores):
            made = appeal(
                session,
                nomination,
                actor=Actor.of_user(objector),
                reason=APPEAL_REASON,
                now=published + timedelta(hours=20),
            )
            answer_appeal(
                session,
                made,
                actor=Actor.of_user(hr2),
                outcome=AppealOutcome.STANDS,
                answer=APPEAL_ANSWER,
                now=published + timedelta(days=1, hours=3),
            )
    assert cycle.notice_until is not None
    finalise_due(session, cycle.notice_until + timedelta(hours=1))
    return len(pairs), len(pairs)


def _review_month(session: Session, month: date, *, hr: User, now: datetime) -> tuple[int, int]:
    opened = min(now, _at(next_month(month), 9) + timedelta(days=2))
    cycle = open_cycle(session, month, actor=Actor.of_user(hr), now=opened)
    pairs = _proposals(session, cycle)
    plan = [(True, APPROVE_NOTE), (True, APPROVE_NOTE), (False, REJECT_TRAINING)]
    for index, ((nomination, _row), (approve, reason)) in enumerate(zip(pairs, plan, strict=False)):
        decide_nomination(
            session,
            nomination,
            approve=approve,
            reason=reason,
            actor=Actor.of_user(hr),
            now=min(now, opened + timedelta(minutes=30 * (index + 1))),
        )
    return len(pairs), min(len(pairs), len(plan))


def build_awards_demo(
    session: Session,
    *,
    now: datetime,
    hr: User,
    hr2: User,
    manager: User | None = None,
) -> AwardsDemo:
    """Open, decide, publish and finalise the month before the last complete one, and open
    the last complete month with a few decisions taken (see the module docstring).

    ``hr`` and ``hr2`` are two different HR logins (separation of duties needs two);
    ``manager`` is the store manager who appeals, by default the manager of the rejected
    person's store, if the demo has one. Adds and flushes; the caller commits.

    Raises
    ------
    ValueError
        ``hr`` and ``hr2`` are the same user, or every active person of the final month
        is barred from the award (nobody can be added by hand).
    """
    if hr.id == hr2.id:
        raise ValueError("the awards demo needs two different HR users")
    review = last_complete_month(session, now)
    final = previous_month(review)
    nominations, decided = _final_month(session, final, hr=hr, hr2=hr2, manager=manager)
    more, more_decided = _review_month(session, review, hr=hr, now=now)
    session.flush()
    return AwardsDemo(
        final_month=final,
        review_month=review,
        nominations=nominations + more,
        decided=decided + more_decided,
    )
