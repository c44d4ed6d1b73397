"""Appeals during the notice period (公示): a store manager objects to a published decision
about one of their staff, and an HR user other than the one who decided answers it; a
reversed decision is a move of the nomination workflow, recorded in the award log.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.access import managers_of
from portal.audit import Actor
from portal.awards.operations import (
    InvalidAward,
    NotAllowed,
    decide,
    lock_cycle,
    record_nomination_change,
    require_hr,
)
from portal.awards.queries import get_snapshot_row
from portal.models import Appeal, AppealOutcome, CycleState, Nomination, NominationState
from portal.workflow import InvalidTransition, acting_user, require_reason


def appeal(
    session: Session, nomination: Nomination, *, actor: Actor, reason: str, now: datetime
) -> Appeal:
    """A store manager objects to a published decision about one of their staff, before
    the notice period ends.

    Raises
    ------
    NotAllowed
        The actor is not an active manager of the store the staff member was ranked in.
    InvalidReason
        No specific reason (field ``reason``).
    InvalidTransition
        The cycle is not published, the notice period is over, or an earlier appeal on this
        nomination is still unanswered.
    """
    cycle = lock_cycle(session, nomination.cycle)
    row = get_snapshot_row(session, cycle, nomination.staff_id)
    manager = acting_user(session, actor)
    if row is None or manager is None or manager not in managers_of(session, row.store_id):
        raise NotAllowed(_l("Only the manager of this person's store may appeal."))
    if cycle.state != CycleState.PUBLISHED:
        raise InvalidTransition(
            _l("Appeals are possible while the decisions are on public notice.")
        )
    if cycle.notice_until is None or now >= cycle.notice_until:
        raise InvalidTransition(
            _l("The notice period is over: the decision can no longer be appealed.")
        )
    if any(a.answered_at is None for a in nomination.appeals):
        raise InvalidTransition(_l("An appeal on this decision is still waiting for HR's answer."))
    reason = require_reason(
        reason,
        field="reason",
        message=_l("Say specifically what is wrong with the decision (at least 10 characters)."),
    )
    made = Appeal(nomination=nomination, raised_by_id=manager.id, raised_at=now, reason=reason)
    session.add(made)
    session.flush()
    record_nomination_change(
        session,
        nomination,
        actor,
        "appealed",
        now,
        reason=reason,
        appeal_id=made.id,
        decision=nomination.state,
    )
    return made


def answer_appeal(
    session: Session,
    appeal: Appeal,
    *,
    actor: Actor,
    outcome: str,
    answer: str,
    now: datetime,
) -> Appeal:
    """HR answers an appeal: the decision ``stands``, or is ``changed`` (approved becomes
    rejected and rejected approved, with the answer as the new decision's reason). The
    answer comes from an HR user other than the one who took the contested decision.

    Raises
    ------
    InvalidAward
        Unknown outcome (field ``outcome``).
    InvalidReason
        No answer (field ``answer``).
    NotAllowed
        The actor is not HR, or took the contested decision.
    InvalidTransition
        The appeal is already answered, or the cycle is final.
    """
    hr_user = require_hr(session, actor)
    nomination = appeal.nomination
    cycle = lock_cycle(session, nomination.cycle)
    if cycle.state != CycleState.PUBLISHED:
        raise InvalidTransition(_l("The awards of this month are final."))
    if appeal.answered_at is not None:
        raise InvalidTransition(_l("This appeal is already answered."))
    if outcome not in set(AppealOutcome):
        raise InvalidAward(_l("Choose whether the decision stands or changes."), field="outcome")
    if nomination.decided_by_id == hr_user.id:
        raise NotAllowed(
            _l(
                "You took the decision under appeal: another HR colleague has to answer "
                "(separation of duties)."
            )
        )
    answer = require_reason(
        answer, field="answer", message=_l("Explain the answer (at least 10 characters).")
    )
    from_state = nomination.state
    appeal.answered_by_id = hr_user.id
    appeal.answered_at = now
    appeal.outcome = outcome
    appeal.answer = answer
    if outcome == AppealOutcome.CHANGED:
        reversed_state = (
            NominationState.REJECTED
            if from_state == NominationState.APPROVED
            else NominationState.APPROVED
        )
        decide(nomination, reversed_state, hr_user, answer, now)
    record_nomination_change(
        session,
        nomination,
        actor,
        "appeal_answered",
        now,
        reason=answer,
        from_state=from_state,
        appeal_id=appeal.id,
        outcome=outcome,
    )
    return appeal
