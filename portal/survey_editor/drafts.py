"""Writing surveys and their drafts: creating a survey, starting a draft from the latest
version, and saving each edit of the editor.

Every save names the draft revision the owner's page showed. The revision is checked and
bumped by one conditional UPDATE, so of two owners saving the same draft at once the
second is refused (`DraftChanged`, 409) instead of overwriting the first; nothing is
written then.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import null, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.audit import Actor, record_audit
from portal.errors import Conflict, DomainError, NotFound
from portal.models import Survey, SurveyVersion
from portal.survey_editor.documents import Document, copied_document, minimal_document
from portal.versions import default_survey, latest_version


class SurveyStart(StrEnum):
    """What a new survey's first draft is."""

    #: The default survey's latest version, under the new key.
    COPY = "copy"
    #: The two scoring questions alone (and the default survey's texts).
    MINIMAL = "minimal"


class UnknownSurvey(NotFound):
    message = _l("There is no survey with this key.")


class SurveyKeyTaken(Conflict):
    code = "survey_key_taken"
    message = _l("A survey with this key already exists: choose another key.")


class DraftChanged(Conflict):
    code = "draft_changed"
    message = _l(
        "Someone else changed this draft since you opened it; here is the current one. "
        "Nothing you sent was saved: make your change again if it is still needed."
    )


class NoDraft(Conflict):
    code = "no_draft"
    message = _l(
        "This survey has no draft any more (it was published meanwhile): start a new draft."
    )


class DraftExists(Conflict):
    code = "draft_exists"
    message = _l("This survey already has a draft: here it is.")


class SurveyRefused(DomainError):
    status = 400
    code = "survey_refused"


def get_survey(session: Session, key: str) -> Survey:
    """The survey with this key; `UnknownSurvey` (404) when there is none."""
    found = session.scalar(select(Survey).where(Survey.key == key))
    if found is None:
        raise UnknownSurvey()
    return found


def create_survey(
    session: Session, key: str, start: SurveyStart, *, actor: Actor, now: datetime
) -> Survey:
    """Add a survey with a first draft and no version yet.

    Raises
    ------
    SurveyKeyTaken
        Another survey has the key (decided by the unique constraint, not by a look-up).
    """
    default = latest_version(session, default_survey(session).id)
    source: Document = default.definition if default is not None else {}
    document = (
        copied_document(key, source) if start is SurveyStart.COPY else minimal_document(key, source)
    )
    survey = Survey(
        key=key,
        draft=document,
        draft_revision=1,
        draft_updated_at=now,
        draft_updated_by_user_id=actor.user_id,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(survey)
    except IntegrityError:
        raise SurveyKeyTaken(field="key") from None
    record_audit(session, actor, "survey.created", "survey", key, now, change=start.value)
    return survey


def start_draft(
    session: Session,
    survey: Survey,
    *,
    expected_revision: int,
    actor: Actor,
    now: datetime,
    source: SurveyVersion | None = None,
    replace: bool = False,
) -> Document:
    """Give the survey a draft: a copy of ``source`` (one of its versions, e.g. an older
    one from the versions page), by default of its latest version.

    Audited as ``survey.draft_saved`` ("started"), or ``survey.version_copied`` naming the
    version when ``source`` is given. The version row is never touched: the draft is a
    deep copy.

    Raises
    ------
    DraftExists
        It has one already (perhaps started meanwhile by someone else) and ``replace`` is
        false.
    DraftChanged
        Its draft revision is no longer the one the page showed.
    """
    had_draft = survey.draft is not None
    if had_draft and not replace:
        raise DraftExists()
    if source is not None and source.survey_id != survey.id:
        raise SurveyRefused(_l("That version belongs to another survey."))
    copied = source if source is not None else latest_version(session, survey.id)
    if copied is not None:
        document = copied_document(survey.key, copied.definition)
    else:
        default = latest_version(session, default_survey(session).id)
        document = minimal_document(survey.key, default.definition if default else {})
    _write_draft(session, survey, document, expected_revision, actor, now, draft_exists=had_draft)
    if source is not None:
        record_audit(
            session,
            actor,
            "survey.version_copied",
            "survey",
            survey.key,
            now,
            version_number=source.number,
            draft_replaced=had_draft,
        )
        return document
    number = copied.number if copied is not None else None
    record_audit(
        session,
        actor,
        "survey.draft_saved",
        "survey",
        survey.key,
        now,
        change="started",
        version=number,
    )
    return document


def edit_draft(
    session: Session,
    survey: Survey,
    change: Callable[[Document], Document],
    *,
    expected_revision: int,
    actor: Actor,
    now: datetime,
    what: str,
    question: str | None = None,
) -> Document:
    """Apply ``change`` to the draft and save it as the next revision.

    ``what`` (``texts``, ``question_added``, ``question_changed``, ``question_moved``,
    ``question_removed``) and ``question`` go to the audit entry.

    Raises
    ------
    NoDraft
        The survey has no draft (published meanwhile).
    DraftChanged
        The draft's revision is not ``expected_revision`` (someone else saved first).
    DomainError
        Whatever ``change`` refuses (a duplicate key, removing a scoring question).
    """
    if survey.draft is None:
        raise NoDraft()
    if survey.draft_revision != expected_revision:
        raise DraftChanged()
    document = change(survey.draft)
    _write_draft(session, survey, document, expected_revision, actor, now, draft_exists=True)
    record_audit(
        session,
        actor,
        "survey.draft_saved",
        "survey",
        survey.key,
        now,
        change=what,
        question=question,
    )
    return document


def _write_draft(
    session: Session,
    survey: Survey,
    document: Document | None,
    expected_revision: int,
    actor: Actor,
    now: datetime,
    *,
    draft_exists: bool,
) -> None:
    """Store ``document`` as the next revision, if the draft is still at
    ``expected_revision`` (and has a draft, or none, as ``draft_exists`` says).

    One conditional UPDATE checks and bumps the revision: a concurrent save that got there
    first makes it match no row (on PostgreSQL the second waits for the first's row lock,
    then sees the new revision).
    """
    has_draft = Survey.draft.is_not(None) if draft_exists else Survey.draft.is_(None)
    # A plain copy of JSON values; SQL NULL (not JSON null) when the draft goes.
    stored: Any = json.loads(json.dumps(document)) if document is not None else null()
    result = session.execute(
        update(Survey)
        .where(Survey.id == survey.id, Survey.draft_revision == expected_revision, has_draft)
        .values(
            draft=stored,
            draft_revision=expected_revision + 1,
            draft_updated_at=now,
            draft_updated_by_user_id=actor.user_id,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise DraftChanged()
    session.expire(survey)


def clear_draft(
    session: Session, survey: Survey, *, expected_revision: int, actor: Actor, now: datetime
) -> None:
    """Remove the draft (it has become a version), checking the revision like a save.

    Raises
    ------
    DraftChanged
    """
    _write_draft(session, survey, None, expected_revision, actor, now, draft_exists=True)


def versions_of(session: Session, survey_id: int) -> list[SurveyVersion]:
    """The survey's published versions, oldest first."""
    return list(
        session.scalars(
            select(SurveyVersion)
            .where(SurveyVersion.survey_id == survey_id)
            .order_by(SurveyVersion.number)
        )
    )


def draft_of(survey: Survey) -> dict[str, Any]:
    """The survey's draft document; `NoDraft` when it has none."""
    if survey.draft is None:
        raise NoDraft()
    return survey.draft
