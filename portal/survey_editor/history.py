"""A survey's published versions: the list with what each collected, and one version with
its changes against the one before. Published versions are only read here (copying one
into the draft is `portal.survey_editor.drafts.start_draft`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.errors import NotFound
from portal.models import Receipt, Response, Survey, SurveyVersion
from portal.versions import definition_of
from surveys.definitions import LocalizedText, SurveyDefinition
from surveys.diff import Change, diff_definitions

#: How many hex digits of a content hash the pages show (enough to tell versions apart).
SHORT_HASH = 12


@dataclass(frozen=True, slots=True)
class VersionLine:
    """One published version on the versions page."""

    number: int
    published_at: datetime
    published_by_user_id: int | None
    scoring_series: int
    #: This version starts a new scoring series (NPS/CSAT not comparable with the one before).
    new_series: bool
    content_hash: str
    responses: int
    receipts: int

    @property
    def short_hash(self) -> str:
        return self.content_hash[:SHORT_HASH]


@dataclass(frozen=True, slots=True)
class VersionDetail:
    """One version with its neighbours and its changes against the one before."""

    version: SurveyVersion
    definition: SurveyDefinition
    previous_number: int | None
    next_number: int | None
    #: ``None`` for the first version (nothing to compare with).
    changes: tuple[Change, ...] | None
    #: The definition of the previous version (to put its side of the changes in words).
    previous: SurveyDefinition | None


def get_version(session: Session, survey: Survey, number: int) -> SurveyVersion:
    """Version ``number`` of ``survey``; `NotFound` otherwise."""
    version = session.scalar(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == survey.id, SurveyVersion.number == number
        )
    )
    if version is None:
        raise NotFound()
    return version


def survey_title(session: Session, survey: Survey) -> LocalizedText | None:
    """The title of the survey's latest version (``None`` before its first)."""
    latest = session.scalar(
        select(SurveyVersion)
        .where(SurveyVersion.survey_id == survey.id)
        .order_by(SurveyVersion.number.desc())
        .limit(1)
    )
    return None if latest is None else definition_of(latest).title


def list_versions(session: Session, survey: Survey) -> list[VersionLine]:
    """Every published version of ``survey``, newest first, with the receipts that asked
    it and the answers it received (one grouped count each)."""
    versions = session.scalars(
        select(SurveyVersion)
        .where(SurveyVersion.survey_id == survey.id)
        .order_by(SurveyVersion.number)
    ).all()
    ids = [v.id for v in versions]
    responses = _counts(session, Response.survey_version_id, ids)
    receipts = _counts(session, Receipt.survey_version_id, ids)
    lines = []
    previous_series = None
    for version in versions:
        lines.append(
            VersionLine(
                number=version.number or 0,
                published_at=version.published_at,
                published_by_user_id=version.published_by_user_id,
                scoring_series=version.scoring_series,
                new_series=previous_series is not None
                and version.scoring_series != previous_series,
                content_hash=version.content_hash,
                responses=responses.get(version.id, 0),
                receipts=receipts.get(version.id, 0),
            )
        )
        previous_series = version.scoring_series
    return lines[::-1]


def _counts(session: Session, column: Any, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(column, func.count()).where(column.in_(ids)).group_by(column)
    ).all()
    return {version_id: count for version_id, count in rows}


def version_detail(session: Session, survey: Survey, number: int) -> VersionDetail:
    """Version ``number`` of ``survey`` with its changes against the one before.

    Raises
    ------
    NotFound
        No such survey version.
    """
    version = get_version(session, survey, number)
    numbers = session.scalars(
        select(SurveyVersion.number).where(SurveyVersion.survey_id == survey.id)
    ).all()
    earlier = [n for n in numbers if n is not None and n < number]
    later = [n for n in numbers if n is not None and n > number]
    definition = definition_of(version)
    previous = None
    changes = None
    if earlier:
        previous = definition_of(get_version(session, survey, max(earlier)))
        changes = diff_definitions(previous, definition)
    return VersionDetail(
        version=version,
        definition=definition,
        previous_number=max(earlier) if earlier else None,
        next_number=min(later) if later else None,
        changes=changes,
        previous=previous,
    )
