"""The API token settings page: list, create (secret shown once), revoke."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import requires
from portal.api_tokens import bp
from portal.api_tokens.forms import NewApiTokenForm, RevokeApiTokenForm
from portal.api_tokens.operations import (
    InvalidTokenRequest,
    NewApiToken,
    create_api_token,
    list_api_tokens,
    revoke_api_token,
)
from portal.audit import Actor
from portal.db import get_session, utcnow
from portal.models import Role


def _page(form: NewApiTokenForm, new: NewApiToken | None = None) -> str:
    return render_template(
        "tokens/index.html",
        form=form,
        revoke_form=RevokeApiTokenForm(),
        tokens=list_api_tokens(get_session(), current_user),
        new=new,
    )


@bp.route("/tokens", methods=["GET", "POST"])
@requires(*Role)
def index() -> Any:
    form = NewApiTokenForm()
    if not form.validate_on_submit():
        return _page(form), 400 if form.errors else 200
    session = get_session()
    try:
        new = create_api_token(
            session,
            current_user,
            actor=Actor.of_user(current_user),
            now=utcnow(),
            label=form.label.data or "",
        )
    except InvalidTokenRequest as error:
        session.rollback()
        form.label.errors.append(error.message)
        return _page(form), error.status
    session.commit()
    # Rendered from the POST, not redirected: the secret must never sit in a URL or in
    # the session cookie, and no cache may keep the page.
    page = _page(NewApiTokenForm(formdata=None), new)
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/tokens/<int:token_id>/revoke")
@requires(*Role)
def revoke(token_id: int) -> Any:
    if not RevokeApiTokenForm().validate_on_submit():
        abort(400)
    session = get_session()
    revoked = revoke_api_token(
        session, current_user, token_id, actor=Actor.of_user(current_user), now=utcnow()
    )
    session.commit()
    flash(_("Token %(prefix)s… is revoked.", prefix=revoked.prefix), "success")
    return redirect(url_for("tokens.index"))
