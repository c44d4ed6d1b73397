"""Mystery workflow pages: the visit lists, scheduling, and the receipt photo for allowed
roles; plus what the visit page (`visit_views`) and the shopper's report pages
(`draft_views`) share: the roles, labels and report steps.

Who sees what is decided by `queries.visible_visits`; store staff never see who the
shopper was.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectChoice

from portal.access import requires, store_choices
from portal.admin.operations import get_store
from portal.audit import Actor
from portal.config import LOCALES, current_settings
from portal.db import get_session, utcnow
from portal.i18n import current_locale
from portal.models import RELEASED_STATES, Role, VisitState
from portal.mystery import bp
from portal.mystery.forms import (
    ANSWER_LABELS,
    DAYPART_LABELS,
    FLAG_LABELS,
    GRADE_LABELS,
    STATE_LABELS,
    ScheduleForm,
    VisitFilterForm,
)
from portal.mystery.photos import content_type, photo_path
from portal.mystery.queries import active_shoppers, get_visit, visit_list
from portal.mystery.scheduling import VisitPlan, schedule_visit
from portal.mystery.visits import InvalidVisit
from portal.pagination import paginate, requested_page
from portal.workflow_forms import show_error
from surveys.checklists import NA, ChecklistDefinition, checklist_library
from surveys.strict import int_or_none

REVIEW_ROLES = (Role.REVIEWER, Role.ADMIN)
ALL_ROLES = (Role.MYSTERY, Role.REVIEWER, Role.ADMIN, Role.MANAGER, Role.HR)
#: What the reviewer queue shows unless asked otherwise: work waiting for a reviewer.
QUEUE_STATES = (VisitState.SUBMITTED, VisitState.IN_REVIEW, VisitState.DISPUTED)


#: The parts of a report a draft is saved by besides its sections (which the checklist
#: names): the visit facts, the whole checklist at once, the receipt photo.
PART_LABELS: dict[str, Any] = {
    "facts": _l("The visit"),
    "checklist": _l("Checklist"),
    "photo": _l("Receipt photo"),
}


def part_label(definition: ChecklistDefinition, part: str) -> str:
    """A saved part of a report in words: its name, or its section's title."""
    if part in PART_LABELS:
        return str(PART_LABELS[part])
    try:
        return definition.section(part).title.get(current_locale())
    except KeyError:
        return str(_("another part of the report"))


def item_label(definition: ChecklistDefinition, key: str) -> str:
    """A checklist item by its number and text, as the report lists it."""
    try:
        return f"{key} {definition.item(key).text.get(current_locale())}"
    except KeyError:
        return key


def answer_label(value: object) -> str:
    """An item's answer in words: yes / no / not applicable, else the value itself."""
    if value is None:
        return "—"
    label = ANSWER_LABELS.get(str(value))
    return str(value) if label is None else str(label)


def typed_answer(text: str) -> str | int:
    """What a reviewer typed as a new answer: yes / no / not applicable in either language
    (or the keys yes, no, na, n/a), a whole number, else the text as typed (for the
    checklist's rules to refuse with their reason)."""
    typed = text.strip().lower()
    if typed == "n/a":
        return NA
    for key, label in ANSWER_LABELS.items():
        said = {key}
        for locale in LOCALES:
            with force_locale(locale):
                said.add(str(label).lower())
        if typed in said:
            return key
    number = int_or_none(typed)
    return typed if number is None else number


def labels() -> dict[str, Any]:
    """The label tables, helpers and flags every mystery workflow template reads."""
    return {
        "state_labels": STATE_LABELS,
        "daypart_labels": DAYPART_LABELS,
        "grade_labels": GRADE_LABELS,
        "flag_labels": FLAG_LABELS,
        "answer_labels": ANSWER_LABELS,
        "part_label": part_label,
        "item_label": item_label,
        "answer_label": answer_label,
        "released_states": RELEASED_STATES,
        "sees_shopper": current_user.role in (Role.ADMIN, Role.REVIEWER, Role.MYSTERY),
    }


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    title: str
    #: Nothing left on the page that would stop the filing (`report.finished_pages`).
    done: bool = False


def report_steps(definition: ChecklistDefinition, done: frozenset[str] = frozenset()) -> list[Step]:
    """The shopper's report pages in order: the visit facts, one per section, the photo;
    those whose keys are in ``done`` marked done."""
    locale = current_locale()
    pages = [
        ("visit", str(PART_LABELS["facts"])),
        *((s.key, s.title.get(locale)) for s in definition.sections),
        ("proof", str(PART_LABELS["photo"])),
    ]
    return [Step(key, title, key in done) for key, title in pages]


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
    states: tuple[str, ...] = ()
    if form.state.data:
        states = (form.state.data,)
    elif current_user.role in REVIEW_ROLES and not request.args.get("store"):
        states = QUEUE_STATES
    stmt = visit_list(current_user, store_code=form.store.data or None, states=states)
    page = paginate(session, stmt, requested_page(), 25)
    filters = {f.name: request.args[f.name] for f in form if request.args.get(f.name)}
    return render_template(
        "mystery/index.html",
        form=form,
        page=page,
        filters=filters,
        checklists={c.key: c for c in checklist_library()},
        **labels(),
    )


@bp.route("/mystery/schedule", methods=["GET", "POST"])
@requires(*REVIEW_ROLES)
def schedule() -> Any:
    session = get_session()
    locale = current_locale()
    form = ScheduleForm()
    if request.method == "GET":
        # The reviewer's home links here with the store that needs a visit.
        form.store.data = request.args.get("store", "")
    form.store.choices = store_choices(session, current_user)
    form.shopper.choices = [
        SelectChoice(u.id, f"{u.name} ({u.email})" if u.name else u.email)
        for u in active_shoppers(session)
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
            session, current_settings(), plan, actor=Actor.of_user(current_user), now=utcnow()
        )
        session.commit()
    except InvalidVisit as error:
        session.rollback()
        show_error(form, error, default="store")
        return render_template("mystery/schedule.html", form=form), error.status
    flash(_("Visit #%(id)s is assigned.", id=visit.id), "success")
    return redirect(url_for("mystery.visit", visit_id=visit.id))


@bp.get("/mystery/visits/<int:visit_id>/photo")
@requires(*ALL_ROLES)
def photo(visit_id: int) -> Any:
    session = get_session()
    found = get_visit(session, visit_id, visible_to=current_user)
    if not found.photo_file:
        abort(404)
    path = photo_path(current_settings().photo_folder, found.photo_file)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=content_type(path), max_age=0)
    # Evidence about people: never kept by shared caches, never sniffed into something else.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
