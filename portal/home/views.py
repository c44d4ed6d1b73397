"""Landing page and the signed-in home page of each role: the work waiting for that
person, each item linking to where it is done (the admin's keeps the chain's activity)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import redirect, render_template, url_for
from flask_login import current_user

from portal.access import public, requires
from portal.alerts.forms import DismissForm
from portal.alerts.queries import list_home_alerts
from portal.alerts.views import words as alert_words
from portal.awards.forms import NOMINATION_STATE_LABELS
from portal.cases.forms import STATE_LABELS as CASE_STATE_LABELS
from portal.dashboard.reports import MIN_N
from portal.db import get_session, utcnow
from portal.home import bp
from portal.home.queries.activity import as_response_rows, latest_responses, list_store_activity
from portal.home.queries.cx import cx_home
from portal.home.queries.hr import hr_home
from portal.home.queries.manager import manager_home
from portal.home.queries.reviewer import reviewer_home
from portal.home.queries.shopper import shopper_home
from portal.models import Role
from portal.mystery.forms import DAYPART_LABELS, FLAG_LABELS, GRADE_LABELS
from portal.mystery.forms import STATE_LABELS as VISIT_STATE_LABELS
from portal.pagination import paginate, requested_page

#: The admin's home looks at the last 30 days.
WINDOW = timedelta(days=30)

#: Each role's list of waiting work: its template and the query that fills it.
WORK_LISTS = {
    Role.MANAGER: ("home/manager.html", manager_home),
    Role.MYSTERY: ("home/mystery.html", shopper_home),
    Role.REVIEWER: ("home/reviewer.html", reviewer_home),
    Role.HR: ("home/hr.html", hr_home),
    Role.CX: ("home/cx.html", cx_home),
}


def _labels() -> dict[str, Any]:
    """The words the to-do pages show for stored keys (states, flags, dayparts)."""
    return {
        "case_state_labels": CASE_STATE_LABELS,
        "visit_state_labels": VISIT_STATE_LABELS,
        "nomination_state_labels": NOMINATION_STATE_LABELS,
        "daypart_labels": DAYPART_LABELS,
        "flag_labels": FLAG_LABELS,
        "grade_labels": GRADE_LABELS,
        "min_n": MIN_N,
    }


def _alerts(session: Any, user: Any) -> dict[str, Any]:
    """The recipient's undismissed alerts, shown above every home page."""
    return {
        "home_alerts": list_home_alerts(session, user),
        "dismiss_form": DismissForm(),
        **alert_words(),
    }


@bp.get("/")
@public
def index() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home.dashboard"))
    return render_template("home/landing.html")


@bp.get("/home")
@requires(*Role)
def dashboard() -> Any:
    session, user, now = get_session(), current_user, utcnow()
    if user.role in WORK_LISTS:
        template, read = WORK_LISTS[user.role]
        return render_template(
            template,
            home=read(session, user, now),
            now=now,
            **_labels(),
            **_alerts(session, user),
        )
    since = now - WINDOW
    page = paginate(session, latest_responses(user, since), requested_page())
    return render_template(
        "home/dashboard.html",
        stores=list_store_activity(session, user, since),
        page=page,
        responses=as_response_rows(page.items),
        **_alerts(session, user),
    )
