"""Landing page and the signed-in home page of each role."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import redirect, render_template, url_for
from flask_login import current_user

from portal.access import public, requires
from portal.db import get_session, utcnow
from portal.home import bp
from portal.home.queries import (
    as_response_rows,
    as_staff_activity,
    latest_responses,
    list_store_activity,
    list_stores,
    staff_activity,
)
from portal.models import Role
from portal.pagination import paginate, requested_page

#: The home pages look at the last 30 days.
WINDOW = timedelta(days=30)


@bp.get("/")
@public
def index() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home.dashboard"))
    return render_template("home/landing.html")


@bp.get("/home")
@requires(*Role)
def dashboard() -> Any:
    session, user, since = get_session(), current_user, utcnow() - WINDOW
    if user.role == Role.MYSTERY:
        return render_template("home/mystery.html", stores=list_stores(session))
    stores = list_store_activity(session, user, since)
    if user.role == Role.HR:
        page = paginate(session, staff_activity(user, since), requested_page(), per_page=50)
        rows = as_staff_activity(page.items)
        return render_template("home/hr.html", stores=stores, page=page, staff=rows)
    comments_only = user.role == Role.REVIEWER
    page = paginate(
        session, latest_responses(user, since, with_comment_only=comments_only), requested_page()
    )
    return render_template(
        "home/dashboard.html", stores=stores, page=page, responses=as_response_rows(page.items)
    )
