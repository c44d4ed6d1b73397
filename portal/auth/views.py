"""Sign-in and sign-out views."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user

from portal.access import public
from portal.auth import bp
from portal.auth.forms import LoginForm
from portal.auth.operations import authenticate
from portal.db import get_session, utcnow
from portal.extensions import limiter


def _safe_next(target: str | None) -> str:
    # Only same-site paths: "//evil.example" and "https://..." would be open redirects.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("home.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def login() -> Any:
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 400 if form.errors else 200
    session = get_session()
    user = authenticate(session, form.email.data or "", form.password.data or "", utcnow())
    if user is None:
        form.password.errors.append(_l("Wrong e-mail or password."))
        return render_template("auth/login.html", form=form), 401
    session.commit()
    login_user(user)
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
@public
def logout() -> Any:
    logout_user()
    return redirect(url_for("auth.login"))
