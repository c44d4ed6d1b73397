"""Net Promoter Score: the point value, its per-respondent variance and its interval.

NPS = 100 (P - D)/n in points on -100..100, shown raw; no answers means no NPS (``None``),
never 0. The recommended 95 % interval is the adjusted Wald (+0.75 promoter, +1.5 passive,
+0.75 detractor). Comparisons of two NPS live in :mod:`analysis.compare`.
"""

from __future__ import annotations

import math

from scipy.stats import t as student_t

from analysis.csat import check_int, two_sided_z
from analysis.results import Estimate, NpsCounts

#: Pseudo-answers of the adjusted Wald (promoters, passives, detractors): Rocks (2016),
#: MeasuringU; three answers in all, split 1:2:1.
PSEUDO_PROMOTERS = 0.75
PSEUDO_PASSIVES = 1.5
PSEUDO_DETRACTORS = 0.75

NPS_METHODS = ("adjusted_wald", "wald", "t")


def check_counts(c: NpsCounts) -> None:
    """Raise ``ValueError`` unless the three counts are non-negative integers."""
    for name in ("promoters", "passives", "detractors"):
        check_int(getattr(c, name), name)


def nps_point(c: NpsCounts) -> float | None:
    """Net Promoter Score in points.

    Parameters
    ----------
    c : NpsCounts
        Promoters (9-10), passives (7-8) and detractors (0-6).

    Returns
    -------
    float or None
        :math:`100 (P - D)/n` on -100..100, ``None`` when ``n == 0``.

    References
    ----------
    .. [1] Reichheld F. (2003). The one number you need to grow. *Harvard Business Review*.

    Examples
    --------
    >>> nps_point(NpsCounts(promoters=3, passives=2, detractors=1))
    33.333333333333336
    """
    check_counts(c)
    if c.n == 0:
        return None
    return 100.0 * (c.promoters - c.detractors) / c.n


def _shares_variance(promoters: float, detractors: float, n: float) -> tuple[float, float]:
    """NPS on the -1..1 scale and the per-respondent variance, from (possibly adjusted)
    counts: v = pP + pD - (pP - pD)^2."""
    p_p = promoters / n
    p_d = detractors / n
    centre = p_p - p_d
    # Clamp a rounding-level negative (all answers in one class) to 0.
    return centre, max(0.0, p_p + p_d - centre * centre)


def nps_variance(c: NpsCounts) -> float | None:
    """Per-respondent variance of the NPS, on the -1..1 scale.

    Parameters
    ----------
    c : NpsCounts
        The answers.

    Returns
    -------
    float or None
        :math:`v = \\hat p_P + \\hat p_D - (\\hat p_P - \\hat p_D)^2`, the variance of the
        scores recoded +1/0/-1 (population form, divisor n); ``None`` when ``n == 0``. The
        standard error of the NPS in points is :math:`100\\sqrt{v/n}`.

    Notes
    -----
    Var(p̂P) + Var(p̂D) - 2 Cov(p̂P, p̂D) with Cov = -pP pD / n, times n. Subtracting two
    independent intervals instead drops the covariance and is too narrow.

    References
    ----------
    .. [1] Rocks B. (2016). Interval estimation for the "Net Promoter Score". *The American
           Statistician* 70(4):365-372.
    .. [2] Engelhardt A. (2016). Net Promoter Score confidence intervals 2: maths and stats.
           cybaea.net.

    Examples
    --------
    >>> round(nps_variance(NpsCounts(promoters=3, passives=2, detractors=1)), 4)
    0.5556
    """
    check_counts(c)
    if c.n == 0:
        return None
    return _shares_variance(c.promoters, c.detractors, c.n)[1]


def adjusted_shares(c: NpsCounts) -> tuple[float, float, float]:
    """The adjusted-Wald centre and variance: ``(c, v', n')`` on the -1..1 scale.

    Parameters
    ----------
    c : NpsCounts
        The answers (``n`` may be 0).

    Returns
    -------
    tuple of float
        :math:`n' = n + 3`, :math:`p'_P = (P + 0.75)/n'`, :math:`p'_D = (D + 0.75)/n'`,
        :math:`c = p'_P - p'_D` and :math:`v' = p'_P + p'_D - c^2`.

    References
    ----------
    .. [1] Rocks B. (2016), see :func:`nps_variance`; R package *NPS*,
           ``nps_test(test = "adjusted.wald", pseudo_observations = c(0.75, 1.5, 0.75))``.
    """
    check_counts(c)
    n_adj = c.n + PSEUDO_PROMOTERS + PSEUDO_PASSIVES + PSEUDO_DETRACTORS
    centre, var = _shares_variance(
        c.promoters + PSEUDO_PROMOTERS, c.detractors + PSEUDO_DETRACTORS, n_adj
    )
    return centre, var, n_adj


def _clip(x: float) -> float:
    return min(100.0, max(-100.0, x))


