""" "Forgot password", and the pages a mailed link opens: choose the first password (an
invitation) or a new one (a reset), then go on signed in."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l

from portal import throttle
from portal.access import public
from portal.audit import Actor
from portal.auth import bp
from portal.auth.forms import ForgotPasswordForm, SetPasswordForm
from portal.auth.operations import InvalidAccount, normalize_email
from portal.auth.recovery import request_password_reset, set_password_with_link, user_for_link
from portal.auth.tokens import INVITATION, RESET, InvalidLink
from portal.auth.views import start_session
from portal.config import current_settings
from portal.db import get_session, utcnow

#: The link is in the URL: no cache may keep these pages.
NO_STORE = {"Cache-Control": "no-store"}


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/forgot_password.html", form=form), 400 if form.errors else 200
    email, address = normalize_email(form.email.data or ""), throttle.client_address()
    # Counted whether or not the address has an account, so a 429 tells nothing either.
    throttle.enforce(throttle.RESET_IP, address)
    throttle.enforce(throttle.RESET_ACCOUNT, email)
    session = get_session()
    actor = Actor(label=f"reset:{address}"[:100])
    request_password_reset(session, current_settings(), email, actor=actor, now=utcnow())
    session.commit()
    # One answer for an account, an unknown address and a switched-off account alike.
    return render_template("auth/forgot_password_sent.html")


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def invitation(token: str) -> Any:
    return _choose_password(token, INVITATION)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str) -> Any:
    return _choose_password(token, RESET)


def _refused(error: InvalidLink, purpose: str) -> Any:
    page = render_template("auth/link_refused.html", error=error, purpose=purpose)
    return page, error.status, NO_STORE


def _choose_password(token: str, purpose: str) -> Any:
    session, settings = get_session(), current_settings()
    try:
        user = user_for_link(session, settings, token, purpose, now=utcnow())
    except InvalidLink as error:
        return _refused(error, purpose)
    form = SetPasswordForm()

    def page(status: int) -> Any:
        html = render_template("auth/set_password.html", form=form, user=user, purpose=purpose)
        return html, status, NO_STORE

    if not form.validate_on_submit():
        return page(400 if form.errors else 200)
    try:
        user = set_password_with_link(
            session, settings, token, purpose, form.new_password.data or "", now=utcnow()
        )
    except InvalidLink as error:  # used meanwhile, from another tab or device
        session.rollback()
        return _refused(error, purpose)
    except InvalidAccount as error:
        session.rollback()
        form.new_password.errors.append(error.message)
        return page(400)
    session.commit()
    start_session(user)
    flash(_l("Your password was set; you are signed in."), "success")
    return redirect(url_for("home.dashboard"))
