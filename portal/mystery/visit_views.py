"""The visit page and its workflow actions: one small form per action (accept, decline,
file, cancel, review, release, return, reject, correct, dispute, decide), offered by role
and state, each carrying the visit version the page showed. A refused action shows the
page again with the reason on the form, or above it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session
from wtforms import SelectChoice

from portal.access import requires
from portal.audit import Actor
from portal.config import current_settings
from portal.db import get_session, utcnow
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
)
from portal.mystery.queries import get_visit
from portal.mystery.report import check_submission, finished_pages, submit_report
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
from portal.mystery.views import ALL_ROLES, REVIEW_ROLES, labels, report_steps, typed_answer
from portal.mystery.visits import (
    EDITABLE_STATES,
    IncompleteReport,
    InvalidVisit,
    checklist_of,
    visit_answers,
)
from portal.workflow import InvalidReason, InvalidTransition
from portal.workflow_forms import VersionedForm, render_refusal
from surveys.checklists import ChecklistDefinition, ItemAnswer


def _answer_from(form: Any) -> dict[str, ItemAnswer]:
    if not form.item.data:
        return {}
    value = typed_answer(form.value.data or "")
    return {form.item.data: ItemAnswer(value=value, comment=(form.comment.data or "").strip())}


@dataclass(frozen=True, slots=True)
class _Action:
    """One action of the visit page: its form, the operation it calls, the roles that may."""

    form: type[VersionedForm]
    operation: Callable[..., Any]
    roles: tuple[Role, ...]
    #: Flashed after it worked.
    done: Any
    #: Operation keyword -> the form field whose text it receives.
    texts: Mapping[str, str] = field(default_factory=dict)
    #: The operation reads the settings (grade bands, dispute window).
    settings: bool = False
    #: The operation receives the answer change of the form's item fields.
    changes: bool = False

    def apply(self, session: Session, visit: MysteryVisit, form: Any, now: datetime) -> None:
        kwargs: dict[str, Any] = {
            keyword: getattr(form, name).data or "" for keyword, name in self.texts.items()
        }
        if self.changes:
            kwargs["changes"] = _answer_from(form)
        leading = (session, current_settings(), visit) if self.settings else (session, visit)
        self.operation(
            *leading,
            actor=Actor.of_user(current_user),
            now=now,
            expected_version=form.expected_version,
            **kwargs,
        )


_REASON: Mapping[str, str] = {"reason": "reason"}

ACTIONS: dict[str, _Action] = {
    "accept": _Action(AcceptForm, accept_visit, (Role.MYSTERY,), _l("Accepted. Thank you!")),
    "decline": _Action(DeclineForm, decline_visit, (Role.MYSTERY,), _l("Declined."), texts=_REASON),
    "submit": _Action(
        SubmitForm, submit_report, (Role.MYSTERY,), _l("Report filed. Thank you!"), settings=True
    ),
    "cancel": _Action(
        CancelForm, cancel_visit, REVIEW_ROLES, _l("The visit is cancelled."), texts=_REASON
    ),
    "review": _Action(StartReviewForm, start_review, REVIEW_ROLES, _l("You are reviewing it.")),
    "release": _Action(
        ReleaseForm,
        release_report,
        REVIEW_ROLES,
        _l("Released to the store."),
        texts={"note": "note"},
        settings=True,
    ),
    "return": _Action(
        ReturnForm,
        return_report,
        REVIEW_ROLES,
        _l("Returned to the shopper."),
        texts={"comments": "comments"},
    ),
    "reject": _Action(
        RejectForm, reject_report, REVIEW_ROLES, _l("The report is rejected."), texts=_REASON
    ),
    "correct": _Action(
        CorrectForm,
        adjust_answers,
        REVIEW_ROLES,
        _l("Answer corrected."),
        texts=_REASON,
        settings=True,
        changes=True,
    ),
    # get_visit has already limited a manager to released reports of their own stores.
    "dispute": _Action(
        DisputeForm,
        dispute_report,
        (Role.MANAGER,),
        _l("Your dispute is filed."),
        texts={"item_key": "item", "reason": "reason"},
        settings=True,
    ),
    "decide": _Action(
        DecideForm,
        decide_dispute,
        REVIEW_ROLES,
        _l("Decided: the report is final."),
        texts={"outcome": "outcome", "note": "note"},
        settings=True,
        changes=True,
    ),
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
        missing = check_submission(session, current_settings(), visit, now=now).errors
    page = render_template(
        "mystery/visit.html",
        visit=visit,
        definition=definition,
        answers=visit_answers(visit),
        forms=forms,
        offered=_offered(visit, now),
        problem=problem,
        missing=missing or {},
        steps=report_steps(definition, finished_pages(visit)),
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
    except (InvalidTransition, InvalidReason, InvalidVisit) as error:
        session.rollback()
        found = get_visit(session, visit_id, visible_to=current_user)
        page = partial(_visit_page, session, found, forms)
        return render_refusal(page, form, error, version=found.version)
    flash(str(ACTIONS[action].done), "success")
    return redirect(url_for("mystery.visit", visit_id=visit_id))
