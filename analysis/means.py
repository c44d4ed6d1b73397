"""Mean ratings (1-5 service ratings, mystery-shop percentages) with a Student t interval.

The portal keeps n, the sum and the sum of squares per store and day in a rollup table, so
the interval is computed from those three moments; :func:`mean_interval_of` does the same
from raw values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy.stats import t as student_t

from analysis.csat import check_int, two_sided_z
from analysis.results import Estimate


def _t_estimate(mean: float, sum_sq_dev: float, n: int, confidence: float) -> Estimate:
    """Student t interval from the mean and the sum of squared deviations."""
    if n < 2:
        return Estimate(value=mean, low=None, high=None, n=n)
    sd = math.sqrt(sum_sq_dev / (n - 1))
    half = float(student_t.ppf(0.5 + confidence / 2.0, n - 1)) * sd / math.sqrt(n)
    return Estimate(value=mean, low=mean - half, high=mean + half, n=n)


def mean_interval(n: int, total: float, total_sq: float, confidence: float = 0.95) -> Estimate:
    """Mean with its Student t interval, from the count, sum and sum of squares.

    Parameters
    ----------
    n : int
        Number of values.
    total : float
        Sum of the values.
    total_sq : float
        Sum of the squared values.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    Estimate
        ``value`` = x̄ and :math:`\\bar x \\pm t_{(1+\\text{conf})/2,\\,n-1}\\, s/\\sqrt n`
        with :math:`s^2 = (\\sum x^2 - (\\sum x)^2/n)/(n - 1)`. With ``n == 1`` only the
        value (no spread to estimate); with ``n == 0`` every figure is ``None``.

    Notes
    -----
    The moment formula loses digits when the mean is large next to the spread; for 1-5
    ratings and percentages it is exact to well below display precision. A rounding-level
    negative variance (all values equal) is taken as 0.

    References
    ----------
    .. [1] Student (1908). The probable error of a mean. *Biometrika* 6:1-25.
    .. [2] Bonett D.G. R package *statpsych*, ``ci.mean``.

    Examples
    --------
    >>> e = mean_interval(3, 12.0, 50.0)
    >>> e.value, round(e.low, 4), round(e.high, 4)
    (4.0, 1.5159, 6.4841)
    """
    check_int(n, "n")
    if not (math.isfinite(total) and math.isfinite(total_sq)):
        raise ValueError("total and total_sq must be finite")
    if total_sq < 0:
        raise ValueError(f"total_sq is a sum of squares and cannot be negative, got {total_sq}")
    two_sided_z(confidence)  # validates the level
    if n == 0:
        return Estimate(value=None, low=None, high=None, n=0)
    mean = total / n
    return _t_estimate(mean, max(0.0, total_sq - total * mean), int(n), confidence)


def mean_interval_of(values: Sequence[float], confidence: float = 0.95) -> Estimate:
    """Mean with its Student t interval, from the values themselves.

    Parameters
    ----------
    values : sequence of float
        The observations (finite).
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    Estimate
        As :func:`mean_interval`; the variance is computed in two passes.

    References
    ----------
    .. [1] Student (1908), see :func:`mean_interval`.

    Examples
    --------
    >>> e = mean_interval_of([3, 4, 5])
    >>> e.value, round(e.low, 4), round(e.high, 4)
    (4.0, 1.5159, 6.4841)
    """
    xs = [float(x) for x in values]
    if not all(math.isfinite(x) for x in xs):
        raise ValueError("values must be finite numbers")
    two_sided_z(confidence)
    n = len(xs)
    if n == 0:
        return Estimate(value=None, low=None, high=None, n=0)
    mean = math.fsum(xs) / n
    return _t_estimate(mean, math.fsum((x - mean) ** 2 for x in xs), n, confidence)
