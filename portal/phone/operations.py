"""Recording a telephone return visit: the call's outcome, the short phone survey when the
customer answered (a response of channel ``phone``), and what it means for the customer's
case, all in the caller's one transaction.

A call from a case is an event on the case's timeline (`portal.workflow.record_change`)
and applied with the case's version, so of two managers recording a call for the same case
at once the second is refused before anything of theirs is written. A call about an
answer without a case is audited on its own; if the customer is unhappy on the phone, that
answer opens a case like any other, with the contact details the customer left before.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from portal.access import CONTACT_ROLES, scope_to_user
from portal.audit import Actor, record_audit
from portal.cases.forms import NOTE_LENGTH
from portal.cases.operations import CASES, close_case
from portal.config import Settings
from portal.errors import DomainError, NotFound
from portal.models import (
    Case,
    CaseState,
    Channel,
    PhoneOutcome,
    PhoneVisit,
    Response,
    ReturnVisit,
    Store,
    User,
)
from portal.phone.survey import named_cashier, phone_survey_version
from portal.shopper.operations import record_receiptless_response
from portal.versions import definition_of
from portal.workflow import check_version, flush_versioned, move, record_change
from surveys.answers import Answers

#: The audit action of a call about an answer without a case (a call from a case is the
#: case's ``case.phone_visit``).
RECORDED = "phone_visit.recorded"


class InvalidPhoneVisit(DomainError):
    """The call's record is incomplete or contradicts itself."""

    status = 400
    code = "invalid_phone_visit"


class CannotCall(DomainError):
    """There is nobody to call: no phone number left with consent, or another store's."""

    status = 409
    code = "cannot_call"
    message = _l("The customer left no phone number they agreed to be called on.")


def record_phone_visit(
    session: Session,
    settings: Settings,
    *,
    store: Store,
    case: Case | None = None,
    about_response: Response | None = None,
    outcome: str,
    answers: Answers | None = None,
    problem_solved: bool | None = None,
    note: str,
    user: User,
    now: datetime,
    expected_version: int | None = None,
) -> PhoneVisit:
    """Record a manager's return call to a customer, from ``case`` or about
    ``about_response`` (an answer whose customer left a phone number with consent; if that
    answer has a case, the call is the case's).

    ``outcome`` is a `PhoneOutcome`. An answered call stores ``answers`` (the scoring
    questions, validated by the caller with `portal.phone.survey.phone_questions`) as a
    response of channel ``phone`` for the store's current survey version, counted in the
    rollups, naming the cashier only when the receipt behind the call names them
    (`named_cashier`), and never opening a second case for a customer who has one.

    On a case, the call is a timeline event and sets the case's return visit: satisfied
    or not by ``problem_solved`` when answered, unreachable when nobody answered and no
    outcome is known yet (a declined survey leaves it). A customer reached on an open case
    is its first contact (open -> in progress); an answered call on a resolved case closes
    it, as the customer's follow-up answer does. ``expected_version`` is the case version
    the page showed.

    Raises
    ------
    NotFound
        ``user`` may not read the store's customers.
    InvalidPhoneVisit
        Unknown outcome, answers missing from an answered call or given for another, a
        note over 2,000 characters.
    CannotCall
        No consented phone number, or a case or answer of another store.
    InvalidTransition
        The case changed since the page showed it (`portal.workflow.STALE_MESSAGE`).
    """
    _check_caller(session, user, store)
    _check_outcome(outcome, answers, problem_solved)
    cleaned = note.strip()
    if len(cleaned) > NOTE_LENGTH:
        raise InvalidPhoneVisit(_l("Keep the note to 2,000 characters."), field="note")
    if case is None and about_response is not None:
        case = session.scalar(select(Case).where(Case.response_id == about_response.id))
    if case is not None:
        _claim(session, case, store, expected_version)
        about_response = case.response
    elif about_response is None or about_response.store_id != store.id:
        raise CannotCall()
    elif about_response.contact is None or not about_response.contact.phone:
        raise CannotCall()
    actor = Actor.of_user(user)
    response = None
    if outcome == PhoneOutcome.ANSWERED:
        assert answers is not None
        response = _store_answers(
            session, settings, store, about_response, answers, user, now, open_case=case is None
        )
    visit = PhoneVisit(
        store_id=store.id,
        case_id=None if case is None else case.id,
        about_response_id=None if about_response is None else about_response.id,
        response_id=None if response is None else response.id,
        outcome=outcome,
        problem_solved=problem_solved,
        called_by_user_id=user.id,
        called_at=now,
        note=cleaned or None,
    )
    session.add(visit)
    session.flush()
    if case is not None:
        _on_case(session, case, visit, actor, now)
    else:
        assert about_response is not None
        if response is not None:
            _hand_over_contact(session, response, about_response)
        record_audit(
            session,
            actor,
            RECORDED,
            "phone_visit",
            visit.id,
            now,
            store=store.code,
            call_outcome=outcome,
            problem_solved=problem_solved,
        )
    return visit


