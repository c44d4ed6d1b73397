"""Cases: opened automatically with an unhappy response (same transaction) or by hand, then
moved through open -> in progress -> resolved -> closed, with reopen. Every change is a
timeline event and an audit entry; a refused transition says why.

Transitions are checked against ``ALLOWED`` and applied with the row's version number, so
two managers acting on one case at once cannot both apply a change made for the old state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from portal.access import managers_of
from portal.audit import Actor, record_audit
from portal.config import Settings
from portal.errors import DomainError, NotFound
from portal.models import (
    Case,
    CaseEvent,
    CaseState,
    Resolution,
    Response,
    ReturnVisit,
    Role,
    Staff,
    Store,
    User,
)
from surveys.answers import LOW_SATISFACTION

#: A likelihood-to-recommend at or below this is a detractor (DESIGN §5).
DETRACTOR_MAX = 6

#: state -> the states it may move to.
ALLOWED: dict[str, frozenset[str]] = {
    CaseState.OPEN: frozenset({CaseState.IN_PROGRESS}),
    CaseState.IN_PROGRESS: frozenset({CaseState.RESOLVED}),
    CaseState.RESOLVED: frozenset({CaseState.CLOSED, CaseState.IN_PROGRESS}),
    CaseState.CLOSED: frozenset({CaseState.IN_PROGRESS}),
}


class InvalidTransition(DomainError):
    status = 409
    code = "invalid_transition"


class InvalidCase(DomainError):
    status = 400
    code = "invalid_case"


@dataclass(frozen=True, slots=True)
class CaseTrigger:
    """Why a response needs follow-up (empty: it does not)."""

    reasons: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.reasons)


def case_trigger(nps: int, csat: int, problem_reported: bool) -> CaseTrigger:
    """A detractor (0-6), a satisfaction of 1-2, or a reported problem opens a case."""
    reasons = []
    if nps <= DETRACTOR_MAX:
        reasons.append("detractor")
    if csat <= LOW_SATISFACTION:
        reasons.append("low_csat")
    if problem_reported:
        reasons.append("problem")
    return CaseTrigger(tuple(reasons))


def default_assignee(session: Session, store_id: int) -> User | None:
    """The store's manager (the longest-standing active one), or nobody."""
    return next(iter(managers_of(session, store_id)), None)


def _event(
    case: Case,
    actor: Actor,
    kind: str,
    now: datetime,
    *,
    note: str = "",
    from_state: str | None = None,
    to_state: str | None = None,
    **details: Any,
) -> CaseEvent:
    event = CaseEvent(
        at=now,
        actor_user_id=actor.user_id,
        actor=actor.label,
        kind=kind,
        note=note,
        from_state=from_state,
        to_state=to_state,
        details=details,
    )
    case.events.append(event)
    return event


def open_case_for_response(
    session: Session, settings: Settings, response: Response, *, now: datetime
) -> Case | None:
    """Open the follow-up case a response calls for, in the response's transaction.

    Contact details are copied only when the shopper consented to be contacted.
    Returns None when the response needs no case.
    """
    trigger = case_trigger(response.nps, response.csat, response.problem_reported)
    if not trigger:
        return None
    contact = response.contact
    assignee = default_assignee(session, response.store_id)
    case = Case(
        store_id=response.store_id,
        staff_id=response.staff_id,
        response_id=response.id,
        source="survey",
        reasons=",".join(trigger.reasons),
        category=response.problem_category,
        summary=response.comment or "",
        state=CaseState.OPEN,
        assignee_id=None if assignee is None else assignee.id,
        contact_phone=None if contact is None else contact.phone,
        contact_email=None if contact is None else contact.email,
        opened_at=now,
        first_response_due_at=now
        + timedelta(hours=settings.deadline_hours(response.problem_category)),
    )
    session.add(case)
    shopper = Actor(label="shopper")
    _event(case, shopper, "opened", now, to_state=CaseState.OPEN, reasons=list(trigger.reasons))
    session.flush()
    record_audit(session, shopper, "case.open", "case", case.id, now, source="survey")
    notify_new_case(session, settings, case, now=now)
    return case


