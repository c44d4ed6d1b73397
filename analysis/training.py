"""Did a training work? Difference in differences of one trained person against their
store's other staff, and the pooled effect of a topic across everyone trained.

A trained person's customers' scores in the weeks after the training minus those in the
weeks before, less the same difference for the other staff of their store over the same
weeks: what changed for the person beyond what changed for the whole store (a season, a
new manager, a refit). The figures are per answer: an answer's NPS contribution (+100
promoter, 0 passive, -100 detractor), so the effect is in NPS points, or its satisfied
share (100 when CSAT is 4-5, else 0), so the effect is in percentage points.

Interval
--------
The four group means are independent, each with the variance of a mean from its own
per-answer values (sample variance with n - 1, divided by n), so

.. math::

    \\hat\\delta = (\\bar y_{P,after} - \\bar y_{P,before})
                 - (\\bar y_{S,after} - \\bar y_{S,before}), \\qquad
    SE^2 = \\sum_{g} s_g^2 / n_g,

and the 95 % interval is delta -/+ 1.96 SE (the normal approximation: with at least
``MIN_PERSON_ANSWERS`` answers a side and bounded scores the means are near normal).
Answers are treated as independent; repeat customers and the same staff's shifts make the
true interval somewhat wider, which is one more reason to read a single person's effect
with care and the pooled topic effect with more confidence.

Too early to tell
-----------------
No estimate while the person has fewer than ``MIN_PERSON_ANSWERS`` (10) answers before or
after, or the rest of the store fewer than ``MIN_PEER_ANSWERS`` (30) before or after: the
four n are always shown, so HR sees what is missing.

Pooled effect
-------------
A topic's effect across its trainees is the fixed-effect inverse-variance weighted mean of
their estimates, weights 1/SE_i^2, with SE = (sum 1/SE_i^2)^(-1/2) and the same normal
interval; trainees whose estimate is "too early to tell" do not count. An estimate with
SE = 0 (every answer identical in all four groups) is given the smallest SE of the others,
or left out when none has one.

References
----------
.. [1] Angrist J.D., Pischke J.-S. (2009). *Mostly Harmless Econometrics*, ch. 5.
.. [2] Borenstein M. et al. (2009). *Introduction to Meta-Analysis*, ch. 11 (fixed effect).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from analysis.results import Estimate

#: Normal quantile of the two-sided 95 % interval.
Z95 = 1.959963984540054
#: The fewest answers of the trained person before, and after, for an estimate.
MIN_PERSON_ANSWERS = 10
#: The fewest answers of the store's other staff before, and after, for an estimate.
MIN_PEER_ANSWERS = 30


def nps_points(nps: int) -> float:
    """One answer's contribution to NPS: +100 promoter (9-10), 0 passive, -100 detractor.

    >>> [nps_points(v) for v in (10, 8, 6)]
    [100.0, 0.0, -100.0]
    """
    if nps >= 9:
        return 100.0
    return 0.0 if nps >= 7 else -100.0


def satisfied_points(csat: int) -> float:
    """One answer's contribution to the satisfied share in percent: 100 for 4-5, else 0."""
    return 100.0 if csat >= 4 else 0.0


@dataclass(frozen=True, slots=True)
class GroupMean:
    """The mean of one group's per-answer values, the variance of that mean and n."""

    n: int
    mean: float
    variance: float


def group_mean(values: Iterable[float]) -> GroupMean:
    """Mean and variance of the mean (sample variance / n) of ``values``; NaN below 2.

    >>> g = group_mean([100.0, 0.0, 100.0, 100.0])
    >>> g.n, g.mean, round(g.variance, 4)
    (4, 75.0, 625.0)
    """
    data = [float(v) for v in values]
    n = len(data)
    if n == 0:
        return GroupMean(0, math.nan, math.nan)
    mean = math.fsum(data) / n
    if n < 2:
        return GroupMean(n, mean, math.nan)
    ss = math.fsum((v - mean) ** 2 for v in data)
    return GroupMean(n, mean, ss / (n - 1) / n)