def _check_caller(session: Session, user: User, store: Store) -> None:
    # The pages check this too; an operation called from elsewhere must not skip it.
    visible = scope_to_user(select(Store.id).where(Store.id == store.id), user, Store.id)
    if user.role not in CONTACT_ROLES or session.scalar(visible) is None:
        raise NotFound(_l("No such store."))


def _check_outcome(outcome: str, answers: Answers | None, problem_solved: bool | None) -> None:
    if outcome not in set(PhoneOutcome):
        raise InvalidPhoneVisit(_l("Choose how the call went."), field="outcome")
    if outcome != PhoneOutcome.ANSWERED:
        if answers is not None or problem_solved is not None:
            raise InvalidPhoneVisit(
                _l("Only a call the customer answered has answers."), field="outcome"
            )
        return
    if answers is None:
        raise InvalidPhoneVisit(_l("Record the customer's answers."), field="nps")
    if problem_solved is None:
        raise InvalidPhoneVisit(
            _l("Ask whether the problem was solved: yes or no."), field="problem_solved"
        )


def _claim(session: Session, case: Case, store: Store, expected_version: int | None) -> None:
    """Check the case and write its row first, with its version: of two calls recorded at
    once, the second is refused here, before any of its answers is stored."""
    if case.store_id != store.id:
        raise CannotCall(_l("This case is of another store."))
    if not case.contact_phone:
        raise CannotCall()
    check_version(case, expected_version)
    # An UPDATE of the row even when no column changes: it takes the row lock and bumps
    # the version (PostgreSQL lets both read; the second UPDATE then matches no row).
    flag_modified(case, "state")
    flush_versioned(session)


def _store_answers(
    session: Session,
    settings: Settings,
    store: Store,
    about: Response | None,
    answers: Answers,
    user: User,
    now: datetime,
    *,
    open_case: bool,
) -> Response:
    version = phone_survey_version(session, store, now)
    return record_receiptless_response(
        session,
        settings=settings,
        store=store,
        version=version,
        definition=definition_of(version),
        # Contact details are never taken on the call: the earlier consent is the one kept.
        answers=replace(answers, contact=None),
        # The customer's language, as they answered before.
        locale=settings.default_locale if about is None else about.locale,
        now=now,
        channel=Channel.PHONE,
        staff_id=named_cashier(about),
        entered_by_user_id=user.id,
        open_case=open_case,
    )


def _return_visit(visit: PhoneVisit, known: str | None) -> str | None:
    """The case's return visit after the call: the customer's word when they answered;
    unreachable only when nothing better is known yet."""
    if visit.outcome == PhoneOutcome.ANSWERED:
        return ReturnVisit.SATISFIED if visit.problem_solved else ReturnVisit.UNSATISFIED
    if visit.outcome == PhoneOutcome.UNREACHABLE and known is None:
        return ReturnVisit.UNREACHABLE
    return known


def _on_case(session: Session, case: Case, visit: PhoneVisit, actor: Actor, now: datetime) -> None:
    from_state = None
    if visit.outcome != PhoneOutcome.UNREACHABLE and case.state == CaseState.OPEN:
        # The customer is on the line: that is the case's first contact.
        from_state = move(CASES, case, CaseState.IN_PROGRESS)
        case.first_contact_at = case.first_contact_at or now
    case.return_visit = _return_visit(visit, case.return_visit)
    record_change(
        session,
        CASES,
        case,
        actor,
        "phone_visit",
        now,
        note=visit.note or "",
        from_state=from_state,
        call_outcome=visit.outcome,
        problem_solved=visit.problem_solved,
    )
    if visit.outcome == PhoneOutcome.ANSWERED and case.state == CaseState.RESOLVED:
        assert case.return_visit is not None
        close_case(session, case, return_visit=case.return_visit, note="", actor=actor, now=now)


def _hand_over_contact(session: Session, response: Response, about: Response) -> None:
    """The case an unhappy phone answer opened gets the phone number and e-mail the
    customer left with consent on the answer the call was about: the same feedback's
    follow-up."""
    opened = session.scalar(select(Case).where(Case.response_id == response.id))
    if opened is None or about.contact is None:
        return
    opened.contact_phone, opened.contact_email = about.contact.phone, about.contact.email
    session.flush()
