"""Admin console pages for stores and regions. Admins edit; a manager with a region reads
the stores of their region and the regions list, with no forms (their POSTs are 403).
The staff pages and the staff import are in `staff_views`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from functools import wraps
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from portal.access import requires
from portal.admin import bp
from portal.admin.forms import (
    FORMAT_LABELS,
    ConfirmForm,
    NewStoreForm,
    RegionForm,
    StoreForm,
    StoreSearchForm,
)
from portal.admin.operations import (
    StoreDetails,
    close_store,
    create_store,
    reopen_store,
    update_store,
)
from portal.admin.queries import console_store, region_names, region_rows, store_list
from portal.admin.regions import add_region, delete_region, get_region, rename_region
from portal.audit import Actor
from portal.db import get_session, utcnow
from portal.errors import DomainError, keep_typed_values
from portal.models import Role, Store
from portal.pagination import paginate, requested_page
from portal.workflow_forms import show_error

EDITORS = (Role.ADMIN,)
READERS = (Role.ADMIN, Role.MANAGER)


def region_readers_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Under ``@requires(*READERS)``: of the managers, only those with a region read the
    console."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user.role == Role.MANAGER and not current_user.region:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def can_edit() -> bool:
    return bool(current_user.role == Role.ADMIN)


def visible_store_or_404(code: str) -> Store:
    store = console_store(get_session(), current_user, code)
    if store is None:
        abort(404)  # the same answer for a store that does not exist and one not yours
    return store


# -- stores ------------------------------------------------------------------------------


@bp.get("/stores")
@requires(*READERS)
@region_readers_only
def stores() -> Any:
    form = StoreSearchForm(request.args)
    if not form.validate():
        return render_template("admin/stores.html", form=form, page=None), 400
    text, state = (form.q.data or "").strip(), form.state.data or ""
    page = paginate(get_session(), store_list(current_user, text, state), requested_page(), 25)
    filters = {k: v for k, v in (("q", text), ("state", state)) if v}
    return render_template(
        "admin/stores.html",
        form=form,
        page=page,
        filters=filters,
        format_labels=FORMAT_LABELS,
        can_edit=can_edit(),
    )


def _region_choices(form: StoreForm, current: str = "") -> None:
    names = region_names(get_session())
    if current and current not in names:
        names.append(current)
    form.region.choices = [SelectChoice("", _("no region"))] + [SelectChoice(n, n) for n in names]


def _details(form: StoreForm) -> StoreDetails:
    return StoreDetails(
        name=form.name.data or "",
        region=form.region.data or "",
        timezone=form.timezone.data or "",
        address=form.address.data or "",
        format=form.format.data or "",
    )


@bp.route("/stores/new", methods=["GET", "POST"])
@requires(*EDITORS)
def store_new() -> Any:
    form = NewStoreForm()
    _region_choices(form)

    def page(problem: Any = None, status: int = 200) -> Any:
        return render_template("admin/store_new.html", form=form, problem=problem), status

    if not form.validate_on_submit():
        return page(status=400 if form.errors else 200)
    keep_typed_values(lambda message: page(message, 503))
    session = get_session()
    details = _details(form)
    try:
        store = create_store(
            session,
            code=form.code.data or "",
            **asdict(details),
            actor=Actor.of_user(current_user),
            now=utcnow(),
        )
    except DomainError as error:
        session.rollback()
        return page(show_error(form, error, fields={"store_code": "code"}), error.status)
    session.commit()
    flash(_("Store %(code)s was created. Add its staff now.", code=store.code), "ok")
    return redirect(url_for("admin.store_staff", code=store.code))


@bp.route("/stores/<code>/edit", methods=["GET", "POST"])
@requires(*EDITORS)
def store_edit(code: str) -> Any:
    store = visible_store_or_404(code)
    form = StoreForm(obj=store)
    _region_choices(form, store.region)

    def page(problem: Any = None, status: int = 200) -> Any:
        return render_template(
            "admin/store_edit.html", form=form, store=store, problem=problem
        ), status

    if not form.validate_on_submit():
        return page(status=400 if form.errors else 200)
    keep_typed_values(lambda message: page(message, 503))
    session = get_session()
    try:
        changed = update_store(
            session, store, _details(form), actor=Actor.of_user(current_user), now=utcnow()
        )
    except DomainError as error:
        session.rollback()
        return page(show_error(form, error), error.status)
    session.commit()
    if changed:
        flash(_("The changes to store %(code)s are saved.", code=store.code), "ok")
    return redirect(url_for("admin.stores", q=store.code))


def _store_state_page(code: str, closing: bool) -> Any:
    store = visible_store_or_404(code)
    form = ConfirmForm()

    def page(problem: Any = None, status: int = 200) -> Any:
        return render_template(
            "admin/store_state.html", form=form, store=store, closing=closing, problem=problem
        ), status

    if not form.validate_on_submit():
        return page(status=400 if form.errors else 200)
    session = get_session()
    change = close_store if closing else reopen_store
    try:
        change(session, store, actor=Actor.of_user(current_user), now=utcnow())
    except DomainError as error:
        session.rollback()
        return page(error.message, error.status)
    session.commit()
    message = (
        _("Store %(code)s is closed: it issues no receipts; its history stays.", code=store.code)
        if closing
        else _("Store %(code)s is open again and issues receipts.", code=store.code)
    )
    flash(message, "ok")
    return redirect(url_for("admin.stores", q=store.code))


@bp.route("/stores/<code>/close", methods=["GET", "POST"])
@requires(*EDITORS)
def store_close(code: str) -> Any:
    return _store_state_page(code, closing=True)


@bp.route("/stores/<code>/reopen", methods=["GET", "POST"])
@requires(*EDITORS)
def store_reopen(code: str) -> Any:
    return _store_state_page(code, closing=False)


# -- regions -----------------------------------------------------------------------------


def _regions_page(form: RegionForm | None = None, problem: Any = None, status: int = 200) -> Any:
    return render_template(
        "admin/regions.html",
        rows=region_rows(get_session(), current_user),
        form=form or RegionForm(formdata=None),
        action_form=ConfirmForm(formdata=None),
        problem=problem,
        can_edit=can_edit(),
    ), status


@bp.get("/regions")
@requires(*READERS)
@region_readers_only
def regions() -> Any:
    return _regions_page()


@bp.post("/regions")
@requires(*EDITORS)
def region_add() -> Any:
    form = RegionForm()
    if not form.validate_on_submit():
        return _regions_page(form, status=400)
    session = get_session()
    try:
        region = add_region(
            session, form.name.data or "", actor=Actor.of_user(current_user), now=utcnow()
        )
    except DomainError as error:
        session.rollback()
        return _regions_page(form, show_error(form, error), error.status)
    session.commit()
    flash(_("Region %(name)s was added.", name=region.name), "ok")
    return redirect(url_for("admin.regions"))


@bp.post("/regions/<int:region_id>/rename")
@requires(*EDITORS)
def region_rename(region_id: int) -> Any:
    form = RegionForm()
    session = get_session()
    region = get_region(session, region_id)
    if not form.validate_on_submit():
        problem = form.name.errors[0] if form.name.errors else _("The form has expired; try again.")
        return _regions_page(problem=problem, status=400)
    old = region.name
    try:
        stores = rename_region(
            session, region, form.name.data or "", actor=Actor.of_user(current_user), now=utcnow()
        )
    except DomainError as error:
        session.rollback()
        return _regions_page(problem=error.message, status=error.status)
    session.commit()
    flash(
        _("Region %(old)s is now %(new)s (%(n)d stores).", old=old, new=region.name, n=stores),
        "ok",
    )
    return redirect(url_for("admin.regions"))


@bp.post("/regions/<int:region_id>/delete")
@requires(*EDITORS)
def region_delete(region_id: int) -> Any:
    form = ConfirmForm()
    session = get_session()
    region = get_region(session, region_id)
    if not form.validate_on_submit():
        return _regions_page(problem=_("The form has expired; try again."), status=400)
    name = region.name
    try:
        delete_region(session, region, actor=Actor.of_user(current_user), now=utcnow())
    except DomainError as error:
        session.rollback()
        return _regions_page(problem=error.message, status=error.status)
    session.commit()
    flash(_("Region %(name)s was deleted.", name=name), "ok")
    return redirect(url_for("admin.regions"))