@dataclass(frozen=True, slots=True)
class DidResult:
    """One trained person's difference in differences.

    ``effect`` is the estimate with its 95 % interval (``n`` the person's answers before
    and after), ``None`` when it is too early to tell; ``se`` its standard error. The four
    group sizes are always given.
    """

    effect: Estimate | None
    se: float | None
    person_before: int
    person_after: int
    peers_before: int
    peers_after: int

    @property
    def too_early(self) -> bool:
        return self.effect is None


def difference_in_differences(
    person_before: Sequence[float],
    person_after: Sequence[float],
    peers_before: Sequence[float],
    peers_after: Sequence[float],
    *,
    min_person: int = MIN_PERSON_ANSWERS,
    min_peers: int = MIN_PEER_ANSWERS,
) -> DidResult:
    """The trained person's change beyond their store's, with its 95 % interval.

    Parameters
    ----------
    person_before, person_after : sequence of float
        Per-answer values (e.g. :func:`nps_points`) of the person's customers in the
        weeks before and after the training.
    peers_before, peers_after : sequence of float
        The same for the store's other staff over the same weeks.
    min_person, min_peers : int, optional
        The fewest answers on each side for an estimate.

    Returns
    -------
    DidResult
        ``effect`` ``None`` ("too early to tell") below the minimums.

    Examples
    --------
    >>> r = difference_in_differences([0.0] * 5 + [100.0] * 5, [100.0] * 8 + [0.0] * 2,
    ...                               [0.0] * 15 + [100.0] * 15, [0.0] * 15 + [100.0] * 15)
    >>> round(r.effect.value, 1), round(r.se, 2)
    (30.0, 25.06)
    """
    groups = [group_mean(v) for v in (person_before, person_after, peers_before, peers_after)]
    counts = tuple(g.n for g in groups)
    early = DidResult(None, None, *counts)
    if min(counts[:2]) < max(min_person, 2) or min(counts[2:]) < max(min_peers, 2):
        return early
    pb, pa, sb, sa = groups
    delta = (pa.mean - pb.mean) - (sa.mean - sb.mean)
    se = math.sqrt(math.fsum(g.variance for g in groups))
    effect = Estimate(delta, delta - Z95 * se, delta + Z95 * se, pb.n + pa.n)
    return DidResult(effect, se, *counts)


@dataclass(frozen=True, slots=True)
class PooledEffect:
    """A topic's effect across trainees: the estimate (``n`` = trainees counted) or
    ``None`` when none has an estimate yet; ``trainees`` everyone trained, counted or not."""

    effect: Estimate | None
    se: float | None
    counted: int
    trainees: int


def pooled_effect(results: Sequence[DidResult]) -> PooledEffect:
    """Fixed-effect inverse-variance weighted mean of the trainees' estimates.

    Examples
    --------
    >>> a = DidResult(Estimate(10.0, 0.0, 0.0, 20), 5.0, 10, 10, 30, 30)
    >>> b = DidResult(Estimate(20.0, 0.0, 0.0, 20), 10.0, 10, 10, 30, 30)
    >>> p = pooled_effect([a, b, DidResult(None, None, 3, 0, 40, 0)])
    >>> round(p.effect.value, 2), round(p.se, 3), p.counted, p.trainees
    (12.0, 4.472, 2, 3)
    """
    usable = [r for r in results if r.effect is not None and r.se is not None]
    positive = [r.se for r in usable if r.se is not None and r.se > 0]
    if not positive:
        return PooledEffect(None, None, 0, len(results))
    floor = min(positive)
    weights, values = [], []
    for r in usable:
        assert r.effect is not None and r.effect.value is not None and r.se is not None
        se = r.se if r.se > 0 else floor
        weights.append(1.0 / (se * se))
        values.append(r.effect.value)
    total = math.fsum(weights)
    mean = math.fsum(w * v for w, v in zip(weights, values, strict=True)) / total
    se = 1.0 / math.sqrt(total)
    effect = Estimate(mean, mean - Z95 * se, mean + Z95 * se, len(values))
    return PooledEffect(effect, se, len(values), len(results))
