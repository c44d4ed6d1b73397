"""The users pages of the admin console: list, invite, edit, switch off and on, send a
password link. Admins only."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.access import requires, store_choices
from portal.admin import bp
from portal.admin.user_forms import EditUserForm, InviteForm, UserActionForm, UserFilterForm
from portal.admin.users import (
    Profile,
    UserFilters,
    UserRefused,
    count_live_tokens,
    get_user,
    invite_user,
    list_users,
    region_names,
    send_link_for_user,
    switch_off,
    switch_on,
    update_user,
)
from portal.audit import Actor
from portal.auth.forms import ROLE_LABELS
from portal.auth.operations import has_usable_password
from portal.config import current_settings
from portal.db import get_session, utcnow
from portal.errors import DomainError, keep_typed_values
from portal.models import Role, Store, User
from portal.pagination import paginate, requested_page

PER_PAGE = 50


@bp.get("/users")
@requires(Role.ADMIN)
def users() -> Any:
    form = UserFilterForm(request.args)
    filters = UserFilters(
        text=(form.q.data or "").strip()[:254], role=form.role.data, active=form.active.data
    )
    page = paginate(get_session(), list_users(filters), requested_page(), PER_PAGE)
    args = {k: v for k, v in request.args.items() if k in ("q", "role", "active") and v}
    return render_template(
        "admin/users.html", form=form, page=page, args=args, role_labels=ROLE_LABELS
    )


F = TypeVar("F", InviteForm, EditUserForm)


def _with_choices(session: Session, form: F) -> F:
    form.set_choices(store_choices(session, current_user), region_names(session))
    return form


def _profile(session: Session, form: InviteForm | EditUserForm) -> Profile:
    codes = list(form.stores.data or [])
    stores = (
        list(session.scalars(select(Store).where(Store.code.in_(codes)).order_by(Store.code)))
        if codes
        else []
    )
    return Profile(
        name=form.name.data or "",
        role=form.role.data or "",
        stores=stores,
        region=form.region.data or None,
        locale=form.locale.data or None,
    )


def _show_refusal(form: Any, error: DomainError) -> None:
    field = getattr(form, error.field or "", None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


@bp.route("/users/invite", methods=["GET", "POST"])
@requires(Role.ADMIN)
def invite() -> Any:
    session = get_session()
    form = _with_choices(session, InviteForm())
    if not form.validate_on_submit():
        return render_template("admin/invite.html", form=form), 400 if form.errors else 200
    keep_typed_values(
        lambda message: render_template("admin/invite.html", form=form, problem=message)
    )
    try:
        user = invite_user(
            session,
            current_settings(),
            email=form.email.data or "",
            profile=_profile(session, form),
            actor=Actor.of_user(current_user),
            now=utcnow(),
        )
    except DomainError as error:
        session.rollback()
        _show_refusal(form, error)
        return render_template("admin/invite.html", form=form), error.status
    session.commit()
    flash(_l("The invitation was sent to %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.user", user_id=user.id))


def _user_page(session: Session, user: User, form: EditUserForm, status: int = 200) -> Any:
    page = render_template(
        "admin/user.html",
        user=user,
        form=form,
        action_form=UserActionForm(),
        live_tokens=count_live_tokens(session, user),
        password_set=has_usable_password(user),
        role_labels=ROLE_LABELS,
    )
    return page, status


def _edit_form(session: Session, user: User) -> EditUserForm:
    form = EditUserForm(
        formdata=None,
        data={
            "name": user.name,
            "role": user.role,
            "stores": [s.code for s in user.stores],
            "region": user.region or "",
            "locale": user.locale or "",
        },
    )
    return _with_choices(session, form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires(Role.ADMIN)
def user(user_id: int) -> Any:
    session = get_session()
    user = get_user(session, user_id)
    if request.method == "GET":
        return _user_page(session, user, _edit_form(session, user))
    form = _with_choices(session, EditUserForm())
    if not form.validate_on_submit():
        return _user_page(session, user, form, 400)
    keep_typed_values(lambda message: _user_page(session, get_user(session, user_id), form, 503))
    actor = Actor.of_user(current_user)
    try:
        update_user(session, user, _profile(session, form), actor=actor, now=utcnow())
    except DomainError as error:
        session.rollback()
        _show_refusal(form, error)
        return _user_page(session, get_user(session, user_id), form, error.status)
    session.commit()
    flash(_l("The changes were saved."), "success")
    return redirect(url_for("admin.user", user_id=user.id))


def _act(session: Session, user: User, action: str, actor: Actor) -> Any:
    """Do ``action`` to ``user``; return the message that says it was done."""
    now = utcnow()
    if action == "switch-off":
        switch_off(session, user, actor=actor, now=now)
        return _l(
            "%(email)s was switched off: their sessions ended and their API tokens were revoked.",
            email=user.email,
        )
    if action == "switch-on":
        switch_on(session, user, actor=actor, now=now)
        return _l("%(email)s can sign in again.", email=user.email)
    send_link_for_user(session, current_settings(), user, actor=actor, now=now)
    return _l("A link to choose a password was sent to %(email)s.", email=user.email)


@bp.post("/users/<int:user_id>/<any('switch-off', 'switch-on', 'password-link'):action>")
@requires(Role.ADMIN)
def user_action(user_id: int, action: str) -> Any:
    session = get_session()
    user = get_user(session, user_id)
    if not UserActionForm().validate_on_submit():
        return _user_page(session, user, _edit_form(session, user), 400)
    try:
        done = _act(session, user, action, Actor.of_user(current_user))
    except UserRefused as error:
        session.rollback()
        user = get_user(session, user_id)
        form = _edit_form(session, user)
        form.form_errors.append(error.message)
        return _user_page(session, user, form, error.status)
    session.commit()
    flash(done, "success")
    return redirect(url_for("admin.user", user_id=user.id))
