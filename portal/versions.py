"""Published survey and checklist versions: what a response or a visit report answered.

A definition's content is hashed; identical content is one version, any change a new one,
and a stored version is never edited."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import DEFAULT_SURVEY_KEY, Survey, SurveyVersion
from surveys.definitions import SurveyDefinition
from surveys.loader import parse_definition


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


def default_survey(session: Session) -> Survey:
    """The survey of every store that no targeting rule names (created by migration 0011)."""
    return session.scalars(select(Survey).where(Survey.key == DEFAULT_SURVEY_KEY)).one()


def latest_version(session: Session, survey_id: int) -> SurveyVersion | None:
    """The survey's most recently published version; ``None`` before its first."""
    return session.scalar(
        select(SurveyVersion)
        .where(SurveyVersion.survey_id == survey_id)
        .order_by(SurveyVersion.number.desc())
        .limit(1)
    )


def definition_of(version: SurveyVersion) -> SurveyDefinition:
    """The parsed definition of a published survey version (parsed once per content)."""
    return _parsed(version.content_hash, version.definition)


def _parsed(content_hash: str, document: dict[str, Any]) -> SurveyDefinition:
    found = _PARSED.get(content_hash)
    if found is None:
        found = parse_definition(document, source=f"version {content_hash[:12]}")
        if len(_PARSED) < _PARSED_LIMIT:
            _PARSED[content_hash] = found
    return found


#: Parsed definitions by content hash: a version never changes, so neither does its parse.
_PARSED: dict[str, SurveyDefinition] = {}
_PARSED_LIMIT = 1024