def open_case_manually(
    session: Session,
    settings: Settings,
    *,
    store: Store,
    category: str,
    summary: str,
    staff_code: str | None,
    contact_name: str | None,
    contact_phone: str | None,
    contact_email: str | None,
    consent: bool,
    actor: Actor,
    now: datetime,
) -> Case:
    """A complaint taken at the counter or by phone.

    Raises
    ------
    InvalidCase
        No summary, unknown staff code, or contact details without the customer's consent.
    """
    if not summary.strip():
        raise InvalidCase(_l("Describe the complaint."), field="summary")
    if (contact_name or contact_phone or contact_email) and not consent:
        raise InvalidCase(
            _l("Record contact details only when the customer agrees to be contacted."),
            field="consent",
        )
    staff = None
    if staff_code:
        staff = session.scalar(
            select(Staff).where(Staff.store_id == store.id, Staff.code == staff_code)
        )
        if staff is None:
            raise InvalidCase(_l("No staff member with this code at this store."), field="staff")
    assignee = default_assignee(session, store.id)
    case = Case(
        store_id=store.id,
        staff_id=None if staff is None else staff.id,
        source="manual",
        reasons="complaint",
        category=category,
        summary=summary.strip(),
        state=CaseState.OPEN,
        assignee_id=None if assignee is None else assignee.id,
        contact_name=contact_name or None,
        contact_phone=contact_phone or None,
        contact_email=contact_email or None,
        opened_at=now,
        first_response_due_at=now + timedelta(hours=settings.deadline_hours(category)),
    )
    session.add(case)
    _event(case, actor, "opened", now, to_state=CaseState.OPEN, source="manual")
    session.flush()
    record_audit(session, actor, "case.open", "case", case.id, now, source="manual")
    notify_new_case(session, settings, case, now=now)
    return case


def get_case(session: Session, case_id: int, *, visible_to: User | None = None) -> Case:
    """A case by id; with ``visible_to``, only if that user may see its store.

    Raises
    ------
    NotFound
        No such case, or one of a store the user may not see (one answer for both).
    """
    from portal.access import scope_to_user

    stmt = select(Case).where(Case.id == case_id)
    if visible_to is not None:
        stmt = scope_to_user(stmt, visible_to, Case.store_id)
    case = session.scalar(stmt)
    if case is None:
        raise NotFound(_l("No such case."))
    return case


def _move(
    case: Case, to_state: str, expected_version: int | None, *, only_from: str | None = None
) -> str:
    """Check and apply a transition; ``only_from`` narrows ALLOWED for one action (logging a
    contact moves open -> in progress, but is not the way back from resolved: reopen is)."""
    if expected_version is not None and case.version != expected_version:
        raise InvalidTransition(
            _l("This case changed while you were looking at it. Check the timeline and try again.")
        )
    if only_from is not None and case.state != only_from:
        raise InvalidTransition(_l("The first contact is already logged."))
    if to_state not in ALLOWED[case.state]:
        raise InvalidTransition(
            _TRANSITION_MESSAGES.get(
                (case.state, to_state),
                _l(
                    "A case that is %(state)s cannot be moved to %(target)s.",
                    state=case.state,
                    target=to_state,
                ),
            )
        )
    from_state = case.state
    case.state = to_state
    return from_state


_TRANSITION_MESSAGES: dict[tuple[str, str], Any] = {
    (CaseState.OPEN, CaseState.RESOLVED): _l(
        "Log the first contact with the customer before resolving."
    ),
    (CaseState.OPEN, CaseState.CLOSED): _l("Resolve the case before closing it."),
    (CaseState.IN_PROGRESS, CaseState.CLOSED): _l("Resolve the case before closing it."),
    (CaseState.IN_PROGRESS, CaseState.IN_PROGRESS): _l("The first contact is already logged."),
    (CaseState.OPEN, CaseState.IN_PROGRESS): _l("Log the first contact."),
}


def log_contact(
    session: Session,
    case: Case,
    *,
    note: str,
    actor: Actor,
    now: datetime,
    expected_version: int | None = None,
) -> Case:
    """First contact made: open -> in progress.

    Raises
    ------
    InvalidTransition
    """
    from_state = _move(case, CaseState.IN_PROGRESS, expected_version, only_from=CaseState.OPEN)
    case.first_contact_at = case.first_contact_at or now
    return _changed(session, case, actor, "contacted", now, note, from_state)


