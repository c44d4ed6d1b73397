"""CSAT and single proportions: the Wilson score interval, in proportions and in percent.

CSAT is the share of top-2-box answers (4 or 5 on the 1-5 scale). This module owns the
interval for one proportion and the normal critical value every other interval here uses;
comparisons of two shares live in :mod:`analysis.compare`.
"""

from __future__ import annotations

import math
from functools import lru_cache
from numbers import Integral

from scipy.stats import norm

from analysis.results import Estimate


@lru_cache(maxsize=64)
def two_sided_z(confidence: float) -> float:
    """Standard normal critical value of a two-sided interval.

    Parameters
    ----------
    confidence : float
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    float
        :math:`z = \\Phi^{-1}((1 + \\text{confidence}) / 2)`, 1.959964 for 0.95.

    Raises
    ------
    ValueError
        If ``confidence`` is not strictly between 0 and 1.

    Examples
    --------
    >>> round(two_sided_z(0.95), 6)
    1.959964
    """
    if not isinstance(confidence, int | float) or not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return float(norm.ppf(0.5 + confidence / 2.0))


def check_int(value: int, name: str, minimum: int = 0) -> None:
    """Raise ``ValueError`` unless ``value`` is an integer (not a bool) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def check_count(k: int, n: int, *, what: str = "k") -> None:
    """Raise ``ValueError`` unless ``0 <= k <= n`` are integers.

    Parameters
    ----------
    k, n : int
        Successes and trials.
    what : str
        The name of ``k`` in the message.
    """
    check_int(n, "n")
    check_int(k, what)
    if k > n:
        raise ValueError(f"{what} must be between 0 and n={n}, got {k}")


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> Estimate:
    """Wilson score interval for a binomial proportion.

    Parameters
    ----------
    k : int
        Successes (for CSAT: answers of 4 or 5), ``0 <= k <= n``.
    n : int
        Trials (answers).
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    Estimate
        ``value`` = k/n and the interval, on the 0..1 scale. With ``n == 0`` every figure
        is ``None``.

    Notes
    -----
    With :math:`\\hat p = k/n` and :math:`z` the two-sided critical value,

    .. math::

        \\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}}{1 + z^2/n}

    Wilson's method without continuity correction, as
    ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``. It never leaves
    [0, 1] and is never zero-width. The closed form gives 0.9999999999999999 for the upper
    limit at ``k == n``: the limits are set to exactly 0 at ``k == 0`` and 1 at ``k == n``.
    This is not the continuity-corrected Wilson interval, nor Agresti-Coull, nor the
    "plus four" recipe that some sources also call "adjusted Wald".

    References
    ----------
    .. [1] Wilson E.B. (1927). Probable inference, the law of succession, and statistical
           inference. *JASA* 22:209-212.
    .. [2] Newcombe R.G. (1998). Two-sided confidence intervals for the single proportion:
           comparison of seven methods. *Stat Med* 17:857-872 (Table I, method 3).

    Examples
    --------
    >>> e = wilson_interval(81, 263)
    >>> round(e.low, 4), round(e.high, 4)
    (0.2553, 0.3662)
    """
    check_count(k, n)
    z = two_sided_z(confidence)
    if n == 0:
        return Estimate(value=None, low=None, high=None, n=0)
    p = k / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / (1.0 + z2n)
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return Estimate(value=p, low=low, high=high, n=n)


def csat_interval(top2: int, n: int, confidence: float = 0.95) -> Estimate:
    """CSAT in percent with its Wilson score interval.

    Parameters
    ----------
    top2 : int
        Answers of 4 or 5 on the 1-5 satisfaction scale.
    n : int
        All answers to the satisfaction question.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    Estimate
        CSAT = 100 top2/n and its interval on 0..100; all ``None`` when ``n == 0`` (no
        answers means no CSAT, never 0 %).

    Notes
    -----
    :func:`wilson_interval` scaled by 100.

    References
    ----------
    .. [1] Newcombe R.G. (1998). *Stat Med* 17:857-872.

    Examples
    --------
    >>> e = csat_interval(27, 30)
    >>> round(e.value, 1), round(e.low, 1), round(e.high, 1)
    (90.0, 74.4, 96.5)
    """
    check_count(top2, n, what="top2")
    e = wilson_interval(top2, n, confidence)
    if e.value is None or e.low is None or e.high is None:
        return e
    return Estimate(value=100.0 * e.value, low=100.0 * e.low, high=100.0 * e.high, n=n)
