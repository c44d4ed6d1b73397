"""A survey's published versions: the list with what each collected, one version with its
changes against the one before, and copying an old version into the draft.

Published versions are only read here. Copying takes the version's document into the
survey's draft (a new draft, or replacing the one there when asked), so an old version can
be edited and published again as a new one; the version row itself never changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit import Actor, record_audit
from portal.errors import Conflict, NotFound
from portal.models import Receipt, Response, Survey, SurveyVersion
from portal.versions import definition_of
from surveys.definitions import LocalizedText, SurveyDefinition
from surveys.diff import Change, diff_definitions

#: How many hex digits of a content hash the pages show (enough to tell versions apart).
SHORT_HASH = 12


class DraftExists(Conflict):
    message = _l(
        "This survey already has a draft. Nothing was copied: tick “Replace the current "
        "draft” to overwrite it with this version, or open the draft instead."
    )


class DraftChanged(Conflict):
    message = _l(
        "The draft was changed by someone else since this page was shown. Nothing was "
        "copied; the page now shows the current state."
    )


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


def get_survey(session: Session, key: str) -> Survey:
    """The survey with this key; `NotFound` otherwise."""
    survey = session.scalar(select(Survey).where(Survey.key == key))
    if survey is None:
        raise NotFound()
    return survey


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


def copy_version_to_draft(
    session: Session,
    survey: Survey,
    version: SurveyVersion,
    *,
    replace: bool,
    seen_revision: int,
    actor: Actor,
    now: datetime,
) -> None:
    """Make a copy of ``version``'s document the survey's draft.

    Bumps ``draft_revision``, stamps when and by whom, and audits ``survey.version_copied``.
    The version row is not touched (the draft is a deep copy, not the same JSON object).

    Raises
    ------
    DraftChanged
        The draft's revision is no longer ``seen_revision`` (the one the page showed):
        someone saved, published or copied meanwhile.
    DraftExists
        The survey has a draft and ``replace`` is false.
    """
    # Locked (on PostgreSQL; SQLite's write transaction holds the whole database): the
    # check and the write see the same draft.
    session.refresh(survey, with_for_update=True)
    if survey.draft_revision != seen_revision:
        raise DraftChanged()
    had_draft = survey.draft is not None
    if had_draft and not replace:
        raise DraftExists(field="replace_draft")
    survey.draft = json.loads(json.dumps(version.definition))
    survey.draft_revision += 1
    survey.draft_updated_at = now
    survey.draft_updated_by_user_id = actor.user_id
    session.flush()
    record_audit(
        session,
        actor,
        "survey.version_copied",
        "survey",
        survey.key,
        now,
        version_number=version.number,
        draft_replaced=had_draft,
    )
