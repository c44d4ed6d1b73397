"""The composite of reference 3.3e: each signal on the scale of between-staff standard
deviations (z = (theta - chain mean)/tau, complaints negated so that higher is always
better), their weighted sum Q, and its cautious bound Q10 = Q - 1.2816 SD(Q) from the
normal approximation. Also the four signals of all staff built on that scale, and the
weights shared out when a signal has no data anywhere in the chain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analysis.ranking.model import (
    PER_1000,
    Z90,
    Bools,
    CompositeScore,
    Floats,
    Ints,
    Posterior,
    RankingParameters,
    check_positive,
    is_finite,
)
from analysis.ranking.posteriors import (
    Post,
    as_array,
    beta_post,
    dirichlet_nps_post,
    gamma_post,
    normal_post,
    shrink,
)


def combine_z(z: Floats, z_sd: Floats, weights: Floats) -> tuple[Floats, Floats]:
    """Q = sum w z and its normal-approximation SD, for (3, N) arrays."""
    q = weights @ z
    sd = np.sqrt((weights * weights) @ (z_sd * z_sd))
    return q, sd


def _z(
    estimate: Floats, sd: Floats, chain_mean: float, tau: float, sign: float
) -> tuple[Floats, Floats]:
    # A chain with no spread on a signal (tau = 0) cannot tell its staff apart on it.
    if not tau > 0 or not math.isfinite(chain_mean):
        zeros = np.zeros_like(estimate)
        return zeros, zeros
    return sign * (estimate - chain_mean) / tau, sd / tau


def composite_score(
    customer: Posterior,
    mystery: Posterior,
    complaints: Posterior,
    *,
    chain_means: tuple[float, float, float],
    taus: tuple[float, float, float],
    weights: tuple[float, float, float] = (0.5, 0.3, 0.2),
) -> CompositeScore:
    """The composite of one person from their three posteriors (reference 3.3e).

    Parameters
    ----------
    customer, mystery, complaints : Posterior
        From :func:`beta_binomial_estimate` (or :func:`dirichlet_nps_estimate`),
        :func:`normal_normal_estimate` and :func:`gamma_poisson_estimate`.
    chain_means, taus : tuple of float
        Chain mean and between-staff SD of the true value of each signal, in the
        posteriors' units (complaints per 1000 transactions).
    weights : tuple of float, optional
        Customer, mystery, complaints; >= 0, normalised; default (0.5, 0.3, 0.2).

    Returns
    -------
    CompositeScore
        Q, its SD and the 10th/90th percentiles, in z units.

    Notes
    -----
    .. math::

        z_k = s_k\\frac{\\hat\\theta_k - \\mu_{chain,k}}{\\tau_k},\\quad
        Q = \\sum_k w_k z_k,\\quad
        SD(Q)^2 = \\sum_k w_k^2 (SD_k/\\tau_k)^2,\\quad
        Q_{10} = Q - 1.2816\\,SD(Q),

    s = +1, +1, -1 (fewer complaints is better); the components are independent and the
    bound is the normal approximation, as in the fixture of 3.4. This is the function
    :func:`rank_staff` applies to every row, with the chain means and taus it estimates.

    References
    ----------
    .. [1] ``mystery-and-awards.md`` 3.3e and fixture 3.4.
    .. [2] OECD/JRC (2008). *Handbook on Constructing Composite Indicators*.

    Examples
    --------
    >>> from analysis.ranking.posteriors import (
    ...     beta_binomial_estimate, gamma_poisson_estimate, normal_normal_estimate)
    >>> q = composite_score(beta_binomial_estimate(270, 300, 0.85, 20),
    ...                     normal_normal_estimate([95.0], 80.0, 15.0, 8.0),
    ...                     gamma_poisson_estimate(2, 4000, 0.5),
    ...                     chain_means=(0.85, 80.0, 0.5), taus=(0.063, 8.0, 0.5))
    >>> round(q.value, 3), round(q.sd, 3), round(q.q10, 3)
    (0.497, 0.319, 0.088)
    """
    w = np.array(RankingParameters(weights=weights).normalised_weights())
    for triple, name in ((chain_means, "chain_means"), (taus, "taus")):
        if len(triple) != 3 or not all(is_finite(v) for v in triple):
            raise ValueError(f"{name} must be 3 finite numbers")
    for each in taus:
        check_positive(each, "each tau")
    rows = []
    for post, mean, tau, sign in zip(
        (customer, mystery, complaints), chain_means, taus, (1.0, 1.0, -1.0), strict=True
    ):
        rows.append(_z(as_array(post.estimate), as_array(post.sd), float(mean), float(tau), sign))
    z = np.stack([r[0] for r in rows])
    z_sd = np.stack([r[1] for r in rows])
    q, sd = combine_z(z, z_sd, w)
    value, spread = float(q[0]), float(sd[0])
    return CompositeScore(value, spread, value - Z90 * spread, value + Z90 * spread)


@dataclass(frozen=True, slots=True)
class Signal:
    """One signal for all staff (canonical order), already on the z scale."""

    name: str
    post: Post
    z: Floats
    z_sd: Floats
    chain_mean: float
    tau: float
    chain_n: int
    available: bool


def _unavailable(name: str, size: int) -> Signal:
    nan = np.full(size, np.nan)
    zeros = np.zeros(size)
    return Signal(name, Post(nan, nan, nan, nan, zeros), zeros, zeros, math.nan, 0.0, 0, False)


def _store_means(
    store: Ints, n_stores: int, totals: Floats, counts: Floats, chain_mean: float, strength: float
) -> Floats:
    """Each person's store mean (the whole store, the person included), shrunk to the chain."""
    store_totals: Floats = np.bincount(store, weights=totals, minlength=n_stores).astype(np.float64)
    store_counts: Floats = np.bincount(store, weights=counts, minlength=n_stores).astype(np.float64)
    return shrink(store_totals, store_counts, chain_mean, strength)[store]


