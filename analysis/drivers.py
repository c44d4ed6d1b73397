"""Key drivers: which service rating moves with likelihood to recommend.

Spearman's rank correlation of each rating with the 0-10 recommendation score, over the
respondents who answered both, with a Fisher-z interval (Bonett-Wright standard error).
A correlation, not a cause: the page says "moves with", not "drives".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from analysis.csat import check_int, two_sided_z
from analysis.results import Estimate


@dataclass(frozen=True, slots=True)
class Driver:
    """One rating's Spearman ρ with the recommendation score; ``rank`` 1 is the strongest
    positive association, ``None`` when below the minimum n or ρ is undefined."""

    key: str
    rho: Estimate
    rank: int | None


def _spearman_rho(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Pearson correlation of the mid-ranks; ``None`` when either side is constant."""
    rx = rankdata(x)
    ry = rankdata(y)
    dx = rx - rx.mean()
    dy = ry - ry.mean()
    denom = math.sqrt(float(np.dot(dx, dx)) * float(np.dot(dy, dy)))
    if denom == 0.0:
        return None
    return max(-1.0, min(1.0, float(np.dot(dx, dy)) / denom))


def spearman_interval(x: Sequence[float], y: Sequence[float], confidence: float = 0.95) -> Estimate:
    """Spearman's ρ with a Fisher-z interval using the Bonett-Wright standard error.

    Parameters
    ----------
    x, y : sequence of float
        Paired observations (same length, finite). Ties get mid-ranks.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    Estimate
        ``value`` = ρ (as ``scipy.stats.spearmanr``) and

        .. math::

            \\tanh\\left(\\operatorname{atanh}\\rho \\pm z
            \\sqrt{\\frac{1 + \\rho^2/2}{n - 3}}\\right)

        ``n`` is the number of pairs. Edge rules: with n < 2, or when either variable is
        constant, ρ is undefined and every figure is ``None``; with n = 2 or 3 the
        standard error does not exist (n - 3 <= 0), so only ``value`` is given; with
        |ρ| = 1 the interval collapses to ρ (the method cannot do better from a
        perfectly monotone sample, so keep a minimum n).

    References
    ----------
    .. [1] Bonett D.G., Wright T.A. (2000). Sample size requirements for estimating
           Pearson, Kendall and Spearman correlations. *Psychometrika* 65:23-28.
    .. [2] Bonett D.G. R package *statpsych*, ``ci.spear``.

    Examples
    --------
    >>> e = spearman_interval([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5])
    >>> round(e.value, 4), round(e.low, 4), round(e.high, 4)
    (0.8286, -0.1272, 0.9865)
    """
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length ({len(x)} vs {len(y)})")
    xs = [float(v) for v in x]
    ys = [float(v) for v in y]
    if not all(math.isfinite(v) for v in xs + ys):
        raise ValueError("x and y must be finite numbers")
    z = two_sided_z(confidence)
    n = len(xs)
    rho = _spearman_rho(xs, ys) if n >= 2 else None
    if rho is None:
        return Estimate(value=None, low=None, high=None, n=n)
    if n < 4:
        return Estimate(value=rho, low=None, high=None, n=n)
    if abs(rho) == 1.0:
        return Estimate(value=rho, low=rho, high=rho, n=n)
    se = math.sqrt((1.0 + rho * rho / 2.0) / (n - 3))
    centre = math.atanh(rho)
    return Estimate(value=rho, low=math.tanh(centre - z * se), high=math.tanh(centre + z * se), n=n)


def key_drivers(
    nps: Sequence[int | None],
    ratings: Mapping[str, Sequence[int | None]],
    *,
    min_n: int = 30,
    confidence: float = 0.95,
) -> list[Driver]:
    """Rank service ratings by their Spearman correlation with the 0-10 score.

    Parameters
    ----------
    nps : sequence of int or None
        Each respondent's likelihood-to-recommend answer (0-10), ``None`` if skipped.
    ratings : mapping of str to sequence of int or None
        For each rating key, the same respondents' answers in the same order, ``None``
        where the rating was skipped.
    min_n : int, optional
        Pairs needed before a driver is ranked; default 30.
    confidence : float, optional
        Two-sided confidence level of each interval, default 0.95.

    Returns
    -------
    list of Driver
        Each rating's ρ over the pairwise complete cases (respondents who answered both).
        Ranked drivers (at least ``min_n`` pairs, ρ defined) come first, by ρ descending
        and then key, ranked 1, 2, ...; the rest follow, unranked (``rank=None``), by ρ
        descending (undefined last) and then key.

    Raises
    ------
    ValueError
        When a rating's length differs from ``nps`` or an NPS answer is outside 0-10.

    References
    ----------
    .. [1] Bonett D.G., Wright T.A. (2000), see :func:`spearman_interval`.

    Examples
    --------
    >>> ds = key_drivers([10, 9, 3, 7, 8], {"speed": [5, 5, 1, 3, 4]}, min_n=5)
    >>> ds[0].key, ds[0].rank, round(ds[0].rho.value, 2)
    ('speed', 1, 0.97)
    """
    check_int(min_n, "min_n")
    for i, score in enumerate(nps):
        if score is not None and not 0 <= score <= 10:
            raise ValueError(f"nps[{i}] must be a 0-10 score, got {score!r}")
    estimates: dict[str, Estimate] = {}
    for key, values in ratings.items():
        if len(values) != len(nps):
            raise ValueError(f"rating {key!r} has {len(values)} answers for {len(nps)} respondents")
        pairs = [
            (s, r) for s, r in zip(nps, values, strict=True) if s is not None and r is not None
        ]
        estimates[key] = spearman_interval(
            [float(r) for _, r in pairs], [float(s) for s, _ in pairs], confidence
        )

    def order(key: str) -> tuple[bool, float, str]:
        value = estimates[key].value
        return (value is None, -(value or 0.0), key)

    ranked = sorted(
        (k for k, e in estimates.items() if e.value is not None and e.n >= min_n), key=order
    )
    unranked = sorted(estimates.keys() - set(ranked), key=order)
    return [Driver(k, estimates[k], i) for i, k in enumerate(ranked, start=1)] + [
        Driver(k, estimates[k], None) for k in unranked
    ]
