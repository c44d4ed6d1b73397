"""Published survey and checklist versions: what a response or a visit report answered.

A definition's content is hashed; identical content is one version, any change a new one,
and a stored version is never edited."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import SurveyVersion


class VersionedDefinition(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def content(self) -> str: ...


def publish_survey_version(
    session: Session, definition: VersionedDefinition, now: datetime
) -> SurveyVersion:
    """The stored version for this exact definition content (a survey or a checklist),
    created on first use.

    Versions are immutable: different content has a different hash and becomes a new row.
    """
    version = session.scalar(
        select(SurveyVersion).where(SurveyVersion.content_hash == definition.content_hash)
    )
    if version is not None:
        return version
    version = SurveyVersion(
        survey_key=definition.key,
        content_hash=definition.content_hash,
        definition=json.loads(definition.content),
        published_at=now,
    )
    try:
        with session.begin_nested():
            session.add(version)
    except IntegrityError:
        # Another request published the same content first.
        return session.scalars(
            select(SurveyVersion).where(SurveyVersion.content_hash == definition.content_hash)
        ).one()
    return version
