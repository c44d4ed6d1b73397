"""Scoring series: NPS and CSAT are comparable within a series of a survey's versions. When
a period's responses at some stores come from more than one series of a survey, the pages
say so and the trend charts mark the date the newest of them began."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from portal.calendar import Period, local_day
from portal.calendar import zone as time_zone
from portal.channels import channel_condition
from portal.models import Response, Survey, SurveyVersion


@dataclass(frozen=True, slots=True)
class SeriesBreak:
    """The responses of a period span more than one scoring series of ``survey_key``; the
    newest of them began on ``day`` (the store-local day its first version was published)."""

    survey_key: str
    day: date


@dataclass(slots=True)
class _Series:
    version_ids: list[int]
    first_published: datetime


def series_breaks(
    session: Session,
    store_ids: Sequence[int],
    period: Period,
    zone: str | None,
    channels: Sequence[str] = (),
) -> tuple[SeriesBreak, ...]:
    """The surveys whose responses at ``store_ids`` in ``period`` come from more than one
    scoring series, each with the day the newest answered series began (in ``zone``).

    Only surveys that have more than one series are probed (the versions table alone says
    which), and only series published before the period ends; a probe is an EXISTS on the
    period's responses of the series' versions.
    """
    rows = session.execute(
        select(
            SurveyVersion.id,
            SurveyVersion.survey_id,
            SurveyVersion.scoring_series,
            SurveyVersion.published_at,
            Survey.key,
        ).join(Survey, Survey.id == SurveyVersion.survey_id)
    ).all()
    surveys: dict[str, dict[int, _Series]] = {}
    for version_id, _survey_id, series, published_at, key in rows:
        found = surveys.setdefault(key, {}).setdefault(series, _Series([], published_at))
        found.version_ids.append(version_id)
        found.first_published = min(found.first_published, published_at)
    tz = time_zone(zone).key
    breaks = []
    for key, all_series in sorted(surveys.items()):
        if len(all_series) < 2:
            continue
        answered = [
            local_day(s.first_published, tz)
            for s in all_series.values()
            if local_day(s.first_published, tz) <= period.end
            and _answered(session, store_ids, period, s.version_ids, channels)
        ]
        if len(answered) > 1:
            breaks.append(SeriesBreak(key, max(answered)))
    return tuple(breaks)


def _answered(
    session: Session,
    store_ids: Sequence[int],
    period: Period,
    version_ids: list[int],
    channels: Sequence[str],
) -> bool:
    probe = exists(
        select(1).where(
            Response.store_id.in_(list(store_ids)),
            Response.local_day >= period.start,
            Response.local_day <= period.end,
            Response.survey_version_id.in_(version_ids),
            channel_condition(Response.channel, channels),
        )
    )
    return bool(session.scalar(select(probe)))
