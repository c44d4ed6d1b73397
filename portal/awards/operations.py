"""Service-star award cycles: the rules every award operation shares (who may decide, the
cycle and nomination workflows, the cycle lock) and the cycle's own life: opening a month
(a frozen snapshot of the ranking and the proposed nominations), publication (公示) and
finalisation. Decisions on nominations are in `portal.awards.decisions`, appeals in
`portal.awards.appeals`, the hash-chained log in `portal.awards.ledger`.

Rules (reference ``mystery-and-awards.md`` §3.6):

* one cycle per month, opened only once the month is over; its snapshot rows are written
  here and nowhere else, so later answers or disputes never rewrite a month;
* a rejection, and the approval of a nomination added by hand, need a written reason; the
  HR user who added a nomination by hand does not approve it; an appeal is answered by an
  HR user other than the one who decided the nomination (separation of duties);
* every decision is an `AwardEvent` in one append-only hash chain and an audit entry,
  written by `portal.workflow.record_change` through the workflows below.

Concurrency: each operation locks the cycle row (PostgreSQL ``FOR UPDATE``) before it
checks the cycle's state, and the log takes its own lock last (see `portal.awards.ledger`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.audit import CLI, Actor
from portal.awards.ledger import append_award_event, award_audit_details
from portal.awards.queries import count_pending, get_snapshot_row
from portal.awards.snapshot import CODE_VERSION, cycle_parameters, snapshot_row_values
from portal.calendar import chain_today, month_key, month_start, next_month
from portal.errors import Conflict, DomainError
from portal.hr.ranking import current_policy, parameters_of, policy_channels, rank_month
from portal.models import (
    Appeal,
    AwardCycle,
    CycleState,
    Nomination,
    NominationSource,
    NominationState,
    Role,
    SnapshotRow,
    User,
)
from portal.workflow import (
    InvalidTransition,
    Workflow,
    acting_user,
    check_version,
    move,
    record_change,
)

#: Who decides nominations and answers appeals.
HR_ROLES = frozenset({Role.HR, Role.ADMIN})

#: A cycle's state -> the states it may move to.
CYCLE_ALLOWED: dict[str, frozenset[str]] = {
    CycleState.IN_REVIEW: frozenset({CycleState.PUBLISHED}),
    CycleState.PUBLISHED: frozenset({CycleState.FINAL}),
    CycleState.FINAL: frozenset(),
}
#: A nomination's state -> the states it may move to: decided once, then reversed only by
#: an answered appeal.
NOMINATION_ALLOWED: dict[str, frozenset[str]] = {
    NominationState.PENDING: frozenset({NominationState.APPROVED, NominationState.REJECTED}),
    NominationState.APPROVED: frozenset({NominationState.REJECTED}),
    NominationState.REJECTED: frozenset({NominationState.APPROVED}),
}


def _award_workflow(
    subject_type: str, allowed: dict[str, frozenset[str]], refusal: Any
) -> Workflow:
    # Every refused award move has one explanation per kind of row: the operations check
    # the cycle's state first, with their own words, so these are the last line of defence.
    return Workflow(
        name="award",
        subject_type=subject_type,
        allowed=allowed,
        refused=lambda state, target: refusal,
        timeline=append_award_event,
        audit_details=award_audit_details,
    )


CYCLES = _award_workflow("award_cycle", CYCLE_ALLOWED, _l("The awards of this month are final."))
NOMINATIONS = _award_workflow(
    "award_nomination", NOMINATION_ALLOWED, _l("This nomination is already decided.")
)


class InvalidAward(DomainError):
    """A choice is missing, or the person cannot be nominated."""

    status = 400
    code = "invalid_award"


class NotAllowed(DomainError):
    """This user may not take this decision (separation of duties, or not their store)."""

    status = 403
    code = "award_not_allowed"


class CycleExists(Conflict):
    code = "award_cycle_exists"


def require_hr(session: Session, actor: Actor) -> User:
    """The HR user (or admin) behind ``actor``.

    Raises
    ------
    NotAllowed
        Nobody signed in, or not an active HR user or admin.
    """
    user = acting_user(session, actor)
    if user is None or user.role not in HR_ROLES or not user.active:
        raise NotAllowed(_l("Only HR may take award decisions."))
    return user


def lock_cycle(session: Session, cycle: AwardCycle) -> AwardCycle:
    """Re-read the cycle with a row lock (PostgreSQL; SQLite's write lock is already held
    by the writer session), so that its state cannot change until this transaction ends."""
    session.flush()
    return session.scalars(
        select(AwardCycle)
        .where(AwardCycle.id == cycle.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def in_review(session: Session, cycle: AwardCycle) -> AwardCycle:
    """The cycle, locked, when HR may still decide in it.

    Raises
    ------
    InvalidTransition
        The cycle is published or final.
    """
    cycle = lock_cycle(session, cycle)
    if cycle.state != CycleState.IN_REVIEW:
        raise InvalidTransition(
            _l(
                "The awards of %(month)s are already published: decisions can only be "
                "changed through an appeal.",
                month=month_key(cycle.month),
            )
        )
    return cycle


def nomination_details(
    nomination: Nomination, row: SnapshotRow | None, **more: Any
) -> dict[str, Any]:
    """What an event about a nomination records of it (from the frozen snapshot row)."""
    return {
        "staff_id": nomination.staff_id,
        "staff_code": None if row is None else row.staff_code,
        "store_code": None if row is None else row.store_code,
        "source": nomination.source,
        **more,
    }


def decide(nomination: Nomination, to_state: str, decider: User, reason: str, now: datetime) -> str:
    """Move the nomination to ``to_state`` as ``decider``'s decision, with ``reason``;
    returns the state it left.

    Raises
    ------
    InvalidTransition
        ``NOMINATION_ALLOWED`` has no such move.
    """
    from_state = move(NOMINATIONS, nomination, to_state)
    nomination.decided_by_id = decider.id
    nomination.decided_at = now
    nomination.decision_reason = reason
    return from_state


def record_nomination_change(
    session: Session,
    nomination: Nomination,
    actor: Actor,
    kind: str,
    now: datetime,
    *,
    reason: str,
    from_state: str | None = None,
    **more: Any,
) -> None:
    """Record a change of a nomination in the award log and the audit log, with the staff
    member as the month's snapshot froze them.

    Raises
    ------
    InvalidTransition
        The nomination or its cycle changed since they were read.
    """
    row = get_snapshot_row(session, nomination.cycle, nomination.staff_id)
    details = nomination_details(nomination, row, **more)
    record_change(
        session,
        NOMINATIONS,
        nomination,
        actor,
        kind,
        now,
        note=reason,
        from_state=from_state,
        **details,
    )


# -- opening a month -----------------------------------------------------------------------


def open_cycle(session: Session, month: date, *, actor: Actor, now: datetime) -> AwardCycle:
    """Open the award cycle of ``month``: rank the month with the current policy, freeze the
    result as snapshot rows (names and codes copied), record the parameters, the input
    digest and the code version, and create a pending nomination for every proposed staff
    member. The cycle starts in review.

    Raises
    ------
    InvalidTransition
        The month is not over yet in every store.
    CycleExists
        The month already has a cycle (one per month, enforced by the database).
    """
    month = month_start(month)
    if chain_today(session, now) < next_month(month):
        raise InvalidTransition(
            _l(
                "%(month)s is not over yet: a month's awards are opened after its last day.",
                month=month_key(month),
            )
        )
    policy = current_policy(session)
    result = rank_month(
        session,
        month,
        scope=policy.scope,
        parameters=parameters_of(policy),
        channels=policy_channels(policy),
    )
    cycle = AwardCycle(
        month=month,
        scope=policy.scope,
        state=CycleState.IN_REVIEW,
        parameters=cycle_parameters(policy, result.ranking),
        input_digest=result.input_digest,
        code_version=CODE_VERSION,
        prior_strength=result.ranking.m,
        opened_by=actor.label,
        opened_at=now,
    )
    try:
        with session.begin_nested():
            session.add(cycle)
    except IntegrityError:
        raise CycleExists(
            _l("The awards of %(month)s are already open.", month=month_key(month))
        ) from None
    if result.rows:
        # Thousands of rows: one executemany, not one ORM object each.
        session.execute(
            insert(SnapshotRow),
            [snapshot_row_values(cycle.id, ranked) for ranked in result.rows],
        )
    proposed = [ranked for ranked in result.rows if ranked.score.proposed]
    for ranked in proposed:
        session.add(
            Nomination(
                cycle_id=cycle.id,
                staff_id=ranked.staff.staff_id,
                source=NominationSource.PROPOSED,
                state=NominationState.PENDING,
            )
        )
    session.flush()
    session.expire(cycle, ["rows", "nominations"])
    record_change(
        session,
        CYCLES,
        cycle,
        actor,
        "opened",
        now,
        staff=len(result.rows),
        proposed=[ranked.staff.staff_id for ranked in proposed],
        input_digest=result.input_digest,
        code_version=CODE_VERSION,
    )
    return cycle


# -- publication and finalisation ----------------------------------------------------------


def publish_cycle(
    session: Session,
    cycle: AwardCycle,
    *,
    actor: Actor,
    now: datetime,
    expected_version: int | None = None,
) -> AwardCycle:
    """Publish the month's decisions (公示): the notice period for appeals runs for the
    ``notice_days`` recorded with the cycle's parameters.

    Raises
    ------
    InvalidTransition
        The cycle is already published, a nomination is still pending, or the cycle
        changed since ``expected_version``.
    """
    cycle = in_review(session, cycle)
    check_version(cycle, expected_version)
    pending = count_pending(session, cycle)
    if pending:
        raise InvalidTransition(
            _l(
                "%(count)s nomination(s) still wait for a decision: approve or reject each "
                "one before publishing.",
                count=pending,
            )
        )
    days = int(cycle.parameters.get("notice_days") or current_policy(session).notice_days)
    move(CYCLES, cycle, CycleState.PUBLISHED)
    cycle.published_at = now
    cycle.notice_until = now + timedelta(days=days)
    record_change(
        session,
        CYCLES,
        cycle,
        actor,
        "published",
        now,
        notice_until=cycle.notice_until.isoformat(),
        approved=sorted(
            n.staff_id for n in cycle.nominations if n.state == NominationState.APPROVED
        ),
    )
    return cycle


def finalise_due(session: Session, now: datetime, *, actor: Actor = CLI) -> list[AwardCycle]:
    """Published cycles whose notice period has ended become final (run from cron). A cycle
    with an unanswered appeal waits for the answer.

    Returns the cycles made final, oldest month first.
    """
    unanswered = (
        select(Appeal.id)
        .join(Nomination, Nomination.id == Appeal.nomination_id)
        .where(Nomination.cycle_id == AwardCycle.id, Appeal.answered_at.is_(None))
    )
    # Every due cycle is locked before the first event: the log lock always comes last.
    due = session.scalars(
        select(AwardCycle)
        .where(
            AwardCycle.state == CycleState.PUBLISHED,
            AwardCycle.notice_until <= now,
            ~unanswered.exists(),
        )
        .order_by(AwardCycle.month)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for cycle in due:
        move(CYCLES, cycle, CycleState.FINAL)
        cycle.final_at = now
        record_change(session, CYCLES, cycle, actor, "finalised", now)
    return list(due)
