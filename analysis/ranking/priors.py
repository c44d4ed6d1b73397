"""The priors of the staff ranking, fitted by the method of moments (reference 3.3a, 3.3c):
the beta-binomial prior strength m, the store means shrunk toward the chain, and the
mystery-shop spreads sigma (visit to visit) and tau (between staff), each with the
fallback the reference prescribes when a month holds too little data to fit it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from analysis.csat import check_count, check_int
from analysis.ranking.model import Floats, RankingParameters, check_positive, is_finite
from analysis.ranking.posteriors import shrink

DEFAULT_PRIOR_STRENGTH = 20.0
PRIOR_STRENGTH_BOUNDS = (5.0, 100.0)
MIN_TRIALS_FOR_FIT = 30
MIN_STAFF_FOR_FIT = 30
DEFAULT_MYSTERY_SIGMA = 15.0
DEFAULT_MYSTERY_TAU = 8.0
MYSTERY_SPREAD_BOUNDS = (1.0, 50.0)
MIN_MYSTERY_DF = 20
MIN_MYSTERY_STAFF = 30


def _fit_m(x: Floats, n: Floats, min_trials: int, min_staff: int) -> float | None:
    used = n >= min_trials
    if int(used.sum()) < min_staff:
        return None
    x, n = x[used], n[used]
    total = float(n.sum())
    mu = float(x.sum()) / total
    binomial = mu * (1.0 - mu)
    lo, hi = PRIOR_STRENGTH_BOUNDS
    if binomial == 0.0:
        # Everyone at 0 % or 100 %: no spread to see, so the strongest allowed prior.
        return hi
    var_w = float((n * (x / n - mu) ** 2).sum()) / total
    # mean_w(mu(1 - mu)/n_i) with weights n_i is (staff count) mu(1 - mu)/sum n.
    tau2 = max(1e-12, var_w - len(n) * binomial / total)
    return min(hi, max(lo, binomial / tau2 - 1.0))


def fit_prior_strength(
    successes: Sequence[int],
    trials: Sequence[int],
    *,
    min_trials: int = MIN_TRIALS_FOR_FIT,
    min_staff: int = MIN_STAFF_FOR_FIT,
) -> float | None:
    """Prior strength m of the beta-binomial by the method of moments (reference 3.3a).

    Parameters
    ----------
    successes, trials : sequence of int
        Each staff member's answers of 4-5 and all answers, chain-wide.
    min_trials : int, optional
        Only staff with at least this many answers are used, default 30.
    min_staff : int, optional
        Fewer such staff give ``None`` (the caller uses the default m = 20), default 30.

    Returns
    -------
    float or None
        m clamped to [5, 100].

    Notes
    -----
    With weights n_i over the staff used,

    .. math::

        \\hat\\mu = \\frac{\\sum x_i}{\\sum n_i},\\quad
        \\hat\\tau^2 = \\max\\Big(\\varepsilon,\\ \\mathrm{Var}_w(\\hat p_i)
            - \\mathrm{mean}_w\\frac{\\hat\\mu(1-\\hat\\mu)}{n_i}\\Big),\\quad
        m = \\frac{\\hat\\mu(1-\\hat\\mu)}{\\hat\\tau^2} - 1,

    the observed spread of the rates minus the part binomial noise explains. When every
    answer agrees (mu = 0 or 1) there is no spread to see and m = 100.

    References
    ----------
    .. [1] ``mystery-and-awards.md`` 3.3a.
    .. [2] Robinson D. (2015), varianceexplained.org (fits the prior by maximum
           likelihood instead; either is acceptable per the reference).

    Examples
    --------
    >>> fit_prior_strength([27, 45], [30, 50]) is None
    True
    """
    check_int(min_trials, "min_trials", minimum=1)
    check_int(min_staff, "min_staff", minimum=2)
    if len(successes) != len(trials):
        raise ValueError("successes and trials must have the same length")
    for x, n in zip(successes, trials, strict=True):
        check_count(x, n, what="successes")
    x_arr = np.asarray(successes, dtype=np.float64)
    n_arr = np.asarray(trials, dtype=np.float64)
    return _fit_m(x_arr, n_arr, min_trials, min_staff)


def shrink_store_means(
    totals: Sequence[float], counts: Sequence[float], chain_mean: float, strength: float
) -> tuple[float, ...]:
    """Store means shrunk toward the chain, so that a tiny store does not drag its staff.

    Parameters
    ----------
    totals, counts : sequence of float
        Per store: the sum of the signal (satisfied answers, promoters, visit scores,
        complaints) and its count (answers, visits, transactions).
    chain_mean : float
        The chain's pooled mean of the signal.
    strength : float
        Pseudo-observations at the chain mean, > 0 (``store_prior_strength``; kappa for
        complaints).

    Returns
    -------
    tuple of float
        :math:`\\mu_j = (X_j + m_{store}\\,\\mu_{chain})/(N_j + m_{store})` per store.

    References
    ----------
    .. [1] ``mystery-and-awards.md`` 3.3a (two-level shrinkage).

    Examples
    --------
    >>> [round(v, 4) for v in shrink_store_means([0, 900], [0, 1000], 0.85, 20)]
    [0.85, 0.899]
    """
    if len(totals) != len(counts):
        raise ValueError("totals and counts must have the same length")
    for value in (*totals, *counts, chain_mean):
        if not is_finite(value):
            raise ValueError(f"values must be finite numbers, got {value!r}")
    if any(c < 0 for c in counts):
        raise ValueError("counts must be >= 0")
    check_positive(strength, "strength")
    out = shrink(
        np.asarray(totals, dtype=np.float64),
        np.asarray(counts, dtype=np.float64),
        float(chain_mean),
        float(strength),
    )
    return tuple(out.tolist())


def _clamp_spread(value: float) -> float:
    lo, hi = MYSTERY_SPREAD_BOUNDS
    return min(hi, max(lo, value))


def _fit_sigma(k: Floats, within_ss: Floats) -> float | None:
    df = float((k - 1.0)[k >= 2].sum())
    if df < MIN_MYSTERY_DF:
        return None
    return _clamp_spread(math.sqrt(float(within_ss.sum()) / df))


def _fit_tau(k: Floats, totals: Floats, sigma: float) -> float | None:
    visited = k >= 1
    if int(visited.sum()) < MIN_MYSTERY_STAFF:
        return None
    means = totals[visited] / k[visited]
    tau2 = float(means.var(ddof=1)) - sigma * sigma * float((1.0 / k[visited]).mean())
    return _clamp_spread(math.sqrt(max(tau2, 0.0)))


def visit_stats(scores: tuple[float, ...]) -> tuple[int, float, float]:
    k = len(scores)
    if k == 0:
        return 0, 0.0, 0.0
    total = float(sum(scores))
    mean = total / k
    return k, total, float(sum((y - mean) ** 2 for y in scores)) if k > 1 else 0.0


def fit_mystery_spread(
    scores_by_staff: Sequence[Sequence[float]], *, sigma: float | None = None
) -> tuple[float | None, float | None]:
    """Visit-to-visit SD sigma and between-staff SD tau of mystery sub-scores (3.3c).

    Parameters
    ----------
    scores_by_staff : sequence of sequences of float
        Each staff member's visit sub-scores, chain-wide.
    sigma : float, optional
        A known sigma to use when estimating tau (else the fitted one, else 15).

    Returns
    -------
    tuple
        ``(sigma, tau)``, each ``None`` when there is too little data: sigma needs 20
        within-staff degrees of freedom, tau 30 staff with a visit.

    Notes
    -----
    sigma^2 = sum_i sum_v (y_iv - ybar_i)^2 / sum_i (k_i - 1) over staff with k_i >= 2
    (pooled within-staff variance); tau^2 = Var(ybar_i) - mean(sigma^2/k_i) over staff
    with a visit (method of moments). Both clamped to [1, 50] score points.

    Examples
    --------
    >>> fit_mystery_spread([[80.0, 90.0]])
    (None, None)
    """
    stats = []
    for scores in scores_by_staff:
        values = tuple(float(y) for y in scores)
        if not all(math.isfinite(y) for y in values):
            raise ValueError("scores must be finite numbers")
        stats.append(visit_stats(values))
    if sigma is not None:
        check_positive(sigma, "sigma")
    arr = np.array(stats, dtype=np.float64).reshape(-1, 3)
    fitted = _fit_sigma(arr[:, 0], arr[:, 2])
    used = sigma if sigma is not None else fitted if fitted is not None else DEFAULT_MYSTERY_SIGMA
    return fitted, _fit_tau(arr[:, 0], arr[:, 1], float(used))


def prior_strength_of(parameters: RankingParameters, x: Floats, n: Floats) -> tuple[float, str]:
    """The m to use and where it came from: ``"given"``, ``"fitted"`` or ``"default"``."""
    if parameters.prior_strength is not None:
        return float(parameters.prior_strength), "given"
    fitted = _fit_m(x, n, MIN_TRIALS_FOR_FIT, MIN_STAFF_FOR_FIT)
    return (fitted, "fitted") if fitted is not None else (DEFAULT_PRIOR_STRENGTH, "default")


def mystery_spread(
    parameters: RankingParameters, k: Floats, totals: Floats, within_ss: Floats
) -> tuple[float, float]:
    sigma = parameters.mystery_sigma
    if sigma is None:
        sigma = _fit_sigma(k, within_ss)
    if sigma is None:
        sigma = DEFAULT_MYSTERY_SIGMA
    tau = parameters.mystery_tau
    if tau is None:
        tau = _fit_tau(k, totals, sigma)
    if tau is None:
        tau = DEFAULT_MYSTERY_TAU
    return float(sigma), float(tau)
