"""The survey owner's preview: the survey's draft (or, without one, its latest version) as a
shopper sees it, at phone width, in both languages side by side, for a chosen store format.

Each language is a frame drawing the shopper's own template with the same stylesheet and
script, so conditions behave as on the real page. Sending the preview's form checks the
answers with the shopper's rules and says what would happen; it never records anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response as HttpResponse
from flask import abort, make_response, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.access import SURVEY_OWNERS, requires
from portal.admin.forms import FORMAT_LABELS
from portal.branding import shopper_branding
from portal.config import LOCALES
from portal.db import get_session
from portal.i18n import current_locale, fixed_language
from portal.models import Survey
from portal.security import allow_framing_by_self
from portal.shopper.condition_styles import condition_stylesheet
from portal.shopper.forms import survey_form_class
from portal.shopper.survey_page import survey_context
from portal.survey_editor import bp
from portal.versions import definition_of, latest_version
from surveys.definitions import SurveyDefinition
from surveys.loader import DefinitionError, parse_definition


@dataclass(frozen=True, slots=True)
class Previewed:
    """What the preview shows: a definition, or why there is none to show."""

    key: str
    definition: SurveyDefinition | None
    #: The loader's message for a draft that does not parse (or no content at all).
    problem: str | None
    #: ``None`` for the draft, else the number of the published version shown.
    version_number: int | None


def previewed(db: Session, key: str) -> Previewed:
    """The survey's draft, parsed; its latest version when it has no draft. 404 for an
    unknown survey."""
    survey = db.scalar(select(Survey).where(Survey.key == key))
    if survey is None:
        abort(404)
    if survey.draft is not None:
        try:
            return Previewed(key, parse_definition(survey.draft, source="draft"), None, None)
        except DefinitionError as error:
            return Previewed(key, None, str(error), None)
    version = latest_version(db, survey.id)
    if version is None:
        return Previewed(key, None, _("This survey has no draft and no published version."), None)
    return Previewed(key, definition_of(version), None, version.number)


def _store_format() -> str:
    asked = request.args.get("format", "")
    return asked if asked in FORMAT_LABELS else ""


@bp.route("/<key>/preview", methods=["GET", "POST"])
@requires(*SURVEY_OWNERS)
def preview(key: str) -> Any:
    if request.method == "POST":
        # Answers sent for a frame: checked, shown in that frame again, never recorded.
        return _frame(key, sent=True)
    shown, store_format = previewed(get_session(), key), _store_format()
    frames = {
        locale: url_for("surveys.preview_frame", key=key, lang=locale, format=store_format)
        for locale in LOCALES
    }
    return render_template(
        "surveys/preview.html",
        shown=shown,
        store_format=store_format,
        format_labels=FORMAT_LABELS,
        frames=frames,
    )


@bp.route("/<key>/preview/frame", methods=["GET", "POST"])
@requires(*SURVEY_OWNERS)
@fixed_language  # ?lang= draws this frame in a language; the owner's own stays as it is
def preview_frame(key: str) -> Any:
    return _frame(key, sent=request.method == "POST")


def _frame(key: str, *, sent: bool) -> Any:
    """The survey as the shopper's page draws it; ``sent``: the answers checked by the
    shopper's rules. Nothing is ever recorded."""
    db = get_session()
    shown, store_format, locale = previewed(db, key), _store_format(), current_locale()
    branding = shopper_branding(db)
    db.rollback()  # read only: nothing here writes
    if shown.definition is None:
        page = render_template("surveys/preview_problem.html", shown=shown)
        return allow_framing_by_self(make_response(page, 200))
    form = survey_form_class(shown.definition, locale)()
    accepted = sent and form.validated_answers(store_format) is not None
    page = render_template(
        "shopper/survey.html",
        **survey_context(shown.definition, store_format, branding),
        form=form,
        store_name=_("Your store's name"),
        opened="",
        preview=True,
        accepted=accepted,
        action=url_for("surveys.preview_frame", key=key, lang=locale, format=store_format),
        style_url=url_for("surveys.preview_style", key=key),
    )
    status = 400 if sent and not accepted else 200
    return allow_framing_by_self(make_response(page, status))


@bp.get("/<key>/preview/style.css")
@requires(*SURVEY_OWNERS)
def preview_style(key: str) -> Any:
    shown = previewed(get_session(), key)
    sheet = "" if shown.definition is None else condition_stylesheet(shown.definition)
    response = HttpResponse(sheet, mimetype="text/css")
    # The draft changes with every save: never reuse an old sheet.
    response.headers["Cache-Control"] = "no-store"
    return response
