"""The console home: the setup checklist, with a link to fix each item."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from portal.access import requires
from portal.admin import bp
from portal.admin.checklist import QUIET_TILL, get_setup_checklist
from portal.admin.scope import console_scope
from portal.db import get_session, utcnow
from portal.models import Role


def optional_url(endpoint: str, **values: Any) -> str | None:
    """The URL of ``endpoint``, or None when this build has no such page or it takes other
    arguments (the console's pages are added area by area; a missing one leaves its link
    out, not a 500)."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.get("/")
@requires(Role.ADMIN, Role.MANAGER)
def index() -> Any:
    scope = console_scope(current_user)
    checklist = get_setup_checklist(get_session(), scope, utcnow())
    return render_template(
        "admin/index.html",
        scope=scope,
        checklist=checklist,
        quiet_hours=int(QUIET_TILL.total_seconds() // 3600),
        optional_url=optional_url,
    )
