"""The ranking steps of reference 3.3f: the top ceil(10 % x N) count, the order within an
award group (Q10, then Q, then n, then staff id, compared rounded so that floating-point
noise never decides), eligibility and the award proposals, the coaching flag, P(top) by
Monte Carlo (shown, never selected on) and the weight-sensitivity check of 3.3e.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from analysis.csat import check_count, check_int
from analysis.ranking.composite import CompositeParts, combine_z, share_weights
from analysis.ranking.model import (
    Z90,
    Bools,
    Floats,
    Ints,
    RankingParameters,
    check_fraction,
    check_positive,
    check_share,
)

TIE_DECIMALS = 6
SENSITIVITY_STEP = 0.1


def minimum_answers(m: float, min_n: int, display_min_n: int) -> int:
    """The fewest own answers that make a person eligible: n >= m (at least half of the
    estimate their own data), n >= ``min_n`` and n >= ``display_min_n`` (greyed is never
    ranked). n is a count, so n >= m is n >= ceil(m).

    Examples
    --------
    >>> minimum_answers(20.0, 20, 5), minimum_answers(31.2, 20, 5), minimum_answers(5.0, 3, 8)
    (20, 32, 8)
    """
    return max(math.ceil(m), min_n, display_min_n)


def top_count(size: int, top_fraction: float) -> int:
    """ceil(top_fraction x size), immune to 0.1 x 30 = 3.0000000000000004.

    Examples
    --------
    >>> top_count(30, 0.10), top_count(31, 0.10), top_count(0, 0.10)
    (3, 4, 0)
    """
    return math.ceil(round(top_fraction * size, 9))


def _top_shares(samples: npt.NDArray[np.floating], k: int) -> Floats:
    draws, size = samples.shape
    if k <= 0:
        return np.zeros(size)
    if k >= size:
        return np.ones(size)
    threshold = np.partition(samples, size - k, axis=1)[:, size - k]
    counts = np.count_nonzero(samples >= threshold[:, None], axis=0)
    shares: Floats = counts.astype(np.float64) / draws
    return shares


def top_probabilities(samples: npt.ArrayLike, top_fraction: float = 0.10) -> tuple[float, ...]:
    """P(in the top ceil(top_fraction x N)) of each of N entities, from joint posterior draws.

    Parameters
    ----------
    samples : array_like, shape (draws, N)
        Posterior draws of each entity's true value (higher is better), one row per draw.
    top_fraction : float, optional
        Default 0.10.

    Returns
    -------
    tuple of float
        The share of draws in which each entity is among the top ceil(top_fraction x N).

    Notes
    -----
    Shown, never selected on (reference 3.3f): these exceedance probabilities favour
    high-variance, small-n people - 3 of 3 gets almost the P(top) of 270 of 300 (fixture
    3.4, see :func:`beta_posterior_samples`).

    References
    ----------
    .. [1] Lin R., Louis T.A., Paddock S.M., Ridgeway G. (2006). *Bayesian Analysis*
           1(4):915-946.

    Examples
    --------
    >>> top_probabilities([[3.0, 1.0, 2.0], [1.0, 3.0, 2.0]], 0.3)
    (0.5, 0.5, 0.0)
    """
    arr = np.asarray(samples, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError("samples must be a 2-d array (draws, entities) with at least one draw")
    if not np.isfinite(arr).all():
        raise ValueError("samples must be finite")
    check_fraction(top_fraction)
    return tuple(_top_shares(arr, top_count(arr.shape[1], top_fraction)).tolist())


def beta_posterior_samples(
    successes: Sequence[int],
    trials: Sequence[int],
    mu: float,
    m: float,
    *,
    draws: int = 20_000,
    seed: int = 20261122,
) -> Floats:
    """Joint draws of the Beta posteriors of several staff of one store (reference 3.4).

    Parameters
    ----------
    successes, trials : sequence of int
        Each person's x of n.
    mu, m : float
        The store mean and the prior strength.
    draws : int, optional
        Default 20,000.
    seed : int, optional
        Default 20261122.

    Returns
    -------
    numpy.ndarray, shape (draws, N)
        ``numpy.random.default_rng(seed).beta(x + m mu, n - x + m (1 - mu), (draws, N))``.

    Examples
    --------
    >>> beta_posterior_samples([3, 270], [3, 300], 0.85, 20, draws=4).shape
    (4, 2)
    """
    if len(successes) != len(trials):
        raise ValueError("successes and trials must have the same length")
    for xi, ni in zip(successes, trials, strict=True):
        check_count(xi, ni, what="successes")
    check_share(mu, "mu")
    check_positive(m, "m")
    check_int(draws, "draws", minimum=1)
    check_int(seed, "seed")
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    a = x + m * mu
    b = n - x + m * (1.0 - mu)
    if not ((a > 0) & (b > 0)).all():
        raise ValueError("mu must be strictly between 0 and 1 for a proper posterior")
    out: Floats = np.random.default_rng(seed).beta(a, b, size=(draws, len(x)))
    return out


def _order(
    mask: Bools, group: Ints, q10: Floats, q: Floats, n: Floats, sid: Ints
) -> tuple[Ints, Ints]:
    """Indices of the masked staff in rank order within group, and each one's place."""
    idx = np.flatnonzero(mask)
    # lexsort: the last key is the primary one. Rounded so that noise never decides.
    keys = (
        sid[idx],
        -n[idx],
        -np.round(q[idx], TIE_DECIMALS),
        -np.round(q10[idx], TIE_DECIMALS),
        group[idx],
    )
    ordered = idx[np.lexsort(keys)]
    g = group[ordered]
    place = np.arange(len(ordered)) - np.searchsorted(g, g, side="left") + 1
    return ordered, place


