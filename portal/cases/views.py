"""Case pages: the list, the case page with its action forms, the manual case, the mail
outbox, and the customer's one-question follow-up page.

Cases are for managers (their own stores) and admins: contact details are on every case,
and reading them is for those who follow the customer up. HR and reviewers see the
figures elsewhere, not the customers behind them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session
from wtforms import SelectChoice

from portal.access import CONTACT_ROLES, public, requires, store_choices
from portal.admin.operations import get_store
from portal.audit import Actor
from portal.cases import bp
from portal.cases.forms import (
    RESOLUTION_LABELS,
    RETURN_VISIT_LABELS,
    STATE_LABELS,
    AssignForm,
    CaseFilterForm,
    CategoryForm,
    CloseForm,
    ContactForm,
    FollowUpAnswerForm,
    FollowUpForm,
    NewCaseForm,
    NoteForm,
    ReopenForm,
    ResolveForm,
)
from portal.cases.operations import (
    FOLLOW_UP_PURPOSE,
    FollowUpNotPossible,
    InvalidCase,
    add_note,
    answer_follow_up,
    assign_case,
    close_case,
    is_overdue,
    log_contact,
    open_case_manually,
    reopen_case,
    resolve_case,
    send_follow_up,
    set_category,
)
from portal.cases.queries import (
    CaseFilters,
    get_case,
    get_follow_up,
    get_follow_up_by_token,
    get_user,
    list_assignees,
    list_cases,
    list_outbox,
)
from portal.config import current_settings
from portal.db import get_session, utcnow
from portal.errors import DomainError, keep_typed_values
from portal.extensions import csrf
from portal.formatting import problem_label
from portal.i18n import current_locale
from portal.models import Case, CaseState, FollowUp, Response, Role
from portal.models.receipts import RATING_KEYS
from portal.pagination import requested_page
from portal.sms.panel import text_message_panel
from portal.themes.categories import suggest_category, suggest_category_of_text
from portal.themes.queries import theme_hits_of, themes_of
from portal.themes.words import THEMES, theme_label
from portal.workflow import InvalidTransition
from portal.workflow_forms import VersionedForm, render_refusal
from surveys.loader import receipt_survey
from surveys.tokens import ExpiredToken, ForgedToken, verify_receipt_token

#: Cases carry contact details: for those who may read them.
CASE_ROLES = CONTACT_ROLES


class InvalidFollowUpLink(DomainError):
    status = 404
    code = "invalid_follow_up_link"
    message = _l("This link is not valid. Please check that you opened the whole link.")


class ExpiredFollowUpLink(DomainError):
    status = 410
    code = "expired_follow_up_link"
    message = _l("This question has closed. Thank you all the same!")


def _theme_choices() -> list[SelectChoice]:
    return [SelectChoice(key, theme_label(key)) for key in THEMES]


def _category_choices() -> list[SelectChoice]:
    locale = current_locale()
    question = receipt_survey().question("problem_category")
    return [SelectChoice(c.key, c.text.get(locale)) for c in question.choices]


# -- the list ---------------------------------------------------------------------------


def _filters(form: CaseFilterForm) -> CaseFilters:
    return CaseFilters(
        state=form.state.data or "",
        store=form.store.data or "",
        category=form.category.data or "",
        assignee=form.assignee.data or "",
        overdue=bool(form.overdue.data),
        theme=form.theme.data or "",
    )


@bp.get("/cases")
@requires(*CASE_ROLES)
def index() -> Any:
    session, now = get_session(), utcnow()
    form = CaseFilterForm(request.args)
    form.store.choices = store_choices(session, current_user, blank=_("all my stores"))
    form.category.choices = [SelectChoice("", _("any")), *_category_choices()]
    form.theme.choices = [SelectChoice("", _("any theme")), *_theme_choices()]
    page = list_cases(session, current_user, _filters(form), now=now, page=requested_page())
    case_themes = themes_of(session, [c.response_id for c in page.items if c.response_id])
    # Only the form's own fields travel to the other pages: nothing else reaches url_for.
    filters = {f.name: request.args[f.name] for f in form if request.args.get(f.name)}
    return render_template(
        "cases/list.html",
        form=form,
        page=page,
        filters=filters,
        now=now,
        case_themes=case_themes,
        **_labels(),
    )


def _labels() -> dict[str, Any]:
    return {
        "state_labels": STATE_LABELS,
        "resolution_labels": RESOLUTION_LABELS,
        "return_visit_labels": RETURN_VISIT_LABELS,
        "is_overdue": is_overdue,
    }


# -- the case page and its actions ------------------------------------------------------

Apply = Callable[[Session, Case, Any, Actor, datetime], Any]


def _contact(session: Session, case: Case, form: Any, actor: Actor, now: datetime) -> Any:
    note, version = form.note.data or "", form.expected_version
    return log_contact(session, case, note=note, actor=actor, now=now, expected_version=version)


def _resolve(session: Session, case: Case, form: Any, actor: Actor, now: datetime) -> Any:
    return resolve_case(
        session,
        case,
        resolution=form.resolution.data or "",
        note=form.note.data or "",
        actor=actor,
        now=now,
        substantiated=bool(form.substantiated.data),
        expected_version=form.expected_version,
    )


def _close(session: Session, case: Case, form: Any, actor: Actor, now: datetime) -> Any:
    return close_case(
        session,
        case,
        return_visit=form.return_visit.data or "",
        note=form.note.data or "",
        actor=actor,
        now=now,
        expected_version=form.expected_version,
    )


def _reopen(session: Session, case: Case, form: Any, actor: Actor, now: datetime) -> Any:
    note, version = form.note.data or "", form.expected_version
    return reopen_case(session, case, note=note, actor=actor, now=now, expected_version=version)


def _assign(session: Session, case: Case, form: Any, actor: Actor, now: datetime) -> Any:
    assignee = get_user(session, form.assignee.data)
    if assignee is None:
        raise InvalidCase(_l("Choose who takes the case."), field="assignee")
    return assign_case(session, current_settings(), case, assignee, actor=actor, now=now)


def _note(session: Session, case: Case, form: Any, actor: Actor, now: datetime) -> Any:
    return add_note(session, case, note=form.note.data or "", actor=actor, now=now)


def _category(session: Session, case: Case, form: Any, actor: Actor, now: datetime) -> Any:
    category, version = form.category.data or "", form.expected_version
    return set_category(session, case, category, actor=actor, now=now, expected_version=version)


def _follow_up_link(session: Session, case: Case, form: Any, actor: Actor, now: datetime) -> Any:
    return send_follow_up(session, current_settings(), case, actor=actor, now=now)


@dataclass(frozen=True, slots=True)
class _Action:
    form: type[VersionedForm]
    apply: Apply
    #: Flashed after it worked.
    done: Any


ACTIONS: dict[str, _Action] = {
    "contact": _Action(ContactForm, _contact, _l("First contact logged: the case is in progress.")),
    "resolve": _Action(ResolveForm, _resolve, _l("The case is resolved.")),
    "close": _Action(CloseForm, _close, _l("The case is closed.")),
    "reopen": _Action(ReopenForm, _reopen, _l("The case is reopened and in progress again.")),
    "assign": _Action(AssignForm, _assign, _l("The case is reassigned.")),
    "note": _Action(NoteForm, _note, _l("Note added.")),
    "category": _Action(CategoryForm, _category, _l("The case has its category.")),
    "follow-up": _Action(FollowUpForm, _follow_up_link, _l("The follow-up question is ready.")),
}

#: What the page offers in each state (the operations refuse anything else anyway).
OFFERED: dict[str, tuple[str, ...]] = {
    CaseState.OPEN: ("contact", "assign", "note"),
    CaseState.IN_PROGRESS: ("resolve", "assign", "note"),
    CaseState.RESOLVED: ("close", "follow-up", "reopen", "assign", "note"),
    CaseState.CLOSED: ("reopen", "note"),
}


def _assignee_choices(session: Session, case: Case) -> list[SelectChoice]:
    users = list_assignees(session, case.store_id)
    return [SelectChoice(u.id, f"{u.name} ({u.email})" if u.name else u.email) for u in users]


def _forms(session: Session, case: Case, posted: str | None = None) -> dict[str, Any]:
    """Every action form, each under its own prefix (unique field ids on one page); only
    the posted one reads the request."""
    forms: dict[str, Any] = {}
    for name, action in ACTIONS.items():
        unbound = {} if name == posted else {"formdata": None}
        forms[name] = action.form(prefix=name, version=case.version, **unbound)
    forms["assign"].assignee.choices = _assignee_choices(session, case)
    if posted != "assign":
        forms["assign"].assignee.data = case.assignee_id
    return forms


def _ratings(response: Response) -> list[tuple[str, int]]:
    """The service ratings the shopper gave, with their questions in the page's language."""
    survey, locale = receipt_survey(), current_locale()
    given = [(key, getattr(response, key)) for key in RATING_KEYS]
    return [(survey.question(key).text.get(locale), value) for key, value in given if value]


