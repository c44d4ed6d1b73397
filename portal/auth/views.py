"""Sign-in and sign-out views, and the account settings page (password, sign out
everywhere, display name and language)."""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy.orm.attributes import set_committed_value

from portal import throttle
from portal.access import public, requires
from portal.audit import Actor
from portal.auth import SESSION_VERSION_KEY, bp
from portal.auth.forms import ChangePasswordForm, EndSessionsForm, LoginForm, ProfileForm
from portal.auth.operations import (
    InvalidAccount,
    authenticate,
    change_password,
    end_sessions,
    normalize_email,
    record_failed_login,
    remember_language,
    update_profile,
)
from portal.auth.queries import failed_logins
from portal.config import LOCALES
from portal.db import get_session, utcnow, write_session
from portal.i18n import is_fixed_language_request
from portal.models import Role, User
from portal.pagination import paginate, requested_page

#: What survives signing in: the chosen page language, nothing else (no CSRF token, no
#: flashed message, no value an attacker could have planted in the cookie beforehand).
_KEPT_ACROSS_SIGN_IN = ("lang",)


def _safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the home page.

    Browsers drop tabs and newlines inside URLs, read ``\\`` as ``/`` and ``//host`` as
    another site, and a proxy or the browser may decode ``%2F``/``%5C`` once more: so the
    target must be a plain path, and stay one after percent-decoding, whatever it carries.
    """
    if target and _is_local_path(target):
        return target
    return url_for("home.dashboard")


def _is_local_path(target: str) -> bool:
    text = target
    for _ in range(3):  # each decoding must still be a plain path ("%252F" is two levels)
        if any(c != " " and unicodedata.category(c)[0] in "CZ" for c in text) or "\\" in text:
            return False  # control, format and separator characters (tab, U+2028); backslashes
        if not text.startswith("/") or text.startswith("//"):
            return False
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return False
        text = unquote(text)
    return True


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 400 if form.errors else 200
    # Failures are counted per account and per address, shared by every worker and server.
    email, address = normalize_email(form.email.data or ""), throttle.client_address()
    throttle.refuse_if_exhausted(throttle.LOGIN_ACCOUNT, email)
    throttle.refuse_if_exhausted(throttle.LOGIN_IP, address)
    session = get_session()
    user = authenticate(session, email, form.password.data or "", utcnow())
    if user is None:
        actor = Actor(label=f"login:{address}"[:100])
        record_failed_login(session, email, address=address, actor=actor, now=utcnow())
        session.commit()  # the entry is kept, and the write lock let go before counting
        throttle.count_failure(throttle.LOGIN_ACCOUNT, email)
        throttle.count_failure(throttle.LOGIN_IP, address)
        form.password.errors.append(_l("Wrong e-mail or password."))
        return render_template("auth/login.html", form=form), 401
    session.commit()
    start_session(user)
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
@public
def logout() -> Any:
    if current_user.is_authenticated:
        # Bumping the version voids this cookie even where a copy of it survives.
        session = get_session()
        end_sessions(session, current_user, actor=Actor.of_user(current_user), now=utcnow())
        session.commit()
    logout_user()
    cookie_session.clear()
    return redirect(url_for("auth.login"))


@bp.get("/failed-logins")
@requires(Role.ADMIN)
def failed_login_list() -> Any:
    page = paginate(get_session(), failed_logins(), requested_page(), 50)
    return render_template("auth/failed_logins.html", page=page)


@bp.get("/settings")
@requires(*Role)
def account_settings() -> Any:
    return _settings_page(ChangePasswordForm())


@bp.post("/settings/profile")
@requires(*Role)
def profile() -> Any:
    form = ProfileForm()
    if not form.validate_on_submit():
        return _settings_page(ChangePasswordForm(), form), 400
    session = get_session()
    user: User = current_user._get_current_object()
    try:
        update_profile(
            session,
            user,
            name=form.name.data or "",
            locale=form.locale.data or None,
            actor=Actor.of_user(user),
            now=utcnow(),
        )
    except InvalidAccount as error:
        session.rollback()
        getattr(form, error.field or "name").errors.append(error.message)
        return _settings_page(ChangePasswordForm(), form), 400
    session.commit()
    if user.locale:
        cookie_session["lang"] = user.locale
    flash(_l("Your name and language were saved."), "success")
    return redirect(url_for("auth.account_settings"))


@bp.before_app_request
def _keep_language_choice() -> None:
    """A signed-in user who switches the language on a page keeps it as their preference."""
    asked = request.args.get("lang", "").replace("-", "_")
    if asked not in LOCALES or request.path.startswith("/api/") or is_fixed_language_request():
        return
    if not current_user.is_authenticated or current_user.locale == asked:
        return
    # A short write of its own, as the request's session may be a reader (a GET); the read
    # that loaded the user is ended first, so the write never sits inside it.
    get_session().commit()
    with write_session() as session, session.begin():
        remember_language(session, current_user.id, asked)
    # Seen by this request too, without making the request's session write it again.
    set_committed_value(current_user._get_current_object(), "locale", asked)


@bp.post("/settings/password")
@requires(*Role)
def password() -> Any:
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _settings_page(form), 400
    session = get_session()
    user: User = current_user._get_current_object()  # login_user below needs the real one
    try:
        change_password(
            session,
            user,
            current_password=form.current_password.data or "",
            new_password=form.new_password.data or "",
            actor=Actor.of_user(user),
            now=utcnow(),
        )
    except InvalidAccount as error:
        session.rollback()
        if error.field == "current_password":
            form.current_password.errors.append(_l("The current password is wrong."))
        else:  # the form checks the length rules; a common password is refused here
            form.new_password.errors.append(error.message)
        return _settings_page(form), 400
    session.commit()
    # Every other device is signed out; this one goes on with the new version.
    start_session(user)
    flash(_l("Your password was changed; your other sessions were signed out."), "success")
    return redirect(url_for("auth.account_settings"))


@bp.post("/settings/sessions/end")
@requires(*Role)
def end_all_sessions() -> Any:
    if not EndSessionsForm().validate_on_submit():
        return _settings_page(ChangePasswordForm()), 400
    session = get_session()
    end_sessions(session, current_user, actor=Actor.of_user(current_user), now=utcnow())
    session.commit()
    logout_user()
    cookie_session.clear()
    flash(_l("You were signed out on every device."), "success")
    return redirect(url_for("auth.login"))


def start_session(user: User) -> None:
    """Sign ``user`` in on a fresh session stamped with their current session version."""
    kept = {key: cookie_session[key] for key in _KEPT_ACROSS_SIGN_IN if key in cookie_session}
    cookie_session.clear()
    cookie_session.update(kept)
    login_user(user)
    cookie_session[SESSION_VERSION_KEY] = user.session_version


def _settings_page(form: ChangePasswordForm, profile_form: ProfileForm | None = None) -> str:
    if profile_form is None:
        profile_form = ProfileForm(
            formdata=None, data={"name": current_user.name, "locale": current_user.locale or ""}
        )
    return render_template(
        "auth/settings.html", form=form, end_form=EndSessionsForm(), profile_form=profile_form
    )