def customer_signal_of(
    x: Floats, n: Floats, store: Ints, n_stores: int, m: float, m_store: float
) -> Signal:
    chain_n = float(n.sum())
    if chain_n == 0:
        return _unavailable("customer", len(n))
    mu = float(x.sum()) / chain_n
    post = beta_post(x, n, _store_means(store, n_stores, x, n, mu, m_store), m)
    tau = math.sqrt(mu * (1.0 - mu) / (m + 1.0))
    z, z_sd = _z(post.estimate, post.sd, mu, tau, 1.0)
    return Signal("customer", post, z, z_sd, mu, tau, int(chain_n), True)


def nps_signal(counts: Floats, store: Ints, n_stores: int, m: float, m_store: float) -> Signal:
    """``counts`` is (N, 3): promoters, passives, detractors."""
    n = counts.sum(axis=1)
    chain_n = float(n.sum())
    if chain_n == 0:
        return _unavailable("nps", len(n))
    chain = counts.sum(axis=0) / chain_n
    shares = np.stack(
        [
            _store_means(store, n_stores, counts[:, j], n, float(chain[j]), m_store)
            for j in range(3)
        ],
        axis=-1,
    )
    post = dirichlet_nps_post(counts[:, 0], counts[:, 1], counts[:, 2], shares, m)
    p_p, p_d = float(chain[0]), float(chain[2])
    mean = 100.0 * (p_p - p_d)
    tau = 100.0 * math.sqrt(max(0.0, p_p + p_d - (p_p - p_d) ** 2) / (m + 1.0))
    z, z_sd = _z(post.estimate, post.sd, mean, tau, 1.0)
    return Signal("nps", post, z, z_sd, mean, tau, int(chain_n), True)


