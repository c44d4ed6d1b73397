"""Laney's p′ chart: a p-chart whose limits widen when the periods vary more than the
binomial allows.

A p-chart's limits shrink with n. With a few hundred answers a week, ordinary week-to-week
drift (weather, promotions, who is on the till) is already wider than the binomial spread,
and the plain chart alarms on most weeks. Laney (2002) measures that extra spread with the
moving range of the standardised shares and widens the limits by it. We use p′ only when
the periods are overdispersed (σ_z > 1): with σ_z ≤ 1 the plain p-chart of
`analysis.control.p_chart` (exact binomial tails at small n) judges, because narrowing the
limits on a few quiet weeks would turn ordinary noise into alarms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import binom, norm

from analysis.control import (
    EXACT_BELOW_EXPECTED,
    ControlPoint,
    _check_counts_sizes,
    baseline_center,
    p_chart,
)
from analysis.csat import check_int

#: d2 for moving ranges of two: E|X1 - X2| = 1.128 σ for normal X (Montgomery, App. VI).
D2 = 1.128


@dataclass(frozen=True, slots=True)
class LaneyChart:
    """A p′ (or plain p) chart: the centre line p̄, the overdispersion factor σ_z
    (``None`` when fewer than two baseline periods have answers), whether the limits were
    widened by it (``laney``), and one `ControlPoint` per period (``method`` ``"laney"``
    for widened limits, else as `p_chart` gives)."""

    center: float
    sigma_z: float | None
    laney: bool
    points: tuple[ControlPoint, ...]


def standardised_shares(counts: Sequence[int], sizes: Sequence[int], center: float) -> list[float]:
    """z_i = (p_i - p̄) / sqrt(p̄(1 - p̄)/n_i) of the periods with answers, in order.

    Parameters
    ----------
    counts, sizes : sequence of int
        Counted answers and all answers per period; periods with n = 0 are left out.
    center : float
        p̄, strictly between 0 and 1 (else every z is 0 and none is returned).

    Returns
    -------
    list of float
    """
    if not 0.0 < center < 1.0:
        return []
    return [
        (x / n - center) / math.sqrt(center * (1.0 - center) / n)
        for x, n in zip(counts, sizes, strict=True)
        if n > 0
    ]


def laney_sigma_z(z_values: Sequence[float]) -> float | None:
    """σ_z = mean moving range of the z_i / 1.128.

    Parameters
    ----------
    z_values : sequence of float
        Standardised shares in time order (see `standardised_shares`).

    Returns
    -------
    float or None
        ``None`` with fewer than two values (no moving range).

    References
    ----------
    .. [1] Laney D.B. (2002). Improved control charts for attributes. *Quality
           Engineering* 14(4):531-537.

    Examples
    --------
    >>> round(laney_sigma_z([0.0, 2.256, 0.0]), 3)
    2.0
    """
    if len(z_values) < 2:
        return None
    # Summed left to right (not `sum`, which compensates from Python 3.12 on), as
    # `laney_above` does for many charts at once: the two must agree to the last bit.
    total = 0.0
    for a, b in zip(z_values, z_values[1:], strict=False):
        total += abs(b - a)
    return total / (len(z_values) - 1) / D2


def laney_p_chart(
    counts: Sequence[int],
    sizes: Sequence[int],
    *,
    baseline: int | None = None,
    sigmas: float = 3.0,
) -> LaneyChart:
    """Laney p′ chart against a baseline, falling back to the plain p-chart when the
    baseline periods are not overdispersed.

    Parameters
    ----------
    counts, sizes : sequence of int
        Counted answers (e.g. detractors) and all answers per period, oldest first.
    baseline : int, optional
        p̄ and σ_z are estimated from the first ``baseline`` periods only (so that the
        judged periods after them never widen their own limits); ``None`` uses every
        period (a retrospective chart).
    sigmas : float, optional
        L, the width of the limits; default 3.

    Returns
    -------
    LaneyChart

    Raises
    ------
    ValueError
        As `analysis.control.p_chart` (lengths, counts, baseline, no answers, sigmas).

    Notes
    -----
    :math:`\\bar p = \\sum_b x_i / \\sum_b n_i`, :math:`\\sigma_{p_i} =
    \\sqrt{\\bar p(1-\\bar p)/n_i}`, :math:`z_i = (p_i - \\bar p)/\\sigma_{p_i}`,
    :math:`\\sigma_z = \\overline{MR}(z)/1.128` over the baseline periods with answers,
    limits :math:`\\bar p \\pm L\\,\\sigma_{p_i}\\sigma_z` clipped to [0, 1]. Used only when
    :math:`\\sigma_z > 1`; otherwise the chart is `p_chart` with the same centre.

    References
    ----------
    .. [1] Laney D.B. (2002). Improved control charts for attributes. *Quality
           Engineering* 14(4):531-537.

    Examples
    --------
    >>> chart = laney_p_chart([10, 30, 10, 30], [100] * 4)
    >>> chart.laney, round(chart.sigma_z, 3), round(chart.points[0].ucl, 4)
    (True, 4.433, 0.7319)
    """
    _check_counts_sizes(counts, sizes)
    center, stop = baseline_center(counts, sizes, baseline)
    sigma_z = laney_sigma_z(standardised_shares(counts[:stop], sizes[:stop], center))
    if sigma_z is None or sigma_z <= 1.0:
        plain = p_chart(counts, sizes, center=center, sigmas=sigmas)
        return LaneyChart(center, sigma_z, False, tuple(plain))
    if not (math.isfinite(sigmas) and sigmas > 0):
        raise ValueError(f"sigmas must be a positive number, got {sigmas!r}")
    points = tuple(
        _laney_point(i, x, n, center, sigmas * sigma_z)
        for i, (x, n) in enumerate(zip(counts, sizes, strict=True))
    )
    return LaneyChart(center, sigma_z, True, points)


def _laney_point(index: int, x: int, n: int, center: float, width: float) -> ControlPoint:
    if n == 0:
        empty = (None, center, None, None, False, False, "empty", None, None)
        return ControlPoint(index, x, n, *empty)
    share = x / n
    sigma = math.sqrt(center * (1.0 - center) / n)
    lcl, ucl = max(0.0, center - width * sigma), min(1.0, center + width * sigma)
    z = (share - center) / sigma if sigma > 0 else None
    return ControlPoint(
        index, x, n, share, center, lcl, ucl, share > ucl, share < lcl, "laney", z, None
    )


def laney_above(
    counts: Sequence[Sequence[int]] | np.ndarray,
    sizes: Sequence[Sequence[int]] | np.ndarray,
    *,
    baseline: int,
    sigmas: float = 3.0,
) -> np.ndarray:
    """Which periods of many charts are above their upper limit: row ``r`` of the result
    equals ``[p.above for p in laney_p_chart(counts[r], sizes[r], baseline=baseline).points]``,
    computed for every chart at once (the chain page judges 200 stores).

    Parameters
    ----------
    counts, sizes : 2-D array of int, shape (charts, periods)
        Counted answers and all answers per chart and period, oldest first; a period
        without answers has size 0.
    baseline : int
        The first ``baseline`` periods of every chart give its p̄ and σ_z.
    sigmas : float, optional
        L, the width of the limits; default 3.

    Returns
    -------
    numpy.ndarray of bool, shape (charts, periods)

    Raises
    ------
    ValueError
        On shapes that differ or are not 2-D, a count outside 0..size, a baseline outside
        1..periods, a chart whose baseline has no answers, or ``sigmas`` not positive.

    Notes
    -----
    The same arithmetic as `laney_p_chart`, in the same order (σ_z's moving ranges summed
    period by period), so the flags agree exactly: Laney's limits
    :math:`\\bar p + L\\sigma_z\\sqrt{\\bar p(1-\\bar p)/n_i}` where :math:`\\sigma_z > 1`,
    else the p-chart's, with the exact binomial tail where :math:`n_i\\bar p < 5`.

    Examples
    --------
    >>> laney_above([[10, 30, 10, 30, 90]], [[100] * 5], baseline=4).tolist()
    [[False, False, False, False, True]]
    """
    x, n = np.asarray(counts, dtype=np.int64), np.asarray(sizes, dtype=np.int64)
    if x.ndim != 2 or x.shape != n.shape:
        raise ValueError(f"counts and sizes must be 2-D of one shape, got {x.shape}, {n.shape}")
    if ((x < 0) | (x > n)).any():
        raise ValueError("every count must be between 0 and its size")
    check_int(baseline, "baseline", minimum=1)
    if baseline > x.shape[1]:
        raise ValueError(f"baseline must be at most {x.shape[1]} periods, got {baseline}")
    if not (math.isfinite(sigmas) and sigmas > 0):
        raise ValueError(f"sigmas must be a positive number, got {sigmas!r}")
    base_n = n[:, :baseline].sum(axis=1)
    if (base_n == 0).any():
        raise ValueError("the baseline periods have no answers: no centre line")
    center = (x[:, :baseline].sum(axis=1) / base_n)[:, None]
    answered = n > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(answered, x / np.where(answered, n, 1), 0.0)
        sigma = np.sqrt(center * (1.0 - center) / np.where(answered, n, 1))
        z = (share - center) / sigma
    sigma_z = _sigma_z_rows(z[:, :baseline], answered[:, :baseline], center[:, 0])
    laney = ~np.isnan(sigma_z) & (sigma_z > 1.0)
    with np.errstate(invalid="ignore"):
        laney_ucl = np.minimum(1.0, center + (sigmas * sigma_z)[:, None] * sigma)
        normal_ucl = np.minimum(1.0, center + sigmas * sigma)
    exact = ~laney[:, None] & answered & (n * center < EXACT_BELOW_EXPECTED)
    above = np.where(laney[:, None], share > laney_ucl, share > normal_ucl)
    if exact.any():
        rows = np.nonzero(exact)
        upper = binom.sf(x[rows] - 1, n[rows], center[rows[0], 0])
        above[rows] = upper < float(norm.sf(sigmas))
    flags: np.ndarray = above & answered
    return flags


def _sigma_z_rows(z: np.ndarray, answered: np.ndarray, center: np.ndarray) -> np.ndarray:
    """`laney_sigma_z` of `standardised_shares` per row (NaN where it is ``None``): the
    moving ranges between consecutive answered periods, summed left to right."""
    rows = z.shape[0]
    total, ranges = np.zeros(rows), np.zeros(rows, dtype=np.int64)
    last, seen = np.zeros(rows), np.zeros(rows, dtype=bool)
    for j in range(z.shape[1]):
        here = answered[:, j]
        step = here & seen
        total = np.where(step, total + np.abs(z[:, j] - last), total)
        ranges += step
        last = np.where(here, z[:, j], last)
        seen |= here
    defined = (ranges > 0) & (center > 0.0) & (center < 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(defined, total / ranges / D2, np.nan)
