"""Weekly alerts: a p-chart of a share (the detractor share) and a tabular CUSUM.

The p-chart catches a sudden jump in one week, judged against a baseline of earlier weeks;
the CUSUM, run on the standardised weekly values the p-chart gives, catches a slow drift.
Run both. Points are plain counts in, frozen dataclasses out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import binom, norm

from analysis.csat import check_count, check_int

#: A week is judged with the exact binomial tail when n * centre is below this.
EXACT_BELOW_EXPECTED = 5.0


@dataclass(frozen=True, slots=True)
class ControlPoint:
    """One week (or other period) on a p-chart.

    ``index`` is the 0-based position in the input; ``share`` = count/n (``None`` when
    n = 0); ``center`` is the chart's centre line p̄; ``lcl``/``ucl`` this point's limits
    as shares (``None`` when n = 0); ``above``/``below`` whether the point is outside them;
    ``method`` is ``"normal"`` (p̄ ± L sigma), ``"exact"`` (binomial tails, when
    n p̄ < 5) or ``"empty"`` (n = 0). ``z`` = (share - p̄)/sqrt(p̄(1 - p̄)/n), the input
    of :func:`cusum` (``None`` when n = 0 or p̄ is 0 or 1); ``upper_p`` = P(X >= count)
    for X ~ Binomial(n, p̄), the exact upper tail (``None`` when n = 0).
    """

    index: int
    count: int
    n: int
    share: float | None
    center: float
    lcl: float | None
    ucl: float | None
    above: bool
    below: bool
    method: str
    z: float | None
    upper_p: float | None


@dataclass(frozen=True, slots=True)
class CusumPoint:
    """One step of a tabular CUSUM: the standardised input ``z``, the upper and lower
    sums, and whether either exceeds the decision interval h."""

    index: int
    z: float
    c_plus: float
    c_minus: float
    above: bool
    below: bool


def _exact_limits(n: int, p: float, tail: float) -> tuple[float, float]:
    """Binomial limits as shares: below iff share < lcl (P(X <= x) < tail), above iff
    share > ucl (P(X >= x) < tail)."""
    xs = np.arange(n + 1)
    upper_tail = binom.sf(xs - 1, n, p)  # P(X >= x)
    lower_tail = binom.cdf(xs, n, p)  # P(X <= x)
    above = np.flatnonzero(upper_tail < tail)
    below = np.flatnonzero(lower_tail < tail)
    ucl = (int(above[0]) - 1) / n if above.size else 1.0
    lcl = (int(below[-1]) + 1) / n if below.size else 0.0
    return lcl, ucl


def _check_counts_sizes(counts: Sequence[int], sizes: Sequence[int]) -> None:
    if len(counts) != len(sizes):
        raise ValueError(f"counts and sizes differ in length ({len(counts)} vs {len(sizes)})")
    for i, (count, size) in enumerate(zip(counts, sizes, strict=True)):
        try:
            check_count(count, size, what="count")
        except ValueError as exc:
            raise ValueError(f"point {i}: {exc}") from None


def baseline_center(
    counts: Sequence[int], sizes: Sequence[int], baseline: int | None
) -> tuple[float, int]:
    """The centre line p̄ of the first ``baseline`` periods (all when ``None``) and how
    many periods that is. Raises `ValueError` for a baseline longer than the data or one
    without answers."""
    stop = len(counts)
    if baseline is not None:
        check_int(baseline, "baseline", minimum=1)
        if baseline > len(counts):
            raise ValueError(f"baseline must be at most {len(counts)} periods, got {baseline}")
        stop = int(baseline)
    base_n = sum(sizes[:stop])
    if base_n == 0:
        raise ValueError("the baseline periods have no answers: no centre line")
    return sum(counts[:stop]) / base_n, stop


def p_chart(
    counts: Sequence[int],
    sizes: Sequence[int],
    *,
    baseline: int | None = None,
    center: float | None = None,
    sigmas: float = 3.0,
) -> list[ControlPoint]:
    """p-chart of a share with per-point limits against a baseline.

    Parameters
    ----------
    counts : sequence of int
        The counted answers per period (e.g. detractors per week), oldest first.
    sizes : sequence of int
        All answers per period.
    baseline : int, optional
        The centre line is estimated from the first ``baseline`` periods only, and the
        periods after them are the ones being judged. Pass a trailing window (say 12-26
        weeks) followed by the week(s) to judge, so that a bad week never raises its own
        centre line. ``None`` (default) estimates it from every period (a retrospective,
        "phase I" chart).
    center : float, optional
        A known standard share p0 to use as the centre line instead; excludes ``baseline``.
    sigmas : float, optional
        L, the width of the limits in standard errors; default 3.

    Returns
    -------
    list of ControlPoint
        One per period, in input order.

    Raises
    ------
    ValueError
        On mismatched lengths, a count outside 0..size, a baseline outside 1..len(counts)
        or without answers, or ``center`` outside [0, 1] given together with ``baseline``.

    Notes
    -----
    Centre :math:`\\bar p = \\sum_{b} x_i / \\sum_{b} n_i` over the baseline periods b.
    Limits are computed per period because n varies:
    :math:`\\bar p \\pm L\\sqrt{\\bar p(1 - \\bar p)/n_i}`, the LCL floored at 0 and the
    UCL capped at 1. When :math:`n_i \\bar p < 5` the normal limits are poor, and the
    period is judged on exact binomial tails instead: above when
    ``binom.sf(x - 1, n, p̄)`` < Φ(-L) (0.00135 for L = 3), below when
    ``binom.cdf(x, n, p̄)`` < Φ(-L); the limits reported are then the largest (smallest)
    in-control share. For detractor alerts only ``above`` matters.

    References
    ----------
    .. [1] NIST/SEMATECH e-Handbook of Statistical Methods, 6.3.3.2, Proportions control
           charts.
    .. [2] Montgomery D.C. *Introduction to Statistical Quality Control*, ch. 7.

    Examples
    --------
    >>> pts = p_chart([40, 44, 22, 34, 24, 32, 28, 32, 34, 30], [200] * 10)
    >>> pts[0].center, round(pts[0].lcl, 4), round(pts[0].ucl, 4)
    (0.16, 0.0822, 0.2378)
    >>> any(p.above or p.below for p in pts)
    False
    """
    _check_counts_sizes(counts, sizes)
    if not (math.isfinite(sigmas) and sigmas > 0):
        raise ValueError(f"sigmas must be a positive number, got {sigmas!r}")
    if center is not None:
        if baseline is not None:
            raise ValueError("give either baseline or center, not both")
        if not 0.0 <= center <= 1.0:
            raise ValueError(f"center must be a share between 0 and 1, got {center!r}")
        p_bar = float(center)
    else:
        p_bar, _stop = baseline_center(counts, sizes, baseline)
    tail = float(norm.sf(sigmas))
    # One vectorised tail computation for the whole chart: a dashboard draws one chart per
    # store, and a scipy call per point dominated the chain page.
    upper = binom.sf(np.asarray(counts) - 1, np.asarray(sizes), p_bar)
    return [
        _point(i, x, n, p_bar, sigmas, tail, float(upper[i]))
        for i, (x, n) in enumerate(zip(counts, sizes, strict=True))
    ]


def _point(
    index: int, x: int, n: int, p_bar: float, sigmas: float, tail: float, upper_p: float
) -> ControlPoint:
    if n == 0:
        return ControlPoint(index, x, n, None, p_bar, None, None, False, False, "empty", None, None)
    share = x / n
    sigma = math.sqrt(p_bar * (1.0 - p_bar) / n)
    z = (share - p_bar) / sigma if sigma > 0 else None
    if n * p_bar < EXACT_BELOW_EXPECTED:
        lcl, ucl = _exact_limits(n, p_bar, tail)
        above = upper_p < tail
        below = float(binom.cdf(x, n, p_bar)) < tail
        method = "exact"
    else:
        lcl = max(0.0, p_bar - sigmas * sigma)
        ucl = min(1.0, p_bar + sigmas * sigma)
        above, below, method = share > ucl, share < lcl, "normal"
    return ControlPoint(index, x, n, share, p_bar, lcl, ucl, above, below, method, z, upper_p)


def cusum(z_values: Sequence[float], k: float = 0.5, h: float = 5.0) -> list[CusumPoint]:
    """Tabular (two-sided) CUSUM of standardised values.

    Parameters
    ----------
    z_values : sequence of float
        Standardised observations, e.g. ``ControlPoint.z`` of a p-chart (drop empty
        weeks), or (x - mu0)/sigma.
    k : float, optional
        Reference value (allowance) in standard deviations, default 0.5 (detects a shift
        of about 1 sigma).
    h : float, optional
        Decision interval, default 5; 4 gives earlier but more frequent alarms.

    Returns
    -------
    list of CusumPoint
        :math:`C^+_i = \\max(0, C^+_{i-1} + z_i - k)`,
        :math:`C^-_i = \\max(0, C^-_{i-1} - z_i - k)`, both starting at 0; ``above`` when
        :math:`C^+_i > h`, ``below`` when :math:`C^-_i > h`. The sums are not reset after
        an alarm (as in Montgomery's Table 9.2): acknowledging an alarm is the caller's
        decision.

    References
    ----------
    .. [1] Page E.S. (1954). Continuous inspection schemes. *Biometrika* 41:100-115.
    .. [2] Montgomery D.C. *Introduction to Statistical Quality Control*, section 9.1,
           Example 9.1 and Table 9.2.

    Examples
    --------
    >>> [p.c_plus for p in cusum([1.0, 2.0, -3.0])]
    [0.5, 2.0, 0.0]
    """
    for name, value in (("k", k), ("h", h)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    points: list[CusumPoint] = []
    c_plus = c_minus = 0.0
    for i, z in enumerate(z_values):
        if not math.isfinite(z):
            raise ValueError(f"z_values[{i}] is not a finite number: {z!r}")
        c_plus = max(0.0, c_plus + z - k)
        c_minus = max(0.0, c_minus - z - k)
        points.append(CusumPoint(i, float(z), c_plus, c_minus, c_plus > h, c_minus > h))
    return points
