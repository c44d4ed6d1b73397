"""A survey's published versions: the list, one version with its changes, and copying a
version into the draft. No route here changes a published version."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.access import SURVEY_OWNERS, requires
from portal.audit import Actor
from portal.db import get_session, utcnow
from portal.errors import DomainError, keep_typed_values
from portal.i18n import current_locale
from portal.models import Survey
from portal.survey_editor import bp
from portal.survey_editor.change_words import (
    HTML_LANG,
    change_blocks,
    condition_words,
    kind_label,
)
from portal.survey_editor.drafts import DraftExists, get_survey, start_draft
from portal.survey_editor.history import (
    get_version,
    list_versions,
    survey_title,
    version_detail,
)
from portal.survey_editor.version_forms import CopyVersionForm
from portal.workflow_forms import render_refusal

#: Why a copy was refused over a draft, said where the "replace" box is.
COPY_OVER_DRAFT = _l(
    "This survey already has a draft. Nothing was copied: tick “Replace the current "
    "draft” to overwrite it with this version, or open the draft instead."
)


@bp.get("/<key>/versions")
@requires(*SURVEY_OWNERS)
def versions(key: str) -> Any:
    session = get_session()
    survey = get_survey(session, key)
    return render_template(
        "surveys/versions.html",
        survey=survey,
        title=survey_title(session, survey),
        versions=list_versions(session, survey),
    )


@bp.get("/<key>/versions/<int:number>")
@requires(*SURVEY_OWNERS)
def version(key: str, number: int) -> Any:
    survey = get_survey(get_session(), key)
    form = CopyVersionForm(data={"version": str(survey.draft_revision)})
    return _version_page(survey, number, form)


@bp.post("/<key>/versions/<int:number>/copy")
@requires(*SURVEY_OWNERS)
def copy_version(key: str, number: int) -> Any:
    session = get_session()
    survey = get_survey(session, key)
    found = get_version(session, survey, number)
    form = CopyVersionForm()
    if not form.validate_on_submit():
        return _version_page(survey, number, form, status=400)
    keep_typed_values(lambda problem: _version_page(survey, number, form, problem=problem))
    try:
        try:
            start_draft(
                session,
                survey,
                expected_revision=form.expected_version,
                actor=Actor.of_user(current_user),
                now=utcnow(),
                source=found,
                replace=bool(form.replace_draft.data),
            )
        except DraftExists:
            raise DraftExists(COPY_OVER_DRAFT, field="replace_draft") from None
    except DomainError as error:
        session.rollback()
        return render_refusal(
            lambda problem, status: _version_page(
                survey, number, form, problem=problem, status=status
            ),
            form,
            error,
            version=survey.draft_revision,
        )
    session.commit()
    flash(_("Version %(n)s is now the draft: edit it and publish it as a new version.", n=number))
    return redirect(url_for("surveys.draft", key=key))


def _version_page(
    survey: Survey,
    number: int,
    form: CopyVersionForm,
    *,
    problem: Any = None,
    status: int = 200,
) -> Any:
    session = get_session()
    detail = version_detail(session, survey, number)
    locale = current_locale()
    blocks = None
    if detail.changes is not None and detail.previous is not None:
        blocks = change_blocks(detail.changes, detail.previous, detail.definition, locale)
    return render_template(
        "surveys/version.html",
        survey=survey,
        detail=detail,
        definition=detail.definition,
        blocks=blocks,
        form=form,
        problem=problem,
        kind_label=kind_label,
        condition_words=lambda condition: condition_words(condition, detail.definition, locale),
        html_lang=HTML_LANG,
    ), status
