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

from analysis.control import ControlPoint, _check_counts_sizes, baseline_center, p_chart

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
    ranges = [abs(b - a) for a, b in zip(z_values, z_values[1:], strict=False)]
    return sum(ranges) / len(ranges) / D2


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