def resolve_case(
    session: Session,
    case: Case,
    *,
    resolution: str,
    note: str,
    actor: Actor,
    now: datetime,
    substantiated: bool = False,
    expected_version: int | None = None,
) -> Case:
    """In progress -> resolved, with the resolution type and a note; ``substantiated``
    when the complaint against the staff member on the case was justified (有责).

    Raises
    ------
    InvalidCase
        Unknown resolution type or no note.
    InvalidTransition
    """
    if resolution not in set(Resolution):
        raise InvalidCase(_l("Choose how the case was resolved."), field="resolution")
    if not note.strip():
        raise InvalidCase(_l("Describe the resolution."), field="note")
    if substantiated and case.staff_id is None:
        raise InvalidCase(
            _l("Only a complaint against a named staff member can be substantiated."),
            field="substantiated",
        )
    from_state = _move(case, CaseState.RESOLVED, expected_version)
    case.resolved_at, case.resolution, case.resolution_note = now, resolution, note.strip()
    case.substantiated = substantiated
    return _changed(
        session,
        case,
        actor,
        "resolved",
        now,
        note,
        from_state,
        resolution=resolution,
        substantiated=substantiated,
    )


def close_case(
    session: Session,
    case: Case,
    *,
    return_visit: str,
    note: str,
    actor: Actor,
    now: datetime,
    expected_version: int | None = None,
) -> Case:
    """Resolved -> closed, after the return visit to the customer.

    Raises
    ------
    InvalidCase
        Unknown outcome of the return visit.
    InvalidTransition
    """
    if return_visit not in set(ReturnVisit):
        raise InvalidCase(_l("Record the outcome of the return visit."), field="return_visit")
    from_state = _move(case, CaseState.CLOSED, expected_version)
    case.closed_at, case.return_visit = now, return_visit
    return _changed(
        session, case, actor, "closed", now, note, from_state, return_visit=return_visit
    )


def reopen_case(
    session: Session,
    case: Case,
    *,
    note: str,
    actor: Actor,
    now: datetime,
    expected_version: int | None = None,
) -> Case:
    """Resolved or closed -> in progress again (the customer came back).

    Raises
    ------
    InvalidCase
        No reason given.
    InvalidTransition
    """
    if not note.strip():
        raise InvalidCase(_l("Say why the case is reopened."), field="note")
    if case.state not in (CaseState.RESOLVED, CaseState.CLOSED):
        raise InvalidTransition(_l("Only a resolved or closed case can be reopened."))
    from_state = _move(case, CaseState.IN_PROGRESS, expected_version)
    case.resolved_at = case.closed_at = None
    case.resolution = case.resolution_note = case.return_visit = None
    return _changed(session, case, actor, "reopened", now, note, from_state)


def assign_case(
    session: Session,
    settings: Settings,
    case: Case,
    assignee: User,
    *,
    actor: Actor,
    now: datetime,
) -> Case:
    """Give the case to another user who may see its store.

    Raises
    ------
    InvalidCase
        The user may not see the case's store, or the case is closed.
    """
    from portal.access import scope_to_user

    if case.state == CaseState.CLOSED:
        raise InvalidCase(_l("A closed case cannot be reassigned; reopen it first."))
    allowed = session.scalar(
        scope_to_user(select(Store.id).where(Store.id == case.store_id), assignee, Store.id)
    )
    if allowed is None or assignee.role not in (Role.MANAGER, Role.ADMIN) or not assignee.active:
        raise InvalidCase(
            _l("Assign the case to an active manager of this store or an admin."), field="assignee"
        )
    case.assignee = assignee
    _changed(session, case, actor, "assigned", now, "", None, assignee=assignee.email)
    notify_new_case(session, settings, case, now=now)
    return case


def add_note(session: Session, case: Case, *, note: str, actor: Actor, now: datetime) -> Case:
    """A note on the timeline; it changes nothing else.

    Raises
    ------
    InvalidCase
        Empty note.
    """
    if not note.strip():
        raise InvalidCase(_l("Write the note first."), field="note")
    return _changed(session, case, actor, "note", now, note, None)


def _changed(
    session: Session,
    case: Case,
    actor: Actor,
    kind: str,
    now: datetime,
    note: str,
    from_state: str | None,
    **details: Any,
) -> Case:
    to_state = case.state if from_state is not None else None
    # Both the event's lazy load (autoflush) and the flush write the case row with its
    # version: another request that changed it first makes that UPDATE match no row.
    try:
        _event(
            case,
            actor,
            kind,
            now,
            note=note.strip(),
            from_state=from_state,
            to_state=to_state,
            **details,
        )
        record_audit(
            session,
            actor,
            f"case.{kind}",
            "case",
            case.id,
            now,
            from_state=from_state,
            to_state=to_state,
            **details,
        )
        session.flush()
    except StaleDataError:
        raise InvalidTransition(
            _l("This case changed while you were looking at it. Check the timeline and try again.")
        ) from None
    return case


