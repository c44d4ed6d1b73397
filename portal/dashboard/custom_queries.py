"""Reads for the results of custom questions.

Unfiltered distributions come from `question_daily_counts` (cost grows with days x stores
x options, never with answers). A filter by answer ("only shoppers who used
self-checkout") and the comparison of two versions have no rollup to read: they count the
raw `responses` and `response_answers` of the period, one store's or version's rows
through their indexes.

Every read takes ``channels``, the answer channels to count (empty: every channel), and
counts the respondents of each question per channel (for the "Mixed channels" note).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from portal.access import scope_to_user
from portal.calendar import Period
from portal.channels import channel_condition
from portal.dashboard.queries import Totals
from portal.models import QuestionDailyCount, Response, ResponseAnswer, SurveyVersion, User
from portal.models.surveys import RESPONDENTS
from portal.rollups import COUNT_COLUMNS


@dataclass(frozen=True, slots=True)
class AnswerCondition:
    """Responses that gave this answer to a custom question: the choice ticked, or the
    number given (a scale point, 1/0 for yes/no)."""

    question_key: str
    choice: str | None = None
    number: int | None = None


@dataclass(slots=True)
class QuestionCounts:
    """Answers to one question of one group (a survey, or a version), summed: respondents
    and the count of each value written as `question_daily_counts` writes it."""

    respondents: int = 0
    values: dict[str, int] = field(default_factory=dict)
    #: The respondents of each channel (they add up to ``respondents``).
    respondents_by_channel: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RawCount:
    """Answer rows of one group (a survey id or a version id) with one value."""

    group: int
    question_key: str
    number: int | None
    choice: str | None
    count: int


def rollup_counts(
    session: Session, store_ids: Iterable[int], period: Period, channels: Sequence[str] = ()
) -> dict[tuple[int, str], QuestionCounts]:
    """(survey id, question key) -> counts of the stores' answers in the period."""
    stmt = (
        select(
            QuestionDailyCount.survey_id,
            QuestionDailyCount.question_key,
            QuestionDailyCount.channel,
            QuestionDailyCount.value,
            func.sum(QuestionDailyCount.count),
        )
        .where(
            QuestionDailyCount.store_id.in_(list(store_ids)),
            QuestionDailyCount.day >= period.start,
            QuestionDailyCount.day <= period.end,
            channel_condition(QuestionDailyCount.channel, channels),
        )
        .group_by(
            QuestionDailyCount.survey_id,
            QuestionDailyCount.question_key,
            QuestionDailyCount.channel,
            QuestionDailyCount.value,
        )
    )
    found: dict[tuple[int, str], QuestionCounts] = {}
    for survey_id, key, channel, value, count in session.execute(stmt).all():
        counts = found.setdefault((survey_id, key), QuestionCounts())
        n = int(count or 0)
        if value == RESPONDENTS:
            counts.respondents += n
            counts.respondents_by_channel[channel] = n
        else:
            counts.values[value] = counts.values.get(value, 0) + n
    return found


def has_answer(condition: AnswerCondition) -> ColumnElement[bool]:
    """True for a `Response` that gave the answer (a correlated EXISTS: each response of
    the period is probed through ix_response_answers_response_id)."""
    given = aliased(ResponseAnswer)
    value = (
        given.choice == condition.choice
        if condition.choice is not None
        else given.number == condition.number
    )
    return exists(
        select(1).where(
            given.response_id == Response.id, given.question_key == condition.question_key, value
        )
    )


def _in_period(stmt: Select[Any], period: Period) -> Select[Any]:
    return stmt.where(Response.local_day >= period.start, Response.local_day <= period.end)


def filtered_totals(
    session: Session,
    store_ids: Sequence[int],
    period: Period,
    condition: AnswerCondition,
    channels: Sequence[str] = (),
) -> dict[str, Totals]:
    """NPS and CSAT counts (the rollup's columns ``responses``, ``nps_*``, ``csat_*``) of
    the stores' responses in the period that gave the answer, per channel."""
    stmt = _in_period(
        select(Response.channel, Response.nps, Response.csat, func.count())
        .where(
            Response.store_id.in_(list(store_ids)),
            has_answer(condition),
            channel_condition(Response.channel, channels),
        )
        .group_by(Response.channel, Response.nps, Response.csat),
        period,
    )
    rows: dict[str, list[tuple[int, int, int]]] = {}
    for channel, nps, csat, count in session.execute(stmt).all():
        rows.setdefault(channel, []).append((nps, csat, count))
    return {channel: totals_of(found) for channel, found in rows.items()}