def nps_interval(c: NpsCounts, confidence: float = 0.95, method: str = "adjusted_wald") -> Estimate:
    """NPS with its two-sided confidence interval, in points.

    Parameters
    ----------
    c : NpsCounts
        The answers.
    confidence : float, optional
        Two-sided confidence level, default 0.95.
    method : {'adjusted_wald', 'wald', 't'}, optional
        'adjusted_wald' (default, recommended) :
            Add 0.75 promoter, 1.5 passive and 0.75 detractor (n' = n + 3) and take the
            trinomial Wald interval on the adjusted shares,
            :math:`100 (c \\pm z\\sqrt{v'/n'})`, clipped to [-100, 100] after computing.
            The point is the **raw** NPS; c is only the interval's centre ([1]_, [2]_).
        'wald' :
            :math:`\\text{NPS} \\pm 100 z \\sqrt{v/n}`, clipped to [-100, 100]. Zero-width
            whenever every answer falls in one class; under-covers at high NPS.
        't' :
            Student t on the scores recoded +1/0/-1: sample SD (divisor n - 1), n - 1
            degrees of freedom ([3]_). Not clipped, so its limits can leave -100..100,
            one reason it is not the default; needs n >= 2.

    Returns
    -------
    Estimate
        ``value`` = raw NPS, ``low``/``high`` the interval, ``n`` the answers. With
        ``n == 0`` every figure is ``None``; with the 't' method and ``n == 1`` the limits
        are ``None``.

    Notes
    -----
    Exact coverage of the adjusted Wald is 0.93-0.97 for n = 10..100 where the plain Wald
    falls to 0.65 (statistics reference, section 1). At n = 1 the adjusted interval does
    not contain the raw NPS (one promoter: -48.50 .. 98.50); from n = 2 on it always does.
    Observing the same mix with more answers never widens it.

    References
    ----------
    .. [1] Rocks B. (2016). Interval estimation for the "Net Promoter Score". *The American
           Statistician* 70(4):365-372; R package *NPS* (``nps_test``).
    .. [2] Lewis J., Sauro J. Confidence intervals for Net Promoter Scores. MeasuringU.
    .. [3] Displayr. Statistical testing for Net Promoter Score.

    Examples
    --------
    >>> e = nps_interval(NpsCounts(promoters=40, passives=30, detractors=30))
    >>> e.value, round(e.low, 4), round(e.high, 4), e.n
    (10.0, -6.2719, 25.6894, 100)
    """
    check_counts(c)
    if method not in NPS_METHODS:
        raise ValueError(f"method must be one of {', '.join(NPS_METHODS)}; got {method!r}")
    z = two_sided_z(confidence)
    n = c.n
    point = nps_point(c)
    if point is None:
        return Estimate(value=None, low=None, high=None, n=0)
    if method == "adjusted_wald":
        centre, var, n_adj = adjusted_shares(c)
        half = z * math.sqrt(var / n_adj)
        return Estimate(
            value=point,
            low=_clip(100.0 * (centre - half)),
            high=_clip(100.0 * (centre + half)),
            n=n,
        )
    var = _shares_variance(c.promoters, c.detractors, n)[1]
    if method == "wald":
        half = 100.0 * z * math.sqrt(var / n)
        return Estimate(value=point, low=_clip(point - half), high=_clip(point + half), n=n)
    # method == "t": the sample SD of the +1/0/-1 scores has divisor n - 1.
    if n < 2:
        return Estimate(value=point, low=None, high=None, n=n)
    t_crit = float(student_t.ppf(0.5 + confidence / 2.0, n - 1))
    half = 100.0 * t_crit * math.sqrt(var / (n - 1))
    return Estimate(value=point, low=point - half, high=point + half, n=n)


def nps_margin_of_error(
    n: int, promoter_share: float, detractor_share: float, confidence: float = 0.95
) -> float:
    """Planned margin of error (half-width, points) of an NPS from n answers at a given mix.

    For choosing a minimum n, not for reporting an observed NPS (use :func:`nps_interval`).

    Parameters
    ----------
    n : int
        Answers, >= 1.
    promoter_share, detractor_share : float
        The assumed shares on 0..1, summing to at most 1. The worst case is 0.5 and 0.5.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    float
        :math:`100 z \\sqrt{(p_P + p_D - (p_P - p_D)^2)/n}`.

    References
    ----------
    .. [1] Rocks B. (2016), see :func:`nps_interval`.

    Examples
    --------
    >>> round(nps_margin_of_error(30, 0.55, 0.15), 1)
    26.3
    """
    check_int(n, "n", minimum=1)
    for name, share in (("promoter_share", promoter_share), ("detractor_share", detractor_share)):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {share!r}")
    if promoter_share + detractor_share > 1.0 + 1e-12:
        raise ValueError("promoter_share + detractor_share must not exceed 1")
    z = two_sided_z(confidence)
    var = _shares_variance(promoter_share, detractor_share, 1.0)[1]
    return 100.0 * z * math.sqrt(var / n)
