"""Mystery workflow pages: the visit lists, scheduling, the visit page with its action
forms, the shopper's report (one small page per part, each saved as a draft when sent, so
a slow connection loses at most one page), and the receipt photo for allowed roles.

Who sees what is decided by `operations.visible_visits`; store staff never see who the
shopper was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from wtforms import SelectChoice

from portal.access import requires, store_choices
from portal.admin.operations import get_store
from portal.audit import Actor
from portal.calendar import zone
from portal.config import Settings
from portal.db import get_session, utcnow
from portal.errors import DomainError
from portal.i18n import current_locale
from portal.models import (
    RELEASED_STATES,
    MysteryVisit,
    Role,
    Staff,
    Store,
    User,
    VisitState,
)
from portal.mystery import bp
from portal.mystery.forms import (
    ANSWER_LABELS,
    DAYPART_LABELS,
    FLAG_LABELS,
    GRADE_LABELS,
    STATE_LABELS,
    AcceptForm,
    CancelForm,
    CorrectForm,
    DecideForm,
    DeclineForm,
    DisputeForm,
    PhotoForm,
    RejectForm,
    ReleaseForm,
    ReturnForm,
    ScheduleForm,
    StartReviewForm,
    SubmitForm,
    VisitActionForm,
    VisitFactsForm,
    VisitFilterForm,
    section_form,
)
from portal.mystery.operations import (
    EDITABLE_STATES,
    IncompleteReport,
    InvalidTransition,
    InvalidVisit,
    VisitFacts,
    VisitPlan,
    accept_visit,
    adjust_answers,
    cancel_visit,
    check_submission,
    checklist_of,
    decide_dispute,
    decline_visit,
    dispute_report,
    get_visit,
    reject_report,
    release_report,
    return_report,
    save_answers,
    save_facts,
    save_photo,
    schedule_visit,
    start_review,
    submit_report,
    visible_visits,
    visit_answers,
)
from portal.mystery.photos import InvalidPhoto, clean_photo, content_type, photo_path
from portal.pagination import paginate, requested_page
from surveys.checklists import (
    ChecklistDefinition,
    ItemAnswer,
    checklist_library,
    parse_answers,
)

REVIEW_ROLES = (Role.REVIEWER, Role.ADMIN)
ALL_ROLES = (Role.MYSTERY, Role.REVIEWER, Role.ADMIN, Role.MANAGER, Role.HR)
#: What the reviewer queue shows unless asked otherwise: work waiting for a reviewer.
QUEUE_STATES = (VisitState.SUBMITTED, VisitState.IN_REVIEW, VisitState.DISPUTED)


def _settings() -> Settings:
    settings: Settings = current_app.config["PORTAL_SETTINGS"]
    return settings


def photo_folder() -> Path:
    """Where receipt photos live: the ``PORTAL_PHOTO_DIR`` setting."""
    return _settings().photo_folder


def _labels() -> dict[str, Any]:
    return {
        "state_labels": STATE_LABELS,
        "daypart_labels": DAYPART_LABELS,
        "grade_labels": GRADE_LABELS,
        "flag_labels": FLAG_LABELS,
        "answer_labels": ANSWER_LABELS,
        "released_states": RELEASED_STATES,
        "sees_shopper": current_user.role in (Role.ADMIN, Role.REVIEWER, Role.MYSTERY),
    }


# -- lists -----------------------------------------------------------------------------------


@bp.get("/mystery")
@requires(*ALL_ROLES)
def index() -> Any:
    session = get_session()
    form = VisitFilterForm(request.args)
    form.store.choices = store_choices(session, current_user, blank=_("all stores"))
    form.state.choices = [SelectChoice("", _("waiting for review"))] + [
        SelectChoice(key, label) for key, label in STATE_LABELS.items()
    ]
    stmt = visible_visits(current_user).options(
        joinedload(MysteryVisit.store), joinedload(MysteryVisit.shopper)
    )
    if form.store.data:
        stmt = stmt.where(MysteryVisit.store.has(Store.code == form.store.data))
    if form.state.data:
        stmt = stmt.where(MysteryVisit.state == form.state.data)
    elif current_user.role in REVIEW_ROLES and not request.args.get("store"):
        stmt = stmt.where(MysteryVisit.state.in_(QUEUE_STATES))
    if current_user.role == Role.MYSTERY:
        stmt = stmt.order_by(MysteryVisit.window_end.desc(), MysteryVisit.id.desc())
    else:
        stmt = stmt.order_by(MysteryVisit.id.desc())
    page = paginate(session, stmt, requested_page(), 25)
    filters = {f.name: request.args[f.name] for f in form if request.args.get(f.name)}
    return render_template(
        "mystery/index.html",
        form=form,
        page=page,
        filters=filters,
        checklists={c.key: c for c in checklist_library()},
        **_labels(),
    )


@bp.route("/mystery/schedule", methods=["GET", "POST"])
@requires(*REVIEW_ROLES)
def schedule() -> Any:
    session = get_session()
    locale = current_locale()
    form = ScheduleForm()
    form.store.choices = store_choices(session, current_user)
    shoppers = session.scalars(
        select(User).where(User.role == Role.MYSTERY, User.active.is_(True)).order_by(User.email)
    )
    form.shopper.choices = [
        SelectChoice(u.id, f"{u.name} ({u.email})" if u.name else u.email) for u in shoppers
    ]
    form.checklist.choices = [
        SelectChoice(c.key, f"{c.title.get(locale)} (v{c.version})") for c in checklist_library()
    ]
    if not form.validate_on_submit():
        return render_template("mystery/schedule.html", form=form), 400 if form.errors else 200
    fee = form.fee.data or Decimal(0)
    plan = VisitPlan(
        store_id=get_store(session, form.store.data).id,
        shopper_id=form.shopper.data,
        checklist_key=form.checklist.data,
        window_start=form.window_start.data,
        window_end=form.window_end.data,
        daypart=form.daypart.data,
        fee_cents=int(fee * 100),
        instructions=form.instructions.data or "",
    )
    try:
        visit = schedule_visit(
            session, _settings(), plan, actor=Actor.of_user(current_user), now=utcnow()
        )
        session.commit()
    except InvalidVisit as error:
        session.rollback()
        known = ("store", "shopper", "checklist", "window_end", "daypart", "fee")
        field = form[error.field] if error.field in known else form.store
        field.errors = [*field.errors, error.message]
        return render_template("mystery/schedule.html", form=form), error.status
    flash(_("Visit #%(id)s is assigned.", id=visit.id), "success")
    return redirect(url_for("mystery.visit", visit_id=visit.id))


# -- the visit page and its actions ----------------------------------------------------------

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
        _settings(),
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
        _settings(),
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
        _settings(),
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
        _settings(),
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
        _settings(),
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
        missing = check_submission(session, _settings(), visit, now=now).errors
    page = render_template(
        "mystery/visit.html",
        visit=visit,
        definition=definition,
        answers=visit_answers(visit),
        forms=forms,
        offered=_offered(visit, now),
        problem=problem,
        missing=missing or {},
        steps=_steps(definition),
        now=now,
        **_labels(),
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


# -- the shopper's report, one page per part ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    title: str


def _steps(definition: ChecklistDefinition) -> list[Step]:
    locale = current_locale()
    return [
        Step("visit", _("The visit")),
        *(Step(s.key, s.title.get(locale)) for s in definition.sections),
        Step("proof", _("Receipt photo")),
    ]


def _own_editable(session: Session, visit_id: int) -> MysteryVisit:
    found = get_visit(session, visit_id, visible_to=current_user)
    if found.state not in EDITABLE_STATES:
        flash(_("This report can no longer be changed."), "error")
        abort(redirect(url_for("mystery.visit", visit_id=visit_id)))
    return found


def _next_url(visit: MysteryVisit, steps: list[Step], key: str) -> str:
    """Where a saved page leads: the same page ("Save"), the next part, or, after the
    last part, the visit page with the check-and-file button."""
    keys = [step.key for step in steps]
    position = keys.index(key)
    if "stay" in request.form:
        return url_for("mystery.report", visit_id=visit.id, step=key)
    if position + 1 == len(keys):
        return url_for("mystery.visit", visit_id=visit.id) + "#submit"
    return url_for("mystery.report", visit_id=visit.id, step=keys[position + 1])


@bp.route("/mystery/visits/<int:visit_id>/report/<step>", methods=["GET", "POST"])
@requires(Role.MYSTERY)
def report(visit_id: int, step: str) -> Any:
    session = get_session()
    found = _own_editable(session, visit_id)
    definition = checklist_of(found)
    steps = _steps(definition)
    if step not in {s.key for s in steps}:
        abort(404)
    if step == "visit":
        return _facts_step(session, found, steps)
    if step == "proof":
        return _photo_step(session, found, steps)
    return _section_step(session, found, definition, steps, step)


def _render_step(visit: MysteryVisit, steps: list[Step], key: str, form: Any, **extra: Any) -> Any:
    return render_template(
        "mystery/report_step.html",
        visit=visit,
        steps=steps,
        step=next(s for s in steps if s.key == key),
        form=form,
        **extra,
        **_labels(),
    )


def _facts_step(session: Session, visit: MysteryVisit, steps: list[Step]) -> Any:
    form = VisitFactsForm()
    staff = session.scalars(
        select(Staff)
        .where(Staff.store_id == visit.store_id, Staff.active.is_(True))
        .order_by(Staff.name)
    )
    form.served_by.choices = [SelectChoice("", _("— not sure, see the description —"))] + [
        SelectChoice(str(s.id), f"{s.name} ({s.position})" if s.position else s.name) for s in staff
    ]
    if request.method == "GET":
        zone_times = _local_times(visit)
        form.started_at.data, form.ended_at.data = zone_times
        form.served_by.data = str(visit.served_by_id or "")
        form.served_by_description.data = visit.served_by_description
        form.transaction_id.data = visit.transaction_id or ""
    if not form.validate_on_submit():
        status = 400 if form.errors else 200
        return _render_step(visit, steps, "visit", form), status
    facts = VisitFacts(
        started_at=form.started_at.data,
        ended_at=form.ended_at.data,
        served_by_id=int(form.served_by.data) if (form.served_by.data or "").isdigit() else None,
        served_by_description=form.served_by_description.data or "",
        transaction_id=form.transaction_id.data or "",
    )
    try:
        save_facts(session, visit, facts, shopper=current_user, now=utcnow())
        session.commit()
    except (InvalidVisit, InvalidTransition) as error:
        session.rollback()
        field = form[error.field] if error.field in form else form.started_at
        field.errors = [*field.errors, error.message]
        return _render_step(visit, steps, "visit", form), error.status
    flash(_("Saved."), "success")
    return redirect(_next_url(visit, steps, "visit"))


def _local_times(visit: MysteryVisit) -> tuple[datetime | None, datetime | None]:
    store_zone = zone(visit.store.timezone)

    def local(value: datetime | None) -> datetime | None:
        return value.astimezone(store_zone).replace(tzinfo=None) if value is not None else None

    return local(visit.visit_started_at), local(visit.visit_ended_at)


def _section_step(
    session: Session,
    visit: MysteryVisit,
    definition: ChecklistDefinition,
    steps: list[Step],
    key: str,
) -> Any:
    section = definition.section(key)
    form_class = section_form(section, current_locale())
    if request.method == "GET":
        form = form_class(formdata=None, data=_section_data(visit, key))
    else:
        form = form_class()
    if not form.validate_on_submit():
        status = 400 if form.errors else 200
        return _render_step(visit, steps, key, form, section=section), status
    answers, errors = parse_answers(definition, request.form, sections=[key])
    # What parsed is kept even when another field is wrong: a draft loses nothing valid.
    save_answers(session, visit, answers, shopper=current_user, now=utcnow(), part=key)
    session.commit()
    if errors:
        for name, message in errors.items():
            if name in form:
                form[name].errors = [*form[name].errors, message]
        return _render_step(visit, steps, key, form, section=section), 400
    flash(_("Saved."), "success")
    return redirect(_next_url(visit, steps, key))


def _section_data(visit: MysteryVisit, key: str) -> dict[str, Any]:
    answers = visit_answers(visit)
    section = checklist_of(visit).section(key)
    data: dict[str, Any] = {f"narrative-{key}": answers.narratives.get(key, "")}
    for item in section.items:
        answer = answers.items.get(item.key)
        if answer is None:
            continue
        data[f"item-{item.key}"] = "" if answer.value is None else str(answer.value)
        data[f"comment-{item.key}"] = answer.comment
    return data


def _photo_step(session: Session, visit: MysteryVisit, steps: list[Step]) -> Any:
    form = PhotoForm()
    if not form.validate_on_submit():
        return _render_step(visit, steps, "proof", form), 400 if form.errors else 200
    upload = form.photo.data
    data = upload.read(_settings().photo_max_bytes + 1) if upload else b""
    try:
        photo = clean_photo(data, max_bytes=_settings().photo_max_bytes)
        replaced = save_photo(
            session, visit, photo, folder=photo_folder(), shopper=current_user, now=utcnow()
        )
        session.commit()
    except (InvalidPhoto, InvalidTransition) as error:
        session.rollback()
        form.photo.errors = [*form.photo.errors, error.message]
        return _render_step(visit, steps, "proof", form), error.status
    if replaced:
        photo_path(photo_folder(), replaced).unlink(missing_ok=True)
    flash(_("Photo saved."), "success")
    return redirect(_next_url(visit, steps, "proof"))


@bp.get("/mystery/visits/<int:visit_id>/photo")
@requires(*ALL_ROLES)
def photo(visit_id: int) -> Any:
    session = get_session()
    found = get_visit(session, visit_id, visible_to=current_user)
    if not found.photo_file:
        abort(404)
    path = photo_path(photo_folder(), found.photo_file)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=content_type(path), max_age=0)
    # Evidence about people: never kept by shared caches, never sniffed into something else.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
