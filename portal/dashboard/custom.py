"""Custom questions on the store and chain pages: which questions a period's answers hold,
in which words, their distributions, and the filter "only shoppers who answered ...".

A question is shown in the words of the latest published version that asks it; its options
are every choice some version offered (or every point of every version's scale), so that
answers to an older version keep their label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.distribution import (
    Distribution,
    OptionShare,
    option_distribution,
    scale_distribution,
)
from analysis.results import Estimate
from portal.dashboard.channel_split import ChannelMix, counts_in_order
from portal.dashboard.custom_queries import AnswerCondition, QuestionCounts, RawCount
from portal.errors import DomainError
from portal.models import Survey, SurveyVersion
from portal.question_rollups import NO, YES, answer_value
from portal.versions import definition_of
from surveys.definitions import OTHER, Choice, LocalizedText, Question, QuestionKind

#: Kinds whose answers are counted per option (and can filter the figures).
COUNTED_KINDS = frozenset(
    {QuestionKind.SCALE, QuestionKind.BOOLEAN, QuestionKind.CHOICE, QuestionKind.MULTIPLE}
)


@dataclass(frozen=True, slots=True)
class CatalogQuestion:
    """A custom question of a survey as its versions ask it: the wording of the latest
    version that has it, every choice some version offered, every point of every scale."""

    survey_id: int
    question: Question
    choices: tuple[Choice, ...]
    other: bool
    points: tuple[int, ...]

    @property
    def key(self) -> str:
        return self.question.key

    @property
    def kind(self) -> QuestionKind:
        return self.question.kind


@dataclass(frozen=True, slots=True)
class SurveyCatalog:
    survey_id: int
    key: str
    #: The title of the latest version.
    title: LocalizedText
    #: Its custom questions: the latest version's order, then questions only older ones ask.
    questions: tuple[CatalogQuestion, ...]


def survey_catalogs(session: Session, survey_ids: Iterable[int] | None) -> list[SurveyCatalog]:
    """The catalogs of some surveys (``None``: every survey), ordered by key."""
    if survey_ids is not None:
        survey_ids = list(survey_ids)
        if not survey_ids:
            return []
    stmt = (
        select(SurveyVersion, Survey.key)
        .join(Survey, Survey.id == SurveyVersion.survey_id)
        .order_by(Survey.key, SurveyVersion.number.desc())
    )
    if survey_ids is not None:
        stmt = stmt.where(SurveyVersion.survey_id.in_(survey_ids))
    versions: dict[int, tuple[str, list[SurveyVersion]]] = {}
    for version, key in session.execute(stmt).all():
        versions.setdefault(version.survey_id, (key, []))[1].append(version)
    return [_catalog(survey_id, key, found) for survey_id, (key, found) in versions.items()]


def _catalog(survey_id: int, key: str, versions: list[SurveyVersion]) -> SurveyCatalog:
    definitions = [definition_of(v) for v in versions]  # newest first
    latest: dict[str, Question] = {}
    choices: dict[str, dict[str, Choice]] = {}
    other: dict[str, bool] = {}
    points: dict[str, set[int]] = {}
    for definition in definitions:
        for question in definition.custom_questions():
            first = latest.setdefault(question.key, question)
            if question.kind is not first.kind:
                continue  # a key reused for another kind: its old answers keep their values
            for choice in question.choices:
                choices.setdefault(question.key, {}).setdefault(choice.key, choice)
            other[question.key] = other.get(question.key, False) or question.other
            if question.minimum is not None and question.maximum is not None:
                span = range(question.minimum, question.maximum + 1)
                points.setdefault(question.key, set()).update(span)
    return SurveyCatalog(
        survey_id=survey_id,
        key=key,
        title=definitions[0].title,
        questions=tuple(
            CatalogQuestion(
                survey_id=survey_id,
                question=question,
                choices=tuple(choices.get(k, {}).values()),
                other=other.get(k, False),
                points=tuple(sorted(points.get(k, ()))),
            )
            for k, question in latest.items()
        ),
    )


def counts_from_rows(
    catalogs: Sequence[SurveyCatalog],
    rows: Iterable[RawCount],
    respondents: dict[tuple[int, str], dict[str, int]],
    survey_of: dict[int, int] | None = None,
) -> dict[tuple[int, str], QuestionCounts]:
    """Raw answer rows as rollup-shaped counts per (group, question key); ``survey_of``
    maps a group that is a version id to its survey id (for the question's kind).
    ``respondents`` are per (group, question key) and channel."""
    kinds = {(c.survey_id, q.key): q.kind for c in catalogs for q in c.questions}
    found: dict[tuple[int, str], QuestionCounts] = {
        key: QuestionCounts(respondents=sum(split.values()), respondents_by_channel=dict(split))
        for key, split in respondents.items()
    }
    for row in rows:
        survey_id = row.group if survey_of is None else survey_of[row.group]
        kind = kinds.get((survey_id, row.question_key))
        value = None if kind is None else answer_value(kind, row.number, row.choice)
        if value is not None:
            counts = found.setdefault((row.group, row.question_key), QuestionCounts())
            counts.values[value] = counts.values.get(value, 0) + row.count
    return found


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OptionRow:
    """An option as the page shows it: its label and its share."""

    label: str
    option: OptionShare


@dataclass(frozen=True, slots=True)
class QuestionResult:
    key: str
    kind: QuestionKind
    text: str
    respondents: int
    rows: tuple[OptionRow, ...]
    #: ``None`` for a text question (only its respondents are counted).
    distribution: Distribution | None
    #: The respondents of each answer channel (the note when they are mixed).
    channels: ChannelMix = ChannelMix()

    @property
    def mean(self) -> Estimate | None:
        return None if self.distribution is None else self.distribution.mean

    @property
    def is_text(self) -> bool:
        return self.distribution is None

    @property
    def multiple(self) -> bool:
        return self.kind is QuestionKind.MULTIPLE


@dataclass(frozen=True, slots=True)
class SurveyResult:
    key: str
    title: str
    questions: tuple[QuestionResult, ...]


def option_label(question: CatalogQuestion, value: str, locale: str) -> str:
    """What the page calls an option of the question."""
    if question.kind is QuestionKind.BOOLEAN:
        return str(_("Yes")) if value == YES else str(_("No")) if value == NO else value
    if question.kind is QuestionKind.SCALE:
        q = question.question
        ends = {q.minimum: q.low_label, q.maximum: q.high_label}
        label = ends.get(int(value)) if value.lstrip("-").isdigit() else None
        return value if label is None else f"{value} · {label.get(locale)}"
    if value == OTHER:
        return str(_("Other (typed in)"))
    for choice in question.choices:
        if choice.key == value:
            return choice.text.get(locale)
    return value


def _option_keys(question: CatalogQuestion, counted: Iterable[str]) -> list[str]:
    """The options to show: those the versions offer, then any other value counted."""
    if question.kind is QuestionKind.SCALE:
        extra = {int(v) for v in counted if v.lstrip("-").isdigit()}
        return [str(p) for p in sorted(set(question.points) | extra)]
    if question.kind is QuestionKind.BOOLEAN:
        offered = [YES, NO]
    else:
        offered = [c.key for c in question.choices] + ([OTHER] if question.other else [])
    return offered + sorted(set(counted) - set(offered))


def question_result(
    question: CatalogQuestion, counts: QuestionCounts, locale: str
) -> QuestionResult:
    """The distribution of one question's counts, labelled for the page."""
    text = question.question.text.get(locale)
    channels = ChannelMix(counts=counts_in_order(counts.respondents_by_channel))
    if question.kind not in COUNTED_KINDS:
        return QuestionResult(
            question.key, question.kind, text, counts.respondents, (), None, channels
        )
    keys = _option_keys(question, counts.values)
    # Counts beyond the respondents (a rollup row written twice) would be refused by the
    # statistics; show at least as many respondents as the largest count.
    respondents = max([counts.respondents, *counts.values.values()])
    if question.kind is QuestionKind.SCALE:
        pairs = [(int(k), counts.values.get(k, 0)) for k in keys]
        respondents = max(respondents, sum(c for _p, c in pairs))
        distribution = scale_distribution(pairs, respondents)
    else:
        exclusive = question.kind is not QuestionKind.MULTIPLE
        pairs_str = [(k, counts.values.get(k, 0)) for k in keys]
        if exclusive:
            respondents = max(respondents, sum(c for _k, c in pairs_str))
        distribution = option_distribution(pairs_str, respondents, exclusive=exclusive)
    rows = tuple(OptionRow(option_label(question, o.key, locale), o) for o in distribution.options)
    return QuestionResult(
        question.key, question.kind, text, respondents, rows, distribution, channels
    )


def survey_results(
    catalogs: Sequence[SurveyCatalog],
    counts: dict[tuple[int, str], QuestionCounts],
    locale: str,
) -> tuple[SurveyResult, ...]:
    """Each survey with answers in ``counts``, with the results of its answered questions."""
    results = []
    for catalog in catalogs:
        questions = tuple(
            question_result(q, counts[(catalog.survey_id, q.key)], locale)
            for q in catalog.questions
            if (catalog.survey_id, q.key) in counts
        )
        if questions:
            results.append(SurveyResult(catalog.key, catalog.title.get(locale), questions))
    return tuple(results)


# --- the filter by answer ------------------------------------------------------------------


class InvalidAnswerFilter(DomainError):
    status = 400
    code = "invalid_answer_filter"


@dataclass(frozen=True, slots=True)
class AnswerFilter:
    """Only the responses that gave ``value`` (an option as counted) to ``question``."""

    question: CatalogQuestion
    value: str
    condition: AnswerCondition

    @property
    def param(self) -> str:
        """The filter as the ``only`` query argument: ``question_key:value``."""
        return f"{self.question.key}:{self.value}"


_FILTER = re.compile(r"([a-z][a-z0-9_]{0,63}):(-?[a-z0-9_]{1,64})", re.ASCII)


def parse_answer_filter(raw: str, catalogs: Sequence[SurveyCatalog]) -> AnswerFilter | None:
    """The ``only`` argument (``question_key:value``) as a filter; ``None`` when empty.

    Raises
    ------
    InvalidAnswerFilter
        The text is not of that form, names no counted custom question of a published
        version, or a value the question does not offer.
    """
    if not raw:
        return None
    match = _FILTER.fullmatch(raw)
    if match is None:
        raise InvalidAnswerFilter(
            _("The answer filter must look like question:answer, e.g. self_checkout:yes.")
        )
    key, value = match.groups()
    question = next(
        (q for c in catalogs for q in c.questions if q.key == key and q.kind in COUNTED_KINDS),
        None,
    )
    if question is None:
        raise InvalidAnswerFilter(
            _("No custom question %(key)s with options to filter by.", key=key)
        )
    condition = _condition(question, value)
    if condition is None:
        raise InvalidAnswerFilter(
            _("%(value)s is not an answer to the question %(key)s.", value=value, key=key)
        )
    return AnswerFilter(question, value, condition)


def _condition(question: CatalogQuestion, value: str) -> AnswerCondition | None:
    key = question.key
    if question.kind is QuestionKind.SCALE:
        if value.lstrip("-").isdigit() and int(value) in question.points:
            return AnswerCondition(key, number=int(value))
        return None
    if question.kind is QuestionKind.BOOLEAN:
        return AnswerCondition(key, number=1 if value == YES else 0) if value in (YES, NO) else None
    offered = {c.key for c in question.choices} | ({OTHER} if question.other else set())
    return AnswerCondition(key, choice=value) if value in offered else None


@dataclass(frozen=True, slots=True)
class FilterChoice:
    """One entry of the filter's list: the ``only`` value and what it reads."""

    param: str
    label: str


def filter_choices(results: Sequence[SurveyResult]) -> tuple[FilterChoice, ...]:
    """Every option of every counted question on the page, as a filter (a question key two
    surveys share is one filter: the filter looks at the key)."""
    choices: dict[str, FilterChoice] = {}
    for survey in results:
        for question in survey.questions:
            for row in question.rows:
                param = f"{question.key}:{row.option.key}"
                choices.setdefault(param, FilterChoice(param, f"{question.text} = {row.label}"))
    return tuple(choices.values())
