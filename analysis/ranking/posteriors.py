"""The four posteriors of one staff member's signals (reference 3.3a-d), each shrunk toward
the store: beta-binomial for the staff item, Dirichlet for the receipt NPS, normal-normal
for mystery-shop sub-scores and gamma-Poisson for upheld complaints. Each has a vectorised
core over all staff (what ``rank_staff`` uses) and a one-person function with the
reference's worked fixture as its example, so that the fixtures test the code that ranks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from analysis.csat import check_count, check_int
from analysis.nps import check_counts
from analysis.ranking.model import (
    HIGH_P,
    LOW_P,
    PER_1000,
    Z90,
    Floats,
    Posterior,
    check_positive,
    check_share,
    is_finite,
)
from analysis.ranking.nps_quantiles import nps_moments, nps_quantiles
from analysis.results import NpsCounts


@dataclass(frozen=True, slots=True)
class Post:
    """One signal's posterior for every staff member: arrays in the signal's units."""

    estimate: Floats
    sd: Floats
    low: Floats
    high: Floats
    omega: Floats


def beta_post(x: Floats, n: Floats, mu: Floats, m: float) -> Post:
    a = x + m * mu
    b = (n - x) + m * (1.0 - mu)
    s = a + b
    est = a / s
    sd = np.sqrt(a * b / (s * s * (s + 1.0)))
    # A prior mean of exactly 0 or 1 (a chain where every answer agreed) is a point mass.
    proper = (a > 0) & (b > 0)
    a_ok = np.where(proper, a, 1.0)
    b_ok = np.where(proper, b, 1.0)
    low = np.where(proper, special.betaincinv(a_ok, b_ok, LOW_P), est)
    high = np.where(proper, special.betaincinv(a_ok, b_ok, HIGH_P), est)
    return Post(est, sd, low, high, n / (n + m))


def dirichlet_nps_post(
    promoters: Floats, passives: Floats, detractors: Floats, shares: Floats, m: float
) -> Post:
    """``shares`` is (N, 3) or (3,): promoter, passive, detractor prior shares."""
    a = np.stack([promoters, passives, detractors], axis=-1) + m * shares
    alpha = np.ascontiguousarray(np.broadcast_to(a, np.broadcast_shapes(a.shape, (1, 3))))
    mean, sd, _ = nps_moments(alpha)
    low, high = nps_quantiles(alpha, (LOW_P, HIGH_P))
    n = promoters + passives + detractors
    return Post(100.0 * mean, 100.0 * sd, 100.0 * low, 100.0 * high, n / (n + m))


def normal_post(total: Floats, k: Floats, mu: Floats, sigma: float, tau: float) -> Post:
    data_precision = k / (sigma * sigma)
    precision = 1.0 / (tau * tau) + data_precision
    # (mu/tau^2 + sum y/sigma^2)/precision = B mu + (1 - B) ybar with 1 - B = omega.
    est = (mu / (tau * tau) + total / (sigma * sigma)) / precision
    sd = 1.0 / np.sqrt(precision)
    return Post(est, sd, est - Z90 * sd, est + Z90 * sd, data_precision / precision)


def gamma_post(c: Floats, exposure: Floats, rate: Floats, kappa: float) -> Post:
    """Rates per transaction in, per 1000 transactions out."""
    shape = c + kappa * rate
    scale = PER_1000 / (exposure + kappa)
    est = shape * scale
    proper = shape > 0
    shape_ok = np.where(proper, shape, 1.0)
    # scipy answers NaN for a subnormal shape (below 2.2e-308), whose percentiles underflow
    # to 0 anyway; every other shape gets scipy's value unchanged.
    low_q = np.nan_to_num(special.gammaincinv(shape_ok, LOW_P), nan=0.0)
    high_q = np.nan_to_num(special.gammaincinv(shape_ok, HIGH_P), nan=0.0)
    low = np.where(proper, low_q * scale, 0.0)
    high = np.where(proper, high_q * scale, 0.0)
    return Post(est, np.sqrt(shape) * scale, low, high, exposure / (exposure + kappa))


def shrink(totals: Floats, counts: Floats, chain_mean: float, strength: float) -> Floats:
    return (totals + strength * chain_mean) / (counts + strength)


def _first(post: Post, n: int, raw: float | None) -> Posterior:
    return Posterior(
        estimate=float(post.estimate[0]),
        sd=float(post.sd[0]),
        low=float(post.low[0]),
        high=float(post.high[0]),
        n=n,
        omega=float(post.omega[0]),
        raw=raw,
    )


def as_array(x: float) -> Floats:
    return np.array([float(x)])


def beta_binomial_estimate(x: int, n: int, mu: float, m: float) -> Posterior:
    """Customer signal: x of n answers 4-5, shrunk toward the store mean mu (reference 3.3a).

    Parameters
    ----------
    x, n : int
        Satisfied answers (4-5 on the staff item) and all answers, ``0 <= x <= n``.
    mu : float
        The store's (chain-shrunk) share of 4-5 answers, 0..1.
    m : float
        Prior strength in pseudo-answers, > 0.

    Returns
    -------
    Posterior
        Proportions on 0..1.

    Notes
    -----
    Prior Beta(m mu, m (1 - mu)), posterior Beta(x + m mu, n - x + m (1 - mu)):

    .. math::

        \\hat\\theta = \\frac{x + m\\mu}{n + m}, \\qquad
        \\omega = \\frac{n}{n + m},

    ``low``/``high`` the exact 10th/90th percentiles of the posterior
    (``scipy.special.betaincinv``). The estimate is the IMDb "true Bayesian estimate"
    v/(v + m) R + m/(v + m) C: everyone starts with m answers at the store's average.

    References
    ----------
    .. [1] ``mystery-and-awards.md`` 3.3a and fixture 3.4.
    .. [2] Robinson D. (2015), Understanding empirical Bayes estimation. varianceexplained.org.

    Examples
    --------
    >>> a, b = beta_binomial_estimate(3, 3, 0.85, 20), beta_binomial_estimate(270, 300, 0.85, 20)
    >>> round(a.estimate, 4), round(a.low, 4), round(a.omega, 3)
    (0.8696, 0.7758, 0.13)
    >>> round(b.estimate, 4), round(b.low, 4), round(b.omega, 3)
    (0.8969, 0.8746, 0.938)
    """
    check_count(x, n, what="x")
    check_share(mu, "mu")
    check_positive(m, "m")
    post = beta_post(as_array(x), as_array(n), as_array(mu), float(m))
    return _first(post, n, x / n if n else None)


def dirichlet_nps_estimate(
    counts: NpsCounts, shares: tuple[float, float, float], m: float
) -> Posterior:
    """Receipt NPS shrunk toward the store's mix of answers (reference 3.3b).

    Parameters
    ----------
    counts : NpsCounts
        The person's promoters, passives and detractors.
    shares : tuple of float
        The store's (chain-shrunk) promoter, passive and detractor shares, summing to 1.
    m : float
        Prior strength in pseudo-answers, > 0.

    Returns
    -------
    Posterior
        In NPS points on -100..100.

    Notes
    -----
    Posterior Dirichlet(P + m pi_P, Pa + m pi_Pa, D + m pi_D):

    .. math::

        \\widehat{NPS} = 100\\,\\frac{(P + m\\pi_P) - (D + m\\pi_D)}{n + m}.

    The SD is the exact Dirichlet SD of p_P - p_D; ``low``/``high`` are the exact
    10th/90th percentiles of p_P - p_D, its CDF integrated numerically over the detractor
    share and inverted by a root search
    (:func:`analysis.ranking.nps_quantiles.nps_quantiles`; instead of the reference's
    posterior draws, and of the Cornish-Fisher approximation used before).

    References
    ----------
    .. [1] ``mystery-and-awards.md`` 3.3b and fixture 3.4; ``statistics.md`` section 4.
    .. [2] Kun J. (2017). Bayesian ranking for rated items. jeremykun.com.

    Examples
    --------
    >>> e = dirichlet_nps_estimate(NpsCounts(3, 0, 0), (0.55, 0.30, 0.15), 20)
    >>> round(e.estimate, 2), e.raw, round(e.omega, 3)
    (47.83, 100.0, 0.13)
    """
    check_counts(counts)
    if not isinstance(shares, tuple) or len(shares) != 3:
        raise ValueError("shares must be a tuple (promoter, passive, detractor)")
    for share in shares:
        check_share(share, "each share")
    if abs(sum(shares) - 1.0) > 1e-9:
        raise ValueError(f"shares must sum to 1, got {sum(shares)!r}")
    check_positive(m, "m")
    post = dirichlet_nps_post(
        as_array(counts.promoters),
        as_array(counts.passives),
        as_array(counts.detractors),
        np.array(shares, dtype=np.float64),
        float(m),
    )
    raw = 100.0 * (counts.promoters - counts.detractors) / counts.n if counts.n else None
    return _first(post, counts.n, raw)


def normal_normal_estimate(
    scores: Sequence[float], mu: float, sigma: float, tau: float
) -> Posterior:
    """Mystery-shop sub-scores shrunk toward the store's mystery mean (reference 3.3c).

    Parameters
    ----------
    scores : sequence of float
        The person's staff-attributable sub-scores (0..100) of the period's final visits.
    mu : float
        The store's (chain-shrunk) mean sub-score.
    sigma : float
        Visit-to-visit SD within a person, > 0.
    tau : float
        Between-staff SD of the true score, > 0.

    Returns
    -------
    Posterior
        In score points; ``omega`` = 1 - B.

    Notes
    -----
    With k visits of mean ybar,

    .. math::

        B = \\frac{\\sigma^2/k}{\\tau^2 + \\sigma^2/k}, \\quad
        \\hat\\theta = B\\mu + (1 - B)\\bar y, \\quad
        SD = (1/\\tau^2 + k/\\sigma^2)^{-1/2},

    and the 10th/90th percentiles of that normal posterior. No visit gives mu (no
    benefit, no penalty) with SD tau.

    References
    ----------
    .. [1] ``mystery-and-awards.md`` 3.3c and fixture 3.4.
    .. [2] Efron B., Morris C. (1975). *JASA* 70:311-319.

    Examples
    --------
    >>> e = normal_normal_estimate([95.0], 80.0, 15.0, 8.0)
    >>> round(e.estimate, 2), round(e.sd, 2), round(1 - e.omega, 4)
    (83.32, 7.06, 0.7785)
    """
    values = tuple(scores)
    for y in values:
        if not is_finite(y):
            raise ValueError(f"scores must be finite numbers, got {y!r}")
    if not is_finite(mu):
        raise ValueError(f"mu must be a finite number, got {mu!r}")
    check_positive(sigma, "sigma")
    check_positive(tau, "tau")
    k = len(values)
    total = float(sum(values))
    post = normal_post(as_array(total), as_array(k), as_array(mu), float(sigma), float(tau))
    return _first(post, k, total / k if k else None)


def gamma_poisson_estimate(
    complaints: int, transactions: int, rate_per_1000: float, kappa: float = 2000.0
) -> Posterior:
    """Upheld complaints per 1000 transactions, shrunk toward the store's rate (3.3d).

    Parameters
    ----------
    complaints : int
        Upheld complaints against the person in the period.
    transactions : int
        Receipts they issued in the period (the exposure).
    rate_per_1000 : float
        The store's (chain-shrunk) upheld-complaint rate per 1000 transactions, >= 0.
    kappa : float, optional
        Prior exposure in pseudo-transactions, default 2000.

    Returns
    -------
    Posterior
        Per 1000 transactions; ``n`` = transactions; lower is better.

    Notes
    -----
    Prior Gamma(kappa r, rate kappa), posterior Gamma(c + kappa r, T + kappa):

    .. math::

        \\hat\\lambda = \\frac{c + \\kappa r}{T + \\kappa}, \\qquad
        \\omega = \\frac{T}{T + \\kappa},

    with the exact 10th/90th percentiles of the posterior Gamma.

    References
    ----------
    .. [1] ``mystery-and-awards.md`` 3.3d and fixture 3.4.

    Examples
    --------
    >>> [round(gamma_poisson_estimate(c, t, 0.5).estimate, 3) for c, t in [(0, 300), (2, 4000)]]
    [0.435, 0.5]
    """
    check_int(complaints, "complaints")
    check_int(transactions, "transactions")
    if not is_finite(rate_per_1000) or rate_per_1000 < 0:
        raise ValueError(f"rate_per_1000 must be a finite number >= 0, got {rate_per_1000!r}")
    check_positive(kappa, "kappa")
    post = gamma_post(
        as_array(complaints),
        as_array(transactions),
        as_array(rate_per_1000 / PER_1000),
        float(kappa),
    )
    raw = PER_1000 * complaints / transactions if transactions else None
    return _first(post, transactions, raw)
