"""Comparing two groups: two NPS, two CSAT shares, and many tests at once.

Group 1 minus group 2 (this period minus the previous one; a store minus the *rest* of the
chain, the store excluded, so that the two samples are independent). A difference is
``significant`` only when p < alpha and both groups reach the minimum n. Benjamini-Hochberg
adjusts the p-values when many stores are tested together.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.special import ndtr
from scipy.stats import fisher_exact

from analysis.csat import check_count, check_int, two_sided_z, wilson_interval
from analysis.nps import adjusted_shares, check_counts, nps_point, nps_variance
from analysis.results import Comparison, NpsCounts
from analysis.significance import ALPHA, is_significant

COMPARE_NPS_METHODS = ("adjusted_wald", "wald")
ALTERNATIVES = ("two-sided", "greater", "less")
PROPORTION_TESTS = ("auto", "z", "fisher")


@dataclass(frozen=True, slots=True)
class ProportionTest:
    """A two-proportion test: the pooled z (``None`` when both groups are all 0 or all 1),
    the p-value, and which test gave it (``"z"`` or ``"fisher"``)."""

    z: float | None
    p_value: float | None
    method: str


def _check_alpha_min_n(alpha: float, min_n: int) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    check_int(min_n, "min_n")


def _normal_p(z: float, alternative: str) -> float:
    # `scipy.special.ndtr` is what `norm.sf`/`norm.cdf` evaluate (sf(z) = ndtr(-z)), to the
    # bit, without the distribution object's argument handling: 2 µs a call instead of
    # 60, and the chain page makes two per store.
    if alternative == "greater":
        return float(ndtr(-z))
    if alternative == "less":
        return float(ndtr(z))
    return float(2.0 * ndtr(-abs(z)))


def two_proportion_test(
    k1: int, n1: int, k2: int, n2: int, *, alternative: str = "two-sided", test: str = "auto"
) -> ProportionTest:
    """Test that two binomial proportions are equal.

    Parameters
    ----------
    k1, n1 : int
        Successes and trials of group 1 (``n1 >= 1``).
    k2, n2 : int
        Successes and trials of group 2 (``n2 >= 1``).
    alternative : {'two-sided', 'greater', 'less'}, optional
        'greater' tests p1 > p2 (one-sided).
    test : {'auto', 'z', 'fisher'}, optional
        'z' :
            Pooled two-proportion z,
            :math:`z = (\\hat p_1 - \\hat p_2)/\\sqrt{\\bar p(1 - \\bar p)(1/n_1 + 1/n_2)}`;
            its two-sided p equals ``scipy.stats.chi2_contingency(table,
            correction=False).pvalue``. When :math:`\\bar p` is 0 or 1, z and p are ``None``.
        'fisher' :
            Fisher's exact test on the 2x2 table (``scipy.stats.fisher_exact``).
        'auto' (default) :
            Fisher when an expected cell count is below 5, else z.

    Returns
    -------
    ProportionTest
        The pooled z (always, when defined) and the p-value of the test used.

    References
    ----------
    .. [1] Fleiss J.L., Levin B., Paik M.C. (2003). *Statistical Methods for Rates and
           Proportions*, 3rd ed., ch. 3 (the pooled z and the expected-count rule).
    .. [2] Fisher R.A. (1935). The logic of inductive inference. *JRSS* 98:39-82.

    Examples
    --------
    >>> r = two_proportion_test(56, 70, 48, 80)
    >>> round(r.z, 4), round(r.p_value, 4), r.method
    (2.6502, 0.008, 'z')
    """
    check_count(k1, n1, what="k1")
    check_count(k2, n2, what="k2")
    if n1 == 0 or n2 == 0:
        raise ValueError("both groups need at least one trial")
    if alternative not in ALTERNATIVES:
        raise ValueError(
            f"alternative must be one of {', '.join(ALTERNATIVES)}; got {alternative!r}"
        )
    if test not in PROPORTION_TESTS:
        raise ValueError(f"test must be one of {', '.join(PROPORTION_TESTS)}; got {test!r}")
    total_n = n1 + n2
    pooled = (k1 + k2) / total_n
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    z = (k1 / n1 - k2 / n2) / se if se > 0 else None
    if test == "auto":
        successes, failures = k1 + k2, total_n - k1 - k2
        smallest = min(n1, n2) * min(successes, failures) / total_n
        test = "fisher" if smallest < 5 else "z"
    if test == "fisher":
        table = [[k1, n1 - k1], [k2, n2 - k2]]
        p = float(fisher_exact(table, alternative=alternative).pvalue)
        return ProportionTest(z=z, p_value=min(1.0, p), method="fisher")
    return ProportionTest(z=z, p_value=None if z is None else _normal_p(z, alternative), method="z")


def compare_nps(
    a: NpsCounts,
    b: NpsCounts,
    *,
    alpha: float = ALPHA,
    min_n: int = 30,
    method: str = "adjusted_wald",
) -> Comparison:
    """Compare two NPS: ``a`` minus ``b``, in points.

    Parameters
    ----------
    a, b : NpsCounts
        The two independent groups (a store against the chain *without* that store).
    alpha : float, optional
        Significance level, default ``ALPHA`` (0.05); the interval has confidence 1 - alpha.
    min_n : int, optional
        Both groups need at least this many answers to be ``significant``; default 30.
    method : {'adjusted_wald', 'wald'}, optional
        'adjusted_wald' (default, recommended) :
            Add 0.75/1.5/0.75 pseudo-answers to each group ([1]_, [2]_); with
            :math:`c_i, v'_i, n'_i` the adjusted centre, variance and size,
            :math:`SE = \\sqrt{v'_a/n'_a + v'_b/n'_b}`, :math:`z = (c_a - c_b)/SE`, and the
            interval :math:`100 (c_a - c_b \\pm z_{1-\\alpha/2} SE)`.
        'wald' :
            The same on the raw shares, :math:`SE = \\sqrt{v_a/n_a + v_b/n_b}`; z and p are
            ``None`` when both groups have zero variance.

    Returns
    -------
    Comparison
        ``diff`` = raw NPS(a) - NPS(b) (what the page shows); ``z`` and the two-sided
        ``p_value`` of the chosen test; ``low``/``high`` its interval of the difference,
        centred, for the adjusted Wald, on the *adjusted* difference and clipped to
        [-200, 200]. All figures ``None`` when either group has no answers.

    References
    ----------
    .. [1] Rocks B. (2016). Interval estimation for the "Net Promoter Score". *The American
           Statistician* 70(4):365-372; R package *NPS*, ``nps_test``.
    .. [2] Lewis J., Sauro J. How to statistically compare two Net Promoter Scores.
           MeasuringU.

    Examples
    --------
    >>> r = compare_nps(NpsCounts(675, 351, 324), NpsCounts(540, 360, 300))
    >>> r.diff, round(r.z, 4), round(r.p_value, 4), r.significant
    (6.0, 1.8535, 0.0638, False)
    """
    check_counts(a)
    check_counts(b)
    _check_alpha_min_n(alpha, min_n)
    if method not in COMPARE_NPS_METHODS:
        raise ValueError(f"method must be one of {', '.join(COMPARE_NPS_METHODS)}; got {method!r}")
    nps_a, nps_b = nps_point(a), nps_point(b)
    if nps_a is None or nps_b is None:
        return Comparison(None, None, None, None, None, False, a.n, b.n)
    diff = nps_a - nps_b
    if method == "adjusted_wald":
        centre_a, var_a, n_a = adjusted_shares(a)
        centre_b, var_b, n_b = adjusted_shares(b)
        centre = 100.0 * (centre_a - centre_b)
        se = 100.0 * math.sqrt(var_a / n_a + var_b / n_b)
    else:
        var_a_raw, var_b_raw = nps_variance(a), nps_variance(b)
        assert var_a_raw is not None and var_b_raw is not None  # n > 0 on both sides
        centre = diff
        se = 100.0 * math.sqrt(var_a_raw / a.n + var_b_raw / b.n)
    if se == 0.0:
        # Only the plain Wald gets here: every answer of both groups in one class each.
        return Comparison(diff, diff, diff, None, None, False, a.n, b.n)
    z = centre / se
    p = _normal_p(z, "two-sided")
    half = two_sided_z(1.0 - alpha) * se
    return Comparison(
        diff=diff,
        low=max(-200.0, centre - half),
        high=min(200.0, centre + half),
        z=z,
        p_value=p,
        significant=is_significant(p, alpha) and a.n >= min_n and b.n >= min_n,
        n1=a.n,
        n2=b.n,
        method=method,
    )


def compare_csat(
    k1: int,
    n1: int,
    k2: int,
    n2: int,
    *,
    alpha: float = ALPHA,
    min_n: int = 30,
    test: str = "auto",
) -> Comparison:
    """Compare two CSAT shares: group 1 minus group 2, in percentage points.

    Parameters
    ----------
    k1, n1 : int
        Top-2-box answers and all answers of group 1.
    k2, n2 : int
        The same for group 2.
    alpha : float, optional
        Significance level, default ``ALPHA`` (0.05); the interval has confidence 1 - alpha.
    min_n : int, optional
        Both groups need at least this many answers to be ``significant``; default 30.
    test : {'auto', 'z', 'fisher'}, optional
        The p-value: pooled z, Fisher's exact test, or (default) Fisher only when an
        expected cell count is below 5; see :func:`two_proportion_test`.

    Returns
    -------
    Comparison
        ``diff`` = 100 (p̂1 - p̂2); ``low``/``high`` Newcombe's hybrid score interval
        (method 10),

        .. math::

            d - \\sqrt{(\\hat p_1 - l_1)^2 + (u_2 - \\hat p_2)^2} \\;\\ldots\\;
            d + \\sqrt{(u_1 - \\hat p_1)^2 + (\\hat p_2 - l_2)^2}

        with :math:`(l_i, u_i)` the Wilson limits of each group; ``z`` the pooled z (also
        when Fisher gives the p); ``p_value`` two-sided. All ``None`` when a group is empty.

    References
    ----------
    .. [1] Newcombe R.G. (1998). Interval estimation for the difference between
           independent proportions: comparison of eleven methods. *Stat Med* 17:873-890
           (Table II, method 10).
    .. [2] Fleiss, Levin, Paik (2003), see :func:`two_proportion_test`.

    Examples
    --------
    >>> r = compare_csat(56, 70, 48, 80)
    >>> round(r.diff, 2), round(r.low, 2), round(r.high, 2)
    (20.0, 5.24, 33.39)
    """
    check_count(k1, n1, what="k1")
    check_count(k2, n2, what="k2")
    _check_alpha_min_n(alpha, min_n)
    if n1 == 0 or n2 == 0:
        return Comparison(None, None, None, None, None, False, n1, n2)
    confidence = 1.0 - alpha
    w1, w2 = wilson_interval(k1, n1, confidence), wilson_interval(k2, n2, confidence)
    # n > 0 on both sides, so both Wilson intervals exist.
    assert w1.low is not None and w1.high is not None
    assert w2.low is not None and w2.high is not None
    p1, p2 = k1 / n1, k2 / n2
    diff = p1 - p2
    low = diff - math.hypot(p1 - w1.low, w2.high - p2)
    high = diff + math.hypot(w1.high - p1, p2 - w2.low)
    result = two_proportion_test(k1, n1, k2, n2, test=test)
    p = result.p_value
    return Comparison(
        # Integer arithmetic: 56/70 - 48/80 reads 20.0, not 20.000000000000007.
        diff=100.0 * (k1 * n2 - k2 * n1) / (n1 * n2),
        low=100.0 * low,
        high=100.0 * high,
        z=result.z,
        p_value=p,
        significant=is_significant(p, alpha) and n1 >= min_n and n2 >= min_n,
        n1=n1,
        n2=n2,
        method=result.method,
    )


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), in the input order.

    Parameters
    ----------
    p_values : sequence of float
        Raw p-values on [0, 1].

    Returns
    -------
    list of float
        With :math:`p_{(1)} \\le \\dots \\le p_{(m)}`, the adjusted value of
        :math:`p_{(i)}` is :math:`\\min(1, \\min_{j \\ge i} m\\,p_{(j)}/j)`. Rejecting
        where the adjusted p < q controls the false discovery rate at q for independent
        (or positively dependent) tests. Same as
        ``scipy.stats.false_discovery_control(p_values, method="bh")``.

    References
    ----------
    .. [1] Benjamini Y., Hochberg Y. (1995). Controlling the false discovery rate: a
           practical and powerful approach to multiple testing. *JRSS B* 57:289-300.

    Examples
    --------
    >>> [round(p, 4) for p in benjamini_hochberg([0.01, 0.04, 0.03, 0.2])]
    [0.04, 0.0533, 0.0533, 0.2]
    """
    ps = [float(p) for p in p_values]
    if not all(0.0 <= p <= 1.0 for p in ps):  # also rejects NaN
        raise ValueError("p-values must lie between 0 and 1")
    m = len(ps)
    order = sorted(range(m), key=lambda i: ps[i])
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        # m / rank >= 1 first, so that rounding never takes the adjusted p below the raw one.
        running = min(running, ps[i] * (m / rank))
        adjusted[i] = running
    return adjusted