def _proposals(
    eligible: Bools,
    group: Ints,
    n_groups: int,
    q10: Floats,
    q: Floats,
    n: Floats,
    sid: Ints,
    top_fraction: float,
) -> Bools:
    ordered, place = _order(eligible, group, q10, q, n, sid)
    per_group = np.bincount(group[eligible], minlength=n_groups)
    quota = np.array([top_count(int(c), top_fraction) for c in per_group], dtype=np.int64)
    proposed = np.zeros(len(group), dtype=bool)
    proposed[ordered[place <= quota[group[ordered]]]] = True
    return proposed


#: Inverse-CDF sampling on a grid: the standard normal quantiles of the 2^16 equiprobable
#: cells' midpoints, as float32 (|z| <= 4.33). Looking up 16 random bits is 4x faster than
#: numpy's normal sampler here, and for a share shown to two decimals from 1000 draws the
#: grid is indistinguishable from the continuous normal.
_NORMAL_GRID = special.ndtri((np.arange(2**16) + 0.5) / 2**16).astype(np.float32)


def _p_top(
    q: Floats, sd: Floats, group: Ints, top_fraction: float, draws: int, seed: int
) -> Floats:
    """Monte Carlo P(top) per group; rows are in canonical order, so groups are slices."""
    bits = np.random.default_rng(seed).bit_generator
    out = np.zeros(len(q))
    bounds = np.flatnonzero(np.diff(group)) + 1
    for start, stop in zip(np.r_[0, bounds].tolist(), np.r_[bounds, len(q)].tolist(), strict=True):
        if stop == start:
            continue
        cells = draws * (stop - start)
        raw = bits.random_raw((cells + 3) // 4).view(np.uint16)[:cells]
        samples = np.take(_NORMAL_GRID, raw).reshape(draws, stop - start)
        samples *= sd[start:stop].astype(np.float32)
        samples += q[start:stop].astype(np.float32)
        out[start:stop] = _top_shares(samples, top_count(stop - start, top_fraction))
    return out


@dataclass(frozen=True, slots=True)
class SelectionResult:
    """Who is ranked, eligible and proposed, canonical order: ``data_ok`` when the person's
    own data carries the estimate (ranked, perhaps excluded), ``rank`` their place within
    the group (0 when not ranked), ``coaching`` when Q90 is below the baseline."""

    data_ok: Bools
    eligible: Bools
    rank: Ints
    proposed: Bools
    coaching: Bools
    p_top: Floats


def select(
    c: CompositeParts,
    excluded: Bools,
    group: Ints,
    n_groups: int,
    sid: Ints,
    parameters: RankingParameters,
    m: float,
) -> SelectionResult:
    """Rank, propose and flag everyone from their composite (reference 3.3f)."""
    p = parameters
    # Greyed (below display_min_n) is never ranked either (DESIGN section 5).
    data_ok = c.n_used >= minimum_answers(m, p.min_n, p.display_min_n)
    eligible = data_ok & ~excluded
    ranked, place = _order(data_ok, group, c.q10, c.q, c.n_used, sid)
    rank = np.zeros(len(sid), dtype=np.int64)
    rank[ranked] = place
    proposed = _proposals(eligible, group, n_groups, c.q10, c.q, c.n_used, sid, p.top_fraction)
    coaching = c.q90 < p.baseline
    p_top = _p_top(c.q, c.q_sd, group, p.top_fraction, p.draws, p.seed)
    return SelectionResult(data_ok, eligible, rank, proposed, coaching, p_top)


def count_weight_changes(
    c: CompositeParts,
    chosen: SelectionResult,
    group: Ints,
    n_groups: int,
    sid: Ints,
    top_fraction: float,
) -> int:
    """How many staff change proposal when any one weight moves by +/-0.1 (reference 3.3e)."""
    changed = np.zeros(len(sid), dtype=bool)
    for slot in range(3):
        for step in (SENSITIVITY_STEP, -SENSITIVITY_STEP):
            if not c.available[slot]:
                continue
            varied = c.base.copy()
            varied[slot] = max(0.0, varied[slot] + step)
            wv = share_weights(varied, c.available)
            if not wv.any():
                continue
            qv, sdv = combine_z(c.z, c.z_sd, wv)
            changed |= (
                _proposals(
                    chosen.eligible,
                    group,
                    n_groups,
                    qv - Z90 * sdv,
                    qv,
                    c.n_used,
                    sid,
                    top_fraction,
                )
                != chosen.proposed
            )
    return int(changed.sum())
