"""The A/B comparison of two versions of a survey: NPS and CSAT of the responses to each,
with the tests the dashboards use for every comparison, and the custom questions both
versions ask, option by option."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.compare import compare_csat, compare_nps
from analysis.csat import csat_interval
from analysis.distribution import OptionShare
from analysis.nps import nps_interval
from analysis.results import Comparison, Estimate
from portal.calendar import Period
from portal.dashboard import custom_queries
from portal.dashboard.channel_split import ChannelMix, answers_of, summed
from portal.dashboard.custom import (
    COUNTED_KINDS,
    counts_from_rows,
    question_result,
    survey_catalogs,
)
from portal.dashboard.custom_queries import QuestionCounts
from portal.dashboard.reports import MIN_N
from portal.errors import DomainError
from portal.models import Store, Survey, SurveyVersion, User
from portal.versions import definition_of
from surveys.definitions import QuestionKind
from surveys.strict import NotANumber, parse_int


class InvalidComparison(DomainError):
    status = 400
    code = "invalid_comparison"


@dataclass(frozen=True, slots=True)
class VersionSide:
    number: int
    published_at: datetime
    scoring_series: int
    responses: int
    nps: Estimate
    csat: Estimate
    #: The answers of each channel among this version's figures.
    channels: ChannelMix


@dataclass(frozen=True, slots=True)
class SharedOption:
    label: str
    a: OptionShare
    b: OptionShare


@dataclass(frozen=True, slots=True)
class SharedQuestion:
    """A custom question both versions ask (in the newer wording), option by option."""

    key: str
    kind: QuestionKind
    text: str
    respondents_a: int
    respondents_b: int
    rows: tuple[SharedOption, ...]
    mean_a: Estimate | None
    mean_b: Estimate | None


@dataclass(frozen=True, slots=True)
class VersionComparison:
    survey_key: str
    title: str
    period: Period
    store: Store | None
    a: VersionSide
    b: VersionSide
    #: Version A minus version B.
    nps: Comparison
    csat: Comparison
    #: Both versions ask NPS and CSAT in the same wording (the same scoring series).
    same_series: bool
    questions: tuple[SharedQuestion, ...]
    #: The channel filter the comparison obeys.
    channels: ChannelMix


@dataclass(frozen=True, slots=True)
class ComparisonRequest:
    """What the page was asked to compare, checked: the survey and its two versions."""

    survey: Survey
    a: SurveyVersion
    b: SurveyVersion


def parse_request(session: Session, survey_key: str, a: str, b: str) -> ComparisonRequest:
    """The survey and the two version numbers of the query.

    Raises
    ------
    InvalidComparison
        No such survey, a number that is not a published version of it, or the same
        version twice.
    """
    survey = session.scalar(select(Survey).where(Survey.key == survey_key))
    if survey is None:
        raise InvalidComparison(_("There is no survey %(key)s.", key=survey_key), field="survey")
    versions = {
        v.number: v
        for v in session.scalars(select(SurveyVersion).where(SurveyVersion.survey_id == survey.id))
    }
    numbers = []
    for name, text in (("a", a), ("b", b)):
        try:
            number = parse_int(text)
        except NotANumber:
            number = None
        if number is None or number not in versions:
            raise InvalidComparison(
                _("Version %(number)s is not a published version of this survey.", number=text),
                field=name,
            )
        numbers.append(number)
    if numbers[0] == numbers[1]:
        raise InvalidComparison(_("Choose two different versions."), field="b")
    return ComparisonRequest(survey, versions[numbers[0]], versions[numbers[1]])


def compare_versions(
    session: Session,
    user: User,
    request: ComparisonRequest,
    store: Store | None,
    period: Period,
    locale: str,
    channels: ChannelMix | None = None,
) -> VersionComparison:
    """Version A against version B over the responses of ``period`` at the stores ``user``
    may see (only ``store`` when given), of ``channels``' chosen channels (every channel
    without)."""
    a, b = request.a, request.b
    channels = channels or ChannelMix()
    store_id = None if store is None else store.id
    split = custom_queries.version_totals(
        session, user, [a.id, b.id], store_id, period, channels.chosen
    )
    totals = {version_id: summed(found) for version_id, found in split.items()}
    ta, tb = totals[a.id], totals[b.id]

    def side(version: SurveyVersion) -> VersionSide:
        t = totals[version.id]
        assert version.number is not None  # versions of a survey are numbered
        return VersionSide(
            number=version.number,
            published_at=version.published_at,
            scoring_series=version.scoring_series,
            responses=t.responses,
            nps=nps_interval(t.nps),
            csat=csat_interval(t.csat_top2, t.csat_n),
            channels=channels.counted(answers_of(split[version.id])),
        )

    newer = a if (a.number or 0) > (b.number or 0) else b
    return VersionComparison(
        survey_key=request.survey.key,
        title=definition_of(newer).title.get(locale),
        period=period,
        store=store,
        a=side(a),
        b=side(b),
        nps=compare_nps(ta.nps, tb.nps, min_n=MIN_N),
        csat=compare_csat(ta.csat_top2, ta.csat_n, tb.csat_top2, tb.csat_n, min_n=MIN_N),
        same_series=a.scoring_series == b.scoring_series,
        questions=_shared_questions(
            session, user, request, store_id, period, locale, channels.chosen
        ),
        channels=channels,
    )


def _shared_questions(
    session: Session,
    user: User,
    request: ComparisonRequest,
    store_id: int | None,
    period: Period,
    locale: str,
    channels: Sequence[str],
) -> tuple[SharedQuestion, ...]:
    a, b = request.a, request.b
    keys_b = {q.key for q in definition_of(b).custom_questions()}
    shared = [
        q.key
        for q in definition_of(a).custom_questions()
        if q.key in keys_b and q.kind in COUNTED_KINDS
    ]
    if not shared:
        return ()
    catalogs = survey_catalogs(session, [request.survey.id])
    rows, respondents = custom_queries.version_answer_counts(
        session, user, [a.id, b.id], store_id, period, channels
    )
    counts = counts_from_rows(
        catalogs, rows, respondents, {a.id: request.survey.id, b.id: request.survey.id}
    )
    by_key = {q.key: q for q in catalogs[0].questions}
    questions = []
    for key in shared:
        question = by_key[key]
        ca = counts.get((a.id, key), QuestionCounts())
        cb = counts.get((b.id, key), QuestionCounts())
        # The same options on both sides, also a value only one side counted.
        for mine, theirs in ((ca, cb), (cb, ca)):
            for value in theirs.values:
                mine.values.setdefault(value, 0)
        ra, rb = question_result(question, ca, locale), question_result(question, cb, locale)
        questions.append(
            SharedQuestion(
                key=key,
                kind=question.kind,
                text=ra.text,
                respondents_a=ra.respondents,
                respondents_b=rb.respondents,
                rows=tuple(
                    SharedOption(x.label, x.option, y.option)
                    for x, y in zip(ra.rows, rb.rows, strict=True)
                ),
                mean_a=ra.mean,
                mean_b=rb.mean,
            )
        )
    return tuple(questions)