def totals_of(rows: Iterable[Sequence[Any]]) -> Totals:
    """A `Totals` holding only responses and the NPS and CSAT scores, from
    (nps, csat, count) rows."""
    counts = dict.fromkeys(COUNT_COLUMNS, 0)
    for nps, csat, count in rows:
        counts["responses"] += int(count)
        counts[f"nps_{nps}"] += int(count)
        counts[f"csat_{csat}"] += int(count)
    return Totals(tuple(counts[name] for name in COUNT_COLUMNS))


def filtered_answer_counts(
    session: Session,
    store_ids: Sequence[int],
    period: Period,
    condition: AnswerCondition,
    channels: Sequence[str] = (),
) -> tuple[list[RawCount], dict[tuple[int, str], dict[str, int]]]:
    """Answer rows per survey id of the stores' responses in the period that gave the
    answer, and the respondents of each (survey id, question key) per channel."""
    where = [
        Response.store_id.in_(list(store_ids)),
        Response.local_day >= period.start,
        Response.local_day <= period.end,
        has_answer(condition),
        channel_condition(Response.channel, channels),
    ]
    return _answer_rows(session, SurveyVersion.survey_id, where)


def version_totals(
    session: Session,
    user: User,
    version_ids: Sequence[int],
    store_id: int | None,
    period: Period,
    channels: Sequence[str] = (),
) -> dict[int, dict[str, Totals]]:
    """Version id -> NPS and CSAT counts of its responses in the period per channel, at
    the stores ``user`` may see (only ``store_id`` when given)."""
    stmt = _in_period(
        select(
            Response.survey_version_id, Response.channel, Response.nps, Response.csat, func.count()
        )
        .where(
            Response.survey_version_id.in_(list(version_ids)),
            channel_condition(Response.channel, channels),
        )
        .group_by(Response.survey_version_id, Response.channel, Response.nps, Response.csat),
        period,
    )
    if store_id is not None:
        stmt = stmt.where(Response.store_id == store_id)
    rows: dict[int, dict[str, list[tuple[int, int, int]]]] = {v: {} for v in version_ids}
    for version_id, channel, nps, csat, count in session.execute(
        scope_to_user(stmt, user, Response.store_id)
    ).all():
        rows[version_id].setdefault(channel, []).append((nps, csat, count))
    return {
        version_id: {channel: totals_of(found) for channel, found in split.items()}
        for version_id, split in rows.items()
    }


def version_answer_counts(
    session: Session,
    user: User,
    version_ids: Sequence[int],
    store_id: int | None,
    period: Period,
    channels: Sequence[str] = (),
) -> tuple[list[RawCount], dict[tuple[int, str], dict[str, int]]]:
    """Answer rows per version id, and respondents per (version id, question key) and
    channel, of the versions' responses in the period at the stores ``user`` may see."""
    where: list[ColumnElement[bool]] = [
        Response.survey_version_id.in_(list(version_ids)),
        Response.local_day >= period.start,
        Response.local_day <= period.end,
        channel_condition(Response.channel, channels),
    ]
    if store_id is not None:
        where.append(Response.store_id == store_id)
    return _answer_rows(session, Response.survey_version_id, where, user)


def _answer_rows(
    session: Session,
    group: Any,
    where: list[ColumnElement[bool]],
    user: User | None = None,
) -> tuple[list[RawCount], dict[tuple[int, str], dict[str, int]]]:
    def counted(*columns: Any) -> Select[Any]:
        stmt = (
            select(*columns)
            .select_from(ResponseAnswer)
            .join(Response, Response.id == ResponseAnswer.response_id)
            .join(SurveyVersion, SurveyVersion.id == Response.survey_version_id)
            .where(and_(*where))
        )
        return stmt if user is None else scope_to_user(stmt, user, Response.store_id)

    key, number, choice = ResponseAnswer.question_key, ResponseAnswer.number, ResponseAnswer.choice
    values = counted(group, key, number, choice, func.count()).group_by(group, key, number, choice)
    channel = Response.channel
    people = counted(
        group, key, channel, func.count(ResponseAnswer.response_id.distinct())
    ).group_by(group, key, channel)
    rows = [
        RawCount(g, key, number, choice, int(count))
        for g, key, number, choice, count in session.execute(values).all()
    ]
    respondents: dict[tuple[int, str], dict[str, int]] = {}
    for g, key, found_in, n in session.execute(people).all():
        respondents.setdefault((g, key), {})[found_in] = int(n)
    return rows, respondents