def is_overdue(case: Case, now: datetime) -> bool:
    """Still waiting for its first response after the deadline."""
    return case.state == CaseState.OPEN and case.first_response_due_at < now


# Notifications live in portal.cases.notify; imported late to keep this module readable.
def notify_new_case(session: Session, settings: Settings, case: Case, *, now: datetime) -> None:
    from portal.cases.notify import notify_assignee

    notify_assignee(session, settings, case, kind="new", now=now)


#: How long a customer's follow-up link stays open.
FOLLOW_UP_DAYS = 14
FOLLOW_UP_PURPOSE = "follow-up"


class FollowUpNotPossible(DomainError):
    status = 409
    code = "follow_up_not_possible"


def send_follow_up(
    session: Session, settings: Settings, case: Case, *, actor: Actor, now: datetime
) -> str:
    """Create the case's one-question recovery link and e-mail it if there is an e-mail.

    Returns the link (the manager can also read it out or text it).

    Raises
    ------
    FollowUpNotPossible
        The case is not resolved, the customer left no consented contact, or a link exists.
    """
    from portal.cases.notify import queue_mail
    from portal.models import FollowUp
    from surveys.tokens import new_token_id, sign_receipt_token

    if case.state != CaseState.RESOLVED:
        raise FollowUpNotPossible(_l("Send the follow-up question once the case is resolved."))
    if not (case.contact_phone or case.contact_email):
        raise FollowUpNotPossible(
            _l("The customer left no contact details they agreed to be contacted on.")
        )
    follow_up = FollowUp(
        case_id=case.id,
        token_id=new_token_id(),
        created_at=now,
        expires_at=(now + timedelta(days=FOLLOW_UP_DAYS)).replace(microsecond=0),
    )
    try:
        with session.begin_nested():
            session.add(follow_up)
    except IntegrityError:
        raise FollowUpNotPossible(_l("A follow-up link was already sent for this case.")) from None
    token = sign_receipt_token(
        settings.secret_key, follow_up.token_id, follow_up.expires_at, purpose=FOLLOW_UP_PURPOSE
    )
    link = f"{settings.base_url}/f/{token}"
    if case.contact_email:
        queue_mail(
            session,
            to=case.contact_email,
            now=now,
            case=case,
            subject=f"{case.store.name}：您的问题解决了吗？ Was your problem solved?",
            body=f"请点击链接回答一个问题。 One question, one click:\n\n{link}\n",
        )
    _changed(
        session, case, actor, "follow_up_sent", now, "", None, by_email=bool(case.contact_email)
    )
    return link


def answer_follow_up(
    session: Session, follow_up_token_id: str, score: int, *, now: datetime
) -> Case:
    """Record the customer's 1-5 answer once and close the loop: the case is closed with a
    satisfied (4-5) or unsatisfied (1-3) return visit.

    Raises
    ------
    NotFound
        No such follow-up.
    InvalidCase
        A score outside 1-5.
    FollowUpNotPossible
        Already answered.
    """
    from sqlalchemy import update

    from portal.models import FollowUp

    if score not in range(1, 6):
        raise InvalidCase(_l("Please choose 1 to 5."), field="score")
    follow_up = session.scalar(select(FollowUp).where(FollowUp.token_id == follow_up_token_id))
    if follow_up is None:
        raise NotFound(_l("This link is not valid."))
    # Conditional update: two taps on "send" record one answer.
    done = session.execute(
        update(FollowUp)
        .where(FollowUp.id == follow_up.id, FollowUp.answered_at.is_(None))
        .values(answered_at=now, score=score)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise FollowUpNotPossible(_l("You have already answered. Thank you!"))
    case = follow_up.case
    customer = Actor(label="customer")
    _changed(session, case, customer, "follow_up_answered", now, "", None, score=score)
    if case.state == CaseState.RESOLVED:
        outcome = ReturnVisit.SATISFIED if score >= 4 else ReturnVisit.UNSATISFIED
        close_case(session, case, return_visit=outcome, note="", actor=customer, now=now)
    return case
