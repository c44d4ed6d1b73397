"""EWMA chart of a share: a small shift that lasts for weeks, which a single-week chart
misses.

The chart runs on standardised weekly shares, z_i = (p_i - p̄)/(σ_z sqrt(p̄(1 - p̄)/n_i)),
rather than on the shares themselves: weeks differ in n, and on the standardised scale
every in-control week has variance 1, so the textbook limits hold exactly whatever the n.
σ_z is Laney's overdispersion factor (`analysis.control_laney`) when it exceeds 1, else 1,
so the EWMA over-alarms no more than p′ does when weeks drift more than the binomial.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: The weight of the newest week; 0.2 is the usual choice for shifts of about one sigma.
LAMBDA = 0.2
#: Limit width; with λ = 0.2, L = 2.86 gives an in-control ARL of about 370 weeks, the
#: same as a 3-sigma Shewhart chart (Lucas & Saccucci 1990, table 3).
WIDTH = 2.86


@dataclass(frozen=True, slots=True)
class EwmaPoint:
    """One week of the EWMA: its input ``z`` (``None`` for a week without answers, which
    carries the statistic over unchanged), the statistic, its limit ± ``limit``, and
    whether the statistic is beyond it."""

    index: int
    z: float | None
    statistic: float
    limit: float
    above: bool
    below: bool


def ewma_limit(i: int, lam: float = LAMBDA, width: float = WIDTH) -> float:
    """The exact half-width of the EWMA limits after ``i`` observations of unit variance.

    Parameters
    ----------
    i : int
        Observations so far (1 for the first).
    lam, width : float
        λ and L.

    Returns
    -------
    float
        :math:`L\\sqrt{\\lambda/(2-\\lambda)\\,(1-(1-\\lambda)^{2i})}`.

    References
    ----------
    .. [1] Montgomery D.C. *Introduction to Statistical Quality Control*, section 9.2,
           equation 9.25.

    Examples
    --------
    >>> round(ewma_limit(1, 0.2, 3.0), 4)
    0.6
    """
    return width * math.sqrt(lam / (2.0 - lam) * (1.0 - (1.0 - lam) ** (2 * i)))


def ewma_chart(
    z_values: Sequence[float | None], *, lam: float = LAMBDA, width: float = WIDTH
) -> list[EwmaPoint]:
    """EWMA of standardised values with time-varying limits, starting at 0.

    Parameters
    ----------
    z_values : sequence of float or None
        Standardised weekly values, oldest first; ``None`` for a week without answers.
    lam : float, optional
        λ in (0, 1], default 0.2.
    width : float, optional
        L, default 2.86.

    Returns
    -------
    list of EwmaPoint
        :math:`E_i = \\lambda z_i + (1-\\lambda)E_{i-1}`, :math:`E_0 = 0`; the limit uses
        the count of weeks with answers so far.

    Raises
    ------
    ValueError
        On λ outside (0, 1], a non-positive L, or a non-finite z.

    Examples
    --------
    >>> [round(p.statistic, 2) for p in ewma_chart([1.0, 1.0, None, 1.0])]
    [0.2, 0.36, 0.36, 0.49]
    """
    if not (0.0 < lam <= 1.0):
        raise ValueError(f"lambda must be in (0, 1], got {lam!r}")
    if not (math.isfinite(width) and width > 0):
        raise ValueError(f"width must be a positive number, got {width!r}")
    points: list[EwmaPoint] = []
    statistic, seen = 0.0, 0
    for index, z in enumerate(z_values):
        if z is not None:
            if not math.isfinite(z):
                raise ValueError(f"z_values[{index}] is not a finite number: {z!r}")
            statistic = lam * z + (1.0 - lam) * statistic
            seen += 1
        limit = ewma_limit(seen, lam, width) if seen else 0.0
        points.append(
            EwmaPoint(
                index,
                z,
                statistic,
                limit,
                seen > 0 and statistic > limit,
                seen > 0 and statistic < -limit,
            )
        )
    return points


def standardised_for_ewma(
    counts: Sequence[int], sizes: Sequence[int], center: float, sigma_z: float | None
) -> list[float | None]:
    """z_i = (p_i - p̄)/(max(σ_z, 1) sqrt(p̄(1 - p̄)/n_i)) per week, ``None`` when n_i = 0.

    Parameters
    ----------
    counts, sizes : sequence of int
        Counted answers and all answers per week.
    center : float
        p̄ of the baseline, strictly between 0 and 1.
    sigma_z : float or None
        Laney's σ_z of the baseline; values at or below 1 (or ``None``) leave z unscaled.

    Returns
    -------
    list of float or None

    Raises
    ------
    ValueError
        When ``center`` is not strictly between 0 and 1 (no binomial spread to scale by).
    """
    if not 0.0 < center < 1.0:
        raise ValueError(f"center must be strictly between 0 and 1, got {center!r}")
    scale = max(sigma_z or 1.0, 1.0)
    return [
        None if n == 0 else (x / n - center) / (scale * math.sqrt(center * (1 - center) / n))
        for x, n in zip(counts, sizes, strict=True)
    ]
