"""POS keys in the console: every key, one store's keys with the form for a new one (shown
once, with a curl example), and revoking with a confirmation. Region managers read; only
admins create and revoke."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.access import requires
from portal.admin import bp
from portal.admin.key_forms import NewApiKeyForm, RevokeApiKeyForm
from portal.admin.keys import curl_example, get_key_in_scope, keys_stmt
from portal.admin.scope import ConsoleScope, console_scope, get_store_in_scope
from portal.audit import Actor
from portal.config import current_settings
from portal.db import get_session, utcnow
from portal.errors import keep_typed_values
from portal.models import Role, Store
from portal.pagination import paginate, requested_page
from portal.pos_api.operations import create_api_key, revoke_api_key

CONSOLE_ROLES = (Role.ADMIN, Role.MANAGER)
CLOSED_STORE = _l("This store is closed: reopen it before giving it a till key.")


@bp.get("/keys")
@requires(*CONSOLE_ROLES)
def keys() -> Any:
    scope = console_scope(current_user)
    page = paginate(get_session(), keys_stmt(scope), requested_page(), per_page=50)
    return render_template("admin/keys.html", scope=scope, page=page)


def _store_page(
    scope: ConsoleScope,
    store: Store,
    form: NewApiKeyForm,
    *,
    problem: Any = None,
    status: int = 200,
) -> Any:
    page = paginate(get_session(), keys_stmt(scope, store), requested_page(), per_page=50)
    return (
        render_template(
            "admin/store_keys.html", scope=scope, store=store, page=page, form=form, problem=problem
        ),
        status,
    )


@bp.get("/stores/<code>/keys")
@requires(*CONSOLE_ROLES)
def store_keys(code: str) -> Any:
    scope = console_scope(current_user)
    store = get_store_in_scope(get_session(), scope, code)
    return _store_page(scope, store, NewApiKeyForm(formdata=None))


@bp.post("/stores/<code>/keys")
@requires(Role.ADMIN)
def create_key(code: str) -> Any:
    scope, session = console_scope(current_user), get_session()
    store = get_store_in_scope(session, scope, code)
    form = NewApiKeyForm()
    if not form.validate_on_submit():
        return _store_page(scope, store, form, status=400)
    if store.closed_at is not None:
        form.label.errors.append(CLOSED_STORE)
        return _store_page(scope, store, form, status=409)
    keep_typed_values(lambda message: _store_page(scope, store, form, problem=message))
    new = create_api_key(
        session,
        store,
        actor=Actor.of_user(current_user),
        now=utcnow(),
        label=(form.label.data or "").strip(),
    )
    session.commit()
    # Rendered from the POST, never redirected: the key must not sit in a URL, the session
    # cookie or any cache; only its hash is kept, so this page is the only time it exists.
    page = render_template(
        "admin/key_created.html",
        store=store,
        new=new,
        curl=curl_example(session, current_settings().base_url, store).command(new.secret),
    )
    return page, 200, {"Cache-Control": "no-store"}


@bp.route("/keys/<int:key_id>/revoke", methods=["GET", "POST"])
@requires(Role.ADMIN)
def revoke_key(key_id: int) -> Any:
    scope, session = console_scope(current_user), get_session()
    api_key = get_key_in_scope(session, scope, key_id)
    form = RevokeApiKeyForm()
    if not form.validate_on_submit():
        if form.is_submitted():
            abort(400)  # the CSRF token is missing or stale
        return render_template("admin/revoke_key.html", api_key=api_key, form=form)
    if api_key.revoked_at is None:
        revoke_api_key(session, api_key.id, actor=Actor.of_user(current_user), now=utcnow())
        session.commit()
        flash(_("Key %(prefix)s… is revoked.", prefix=api_key.prefix), "success")
    return redirect(url_for("admin.store_keys", code=api_key.store.code))
