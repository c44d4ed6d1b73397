"""The shopper's report, one small page per part (the visit facts, each checklist section,
the receipt photo), each saved as a draft when sent, so a slow connection loses at most
one page. Filing the report is an action of the visit page (`visit_views`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from wtforms import SelectChoice

from portal.access import requires
from portal.audit import Actor
from portal.calendar import zone
from portal.config import current_settings
from portal.db import get_session, utcnow
from portal.errors import DomainError, error_response, keep_typed_values
from portal.i18n import current_locale
from portal.models import MysteryVisit, Role
from portal.mystery import bp
from portal.mystery.checklist_words import say_problem
from portal.mystery.forms import PhotoForm, VisitFactsForm, section_form
from portal.mystery.photos import InvalidPhoto, clean_photo, photo_path, photo_too_large
from portal.mystery.queries import get_visit, serving_staff
from portal.mystery.report import (
    VisitFacts,
    finished_pages,
    save_answers,
    save_facts,
    save_photo,
)
from portal.mystery.views import Step, labels, report_steps
from portal.mystery.visits import EDITABLE_STATES, InvalidVisit, checklist_of, visit_answers
from portal.workflow import InvalidTransition
from portal.workflow_forms import add_field_error, show_error
from surveys.checklists import ChecklistDefinition, parse_answers
from surveys.strict import int_or_none

#: The one route that takes a photo: its request body may be as large as a photo of the
#: advertised size plus the form (``create_app`` sets the limit before CSRF reads the form).
PHOTO_UPLOAD_ENDPOINT = "mystery.report"


@bp.errorhandler(RequestEntityTooLarge)
def _upload_too_large(error: RequestEntityTooLarge) -> Any:
    # A photo over the limit is refused before the form is read (CSRF reads it first): the
    # report page is shown again, through the view and its access checks, with the message
    # on the photo field instead of a bare error page.
    args = request.view_args or {}
    if request.endpoint != PHOTO_UPLOAD_ENDPOINT or args.get("step") != "proof":
        return error_response(413, "request_entity_too_large", _("The request is too large."))
    g.photo_too_large = True
    try:
        return report(**args)
    except (HTTPException, DomainError) as refusal:
        # Raised inside an error handler they would become a 500: handle them as usual
        # (a report no longer editable redirects, an unknown visit is a 404).
        return current_app.handle_user_exception(refusal)


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
    steps = report_steps(definition, finished_pages(found))
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
        **labels(),
    )


def _facts_step(session: Session, visit: MysteryVisit, steps: list[Step]) -> Any:
    form = VisitFactsForm()
    staff = serving_staff(session, visit.store_id)
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
        served_by_id=int_or_none(form.served_by.data or ""),
        served_by_description=form.served_by_description.data or "",
        transaction_id=form.transaction_id.data or "",
    )
    keep_typed_values(lambda message: _render_step(visit, steps, "visit", form, problem=message))
    try:
        save_facts(session, visit, facts, actor=Actor.of_user(current_user), now=utcnow())
        session.commit()
    except (InvalidVisit, InvalidTransition) as error:
        session.rollback()
        show_error(form, error, default="started_at")
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
    keep_typed_values(
        lambda message: _render_step(visit, steps, key, form, section=section, problem=message)
    )
    answers, errors = parse_answers(definition, request.form, sections=[key])
    # What parsed is kept even when another field is wrong: a draft loses nothing valid.
    save_answers(session, visit, answers, actor=Actor.of_user(current_user), now=utcnow(), part=key)
    session.commit()
    if errors:
        for name, message in errors.items():
            if name in form:
                add_field_error(form[name], say_problem(message))
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
    if g.get("photo_too_large"):
        form = PhotoForm(formdata=None)
        refusal = photo_too_large(current_settings().photo_max_bytes)
        add_field_error(form.photo, refusal.message)
        return _render_step(visit, steps, "proof", form), refusal.status
    form = PhotoForm()
    if not form.validate_on_submit():
        return _render_step(visit, steps, "proof", form), 400 if form.errors else 200
    keep_typed_values(lambda message: _render_step(visit, steps, "proof", form, problem=message))
    upload = form.photo.data
    data = upload.read(current_settings().photo_max_bytes + 1) if upload else b""
    try:
        photo = clean_photo(data, max_bytes=current_settings().photo_max_bytes)
        replaced = save_photo(
            session,
            visit,
            photo,
            folder=current_settings().photo_folder,
            actor=Actor.of_user(current_user),
            now=utcnow(),
        )
        session.commit()
    except (InvalidPhoto, InvalidTransition) as error:
        session.rollback()
        add_field_error(form.photo, error.message)
        return _render_step(visit, steps, "proof", form), error.status
    if replaced:
        photo_path(current_settings().photo_folder, replaced).unlink(missing_ok=True)
    flash(_("Photo saved."), "success")
    return redirect(_next_url(visit, steps, "proof"))
