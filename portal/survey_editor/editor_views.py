"""The survey owner's editor: a new survey, the draft page (texts, questions in order,
the checks and the completion time, publishing), and the question form. Plain forms,
post-redirect-get, no JavaScript.

Every change names the draft revision its page showed; a change based on an older one is
refused with 409 and the draft page as it is now.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session

from portal.access import SURVEY_OWNERS, requires
from portal.audit import Actor
from portal.db import get_session, utcnow
from portal.errors import DomainError, keep_typed_values
from portal.i18n import current_locale
from portal.models import Survey
from portal.survey_editor import bp
from portal.survey_editor.documents import (
    SURVEY_TEXTS,
    Document,
    Text,
    find_question,
    move_question,
    put_question,
    question_input,
    remove_question,
    set_texts,
)
from portal.survey_editor.drafts import (
    SurveyStart,
    create_survey,
    draft_of,
    edit_draft,
    get_survey,
    start_draft,
)
from portal.survey_editor.editor_forms import (
    DraftActionForm,
    MoveForm,
    NewSurveyForm,
    PublishForm,
    QuestionForm,
    TextsForm,
)
from portal.survey_editor.editor_queries import (
    QuestionChoices,
    get_draft_page,
    localized,
    question_choices,
)
from portal.survey_editor.publishing import publish_draft
from portal.workflow_forms import VersionedForm, show_error
from surveys.definitions import CORE_KEYS, STANDARD_KEYS


def _actor() -> Actor:
    return Actor.of_user(current_user)


@bp.route("/new", methods=["GET", "POST"])
@requires(*SURVEY_OWNERS)
def new() -> Any:
    form = NewSurveyForm()
    if not form.validate_on_submit():
        return render_template("surveys/new.html", form=form), 400 if form.errors else 200
    session = get_session()
    keep_typed_values(
        lambda message: render_template("surveys/new.html", form=form, problem=message)
    )
    try:
        create_survey(
            session, form.key.data, SurveyStart(form.start.data), actor=_actor(), now=utcnow()
        )
        session.commit()
    except DomainError as error:
        session.rollback()
        problem = show_error(form, error, default="key")
        return render_template("surveys/new.html", form=form, problem=problem), error.status
    flash(_("Survey created with a draft. Edit it, then publish its first version."), "success")
    return redirect(url_for("surveys.draft", key=form.key.data))


def _draft_page(
    survey: Survey,
    *,
    problem: Any = None,
    status: int = 200,
    publish_form: PublishForm | None = None,
) -> Any:
    """The draft page as it is now; a refused publish keeps its form (and its error)."""
    page = get_draft_page(get_session(), survey, current_locale())
    form = publish_form or PublishForm(formdata=None)
    form.show_version(page.revision)
    body = render_template("surveys/draft.html", page=page, problem=problem, publish_form=form)
    return body, status


@bp.get("/<key>/draft")
@requires(*SURVEY_OWNERS)
def draft(key: str) -> Any:
    return _draft_page(get_survey(get_session(), key))


def _change(
    key: str, form_class: type[VersionedForm], apply: Callable[[Session, Survey, Any], None]
) -> Any:
    """A button of the draft page: check its form, apply the change, commit, show the
    draft page again (or, refused, the draft as it is now with the refusal)."""
    session = get_session()
    survey = get_survey(session, key)
    form = form_class()
    if not form.validate_on_submit():
        abort(400)
    keep_typed_values(lambda message: _draft_page(survey, problem=message))
    try:
        apply(session, survey, form)
        session.commit()
    except DomainError as error:
        session.rollback()
        session.refresh(survey)
        return _draft_page(survey, problem=error.message, status=error.status)
    return redirect(url_for("surveys.draft", key=key))


@bp.post("/<key>/draft/start")
@requires(*SURVEY_OWNERS)
def start(key: str) -> Any:
    def apply(session: Session, survey: Survey, form: DraftActionForm) -> None:
        start_draft(
            session, survey, expected_revision=form.expected_version, actor=_actor(), now=utcnow()
        )

    return _change(key, DraftActionForm, apply)


@bp.post("/<key>/draft/questions/<question>/move")
@requires(*SURVEY_OWNERS)
def move(key: str, question: str) -> Any:
    def apply(session: Session, survey: Survey, form: MoveForm) -> None:
        step = -1 if form.direction.data == "up" else 1
        _edit(
            session,
            survey,
            form,
            lambda d: move_question(d, question, step),
            "question_moved",
            question,
        )

    return _change(key, MoveForm, apply)


@bp.post("/<key>/draft/questions/<question>/remove")
@requires(*SURVEY_OWNERS)
def remove(key: str, question: str) -> Any:
    def apply(session: Session, survey: Survey, form: DraftActionForm) -> None:
        _edit(
            session,
            survey,
            form,
            lambda d: remove_question(d, question),
            "question_removed",
            question,
        )

    return _change(key, DraftActionForm, apply)


def _edit(
    session: Session,
    survey: Survey,
    form: Any,
    change: Callable[[Document], Document],
    what: str,
    question: str | None = None,
) -> None:
    edit_draft(
        session,
        survey,
        change,
        expected_revision=form.expected_version,
        actor=_actor(),
        now=utcnow(),
        what=what,
        question=question,
    )


@bp.route("/<key>/draft/texts", methods=["GET", "POST"])
@requires(*SURVEY_OWNERS)
def texts(key: str) -> Any:
    session = get_session()
    survey = get_survey(session, key)
    document = draft_of(survey)
    form = TextsForm()
    if request.method == "GET":
        form.show({name: Text.of(document.get(name)) for name in SURVEY_TEXTS})
        form.show_version(survey.draft_revision)

    def page(problem: Any = None, status: int = 200) -> Any:
        return render_template(
            "surveys/texts.html",
            survey=survey,
            title=localized(document.get("title"), current_locale()),
            form=form,
            problem=problem,
        ), status

    if not form.validate_on_submit():
        return page(status=400 if form.errors else 200)
    keep_typed_values(lambda message: page(message))
    try:
        _edit(session, survey, form, lambda d: set_texts(d, form.texts()), "texts")
        session.commit()
    except DomainError as error:
        session.rollback()
        session.refresh(survey)
        return _draft_page(survey, problem=error.message, status=error.status)
    flash(_("The survey texts are saved."), "success")
    return redirect(url_for("surveys.draft", key=key))


@bp.route("/<key>/draft/new-question", methods=["GET", "POST"], defaults={"question": None})
@bp.route("/<key>/draft/questions/<question>", methods=["GET", "POST"])
@requires(*SURVEY_OWNERS)
def question(key: str, question: str | None) -> Any:
    session = get_session()
    survey = get_survey(session, key)
    document = draft_of(survey)
    stored = find_question(document, question) if question is not None else None
    form = QuestionForm()
    fixed = question in STANDARD_KEYS
    if fixed:
        del form.key, form.kind
    offered = question_choices(document, question, _("the store's format"), current_locale(), "—")
    form.group.choices = offered.groups
    _offer(form, offered)

    def page(problem: Any = None, status: int = 200) -> Any:
        _offer(form, offered)
        return render_template(
            "surveys/question.html",
            survey=survey,
            title=localized(document.get("title"), current_locale()),
            form=form,
            question=question,
            fixed=fixed,
            fixed_kind=stored.get("kind") if fixed and stored is not None else None,
            core=question in CORE_KEYS,
            offered=offered,
            problem=problem,
        ), status

    if request.method == "GET":
        if stored is not None:
            form.show(question_input(stored))
            form.add_rows()
        form.show_version(survey.draft_revision)
        return page()
    if "more_rows" in request.form:
        # More blank rows, nothing saved: the page works without JavaScript.
        form.add_rows()
        return page()
    if not form.validate_on_submit():
        return page(status=400)
    keep_typed_values(lambda message: page(message))
    entry = form.entry(key=question or "")
    what = "question_added" if question is None else "question_changed"
    try:
        _edit(
            session,
            survey,
            form,
            lambda d: put_question(d, entry, replacing=question),
            what,
            entry.key or question,
        )
        session.commit()
    except DomainError as error:
        session.rollback()
        if error.field is not None:
            problem = show_error(form, error)
            return page(problem, error.status)
        session.refresh(survey)
        return _draft_page(survey, problem=error.message, status=error.status)
    flash(_("The question is saved."), "success")
    return redirect(url_for("surveys.draft", key=key, _anchor=f"q-{entry.key or question}"))


def _offer(form: QuestionForm, offered: QuestionChoices) -> None:
    for row in form.rules:
        row.form.subject.choices = offered.subjects


@bp.post("/<key>/publish")
@requires(*SURVEY_OWNERS)
def publish(key: str) -> Any:
    session = get_session()
    survey = get_survey(session, key)
    form = PublishForm()
    if not form.validate_on_submit():
        abort(400)
    keep_typed_values(lambda message: _draft_page(survey, problem=message, publish_form=form))
    try:
        published = publish_draft(
            session,
            survey,
            expected_revision=form.expected_version,
            new_series=bool(form.new_series.data),
            actor=_actor(),
            now=utcnow(),
        )
        session.commit()
    except DomainError as error:
        session.rollback()
        session.refresh(survey)
        problem = show_error(form, error)
        return _draft_page(survey, problem=problem, status=error.status, publish_form=form)
    version = published.version
    flash(
        _(
            "Published version %(n)s (scoring series %(s)s).",
            n=version.number,
            s=version.scoring_series,
        ),
        "success",
    )
    if published.new_series_without_change:
        flash(
            _(
                "No scoring question changed, yet this version starts a new scoring series: "
                "scores before and after it are shown apart."
            ),
            "info",
        )
    return redirect(url_for("surveys.draft", key=key))
