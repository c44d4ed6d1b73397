"""The visit page and its workflow actions: one small form per action (accept, decline,
file, cancel, review, release, return, reject, correct, dispute, decide), offered by role
and state, each carrying the visit version the page showed. A refused action shows the
page again with the reason on the form, or above it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session
from wtforms import SelectChoice

from portal.access import requires
from portal.audit import Actor
from portal.db import get_session, utcnow
from portal.errors import DomainError
from portal.i18n import current_locale
from portal.models import MysteryVisit, Role, VisitState
from portal.mystery import bp
from portal.mystery.forms import (
    AcceptForm,
    CancelForm,
    CorrectForm,
    DecideForm,
    DeclineForm,
    DisputeForm,
    RejectForm,
    ReleaseForm,
    ReturnForm,
    StartReviewForm,
    SubmitForm,
    VisitActionForm,
)
from portal.mystery.queries import get_visit
from portal.mystery.report import IncompleteReport, check_submission, submit_report
from portal.mystery.review import (
    adjust_answers,
    decide_dispute,
    dispute_report,
    reject_report,
    release_report,
    return_report,
    start_review,
)
from portal.mystery.scheduling import accept_visit, cancel_visit, decline_visit
from portal.mystery.views import ALL_ROLES, REVIEW_ROLES, labels, report_steps, settings
from portal.mystery.visits import (
    EDITABLE_STATES,
    InvalidTransition,
    InvalidVisit,
    checklist_of,
    visit_answers,
)
from surveys.checklists import ChecklistDefinition, ItemAnswer

Apply = Callable[[Session, MysteryVisit, Any, datetime], Any]


def _answer_from(form: Any) -> dict[str, ItemAnswer]:
    if not form.item.data:
        return {}
    value = (form.value.data or "").strip().lower()
    parsed: str | int = int(value) if value.isdigit() else value
    return {form.item.data: ItemAnswer(value=parsed, comment=(form.comment.data or "").strip())}


def _accept(session: Session, visit: MysteryVisit, form: Any, now: datetime) -> Any:
    return accept_visit(
        session, visit, shopper=current_user, now=now, expected_version=form.expected_version
    )


def _decline(session: Session, visit: MysteryVisit, form: Any, now: datetime) -> Any:
    return decline_visit(
        session,
        visit,
        shopper=current_user,
        reason=form.reason.data or "",
        now=now,
        expected_version=form.expected_version,
    )


def _cancel(session: Session, visit: MysteryVisit, form: Any, now: datetime) -> Any:
    return cancel_visit(
        session,
        visit,
        actor=Actor.of_user(current_user),
        reason=form.reason.data or "",
        now=now,
        expected_version=form.expected_version,
    )


def _submit(session: Session, visit: MysteryVisit, form: Any, now: datetime) -> Any:
    return submit_report(
        session,
        settings(),
        visit,
        shopper=current_user,
        now=now,
        expected_version=form.expected_version,
    )


def _start_review(session: Session, visit: MysteryVisit, form: Any, now: datetime) -> Any:
    return start_review(
        session, visit, reviewer=current_user, now=now, expected_version=form.expected_version
    )


def _release(session: Session, visit: MysteryVisit, form: Any, now: datetime) -> Any:
    return release_report(
        session,
        settings(),
        visit,
        reviewer=current_user,
        now=now,
        note=form.note.data or "",
        expected_version=form.expected_version,
    )


def _return(session: Session, visit: MysteryVisit, form: Any, now: datetime) -> Any:
    return return_report(
        session,
        visit,
        reviewer=current_user,
        comments=form.comments.data or "",
        now=now,
        expected_version=form.expected_version,
    )


def _reject(session: Session, visit: MysteryVisit, form: Any, now: datetime) -> Any:
    return reject_report(
        session,
        visit,
        reviewer=current_user,
        reason=form.reason.data or "",
        now=now,
        expected_version=form.expected_version,
    )


def _correct(session: Session, visit: MysteryVisit, form: Any, now: datetime) -> Any:
    return adjust_answers(
        session,
        settings(),
        visit,
        _answer_from(form),
        reviewer=current_user,
        reason=form.reason.data or "",
        now=now,
        expected_version=form.expected_version,
    )


def _dispute(session: Session, visit: MysteryVisit, form: Any, now: datetime) -> Any:
    # get_visit has already limited a manager to released reports of their own stores.
    return dispute_report(
        session,
        settings(),
        visit,
        manager=current_user,
        item_key=form.item.data or None,
        reason=form.reason.data or "",
        now=now,
        expected_version=form.expected_version,
    )


def _decide(session: Session, visit: MysteryVisit, form: Any, now: datetime) -> Any:
    return decide_dispute(
        session,
        settings(),
        visit,
        reviewer=current_user,
        outcome=form.outcome.data or "",
        note=form.note.data or "",
        changes=_answer_from(form),
        now=now,
        expected_version=form.expected_version,
    )


@dataclass(frozen=True, slots=True)
class _Action:
    form: type[VisitActionForm]
    apply: Apply
    roles: tuple[Role, ...]
    #: Flashed after it worked.
    done: Any


ACTIONS: dict[str, _Action] = {
    "accept": _Action(AcceptForm, _accept, (Role.MYSTERY,), _l("Accepted. Thank you!")),
    "decline": _Action(DeclineForm, _decline, (Role.MYSTERY,), _l("Declined.")),
    "submit": _Action(SubmitForm, _submit, (Role.MYSTERY,), _l("Report filed. Thank you!")),
    "cancel": _Action(CancelForm, _cancel, REVIEW_ROLES, _l("The visit is cancelled.")),
    "review": _Action(StartReviewForm, _start_review, REVIEW_ROLES, _l("You are reviewing it.")),
    "release": _Action(ReleaseForm, _release, REVIEW_ROLES, _l("Released to the store.")),
    "return": _Action(ReturnForm, _return, REVIEW_ROLES, _l("Returned to the shopper.")),
    "reject": _Action(RejectForm, _reject, REVIEW_ROLES, _l("The report is rejected.")),
    "correct": _Action(CorrectForm, _correct, REVIEW_ROLES, _l("Answer corrected.")),
    "dispute": _Action(DisputeForm, _dispute, (Role.MANAGER,), _l("Your dispute is filed.")),
    "decide": _Action(DecideForm, _decide, REVIEW_ROLES, _l("Decided: the report is final.")),
}

#: What the page offers in each state, per role (the operations refuse anything else anyway).
OFFERED: dict[tuple[str, str], tuple[str, ...]] = {
    (Role.MYSTERY, VisitState.ASSIGNED): ("accept", "decline"),
    (Role.MYSTERY, VisitState.ACCEPTED): ("submit",),
    (Role.MYSTERY, VisitState.RETURNED): ("submit",),
    (Role.REVIEWER, VisitState.ASSIGNED): ("cancel",),
    (Role.REVIEWER, VisitState.ACCEPTED): ("cancel",),
    (Role.REVIEWER, VisitState.SUBMITTED): ("review",),
    (Role.REVIEWER, VisitState.IN_REVIEW): ("release", "return", "reject", "correct"),
    (Role.REVIEWER, VisitState.DISPUTED): ("decide",),
    (Role.MANAGER, VisitState.RELEASED): ("dispute",),
}


def _offered(visit: MysteryVisit, now: datetime) -> tuple[str, ...]:
    role = Role.REVIEWER if current_user.role == Role.ADMIN else current_user.role
    offered = OFFERED.get((role, visit.state), ())
    if "dispute" in offered and visit.dispute_until is not None and now > visit.dispute_until:
        return ()
    return offered


def _item_choices(definition: ChecklistDefinition) -> list[SelectChoice]:
    locale = current_locale()
    return [SelectChoice("", "—")] + [
        SelectChoice(item.key, f"{item.key} {item.text.get(locale)}")
        for section in definition.sections
        for item in section.items
    ]


def _forms(visit: MysteryVisit, posted: str | None = None) -> dict[str, Any]:
    forms: dict[str, Any] = {}
    choices = _item_choices(checklist_of(visit))
    for name, action in ACTIONS.items():
        unbound = {} if name == posted else {"formdata": None}
        form = action.form(prefix=name, version=visit.version, **unbound)
        if hasattr(form, "item"):
            form.item.choices = choices
        forms[name] = form
    return forms


def _visit_page(
    session: Session,
    visit: MysteryVisit,
    forms: dict[str, Any],
    *,
    status: int = 200,
    problem: Any = None,
    missing: dict[str, str] | None = None,
) -> Any:
    now = utcnow()
    definition = checklist_of(visit)
    if missing is None and visit.state in EDITABLE_STATES and current_user.id == visit.shopper_id:
        missing = check_submission(session, settings(), visit, now=now).errors
    page = render_template(
        "mystery/visit.html",
        visit=visit,
        definition=definition,
        answers=visit_answers(visit),
        forms=forms,
        offered=_offered(visit, now),
        problem=problem,
        missing=missing or {},
        steps=report_steps(definition),
        now=now,
        **labels(),
    )
    return page, status


@bp.get("/mystery/visits/<int:visit_id>")
@requires(*ALL_ROLES)
def visit(visit_id: int) -> Any:
    session = get_session()
    found = get_visit(session, visit_id, visible_to=current_user)
    return _visit_page(session, found, _forms(found))


@bp.post(
    "/mystery/visits/<int:visit_id>/"
    "<any(accept, decline, submit, cancel, review, release, return, reject, correct, dispute,"
    " decide):action>"
)
@requires(*ALL_ROLES)
def act(visit_id: int, action: str) -> Any:
    session = get_session()
    found = get_visit(session, visit_id, visible_to=current_user)
    if current_user.role not in ACTIONS[action].roles:
        abort(403)
    forms = _forms(found, posted=action)
    form = forms[action]
    if not form.validate_on_submit():
        return _visit_page(session, found, forms, status=400)
    try:
        ACTIONS[action].apply(session, found, form, utcnow())
        session.commit()
    except IncompleteReport as error:
        session.rollback()
        found = get_visit(session, visit_id, visible_to=current_user)
        return _visit_page(
            session,
            found,
            _forms(found),
            status=error.status,
            problem=error.message,
            missing=error.errors,
        )
    except (InvalidTransition, InvalidVisit) as error:
        session.rollback()
        return _refused(session, visit_id, forms, action, error)
    flash(str(ACTIONS[action].done), "success")
    return redirect(url_for("mystery.visit", visit_id=visit_id))


def _refused(
    session: Session, visit_id: int, forms: dict[str, Any], action: str, error: DomainError
) -> Any:
    found = get_visit(session, visit_id, visible_to=current_user)
    form = forms[action]
    form.version.data = str(found.version)
    problem = error.message
    if error.field is not None and error.field in form:
        form[error.field].errors = [*form[error.field].errors, error.message]
        problem = None
    return _visit_page(session, found, forms, status=error.status, problem=problem)
