"""The survey list: every survey with its latest version and whether a draft waits."""

from __future__ import annotations

from typing import Any

from flask import render_template

from portal.access import SURVEY_OWNERS, requires
from portal.db import get_session
from portal.survey_editor import bp
from portal.survey_editor.queries import list_surveys


@bp.get("")
@requires(*SURVEY_OWNERS)
def index() -> Any:
    return render_template("surveys/index.html", surveys=list_surveys(get_session()))
