"""What the store and chain pages show of custom questions for their stores and period: the
distributions, the filter by answer with the headline figures it restricts, and the
scoring-series breaks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.calendar import Period
from portal.dashboard import custom_queries
from portal.dashboard.channel_split import ChannelMix, answers_of, summed
from portal.dashboard.custom import (
    AnswerFilter,
    FilterChoice,
    SurveyResult,
    counts_from_rows,
    filter_choices,
    option_label,
    parse_answer_filter,
    survey_catalogs,
    survey_results,
)
from portal.dashboard.reports import Headline, headline
from portal.dashboard.series import SeriesBreak, series_breaks


@dataclass(frozen=True, slots=True)
class CustomReport:
    surveys: tuple[SurveyResult, ...]
    #: The filter by answer in force, if any; ``surveys`` and ``filtered`` obey it.
    answer_filter: AnswerFilter | None
    #: NPS and CSAT of the responses that gave the filter's answer (this period against the
    #: previous one), counted from the answers: ``None`` without a filter.
    filtered: Headline | None
    #: The answers of each channel among ``filtered`` (nothing without a filter).
    filtered_channels: ChannelMix
    #: The options of the page's questions (unfiltered), for the filter's list.
    filter_choices: tuple[FilterChoice, ...]
    #: The filter in words ("Used self-checkout? = Yes"); empty without one.
    filter_label: str
    breaks: tuple[SeriesBreak, ...]


def custom_report(
    session: Session,
    store_ids: Sequence[int],
    period: Period,
    *,
    only: str,
    zone: str | None,
    locale: str,
    channels: ChannelMix | None = None,
) -> CustomReport:
    """The custom-question part of a page for ``store_ids`` over ``period``, of the
    answers of ``channels``' chosen channels (every channel without).

    ``only`` is the ``only`` query argument (``question_key:value`` or empty); a bad one
    raises `portal.dashboard.custom.InvalidAnswerFilter` (400).
    """
    channels = channels or ChannelMix()
    chosen = channels.chosen
    rolled = custom_queries.rollup_counts(session, store_ids, period, chosen)
    # Without a filter only the surveys answered here are needed; a filter may name a
    # question of any survey.
    catalogs = survey_catalogs(
        session, {survey_id for survey_id, _key in rolled} if not only else None
    )
    answer_filter = parse_answer_filter(only, catalogs)
    unfiltered = survey_results(catalogs, rolled, locale)
    label = ""
    filtered_channels = ChannelMix(chosen)
    if answer_filter is None:
        surveys, filtered = unfiltered, None
    else:
        question = answer_filter.question
        label = (
            f"{question.question.text.get(locale)} = "
            f"{option_label(question, answer_filter.value, locale)}"
        )
        condition = answer_filter.condition
        rows, respondents = custom_queries.filtered_answer_counts(
            session, store_ids, period, condition, chosen
        )
        surveys = survey_results(catalogs, counts_from_rows(catalogs, rows, respondents), locale)
        split = custom_queries.filtered_totals(session, store_ids, period, condition, chosen)
        before = custom_queries.filtered_totals(
            session, store_ids, period.previous(), condition, chosen
        )
        filtered = headline(summed(split), summed(before))
        filtered_channels = channels.counted(answers_of(split))
    return CustomReport(
        surveys=surveys,
        answer_filter=answer_filter,
        filtered=filtered,
        filtered_channels=filtered_channels,
        filter_choices=filter_choices(unfiltered),
        filter_label=label,
        breaks=series_breaks(session, store_ids, period, zone, chosen),
    )
