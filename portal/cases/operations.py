"""Cases: opened automatically with an unhappy response (same transaction) or by hand, then
moved through open -> in progress -> resolved -> closed, with reopen. Every change is a
timeline event and an audit entry; a refused transition says why.

Transitions are checked against ``ALLOWED`` and applied with the row's version number
through the workflow kernel (`portal.workflow`), so two managers acting on one case at once
cannot both apply a change made for the old state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.access import first_manager_id, managers_of
from portal.audit import Actor, insert_audit, record_audit
from portal.cases.forms import STATE_LABELS
from portal.cases.notify import notify_assignee, queue_mail
from portal.cases.queries import get_follow_up_by_token
from portal.config import Settings
from portal.db import insert_now
from portal.errors import DomainError, NotFound
from portal.formatting import problem_categories
from portal.models import (
    Case,
    CaseEvent,
    CaseState,
    FollowUp,
    Resolution,
    Response,
    ReturnVisit,
    Role,
    Staff,
    Store,
    User,
)
from portal.workflow import (
    Change,
    InvalidTransition,
    Workflow,
    check_version,
    event_columns,
    move,
    record_change,
    require_state,
    timeline_of,
)
from surveys.answers import LOW_SATISFACTION
from surveys.tokens import new_token_id, sign_receipt_token

#: A likelihood-to-recommend at or below this is a detractor (DESIGN §5).
DETRACTOR_MAX = 6

#: state -> the states it may move to.
ALLOWED: dict[str, frozenset[str]] = {
    CaseState.OPEN: frozenset({CaseState.IN_PROGRESS}),
    CaseState.IN_PROGRESS: frozenset({CaseState.RESOLVED}),
    CaseState.RESOLVED: frozenset({CaseState.CLOSED, CaseState.IN_PROGRESS}),
    CaseState.CLOSED: frozenset({CaseState.IN_PROGRESS}),
}

CASES = Workflow(
    name="case",
    subject_type="case",
    allowed=ALLOWED,
    refused=lambda state, target: _l(
        "A case that is %(state)s cannot be moved to %(target)s.",
        state=STATE_LABELS.get(state, state),
        target=STATE_LABELS.get(target, target),
    ),
    timeline=timeline_of(CaseEvent),
    refusals={
        (CaseState.OPEN, CaseState.RESOLVED): _l(
            "Log the first contact with the customer before resolving."
        ),
        (CaseState.OPEN, CaseState.CLOSED): _l("Resolve the case before closing it."),
        (CaseState.IN_PROGRESS, CaseState.CLOSED): _l("Resolve the case before closing it."),
        (CaseState.IN_PROGRESS, CaseState.IN_PROGRESS): _l("The first contact is already logged."),
        (CaseState.OPEN, CaseState.IN_PROGRESS): _l("Log the first contact."),
    },
)


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


def _opened(session: Session, case: Case, actor: Actor, now: datetime, **details: Any) -> None:
    # The audit entry follows once the case has its id (see the callers).
    change = Change(actor, "opened", now, to_state=CaseState.OPEN, details=details)
    CASES.timeline(session, case, change)


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
    case = Case(
        store_id=response.store_id,
        staff_id=response.staff_id,
        response_id=response.id,
        source="survey",
        reasons=",".join(trigger.reasons),
        category=response.problem_category,
        summary=response.comment or "",
        state=CaseState.OPEN,
        assignee_id=first_manager_id(session, response.store_id),
        contact_phone=None if contact is None else contact.phone,
        contact_email=None if contact is None else contact.email,
        opened_at=now,
        first_response_due_at=now
        + timedelta(hours=settings.deadline_hours(response.problem_category)),
    )
    # Inserted at once, with its event and audit entry (`portal.db.insert_now`): every
    # unhappy survey answer opens one, and the unit of work cost more than the rows.
    insert_now(session, case)
    shopper = Actor(label="shopper")
    change = Change(
        shopper, "opened", now, to_state=CaseState.OPEN, details={"reasons": list(trigger.reasons)}
    )
    insert_now(session, CaseEvent(case_id=case.id, **event_columns(change)))
    insert_audit(session, shopper, "case.open", "case", case.id, now, source="survey")
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
    _opened(session, case, actor, now, source="manual")
    session.flush()
    record_audit(session, actor, "case.open", "case", case.id, now, source="manual")
    notify_new_case(session, settings, case, now=now)
    return case


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
    check_version(case, expected_version)
    require_state(case, CaseState.OPEN, _l("The first contact is already logged."))
    from_state = move(CASES, case, CaseState.IN_PROGRESS)
    case.first_contact_at = case.first_contact_at or now
    record_change(session, CASES, case, actor, "contacted", now, note=note, from_state=from_state)
    return case


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
    from_state = move(CASES, case, CaseState.RESOLVED, expected_version)
    case.resolved_at, case.resolution, case.resolution_note = now, resolution, note.strip()
    case.substantiated = substantiated
    record_change(
        session,
        CASES,
        case,
        actor,
        "resolved",
        now,
        note=note,
        from_state=from_state,
        resolution=resolution,
        substantiated=substantiated,
    )
    return case


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
    from_state = move(CASES, case, CaseState.CLOSED, expected_version)
    case.closed_at, case.return_visit = now, return_visit
    record_change(
        session,
        CASES,
        case,
        actor,
        "closed",
        now,
        note=note,
        from_state=from_state,
        return_visit=return_visit,
    )
    return case


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
    from_state = move(CASES, case, CaseState.IN_PROGRESS, expected_version)
    case.resolved_at = case.closed_at = None
    case.resolution = case.resolution_note = case.return_visit = None
    record_change(session, CASES, case, actor, "reopened", now, note=note, from_state=from_state)
    return case


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
    if case.state == CaseState.CLOSED:
        raise InvalidCase(_l("A closed case cannot be reassigned; reopen it first."))
    may_take = assignee.role == Role.ADMIN or assignee in managers_of(session, case.store_id)
    if not (may_take and assignee.active):
        raise InvalidCase(
            _l("Assign the case to an active manager of this store or an admin."), field="assignee"
        )
    case.assignee = assignee
    record_change(session, CASES, case, actor, "assigned", now, assignee=assignee.email)
    notify_new_case(session, settings, case, now=now)
    return case


def set_category(
    session: Session,
    case: Case,
    category: str,
    *,
    actor: Actor,
    now: datetime,
    expected_version: int | None = None,
) -> Case:
    """Give a case without a category one (the category suggested from its comment, or the
    manager's own choice). The first-response deadline stays as it was promised.

    Raises
    ------
    InvalidCase
        An unknown category, a case that has one already, or a closed case.
    InvalidTransition
        The page showed an older version of the case.
    """
    check_version(case, expected_version)
    if category not in problem_categories():
        raise InvalidCase(_l("Choose a category from the list."), field="category")
    if case.category:
        raise InvalidCase(_l("This case has a category already."), field="category")
    if case.state == CaseState.CLOSED:
        raise InvalidCase(_l("A closed case keeps its category; reopen it first."))
    case.category = category
    record_change(session, CASES, case, actor, "categorised", now, category=category)
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
    record_change(session, CASES, case, actor, "note", now, note=note)
    return case


def is_overdue(case: Case, now: datetime) -> bool:
    """Still waiting for its first response after the deadline."""
    return case.state == CaseState.OPEN and case.first_response_due_at < now


def notify_new_case(session: Session, settings: Settings, case: Case, *, now: datetime) -> None:
    """Tell the case's assignee about it (by e-mail through the outbox)."""
    notify_assignee(session, settings, case, kind="new", now=now)


#: How long a customer's follow-up link stays open.
FOLLOW_UP_DAYS = 14
FOLLOW_UP_PURPOSE = "follow-up"


class FollowUpNotPossible(DomainError):
    status = 409
    code = "follow_up_not_possible"


def send_follow_up(
    session: Session,
    settings: Settings,
    case: Case,
    *,
    actor: Actor,
    now: datetime,
    by_text: bool = False,
) -> str:
    """Create the case's one-question recovery link and e-mail it if there is an e-mail;
    ``by_text`` when the caller texts it too (`portal.sms.operations`), for the timeline.

    Returns the link (the manager can also read it out or text it).

    Raises
    ------
    FollowUpNotPossible
        The case is not resolved, the customer left no consented contact, or a link exists.
    """
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
        # The customer is written to in the language they answered the survey in.
        locale = case.response.locale if case.response else settings.default_locale
        with force_locale(locale):
            subject = _("%(store)s: was your problem solved?", store=case.store.name)
            body = _("One question, one click:") + f"\n\n{link}\n"
        queue_mail(session, to=case.contact_email, now=now, case=case, subject=subject, body=body)
    by_email = bool(case.contact_email)
    if by_text:
        record_change(
            session, CASES, case, actor, "follow_up_sent", now, by_email=by_email, by_text=True
        )
    else:
        record_change(session, CASES, case, actor, "follow_up_sent", now, by_email=by_email)
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
    if score not in range(1, 6):
        raise InvalidCase(_l("Please choose 1 to 5."), field="score")
    follow_up = get_follow_up_by_token(session, follow_up_token_id)
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
    record_change(session, CASES, case, customer, "follow_up_answered", now, score=score)
    if case.state == CaseState.RESOLVED:
        outcome = ReturnVisit.SATISFIED if score >= 4 else ReturnVisit.UNSATISFIED
        close_case(session, case, return_visit=outcome, note="", actor=customer, now=now)
    return case
