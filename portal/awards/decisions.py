"""HR's decisions on a cycle in review: approving or rejecting a nomination, and adding a
nomination by hand. Each decision is a move of the nomination workflow
(`portal.awards.operations.NOMINATIONS`), recorded in the award log with its reason.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.audit import Actor
from portal.awards.operations import (
    InvalidAward,
    NotAllowed,
    decide,
    in_review,
    record_nomination_change,
    require_hr,
)
from portal.awards.queries import get_snapshot_row
from portal.hr.ranking import SUBSTANTIATED_COMPLAINT
from portal.models import AwardCycle, Nomination, NominationSource, NominationState, Staff
from portal.workflow import InvalidTransition, check_version, require_reason, require_state


def _decision_reason(nomination: Nomination, approve: bool, reason: str) -> str:
    if not approve:
        message = _l("Give the reason for the rejection (at least 10 characters).")
    elif nomination.source == NominationSource.MANUAL:
        message = _l("Say why this nomination added by hand is approved (at least 10 characters).")
    else:
        return (reason or "").strip()
    return require_reason(reason, field="reason", message=message)


def decide_nomination(
    session: Session,
    nomination: Nomination,
    *,
    approve: bool,
    reason: str,
    actor: Actor,
    now: datetime,
    expected_version: int | None = None,
) -> Nomination:
    """Approve or reject a pending nomination while its cycle is in review.

    A rejection needs a reason, and so does approving a nomination added by hand; the HR
    user who added a nomination by hand may not approve or reject it.

    Raises
    ------
    InvalidReason
        The reason is missing or shorter than ``MIN_REASON_LENGTH`` (field ``reason``).
    NotAllowed
        The actor is not HR, or added this nomination themself.
    InvalidTransition
        The cycle is published, the nomination is already decided, or it changed since
        ``expected_version``.
    """
    reviewer = require_hr(session, actor)
    in_review(session, nomination.cycle)
    check_version(nomination, expected_version)
    require_state(nomination, NominationState.PENDING, _l("This nomination is already decided."))
    if nomination.created_by_id is not None and nomination.created_by_id == reviewer.id:
        raise NotAllowed(
            _l(
                "You added this nomination yourself: another HR colleague has to decide it "
                "(separation of duties)."
            )
        )
    reason = _decision_reason(nomination, approve, reason)
    to_state = NominationState.APPROVED if approve else NominationState.REJECTED
    from_state = decide(nomination, to_state, reviewer, reason, now)
    record_nomination_change(
        session, nomination, actor, to_state, now, reason=reason, from_state=from_state
    )
    return nomination


def add_nomination(
    session: Session,
    cycle: AwardCycle,
    staff: Staff,
    *,
    justification: str,
    actor: Actor,
    now: datetime,
) -> Nomination:
    """HR adds a staff member the ranking did not propose, with a written justification.
    The nomination is pending; another HR user decides it.

    Raises
    ------
    InvalidReason
        No justification (field ``justification``).
    InvalidAward
        The staff member is not in the month's snapshot or is barred by a substantiated
        complaint (field ``staff``).
    NotAllowed
        The actor is not HR.
    InvalidTransition
        The cycle is published, or the staff member is already nominated.
    """
    user = require_hr(session, actor)
    cycle = in_review(session, cycle)
    justification = require_reason(
        justification,
        field="justification",
        message=_l("Explain why this person deserves the award (at least 10 characters)."),
    )
    row = get_snapshot_row(session, cycle, staff.id)
    if row is None:
        raise InvalidAward(_l("This person is not in the month's ranking."), field="staff")
    if SUBSTANTIATED_COMPLAINT in row.reasons:
        # The "no responsible complaint" gate (一票否决) is not something HR can override.
        raise InvalidAward(
            _l("A substantiated complaint in the month bars this person from the award."),
            field="staff",
        )
    nomination = Nomination(
        cycle_id=cycle.id,
        staff_id=staff.id,
        source=NominationSource.MANUAL,
        state=NominationState.PENDING,
        justification=justification,
        created_by_id=user.id,
    )
    try:
        with session.begin_nested():
            session.add(nomination)
    except IntegrityError:
        raise InvalidTransition(_l("This person is already nominated this month.")) from None
    record_nomination_change(session, nomination, actor, "nominated", now, reason=justification)
    return nomination
