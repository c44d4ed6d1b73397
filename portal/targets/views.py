"""The targets page (admin and CX set targets; the other staff roles read those that judge
their stores) and the scorecard of a store, a region or the chain for a month."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from portal.access import CHAIN_WIDE, list_visible_stores, requires, store_choices
from portal.admin.forms import ConfirmForm
from portal.audit import Actor
from portal.calendar import Period, chain_today, last_complete_month, month_key, parse_month
from portal.config import current_settings
from portal.db import get_session, utcnow
from portal.errors import DomainError, NotFound
from portal.models import Metric, Region, Role, Store
from portal.targets import bp
from portal.targets.forms import SCOPE_CHOICES, STATUS_LABELS, TargetForm
from portal.targets.operations import InvalidTarget, get_target, remove_target, set_target
from portal.targets.queries import CHAIN, Scope, target_rows, visible_scopes
from portal.targets.scorecard import scorecard as build_scorecard
from portal.targets.words import METRIC_LABELS
from portal.workflow_forms import show_error

#: Admin and the customer-experience team own the service standards.
OWNERS = (Role.ADMIN, Role.CX)
READERS = (Role.ADMIN, Role.CX, Role.HR, Role.REVIEWER, Role.MANAGER)


def _can_set() -> bool:
    return current_user.role in OWNERS


def _regions() -> list[Region]:
    return list(get_session().scalars(select(Region).order_by(Region.name)))


def _fill_choices(form: TargetForm) -> None:
    form.region.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(r.id), r.name) for r in _regions()
    ]
    form.store.choices = store_choices(get_session(), current_user, blank="—")


def _index_page(form: TargetForm | None = None, problem: Any = None, status: int = 200) -> Any:
    session = get_session()
    scopes = None
    if current_user.role not in CHAIN_WIDE:
        scopes = visible_scopes(session, [s.id for s in list_visible_stores(session, current_user)])
    if form is None:
        form = TargetForm(formdata=None)
        form.effective_from.data = chain_today(session, utcnow())
    _fill_choices(form)
    return render_template(
        "targets/index.html",
        rows=target_rows(session, scopes, chain_today(session, utcnow())),
        form=form,
        action_form=ConfirmForm(formdata=None),
        can_set=_can_set(),
        metric_labels={m.value: label for m, label in METRIC_LABELS.items()},
        problem=problem,
    ), status


@bp.get("")
@requires(*READERS)
def index() -> Any:
    return _index_page()


def _scope_of(form: TargetForm) -> Scope:
    """The scope the form names; a region or store choice missing for its scope is an
    error on that field."""
    if form.scope.data == "region":
        if form.region.data is None:
            raise InvalidTarget(_("Choose a region."), field="region")
        return Scope(region_id=form.region.data)
    if form.scope.data == "store":
        code = form.store.data or ""
        store = get_session().scalar(select(Store).where(Store.code == code)) if code else None
        if store is None:
            raise InvalidTarget(_("Choose a store."), field="store")
        return Scope(store_id=store.id)
    return CHAIN


@bp.post("")
@requires(*OWNERS)
def set_() -> Any:
    form = TargetForm()
    _fill_choices(form)
    if not form.validate_on_submit():
        return _index_page(form, status=400)
    session = get_session()
    metric = Metric(form.metric.data)
    try:
        set_target(
            session,
            metric=metric,
            scope=_scope_of(form),
            value=form.value.data or 0.0,
            effective_from=form.effective_from.data or chain_today(session, utcnow()),
            actor=Actor.of_user(current_user),
            now=utcnow(),
        )
    except DomainError as error:
        session.rollback()
        return _index_page(form, show_error(form, error), error.status)
    session.commit()
    flash(_("The target for %(metric)s was set.", metric=METRIC_LABELS[metric]), "ok")
    return redirect(url_for("targets.index"))


@bp.post("/<int:target_id>/remove")
@requires(*OWNERS)
def remove(target_id: int) -> Any:
    session = get_session()
    target = get_target(session, target_id)
    if not ConfirmForm().validate_on_submit():
        return _index_page(problem=_("The form has expired; try again."), status=400)
    try:
        remove_target(session, target, actor=Actor.of_user(current_user), now=utcnow())
    except DomainError as error:
        session.rollback()
        return _index_page(problem=error.message, status=error.status)
    session.commit()
    flash(_("The target was removed."), "ok")
    return redirect(url_for("targets.index"))


def _visible_store(code: str) -> Store:
    for store in list_visible_stores(get_session(), current_user):
        if store.code == code:
            return store
    raise NotFound(_("No such store."))


@bp.get("/scorecard")
@requires(*READERS)
def scorecard() -> Any:
    session = get_session()
    month = parse_month(request.args.get("month")) or last_complete_month(session, utcnow())
    visible = list_visible_stores(session, current_user)
    code, region_arg = request.args.get("store", ""), request.args.get("region", "")
    store, region = None, None
    if code:
        store = _visible_store(code)
        ids = [store.id]
    elif region_arg:
        region = next((r for r in _regions() if str(r.id) == region_arg), None)
        if region is None:
            raise NotFound(_("No such region."))
        ids = [s.id for s in visible if s.region == region.name]
        if not ids:
            raise NotFound(_("No such region."))
    else:
        ids = [s.id for s in visible]
    end = Period.of_month(month).end
    figures = build_scorecard(
        session,
        current_settings(),
        store_ids=ids,
        start=month,
        end=end,
        target_store=store,
        target_region_id=None if region is None else region.id,
    )
    return render_template(
        "targets/scorecard.html",
        figures=figures,
        store=store,
        region=region,
        month=month_key(month),
        stores=visible,
        regions=_regions(),
        n_stores=len(ids),
        metric_labels={m.value: label for m, label in METRIC_LABELS.items()},
        status_labels={s.value: label for s, label in STATUS_LABELS.items()},
        scope_labels=SCOPE_CHOICES,
    )