def _case_page(
    session: Session,
    case: Case,
    forms: dict[str, Any],
    *,
    status: int = 200,
    problem: Any = None,
    link: str | None = None,
) -> Any:
    follow_up = get_follow_up(session, case.id)
    offered = OFFERED[case.state]
    if "follow-up" in offered and (
        follow_up is not None or not (case.contact_phone or case.contact_email)
    ):
        offered = tuple(name for name in offered if name != "follow-up")
    hits = [] if case.response_id is None else theme_hits_of(session, case.response_id)
    page = render_template(
        "cases/detail.html",
        case=case,
        comment_themes=sorted({theme for theme, _sentiment in hits}, key=_theme_order),
        # Only for a case without a category: the shopper's own choice stands otherwise.
        suggested_category=None if case.category else suggest_category(hits),
        forms=forms,
        offered=offered,
        follow_up=follow_up,
        ratings=[] if case.response is None else _ratings(case.response),
        problem=problem,
        link=link,
        now=utcnow(),
        text_messages=text_message_panel(session, current_settings(), case, utcnow()),
        **_labels(),
    )
    return page, status


def case_page(session: Session, case: Case, *, problem: Any = None, status: int = 200) -> Any:
    """The case page as it is now, with ``problem`` above it: how another area's action on
    a case (a text message) shows its refusal."""
    return _case_page(session, case, _forms(session, case), problem=problem, status=status)


