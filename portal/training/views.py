"""Training pages: assign one to a member of staff (from the coaching list or their staff
page), the list of trainings with mark-done and cancel, and the effect of each topic.
HR and admins change trainings; managers read those of their own stores."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import requires
from portal.audit import Actor
from portal.db import get_session, utcnow
from portal.errors import DomainError
from portal.hr.queries import get_visible_staff, visible_ids
from portal.i18n import current_locale
from portal.models import Role, TrainingState
from portal.training import bp, operations, queries, words
from portal.training.forms import AssignForm, CancelForm, DoneForm
from portal.workflow import InvalidTransition
from portal.workflow_forms import render_refusal, show_error

EDIT_ROLES = (Role.ADMIN, Role.HR)
READ_ROLES = (Role.ADMIN, Role.HR, Role.MANAGER)


@bp.app_context_processor
def training_helpers() -> dict[str, Any]:
    """What the staff page's trainings section (an HR template) says trainings with."""
    return {
        "training_effect": words.effect_sentence,
        "training_counts": words.counts_sentence,
        "training_state": lambda state: words.STATE_LABELS.get(state, state),
        "training_touchpoint": lambda key: words.touchpoint_label(key, current_locale()),
    }


def _touchpoint_choices() -> list[tuple[str, str]]:
    locale = current_locale()
    choices = [(t.key, t.label(locale)) for t in words.touchpoints()]
    return [("", _("No touchpoint in particular")), *choices]


@bp.route("/hr/staff/<int:staff_id>/training", methods=["GET", "POST"])
@requires(*EDIT_ROLES)
def assign(staff_id: int) -> Any:
    session = get_session()
    found = get_visible_staff(session, current_user, staff_id)
    if found is None:
        abort(404)
    staff, store = found
    form = AssignForm()
    form.touchpoint.choices = _touchpoint_choices()

    def page(problem: str | None = None, status: int = 200) -> Any:
        html = render_template(
            "training/assign.html",
            form=form,
            staff=staff,
            store=store,
            topics=queries.topic_names(session),
            problem=problem,
        )
        return html, status

    if request.method == "GET" or not form.validate_on_submit():
        return page(status=200 if request.method == "GET" else 400)
    values = operations.TrainingValues(
        topic=form.topic.data or "",
        touchpoint=form.touchpoint.data or "",
        trained_on=form.trained_on.data,
        trainer=form.trainer.data or "",
        note=form.note.data or "",
    )
    try:
        operations.assign_training(
            session,
            staff_id,
            values,
            touchpoints={t.key for t in words.touchpoints()},
            actor=Actor.of_user(current_user),
            now=utcnow(),
        )
        session.commit()
    except DomainError as error:
        session.rollback()
        return page(problem=show_error(form, error), status=error.status)
    flash(_("Training assigned."), "success")
    return redirect(url_for("training.trainings"))


def _list_page(
    forms: dict[tuple[int, str], Any] | None = None, problem: str | None = None, status: int = 200
) -> Any:
    session = get_session()
    store_ids = visible_ids(session, current_user)
    rows = queries.list_trainings(session, store_ids)
    forms = forms or {}
    for row in rows:
        if row.state == TrainingState.ASSIGNED:
            forms.setdefault((row.id, "done"), DoneForm(formdata=None, version=str(row.version)))
            forms.setdefault(
                (row.id, "cancel"), CancelForm(formdata=None, version=str(row.version))
            )
    html = render_template(
        "training/list.html",
        open_rows=[r for r in rows if r.state == TrainingState.ASSIGNED],
        done_rows=[r for r in rows if r.state == TrainingState.DONE],
        cancelled_rows=[r for r in rows if r.state == TrainingState.CANCELLED],
        forms=forms,
        can_edit=current_user.role in EDIT_ROLES,
        state_labels=words.STATE_LABELS,
        touchpoint_label=words.touchpoint_label,
        locale=current_locale(),
        problem=problem,
    )
    return html, status


@bp.get("/hr/trainings")
@requires(*READ_ROLES)
def trainings() -> Any:
    return _list_page()


ACTIONS: dict[str, tuple[Any, Any]] = {
    "done": (DoneForm, operations.mark_done),
    "cancel": (CancelForm, operations.cancel_training),
}


@bp.post("/hr/trainings/<int:training_id>/<any(done, cancel):action>")
@requires(*EDIT_ROLES)
def act(training_id: int, action: str) -> Any:
    session = get_session()
    if queries.get_training(session, training_id, visible_ids(session, current_user)) is None:
        abort(404)
    form_class, apply = ACTIONS[action]
    form = form_class()
    if not form.validate_on_submit():
        return _list_page({(training_id, action): form}, status=400)
    try:
        apply(
            session,
            training_id,
            expected_version=form.expected_version,
            actor=Actor.of_user(current_user),
            now=utcnow(),
        )
        session.commit()
    except (InvalidTransition, operations.InvalidTraining) as error:
        session.rollback()
        current = queries.get_training(session, training_id, visible_ids(session, current_user))
        return render_refusal(
            lambda problem, status: _list_page({(training_id, action): form}, problem, status),
            form,
            error,
            version=None if current is None else current.version,
        )
    flash(_("Training marked done.") if action == "done" else _("Training cancelled."), "success")
    return redirect(url_for("training.trainings"))


@bp.get("/hr/trainings/topics")
@requires(*READ_ROLES)
def topics() -> Any:
    session = get_session()
    return render_template(
        "training/topics.html",
        topics=queries.topic_effects(session, visible_ids(session, current_user)),
        weeks=queries.WEEKS,
        effect_sentence=words.effect_sentence,
    )
