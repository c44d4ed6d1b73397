"""Mystery-shop scoring: a checklist visit to a 0-100 score, grades, touchpoint means, how
far each shopper scores from the others at the same stores, and how mystery scores move
with customer scores.

The rules are those of the reference questionnaire (reference/mystery-and-awards.md §1.3):
items earn their points or nothing, N/A items leave numerator and denominator, a section
scores earned over possible points, the visit is the section-weighted mean over the
sections that are not wholly N/A, and critical items zero their section or fail the visit.
Inputs are plain numbers; :mod:`portal.mystery.scoring` turns a filed report into them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from scipy.stats import t as student_t

from analysis.compare import benjamini_hochberg
from analysis.csat import check_int
from analysis.drivers import spearman_interval
from analysis.means import mean_interval_of
from analysis.results import Estimate
from analysis.significance import ALPHA

#: Critical scopes an item may carry; a "no" on a critical item zeroes its section, and a
#: visit-critical "no" also fails the whole visit.
CRITICAL_SCOPES = ("none", "section", "visit")

# Scores are kept at full precision (rule 6), so a visit that is exactly 90 on paper may
# come out as 89.99999999999999 after the weighted mean; grade bands allow for that.
_BAND_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class ItemInput:
    """One answered checklist item.

    ``earned_fraction`` is the share of the item's points earned: 1.0 for yes, 0.0 for
    no, ``None`` for N/A (the item then counts in neither numerator nor denominator).
    ``critical`` is ``"none"``, ``"section"`` or ``"visit"`` and applies when the item
    earned nothing.
    """

    key: str
    points: float
    earned_fraction: float | None
    critical: str = "none"


@dataclass(frozen=True, slots=True)
class SectionInput:
    """One touchpoint section: its weight in the overall score and its items."""

    key: str
    weight: float
    items: tuple[ItemInput, ...]


@dataclass(frozen=True, slots=True)
class SectionScore:
    """A section's points and score.

    ``earned`` and ``possible`` are the points actually earned and at stake (N/A items
    excluded), before any critical rule; ``score`` is 0..100 (0 when ``critical_failed``),
    ``None`` when the section is wholly N/A.
    """

    key: str
    weight: float
    earned: float
    possible: float
    score: float | None
    critical_failed: bool


@dataclass(frozen=True, slots=True)
class VisitScore:
    """A scored visit.

    ``score_before_autofail`` is the section-weighted overall (``None`` when every
    section is N/A); ``reported`` is what stores and rankings see: 0 when a visit-critical
    item failed (``auto_fail``), else the overall. ``points_only`` is
    100 × Σearned / Σpossible over all items, shown beside it so that the effect of the
    section weights stays visible; it ignores the critical rules.
    """

    sections: tuple[SectionScore, ...]
    score_before_autofail: float | None
    auto_fail: bool
    reported: float | None
    points_only: float | None

    def section(self, key: str) -> SectionScore:
        """Return the section with this key.

        Raises
        ------
        KeyError
            If the visit has no such section.
        """
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)


def _check_finite_non_negative(value: float, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")


def _check_item(item: ItemInput, where: str) -> None:
    _check_finite_non_negative(item.points, f"{where}: points of {item.key!r}")
    fraction = item.earned_fraction
    if fraction is not None:
        if isinstance(fraction, bool) or not isinstance(fraction, int | float):
            raise ValueError(f"{where}: earned_fraction of {item.key!r} must be a number or None")
        if not 0.0 <= fraction <= 1.0:  # also rejects NaN
            raise ValueError(
                f"{where}: earned_fraction of {item.key!r} must lie on 0..1, got {fraction!r}"
            )
    if item.critical not in CRITICAL_SCOPES:
        raise ValueError(
            f"{where}: critical of {item.key!r} must be one of {CRITICAL_SCOPES}, "
            f"got {item.critical!r}"
        )


def _weighted_mean(sections: Sequence[SectionScore]) -> float | None:
    """Σ W_k S_k / Σ W_k over the sections that have a score; ``None`` if none has."""
    scored = [(s.weight, s.score) for s in sections if s.score is not None]
    total_weight = math.fsum(w for w, _ in scored)
    if not scored or total_weight == 0.0:
        return None
    return math.fsum(w * s for w, s in scored) / total_weight


def score_visit(sections: Sequence[SectionInput]) -> VisitScore:
    """Score one visit by the reference rules.

    Parameters
    ----------
    sections : sequence of SectionInput
        The checklist's sections in order, each with a weight > 0 and its answered items.

    Returns
    -------
    VisitScore
        With item points :math:`w_i` and earned fraction :math:`f_i` (1 yes, 0 no):

        * item: :math:`e_i = f_i w_i`, :math:`p_i = w_i`; both 0 when N/A;
        * section: N/A when :math:`\\sum_i p_i = 0`, else
          :math:`S_k = 100 \\sum_i e_i / \\sum_i p_i`, and :math:`S_k = 0` when any
          ``section``- or ``visit``-critical item has :math:`f_i = 0`;
        * overall: :math:`O = \\sum_{k} W_k S_k / \\sum_k W_k` over the sections that are
          not N/A (the weight of an N/A section is spread pro rata); ``None`` when all are;
        * a ``visit``-critical item with :math:`f_i = 0` sets ``auto_fail``; the
          reported score is then 0 and :math:`O` is kept as ``score_before_autofail``.

    Raises
    ------
    ValueError
        On a duplicate section or item key, a weight that is not > 0, negative points,
        an ``earned_fraction`` outside 0..1, or an unknown ``critical`` scope.

    Notes
    -----
    A critical item is taken as failed when it earns nothing, whatever its points: a
    critical item worth 0 points still fails its section.

    References
    ----------
    .. [1] reference/mystery-and-awards.md §1.3 (after SASSIE's N/A rule and the Pandora
           report's 0/0 rows; critical items after documented "automatic fail" practice).

    Examples
    --------
    >>> visit = score_visit([
    ...     SectionInput("greeting", 15, (ItemInput("B1", 2, 1.0), ItemInput("B2", 1, 0.0))),
    ...     SectionInput("farewell", 10, (ItemInput("F3", 1, None),)),
    ... ])
    >>> round(visit.reported, 2), visit.section("farewell").score, visit.auto_fail
    (66.67, None, False)
    """
    seen_sections: set[str] = set()
    seen_items: set[str] = set()
    scored: list[SectionScore] = []
    auto_fail = False
    for section in sections:
        if section.key in seen_sections:
            raise ValueError(f"section key {section.key!r} appears twice")
        seen_sections.add(section.key)
        where = f"section {section.key!r}"
        _check_finite_non_negative(section.weight, f"{where}: weight")
        if section.weight == 0:
            raise ValueError(f"{where}: weight must be > 0")
        earned: list[float] = []
        possible: list[float] = []
        critical_failed = False
        for item in section.items:
            if item.key in seen_items:
                raise ValueError(f"item key {item.key!r} appears twice")
            seen_items.add(item.key)
            _check_item(item, where)
            if item.earned_fraction is None:
                continue
            earned.append(item.points * item.earned_fraction)
            possible.append(item.points)
            if item.earned_fraction == 0.0 and item.critical != "none":
                critical_failed = True
                auto_fail = auto_fail or item.critical == "visit"
        total_earned, total_possible = math.fsum(earned), math.fsum(possible)
        if total_possible == 0.0:
            score = None
        elif critical_failed:
            score = 0.0
        else:
            score = 100.0 * total_earned / total_possible
        scored.append(
            SectionScore(
                key=section.key,
                weight=float(section.weight),
                earned=total_earned,
                possible=total_possible,
                score=score,
                critical_failed=critical_failed,
            )
        )
    overall = _weighted_mean(scored)
    all_possible = math.fsum(s.possible for s in scored)
    points_only = (
        100.0 * math.fsum(s.earned for s in scored) / all_possible if all_possible > 0 else None
    )
    reported = 0.0 if auto_fail else overall
    return VisitScore(
        sections=tuple(scored),
        score_before_autofail=overall,
        auto_fail=auto_fail,
        reported=reported,
        points_only=points_only,
    )


def subset_score(score: VisitScore, keys: Collection[str]) -> float | None:
    """The section-weighted score over some sections only (rule 4: the staff-attributable
    sub-score, e.g. the sections one staff member served, or the cashier's checkout).

    Parameters
    ----------
    score : VisitScore
        A scored visit.
    keys : collection of str
        The sections to include.

    Returns
    -------
    float or None
        :math:`\\sum_{k \\in K} W_k S_k / \\sum_{k \\in K} W_k` over the chosen sections
        that are not N/A; ``None`` when all of them are. A section zeroed by its own
        critical item stays 0 here; the visit's ``auto_fail`` is not applied, because a
        failure in another section (an expired product on the shelf) is not the chosen
        staff member's doing.

    Raises
    ------
    ValueError
        If a key names no section of the visit.

    Examples
    --------
    >>> visit = score_visit([
    ...     SectionInput("environment", 15, (ItemInput("A1", 2, 0.0),)),
    ...     SectionInput("greeting", 15, (ItemInput("B1", 2, 1.0),)),
    ... ])
    >>> visit.reported, subset_score(visit, {"greeting"})
    (50.0, 100.0)
    """
    known = {s.key for s in score.sections}
    unknown = sorted(set(keys) - known)
    if unknown:
        raise ValueError(f"unknown section keys {unknown}")
    wanted = set(keys)
    return _weighted_mean([s for s in score.sections if s.key in wanted])


class Grade(StrEnum):
    GOLD = "gold"
    SILVER = "silver"
    STANDARD = "standard"
    BELOW = "below"
    #: A visit-critical item failed: no grade band applies.
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class GradeBands:
    """Lower bounds (inclusive) of the grades on the 0-100 reported score; *our choice* of
    defaults, in the spirit of the Chinese 30 / 21-29 / <= 20 banding [C4]."""

    gold: float = 90.0
    silver: float = 80.0
    standard: float = 70.0

    def __post_init__(self) -> None:
        for name in ("gold", "silver", "standard"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not 0.0 <= value <= 100.0:
                raise ValueError(f"{name} must lie on 0..100, got {value!r}")
        if not self.gold > self.silver > self.standard:
            raise ValueError(
                f"grade bands must satisfy gold > silver > standard, got "
                f"{self.gold}, {self.silver}, {self.standard}"
            )


def grade(score: VisitScore, bands: GradeBands = GradeBands()) -> Grade | None:
    """The grade band of a visit's reported score.

    Parameters
    ----------
    score : VisitScore
        A scored visit.
    bands : GradeBands, optional
        Inclusive lower bounds; defaults 90 / 80 / 70.

    Returns
    -------
    Grade or None
        ``FAIL`` when ``auto_fail``; ``None`` when there is no score (every section N/A);
        otherwise the highest band whose lower bound the score reaches:
        GOLD if :math:`O \\ge` gold, SILVER if :math:`O \\ge` silver, STANDARD if
        :math:`O \\ge` standard, else BELOW. A score within 1e-9 below a bound counts as
        reaching it (full-precision arithmetic may land a hair under an exact 90).

    Examples
    --------
    >>> items = (ItemInput("a", 9, 1.0), ItemInput("b", 1, 0.0))
    >>> grade(score_visit([SectionInput("s", 1, items)]))
    <Grade.GOLD: 'gold'>
    """
    if score.auto_fail:
        return Grade.FAIL
    value = score.reported
    if value is None:
        return None
    for bound, band in (
        (bands.gold, Grade.GOLD),
        (bands.silver, Grade.SILVER),
        (bands.standard, Grade.STANDARD),
    ):
        if value >= bound - _BAND_TOLERANCE:
            return band
    return Grade.BELOW


@dataclass(frozen=True, slots=True)
class TouchpointSummary:
    """The mean score of one section across visits, with its t interval and n visits."""

    key: str
    estimate: Estimate


def touchpoint_summaries(
    visits: Sequence[VisitScore], keys: Sequence[str]
) -> tuple[TouchpointSummary, ...]:
    """Mean score of each touchpoint (section) over a set of visits.

    Parameters
    ----------
    visits : sequence of VisitScore
        Scored visits, e.g. one store's visits in a month.
    keys : sequence of str
        The section keys to summarise, in display order.

    Returns
    -------
    tuple of TouchpointSummary
        One per key, in the given order: :math:`\\bar S_k` over the visits where section
        *k* exists and is not N/A, with the Student t 95 % interval
        :math:`\\bar S_k \\pm t_{0.975,\\,n-1}\\, s/\\sqrt n` (see
        :func:`analysis.means.mean_interval_of`). A section zeroed by a critical item
        counts as 0. With no such visit the estimate is empty (n = 0).

    Examples
    --------
    >>> v1 = score_visit([SectionInput("greeting", 15, (ItemInput("B1", 2, 1.0),))])
    >>> v2 = score_visit([SectionInput("greeting", 15, (ItemInput("B1", 2, 0.0),))])
    >>> s = touchpoint_summaries([v1, v2], ["greeting"])[0]
    >>> s.key, s.estimate.value, s.estimate.n
    ('greeting', 50.0, 2)
    """
    summaries = []
    for key in keys:
        values: list[float] = []
        for visit in visits:
            for section in visit.sections:
                if section.key == key and section.score is not None:
                    values.append(section.score)
        summaries.append(TouchpointSummary(key=key, estimate=mean_interval_of(values)))
    return tuple(summaries)


@dataclass(frozen=True, slots=True)
class ShopperScore:
    """One visit's reported score, by the shopper who made it, at a store."""

    shopper_id: int
    store_id: int
    score: float


@dataclass(frozen=True, slots=True)
class ShopperReliability:
    """How far one shopper scores from the other shoppers at the same stores.

    ``n`` is the number of the shopper's visits that had a comparison; ``low``/``high``
    bound the mean deviation (t interval, 95 %). ``p_value`` and ``p_adjusted`` exist only
    with at least ``min_visits`` comparable visits; ``outlier`` is true when the adjusted
    p-value is below alpha.
    """

    shopper_id: int
    n: int
    mean_deviation: float | None
    low: float | None
    high: float | None
    p_value: float | None
    p_adjusted: float | None
    outlier: bool


def _t_test_p(deviations: Sequence[float]) -> float:
    """Two-sided p-value of the one-sample t test of mean 0 (n >= 2).

    Written out rather than via ``scipy.stats.ttest_1samp``, which warns (an error in the
    test suite) and returns NaN when the deviations are all equal: a shopper exactly 15
    points above the others every time is the clearest outlier there is, p = 0.
    """
    n = len(deviations)
    mean = math.fsum(deviations) / n
    sd = math.sqrt(math.fsum((d - mean) ** 2 for d in deviations) / (n - 1))
    if sd == 0.0:
        return 1.0 if mean == 0.0 else 0.0
    t = mean / (sd / math.sqrt(n))
    return float(min(1.0, 2.0 * student_t.sf(abs(t), n - 1)))


def shopper_reliability(
    scores: Sequence[ShopperScore], *, min_visits: int = 3, alpha: float = ALPHA
) -> tuple[ShopperReliability, ...]:
    """Flag shoppers who score consistently higher or lower than the other shoppers do at
    the same stores (a QA signal, §2.6 of the reference; never an automatic sanction).

    Parameters
    ----------
    scores : sequence of ShopperScore
        Reported visit scores (0..100) with their shopper and store.
    min_visits : int, optional
        Comparable visits a shopper needs before being tested; default 3, at least 2.
    alpha : float, optional
        False discovery rate at which a shopper is flagged; default 0.05.

    Returns
    -------
    tuple of ShopperReliability
        One per shopper, sorted by ``shopper_id``. For a visit *v* by shopper *j* at store
        *s*, the deviation is :math:`d_v = x_v - \\bar x_{s,-j}`, where
        :math:`\\bar x_{s,-j}` is the mean of the other shoppers' visits at *s*; visits
        with no other shopper at their store are skipped. The shopper's deviations are
        tested against 0 with a one-sample t test,
        :math:`t = \\bar d / (s_d / \\sqrt n)` on n - 1 degrees of freedom, with the t
        interval :math:`\\bar d \\pm t_{0.975,\\,n-1} s_d/\\sqrt n`; the p-values of the
        shoppers with at least ``min_visits`` comparable visits are Benjamini-Hochberg
        adjusted together, and ``outlier`` means :math:`p_{adj} <` alpha.

    Raises
    ------
    ValueError
        If a score is not on 0..100, ``min_visits`` < 2 or ``alpha`` is not inside (0, 1).

    Notes
    -----
    Each leave-one-shopper-out mean includes any other outlying shopper's visits, so one
    very lenient shopper pulls everyone else's deviations down by their share of the
    store's visits. With several shoppers per store this is small; with two, the pair's
    deviations mirror each other and only the consistency of the gap is tested. Visits
    are treated as independent, which visits of one store are not quite.

    References
    ----------
    .. [1] Benjamini Y., Hochberg Y. (1995), see
           :func:`analysis.compare.benjamini_hochberg`.

    Examples
    --------
    >>> rows = [ShopperScore(1, s, 70.0 + s) for s in range(3)]
    >>> rows += [ShopperScore(2, s, 80.0 + s) for s in range(3)]
    >>> r = shopper_reliability(rows)
    >>> [(x.shopper_id, x.n, x.mean_deviation) for x in r]
    [(1, 3, -10.0), (2, 3, 10.0)]
    """
    check_int(min_visits, "min_visits", minimum=2)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    by_store: dict[int, list[ShopperScore]] = defaultdict(list)
    for row in scores:
        if isinstance(row.score, bool) or not isinstance(row.score, int | float):
            raise ValueError(f"score must be a number, got {row.score!r}")
        if not 0.0 <= row.score <= 100.0:
            raise ValueError(f"score must lie on 0..100, got {row.score!r}")
        by_store[row.store_id].append(row)

    deviations: dict[int, list[float]] = {row.shopper_id: [] for row in scores}
    for rows in by_store.values():
        for row in rows:
            others = [o.score for o in rows if o.shopper_id != row.shopper_id]
            if others:
                deviations[row.shopper_id].append(row.score - math.fsum(others) / len(others))

    shoppers = sorted(deviations)
    tested = [s for s in shoppers if len(deviations[s]) >= min_visits]
    raw_p = {s: _t_test_p(deviations[s]) for s in tested}
    adjusted = dict(zip(tested, benjamini_hochberg([raw_p[s] for s in tested]), strict=True))
    result = []
    for shopper in shoppers:
        estimate = mean_interval_of(deviations[shopper])
        p_adj = adjusted.get(shopper)
        result.append(
            ShopperReliability(
                shopper_id=shopper,
                n=estimate.n,
                mean_deviation=estimate.value,
                low=estimate.low,
                high=estimate.high,
                p_value=raw_p.get(shopper),
                p_adjusted=p_adj,
                outlier=p_adj is not None and p_adj < alpha,
            )
        )
    return tuple(result)


@dataclass(frozen=True, slots=True)
class Correlation:
    """Spearman's rho of mystery scores with customer scores; ``rho.n`` is the pairs."""

    rho: Estimate


def mystery_customer_correlation(
    mystery: Sequence[float], customer: Sequence[float]
) -> Correlation:
    """Do stores that do well in mystery visits also do well with their customers?

    Parameters
    ----------
    mystery, customer : sequence of float
        Paired values, one pair per unit (typically a store over a period): the mean
        mystery score and a customer measure such as NPS or CSAT.

    Returns
    -------
    Correlation
        Spearman's :math:`\\rho` with the Fisher-z interval and Bonett-Wright standard
        error :math:`\\sqrt{(1 + \\rho^2/2)/(n - 3)}`, as
        :func:`analysis.drivers.spearman_interval` (same edge rules: undefined below 2
        pairs or for a constant side, no interval below 4 pairs).

    Raises
    ------
    ValueError
        If the sequences differ in length or hold non-finite values.

    References
    ----------
    .. [1] Bonett D.G., Wright T.A. (2000), see :func:`analysis.drivers.spearman_interval`.

    Examples
    --------
    >>> c = mystery_customer_correlation([70, 80, 90, 85, 60], [20, 35, 50, 30, 10])
    >>> round(c.rho.value, 2), c.rho.n
    (0.9, 5)
    """
    return Correlation(rho=spearman_interval(mystery, customer))
