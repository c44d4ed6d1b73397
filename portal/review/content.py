"""What a monthly review says, as plain frozen values: the sections a store's or a region's
review is made of, and their JSON form for `MonthlyReview.content`.

The content holds numbers, dates and keys (a metric, a theme, a touchpoint, a verdict),
never words of one language: the page and the PDF put the words in at render time, in the
reader's language, so that one frozen review reads the same in Chinese and in English.
Names the data itself holds (a store's, a staff member's, a checklist section's titles in
both languages) are kept as they were on the day the review was made.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar, get_type_hints

from analysis.results import Estimate

#: Bumped when the shape of the content changes; `from_json` reads older ones with the
#: defaults of the fields they lack.
CONTENT_VERSION = 1

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure with its interval and n (``None`` where there is no figure)."""

    value: float | None = None
    low: float | None = None
    high: float | None = None
    n: int = 0

    @classmethod
    def of(cls, estimate: Estimate) -> Figure:
        return cls(estimate.value, estimate.low, estimate.high, estimate.n)


@dataclass(frozen=True, slots=True)
class TargetLine:
    """A figure against its target: ``status`` is ``meets``, ``misses``, ``unclear`` or
    ``no_target`` (the scorecard's words)."""

    metric: str
    estimate: Figure
    target: float | None
    status: str


@dataclass(frozen=True, slots=True)
class Change:
    """A comparison: its `analysis.significance.Verdict` value, the difference, the p-value
    and the name of the test (`analysis.compare` ``method``)."""

    verdict: str
    diff: float | None
    p_value: float | None
    test: str


_NO_CHANGE = Change("not_enough_data", None, None, "")


@dataclass(frozen=True, slots=True)
class TrendMonth:
    month: date
    nps: Figure
    csat: Figure


@dataclass(frozen=True, slots=True)
class Trends:
    """NPS and CSAT of the month, compared with the previous month and with the twelve
    months before it pooled, and the month by month series ending with the month."""

    nps: Figure = field(default_factory=Figure)
    csat: Figure = field(default_factory=Figure)
    nps_vs_previous: Change = field(default_factory=lambda: _NO_CHANGE)
    csat_vs_previous: Change = field(default_factory=lambda: _NO_CHANGE)
    nps_vs_year: Change = field(default_factory=lambda: _NO_CHANGE)
    csat_vs_year: Change = field(default_factory=lambda: _NO_CHANGE)
    months: tuple[TrendMonth, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceRow:
    """The case handling of one store (or the total of a region's stores: medians are not
    summed, so a total has none)."""

    store_code: str
    store_name: str
    cases_opened: int
    within_deadline: Figure
    hours_to_first_response: Figure
    hours_to_resolution: Figure
    #: Cases opened per 100 receipts issued: the unit of the complaint-rate target.
    complaint_rate: Figure
    recovery_rate: Figure


@dataclass(frozen=True, slots=True)
class TouchpointLine:
    """A checklist section's mean score over the month's released visits."""

    key: str
    title_zh: str
    title_en: str
    score: Figure


@dataclass(frozen=True, slots=True)
class MysterySection:
    visit_score: Figure = field(default_factory=Figure)
    touchpoints: tuple[TouchpointLine, ...] = ()


@dataclass(frozen=True, slots=True)
class ThemeLine:
    """A theme of the month's comments: its share of the commented answers and a few of
    its comments, personal data masked."""

    theme: str
    share: Figure
    negative: int
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StarLine:
    staff_code: str
    staff_name: str
    store_code: str
    #: ``awarded`` (approved in a published award cycle) or ``proposed`` (proposed by the
    #: ranking; HR has not decided yet).
    standing: str


@dataclass(frozen=True, slots=True)
class CoachingLine:
    staff_code: str
    staff_name: str
    store_code: str
    composite: float | None
    q10: float | None
    q90: float | None
    #: The ranking components pulling the score down, worst first (``customer``, ``nps``,
    #: ``mystery``, ``complaints``).
    pulling_down: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TrainingLine:
    """A training done in the review's last months and, once its weeks after have closed,
    its difference in differences against the store's other staff (`analysis.training`):
    ``verdict`` is a `portal.training.words.VERDICT_LABELS` key; the effects are ``None``
    while it is too early to tell."""

    staff_code: str
    staff_name: str
    store_code: str
    topic: str
    touchpoint: str
    trained_on: date
    verdict: str = "too_early"
    nps_effect: Figure | None = None
    csat_effect: Figure | None = None
    person_before: int = 0
    person_after: int = 0
    peers_before: int = 0
    peers_after: int = 0


@dataclass(frozen=True, slots=True)
class ReviewContent:
    """One store's or one region's review of one month."""

    #: ``store`` or ``region``.
    scope: str
    #: ``"SH-001 徐汇店"`` for a store, the region's name for a region.
    scope_name: str
    month: date
    generated_at: datetime
    store_codes: tuple[str, ...]
    targets: tuple[TargetLine, ...] = ()
    #: False until the targets' scorecard is wired in (the section then says so).
    targets_ready: bool = False
    trends: Trends = field(default_factory=Trends)
    service: tuple[ServiceRow, ...] = ()
    service_total: ServiceRow | None = None
    mystery: MysterySection = field(default_factory=MysterySection)
    themes: tuple[ThemeLine, ...] = ()
    themes_ready: bool = False
    #: ``none`` (no award cycle), ``in_review``, ``published`` or ``final``.
    awards_state: str = "none"
    stars: tuple[StarLine, ...] = ()
    coaching: tuple[CoachingLine, ...] = ()
    trainings: tuple[TrainingLine, ...] = ()
    version: int = CONTENT_VERSION


# -- JSON ------------------------------------------------------------------------------------


def to_json(content: ReviewContent) -> dict[str, Any]:
    """The content as JSON-ready values (dates as ISO strings, tuples as lists)."""
    value = _dump(content)
    assert isinstance(value, dict)
    return value


def from_json(data: dict[str, Any]) -> ReviewContent:
    """The content back from `to_json`'s form; fields an older version lacks take their
    defaults, fields it does not know are ignored."""
    content = _load(ReviewContent, data)
    assert isinstance(content, ReviewContent)
    return content


def _dump(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_dump(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no NaN (PostgreSQL refuses it): a figure that does not exist is null.
        return None
    return value


def _load(kind: Any, value: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [k for k in typing.get_args(kind) if k is not type(None)]
        return None if value is None else _load(options[0], value)
    if origin is tuple:
        item = typing.get_args(kind)[0]
        return tuple(_load(item, v) for v in value)
    if dataclasses.is_dataclass(kind):
        hints = get_type_hints(kind)
        names = {f.name for f in dataclasses.fields(kind)}
        factory: Any = kind
        return factory(**{k: _load(hints[k], v) for k, v in value.items() if k in names})
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind is float and value is not None:
        return float(value)
    return value
