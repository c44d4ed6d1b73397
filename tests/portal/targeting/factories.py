"""Surveys with published versions, written as rows (the editor publishes them in the
portal; the targeting tests need only that they exist)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.models import Survey, SurveyVersion
from surveys.loader import parse_definition, receipt_survey


def add_survey(session: Session, key: str, *, draft: bool = False) -> Survey:
    """A survey with no version yet (``draft``: with the receipt survey as its draft)."""
    survey = Survey(key=key, draft=_document(key, 0) if draft else None, created_at=utcnow())
    session.add(survey)
    session.flush()
    return survey


def publish_version(
    session: Session, survey: Survey, when: datetime | None = None
) -> SurveyVersion:
    """The survey's next version: the receipt survey under the survey's key and a title
    naming the version (so that each has its own content hash)."""
    number = (
        session.scalar(
            select(func.max(SurveyVersion.number)).where(SurveyVersion.survey_id == survey.id)
        )
        or 0
    ) + 1
    definition = parse_definition(_document(survey.key, number), source=survey.key)
    version = SurveyVersion(
        survey_key=survey.key,
        content_hash=definition.content_hash,
        definition=json.loads(definition.content),
        published_at=when or utcnow(),
        survey_id=survey.id,
        number=number,
    )
    session.add(version)
    session.flush()
    return version


def make_published_survey(session: Session, key: str, versions: int = 1) -> Survey:
    survey = add_survey(session, key)
    for _ in range(versions):
        publish_version(session, survey)
    return survey


def _document(key: str, number: int) -> dict[str, object]:
    document = json.loads(receipt_survey().content)
    document["key"] = key
    document["title"] = {"zh_CN": f"{key} 问卷 {number}", "en": f"Survey {key} {number}"}
    return document