@bp.get("/cases/<int:case_id>")
@requires(*CASE_ROLES)
def detail(case_id: int) -> Any:
    session = get_session()
    case = _load_case(session, case_id)
    return _case_page(session, case, _forms(session, case))


def _theme_order(key: str) -> int:
    return THEMES.index(key) if key in THEMES else len(THEMES)


def _load_case(session: Session, case_id: int) -> Case:
    # get_case answers 404 for a case of a store the user may not see, as for no case.
    return get_case(session, case_id, visible_to=current_user)


@bp.post(
    "/cases/<int:case_id>/"
    "<any(contact, resolve, close, reopen, assign, note, category, 'follow-up'):action>"
)
@requires(*CASE_ROLES)
def act(case_id: int, action: str) -> Any:
    session = get_session()
    case = _load_case(session, case_id)
    forms = _forms(session, case, posted=action)
    form = forms[action]
    if not form.validate_on_submit():
        return _case_page(session, case, forms, status=400)
    keep_typed_values(
        lambda message: _case_page(session, _load_case(session, case_id), forms, problem=message)
    )
    try:
        result = ACTIONS[action].apply(session, case, form, Actor.of_user(current_user), utcnow())
        session.commit()
    except (InvalidTransition, InvalidCase, FollowUpNotPossible) as error:
        session.rollback()
        return _refused(session, case_id, forms, action, error)
    if action == "follow-up":
        # Shown once, from the POST: the link never sits in a URL, a cookie or a cache.
        page, status = _case_page(session, case, _forms(session, case), link=result)
        return page, status
    flash(str(ACTIONS[action].done), "success")
    return redirect(url_for("cases.detail", case_id=case.id))


def _refused(
    session: Session, case_id: int, forms: dict[str, Any], action: str, error: DomainError
) -> Any:
    case = _load_case(session, case_id)
    page = partial(_case_page, session, case, forms)
    return render_refusal(page, forms[action], error, version=case.version)


# -- a case opened by hand --------------------------------------------------------------

#: Domain error fields -> form fields, where the names differ.
_NEW_CASE_FIELDS = {"staff": "staff_code"}


def _new_page(
    form: NewCaseForm, *, problem: Any = None, status: int = 200, suggestion: Any = None
) -> Any:
    # The refusals of a new case always name a field of the form (the summary at worst).
    page = render_template("cases/new.html", form=form, problem=problem, suggestion=suggestion)
    return page, status


