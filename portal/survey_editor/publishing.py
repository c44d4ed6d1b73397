"""Publishing a draft: the checks, then a new immutable version, all or nothing.

A published version is never edited: there is no operation that changes one. Editing a
survey after publishing starts a new draft from its latest version, and publishing that
makes the next version. The version number is decided by the database: (survey, number)
is unique, so of two owners publishing the same draft at once one gets the version and
the other a refusal, never two versions or one number twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.audit import Actor, record_audit
from portal.errors import Conflict, DomainError
from portal.models import Survey, SurveyVersion
from portal.survey_editor.documents import reworded_core_questions
from portal.survey_editor.drafts import DraftChanged, clear_draft, draft_of, versions_of
from portal.survey_editor.words import CORE_LABELS
from surveys.checks import CheckResult, check_draft
from surveys.definitions import SurveyDefinition
from surveys.loader import DefinitionError, parse_definition


class DraftHasProblems(DomainError):
    status = 400
    code = "draft_has_problems"
    message = _l("This draft cannot be published yet: fix the problems listed first.")

    def __init__(self, result: CheckResult) -> None:
        super().__init__()
        self.result = result


class NothingChanged(DomainError):
    status = 400
    code = "nothing_changed"

    def __init__(self, number: int) -> None:
        super().__init__(_l("Nothing changed: this draft is the same as version %(n)s.", n=number))
        self.number = number


class CoreReworded(DomainError):
    status = 400
    code = "core_reworded"

    def __init__(self, keys: tuple[str, ...]) -> None:
        # Built at raise time, in the request's language.
        super().__init__(
            _(
                "The wording of a scoring question changed (%(keys)s): scores would no longer "
                "be comparable with earlier versions. Tick “start a new scoring series” to "
                "publish it, or change the wording back.",
                keys=", ".join(str(CORE_LABELS[key]) for key in keys),
            ),
            field="new_series",
        )
        self.keys = keys


class PublishedMeanwhile(Conflict):
    code = "published_meanwhile"
    message = _l(
        "Someone else published this survey at the same moment; nothing more was published. "
        "Here is the survey as it is now."
    )


@dataclass(frozen=True, slots=True)
class Published:
    version: SurveyVersion
    #: The scoring questions reworded since the previous version.
    reworded: tuple[str, ...]
    #: A new scoring series was started although no scoring question changed.
    new_series_without_change: bool


def publish_draft(
    session: Session,
    survey: Survey,
    *,
    expected_revision: int,
    new_series: bool,
    actor: Actor,
    now: datetime,
) -> Published:
    """Freeze the survey's draft as its next version and clear the draft.

    The version's scoring series is the previous version's, plus one when ``new_series``
    (the first version starts series 1).

    Raises
    ------
    NoDraft, DraftChanged
        No draft, or not at the revision the page showed.
    DraftHasProblems
        The checks found problems (``result`` lists them).
    NothingChanged
        The draft is the same as a version of this survey.
    CoreReworded
        A scoring question was reworded and ``new_series`` is not set.
    PublishedMeanwhile
        A concurrent publish of this survey took the version number.
    """
    document = {**draft_of(survey), "key": survey.key}
    if survey.draft_revision != expected_revision:
        raise DraftChanged()
    definition = _checked(document, survey.key)
    versions = versions_of(session, survey.id)
    for version in versions:
        if version.content_hash == definition.content_hash:
            raise NothingChanged(version.number or 0)
    latest = versions[-1] if versions else None
    reworded = reworded_core_questions(document, latest.definition if latest else None)
    if reworded and not new_series:
        raise CoreReworded(reworded)
    series = 1 if latest is None else latest.scoring_series + (1 if new_series else 0)
    version = SurveyVersion(
        survey_id=survey.id,
        survey_key=survey.key,
        number=next_number(versions),
        scoring_series=series,
        content_hash=definition.content_hash,
        definition=json.loads(definition.content),
        published_at=now,
        published_by_user_id=actor.user_id,
    )
    try:
        with session.begin_nested():
            session.add(version)
    except IntegrityError:
        # Another publish of this survey took the number (or stored this very content).
        raise PublishedMeanwhile() from None
    clear_draft(session, survey, expected_revision=expected_revision, actor=actor, now=now)
    record_audit(
        session,
        actor,
        "survey.published",
        "survey",
        survey.key,
        now,
        version=version.number,
        scoring_series=series,
    )
    return Published(
        version=version,
        reworded=reworded,
        new_series_without_change=new_series and latest is not None and not reworded,
    )


def _checked(document: dict[str, object], key: str) -> SurveyDefinition:
    """The draft parsed, once the checks find no problem (`DraftHasProblems` else)."""
    result = check_draft(document)
    if not result.ok:
        raise DraftHasProblems(result)
    try:
        return parse_definition(document, source=key)
    except DefinitionError:  # pragma: no cover - the checks refuse what parsing refuses
        raise DraftHasProblems(result) from None


def next_number(versions: list[SurveyVersion]) -> int:
    """The number the next version of a survey gets: one more than its latest."""
    return max((v.number or 0 for v in versions), default=0) + 1
