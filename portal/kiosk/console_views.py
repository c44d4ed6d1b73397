"""Tablets in the admin console: the list of every tablet in scope with the form for a new
one, one tablet's page (rename, a new enrolment code, revoke), and the page that shows an
enrolment code once. Region managers read; only admins change anything."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from portal.access import requires, store_label
from portal.admin.scope import (
    ConsoleScope,
    console_scope,
    get_store_in_scope,
    list_stores_in_scope,
)
from portal.audit import Actor
from portal.config import current_settings
from portal.db import get_session, utcnow
from portal.errors import DomainError, keep_typed_values
from portal.kiosk import console_bp as bp
from portal.kiosk.devices import (
    create_kiosk,
    issue_enrol_code,
    kiosk_state,
    rename_kiosk,
    revoke_kiosk,
)
from portal.kiosk.forms import STATE_LABELS, KioskActionForm, NewKioskForm, RenameKioskForm
from portal.kiosk.queries import get_kiosk_in_scope, kiosks_stmt
from portal.models import Kiosk, Role
from portal.pagination import paginate, requested_page
from portal.workflow_forms import render_refusal, show_error
from surveys.codes import format_short_code

CONSOLE_ROLES = (Role.ADMIN, Role.MANAGER)


def _with_stores(scope: ConsoleScope, form: NewKioskForm) -> NewKioskForm:
    """``form`` offering the open stores in scope."""
    stores = list_stores_in_scope(get_session(), scope)
    form.store.choices = [SelectChoice(s.code, store_label(s)) for s in stores if not s.closed_at]
    return form


def _list_page(
    scope: ConsoleScope, form: NewKioskForm, *, problem: Any = None, status: int = 200
) -> Any:
    page = paginate(get_session(), kiosks_stmt(scope), requested_page(), per_page=50)
    return (
        render_template(
            "kiosk/console.html",
            scope=scope,
            page=page,
            form=form,
            problem=problem,
            state_of=lambda kiosk: kiosk_state(kiosk, utcnow()),
            kiosk_state_labels=STATE_LABELS,
        ),
        status,
    )


def _code_page(kiosk: Kiosk, code: str) -> Any:
    # Rendered from the POST, never redirected: the code must not sit in a URL or a cache,
    # and only its digest is kept.
    page = render_template(
        "kiosk/console_code.html",
        kiosk=kiosk,
        code=format_short_code(code),
        enrol_url=current_settings().base_url + url_for("kiosk.enrol"),
    )
    return page, 200, {"Cache-Control": "no-store"}


@bp.get("")
@requires(*CONSOLE_ROLES)
def index() -> Any:
    scope = console_scope(current_user)
    return _list_page(scope, _with_stores(scope, NewKioskForm(formdata=None)))


@bp.post("")
@requires(Role.ADMIN)
def create() -> Any:
    scope, session = console_scope(current_user), get_session()
    form = _with_stores(scope, NewKioskForm())
    if not form.validate_on_submit():
        return _list_page(scope, form, status=400)
    store = get_store_in_scope(session, scope, form.store.data or "")
    keep_typed_values(lambda message: _list_page(scope, form, problem=message))
    try:
        kiosk, code = create_kiosk(
            session, store, form.name.data or "", Actor.of_user(current_user), utcnow()
        )
    except DomainError as error:
        session.rollback()
        problem = show_error(form, error, default="store")
        return _list_page(scope, form, problem=problem, status=error.status)
    session.commit()
    return _code_page(kiosk, code)


def _device_page(
    scope: ConsoleScope,
    kiosk: Kiosk,
    *,
    rename: RenameKioskForm | None = None,
    problem: Any = None,
    status: int = 200,
) -> Any:
    if rename is None:
        rename = RenameKioskForm(formdata=None, name=kiosk.name)
        rename.show_version(kiosk.version)
    action = KioskActionForm(formdata=None)
    action.show_version(kiosk.version)
    return (
        render_template(
            "kiosk/console_device.html",
            scope=scope,
            kiosk=kiosk,
            state=kiosk_state(kiosk, utcnow()),
            kiosk_state_labels=STATE_LABELS,
            rename=rename,
            action=action,
            problem=problem,
        ),
        status,
    )


@bp.get("/<int:kiosk_id>")
@requires(*CONSOLE_ROLES)
def device(kiosk_id: int) -> Any:
    scope = console_scope(current_user)
    return _device_page(scope, get_kiosk_in_scope(get_session(), scope, kiosk_id))


@bp.post("/<int:kiosk_id>/rename")
@requires(Role.ADMIN)
def rename(kiosk_id: int) -> Any:
    scope, session = console_scope(current_user), get_session()
    kiosk = get_kiosk_in_scope(session, scope, kiosk_id)
    form = RenameKioskForm()
    if not form.validate_on_submit():
        return _device_page(scope, kiosk, rename=form, status=400)
    keep_typed_values(lambda message: _device_page(scope, kiosk, rename=form, problem=message))
    try:
        rename_kiosk(
            session,
            kiosk,
            form.name.data or "",
            expected_version=form.expected_version,
            actor=Actor.of_user(current_user),
            now=utcnow(),
        )
    except DomainError as error:
        session.rollback()
        page = partial(_device_page, scope, kiosk, rename=form)
        return render_refusal(page, form, error, version=kiosk.version, default="name")
    session.commit()
    flash(_("The tablet is now called “%(name)s”.", name=kiosk.name), "success")
    return redirect(url_for("kiosks.device", kiosk_id=kiosk.id))


def _posted_action(kiosk_id: int) -> tuple[ConsoleScope, Kiosk, KioskActionForm]:
    scope = console_scope(current_user)
    kiosk = get_kiosk_in_scope(get_session(), scope, kiosk_id)
    form = KioskActionForm()
    if not form.validate_on_submit():
        abort(400)  # the CSRF token or the version is missing: nothing to show but the page
    return scope, kiosk, form


@bp.post("/<int:kiosk_id>/code")
@requires(Role.ADMIN)
def new_code(kiosk_id: int) -> Any:
    scope, kiosk, form = _posted_action(kiosk_id)
    session = get_session()
    try:
        code = issue_enrol_code(
            session,
            kiosk,
            expected_version=form.expected_version,
            actor=Actor.of_user(current_user),
            now=utcnow(),
        )
    except DomainError as error:
        session.rollback()
        return _device_page(scope, kiosk, problem=error.message, status=error.status)
    session.commit()
    return _code_page(kiosk, code)


@bp.post("/<int:kiosk_id>/revoke")
@requires(Role.ADMIN)
def revoke(kiosk_id: int) -> Any:
    scope, kiosk, form = _posted_action(kiosk_id)
    session = get_session()
    try:
        revoke_kiosk(
            session,
            kiosk,
            expected_version=form.expected_version,
            actor=Actor.of_user(current_user),
            now=utcnow(),
        )
    except DomainError as error:
        session.rollback()
        return _device_page(scope, kiosk, problem=error.message, status=error.status)
    session.commit()
    flash(_("Tablet “%(name)s” is switched off.", name=kiosk.name), "success")
    return redirect(url_for("kiosks.device", kiosk_id=kiosk.id))