def mystery_signal(
    k: Floats, totals: Floats, store: Ints, n_stores: int, sigma: float, tau: float, m_store: float
) -> Signal:
    visits = float(k.sum())
    if visits == 0:
        return _unavailable("mystery", len(k))
    mu = float(totals.sum()) / visits
    post = normal_post(totals, k, _store_means(store, n_stores, totals, k, mu, m_store), sigma, tau)
    z, z_sd = _z(post.estimate, post.sd, mu, tau, 1.0)
    return Signal("mystery", post, z, z_sd, mu, tau, int(visits), True)


def complaints_signal(
    c: Floats, exposure: Floats, store: Ints, n_stores: int, kappa: float
) -> Signal:
    chain_t = float(exposure.sum())
    if chain_t == 0:
        return _unavailable("complaints", len(c))
    rate = float(c.sum()) / chain_t
    # The store rate is shrunk with the same kappa: a store-month has tens of thousands of
    # transactions, so this only matters for a store that barely traded.
    post = gamma_post(c, exposure, _store_means(store, n_stores, c, exposure, rate, kappa), kappa)
    mean, tau = PER_1000 * rate, PER_1000 * math.sqrt(rate / kappa)
    z, z_sd = _z(post.estimate, post.sd, mean, tau, -1.0)
    return Signal("complaints", post, z, z_sd, mean, tau, int(chain_t), True)


def share_weights(weights: Floats, available: Bools) -> Floats:
    """The weights of the signals with data, renormalised to sum to 1: a signal with no data
    anywhere in the chain shares its weight among the others."""
    w = np.where(available, weights, 0.0)
    total = float(w.sum())
    return w / total if total > 0 else w


@dataclass(frozen=True, slots=True)
class CompositeParts:
    """Everyone's composite, canonical order: which customer signal each person uses
    (``use_nps``) and its n, the (3, N) z scores and their SDs, the weights before
    (``base``) and after sharing out missing signals, Q with its SD and 10th/90th
    percentiles."""

    use_nps: Bools
    n_used: Floats
    z: Floats
    z_sd: Floats
    available: Bools
    base: Floats
    weights: Floats
    q: Floats
    q_sd: Floats
    q10: Floats
    q90: Floats


def combine(
    customer: Signal,
    nps: Signal,
    mystery: Signal,
    complaints: Signal,
    n: Floats,
    nps_n: Floats,
    parameters: RankingParameters,
) -> CompositeParts:
    """The composite of every person from the four signals; ``n`` and ``nps_n`` are each
    person's staff-item and NPS answers."""
    # The NPS stands in for the staff item only for people with no staff-item answers (or
    # for everyone when the chain has none): an overall score is not about the cashier.
    use_nps = (n == 0) & nps.available & ((nps_n > 0) | (not customer.available))
    n_used = np.where(use_nps, nps_n, n)
    z = np.stack([np.where(use_nps, nps.z, customer.z), mystery.z, complaints.z])
    z_sd = np.stack([np.where(use_nps, nps.z_sd, customer.z_sd), mystery.z_sd, complaints.z_sd])
    available = np.array(
        [customer.available or nps.available, mystery.available, complaints.available]
    )
    base = np.array(parameters.normalised_weights())
    w = share_weights(base, available)
    q, q_sd = combine_z(z, z_sd, w)
    # The bounds add each signal's distance from its estimate to its 10th (90th)
    # percentile, on the z scale: Z90 SD for the normal approximation of the reference,
    # and for a person ranked on the NPS the distance to the exact percentile of the
    # skewed Dirichlet posterior, so that near the cut the exact bound decides.
    below = Z90 * z_sd
    above = Z90 * z_sd
    if nps.available and nps.tau > 0:
        nps_below = (nps.post.estimate - nps.post.low) / nps.tau
        nps_above = (nps.post.high - nps.post.estimate) / nps.tau
        below[0] = np.where(use_nps, nps_below, below[0])
        above[0] = np.where(use_nps, nps_above, above[0])
    q10 = q - np.sqrt((w * w) @ (below * below))
    q90 = q + np.sqrt((w * w) @ (above * above))
    return CompositeParts(use_nps, n_used, z, z_sd, available, base, w, q, q_sd, q10, q90)