def _suggest(form: NewCaseForm) -> Any:
    """The form again with the category suggested from the complaint preselected (unless
    one is chosen already), and a note saying where it came from. Writes nothing."""
    summary = (form.summary.data or "").strip()
    if not summary:
        return _new_page(form, suggestion=_("Write down what the customer said first."))
    category = suggest_category_of_text(summary)
    if category is None:
        note = _("No category could be suggested from the complaint: please choose one.")
        return _new_page(form, suggestion=note)
    if not form.category.data:
        form.category.data = category
    label = problem_label(category, current_locale())
    note = _("Suggested from the complaint: %(category)s. Check it before opening.", category=label)
    return _new_page(form, suggestion=note)


@bp.route("/cases/new", methods=["GET", "POST"])
@requires(*CASE_ROLES)
def new() -> Any:
    session = get_session()
    form = NewCaseForm()
    form.store.choices = store_choices(session, current_user)
    form.category.choices = [SelectChoice("", "—"), *_category_choices()]
    if request.method == "POST" and form.suggest.data:
        return _suggest(form)
    if not form.validate_on_submit():
        return _new_page(form, status=400 if form.errors else 200)
    keep_typed_values(lambda message: _new_page(form, problem=message))
    try:
        case = open_case_manually(
            session,
            current_settings(),
            store=get_store(session, form.store.data),
            category=form.category.data,
            summary=form.summary.data or "",
            staff_code=(form.staff_code.data or "").strip() or None,
            contact_name=(form.contact_name.data or "").strip() or None,
            contact_phone=(form.contact_phone.data or "").strip() or None,
            contact_email=(form.contact_email.data or "").strip() or None,
            consent=bool(form.consent.data),
            actor=Actor.of_user(current_user),
            now=utcnow(),
        )
        session.commit()
    except InvalidCase as error:
        session.rollback()
        return render_refusal(
            partial(_new_page, form), form, error, fields=_NEW_CASE_FIELDS, default="summary"
        )
    flash(_("Case #%(id)s is open.", id=case.id), "success")
    return redirect(url_for("cases.detail", case_id=case.id))


# -- the mail outbox --------------------------------------------------------------------


@bp.get("/outbox")
@requires(Role.ADMIN)
def outbox() -> Any:
    page = list_outbox(get_session(), page=requested_page())
    return render_template(
        "cases/outbox.html", page=page, smtp=current_settings().smtp_url is not None
    )


# -- the customer's follow-up question --------------------------------------------------


def _follow_up(session: Session, token: str) -> FollowUp:
    # Signature and expiry first: a forged or stale link never reaches the database.
    try:
        claims = verify_receipt_token(
            current_settings().secret_key, token, utcnow(), purpose=FOLLOW_UP_PURPOSE
        )
    except ExpiredToken:
        raise ExpiredFollowUpLink() from None
    except ForgedToken:
        raise InvalidFollowUpLink() from None
    follow_up = get_follow_up_by_token(session, claims.token_id)
    if follow_up is None:
        raise InvalidFollowUpLink()
    return follow_up


def _answered(follow_up: FollowUp, status: int) -> Any:
    return render_template("cases/follow_up_answered.html", store=follow_up.case.store), status


@bp.get("/f/<token>")
@public
def follow_up(token: str) -> Any:
    found = _follow_up(get_session(), token)
    if found.answered_at is not None:
        return _answered(found, 200)
    form = FollowUpAnswerForm()
    return render_template("cases/follow_up.html", form=form, store=found.case.store)


@bp.post("/f/<token>")
@public
@csrf.exempt  # the form checks its own token, so that a stale page keeps the choice
def answer(token: str) -> Any:
    session = get_session()
    found = _follow_up(session, token)
    if found.answered_at is not None:
        return _answered(found, 409)
    form = FollowUpAnswerForm()
    if not form.validate_on_submit():
        return render_template("cases/follow_up.html", form=form, store=found.case.store), 400
    try:
        answer_follow_up(session, found.token_id, int(form.score.data), now=utcnow())
        session.commit()
    except FollowUpNotPossible:
        session.rollback()
        return _answered(found, 409)
    return render_template("cases/follow_up_thanks.html", store=found.case.store)
