"""What the survey owner's pages read: surveys with their latest version and draft."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from portal.models import Survey, SurveyVersion
from surveys.definitions import LocalizedText
from surveys.loader import DefinitionError, parse_text


@dataclass(frozen=True, slots=True)
class SurveySummary:
    """One line of the survey list."""

    key: str
    #: The title of the draft when there is one, else of the latest version.
    title: LocalizedText | None
    versions: int
    latest_number: int | None
    latest_published_at: datetime | None
    has_draft: bool
    draft_updated_at: datetime | None


def list_surveys(session: Session) -> list[SurveySummary]:
    """Every survey, the default first, then by key."""
    latest = (
        select(
            SurveyVersion.survey_id,
            func.count().label("versions"),
            func.max(SurveyVersion.number).label("number"),
        )
        .where(SurveyVersion.survey_id.is_not(None))
        .group_by(SurveyVersion.survey_id)
        .subquery()
    )
    newest = aliased(SurveyVersion)
    # One query: each survey with its newest version joined (not one query per survey).
    rows = session.execute(
        select(Survey, latest.c.versions, latest.c.number, newest)
        .outerjoin(latest, latest.c.survey_id == Survey.id)
        .outerjoin(
            newest,
            (newest.survey_id == Survey.id) & (newest.number == latest.c.number),
        )
        .order_by(Survey.id)
    ).all()
    summaries = []
    for survey, count, number, version in rows:
        document = survey.draft if survey.draft is not None else (version and version.definition)
        summaries.append(
            SurveySummary(
                key=survey.key,
                title=document_title(document),
                versions=count or 0,
                latest_number=number,
                latest_published_at=None if version is None else version.published_at,
                has_draft=survey.draft is not None,
                draft_updated_at=survey.draft_updated_at,
            )
        )
    return summaries


def document_title(document: object) -> LocalizedText | None:
    """The title of a definition document; ``None`` when a draft has none yet."""
    if not isinstance(document, dict):
        return None
    try:
        return parse_text(document.get("title"), "title")
    except DefinitionError:
        return None
