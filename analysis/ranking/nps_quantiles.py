"""Exact percentiles of NPS = p_P - p_D under a Dirichlet(a_P, a_0, a_D) posterior, for all
staff at once.

The detractor share is Beta(a_D, a_P + a_0) and, given it, p_P/(1 - d) is Beta(a_P, a_0), so

.. math::

    F(x) = \\int_0^1 f_{Beta}(d; a_D, a_P + a_0)\\,
           F_{Beta}\\big(\\mathrm{clip}\\big(\\tfrac{x + d}{1 - d}, 0, 1\\big); a_P, a_0\\big)\\,dd.

The integrand is 0 below d = -x and the detractor density alone above d = (1 - x)/2, so
the integral runs between those two points (cut to the bulk of the detractor share, its
1e-13 to 1 - 1e-13 quantiles) with 40 fixed Gauss-Legendre nodes, and the part above adds
1 - F_D((1 - x)/2); for small posteriors the nodes are pushed toward both ends (endpoint
singularities), and a density pole at d = 0 (a_D < 1) is removed by d = U s^(1/a_D).
``F`` is inverted by a safeguarded Newton iteration over every person at once (the
density is the same integral of the promoter density), started from the Cornish-Fisher
value, with a bracket that shrinks every step and bisection whenever Newton would leave
it; it stops at a Newton step below 1e-5 in share units (the error left after it is of
the order of its square). Against ``scipy.integrate.quad`` + ``brentq`` the result agrees
within 1e-6 NPS points at 3 answers and within 1e-4 at 1,000
(tests/analysis/test_analysis_ranking.py); the worst of a random sweep of extreme mixes
was 3e-4 points. 4,000 staff take about 150 ms of CPU (``bench/nps_bounds_bench.py``), most of it
``scipy.special.betainc`` at 40 nodes per person and bound, once or twice. A Dirichlet
with a zero parameter (a chain without passives, say) is a Beta, answered in closed form.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from analysis.ranking.model import Floats

#: Gauss-Legendre nodes on [0, 1], as they are (``_S_LINEAR``) and pushed toward both ends
#: by the smoothstep s(t) = 3t^2 - 2t^3 (s' ~ t there), which turns an endpoint
#: singularity (d - L)^alpha of the integrand into t^(2 alpha + 1). The latter serve the
#: small posteriors (a parameter below ``_SMALL``), whose promoter CDF starts or ends
#: steeply inside the interval; large ones are smooth there and peaked in the middle.
_NODES = 40
_SMALL = 20.0
_X, _W = np.polynomial.legendre.leggauss(_NODES)
_S_LINEAR = (_X + 1.0) / 2.0
_WS_LINEAR = _W / 2.0
_S_SMOOTH = _S_LINEAR * _S_LINEAR * (3.0 - 2.0 * _S_LINEAR)
_WS_SMOOTH = _WS_LINEAR * 6.0 * _S_LINEAR * (1.0 - _S_LINEAR)
#: Detractor-share mass left out at each end of the integral.
_TAIL = 1e-13
#: Convergence: the last Newton step in share units, and the iteration cap (bisection
#: alone needs 18 steps from [-1, 1]; Newton usually stops after 1 or 2).
_TOL = 1e-5
_MAX_STEPS = 60


def _log_beta_pdf(x: Floats, a: Floats, b: Floats) -> Floats:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: Floats = (a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x) - special.betaln(a, b)
    return out


class _Quadrature:
    """Each person's Dirichlet parameters and the bulk [lo, hi] of their detractor share."""

    def __init__(self, a_p: Floats, a_0: Floats, a_d: Floats) -> None:
        self.a_p, self.a_0, self.a_d, self.b = a_p, a_0, a_d, a_p + a_0
        self.lo = np.where(a_d < 1.0, 0.0, special.betaincinv(a_d, self.b, _TAIL))
        self.hi = special.betaincinv(a_d, self.b, 1.0 - _TAIL)
        self.small = np.minimum(np.minimum(a_p, a_0), a_d) < _SMALL

    def cdf_pdf(self, x: Floats, rows: np.ndarray) -> tuple[Floats, Floats]:
        """P(NPS <= x) and its density at x (share units), for the given rows.

        Below d = -x no promoter share is small enough (the integrand is 0), above
        d = (1 - x)/2 every one is (it is the detractor density): the integral runs between
        them, where the integrand is smooth inside, and the part above is 1 - F_D."""
        a_p, a_0, a_d, b = self.a_p[rows], self.a_0[rows], self.a_d[rows], self.b[rows]
        lower = np.maximum(self.lo[rows], -x)
        upper = np.minimum(self.hi[rows], (1.0 - x) / 2.0)
        span = np.maximum(upper - lower, 0.0)[:, None]
        small = self.small[rows][:, None]
        s = np.where(small, _S_SMOOTH, _S_LINEAR)
        ws = np.where(small, _WS_SMOOTH, _WS_LINEAR) * span
        # A pole d^(a_D - 1) at d = 0 (a_D < 1): d = upper s^(1/a_D) makes it smooth.
        pole = (lower == 0.0)[:, None] & (a_d < 1.0)[:, None]
        power = np.where(pole, 1.0 / a_d[:, None], 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ws = np.where(pole, ws * power * s ** (power - 1.0), ws)
        s = np.where(pole, s**power, s)
        d = np.clip(lower[:, None] + span * s, 1e-300, 1.0 - 1e-16)
        w = np.exp(_log_beta_pdf(d, a_d[:, None], b[:, None])) * ws
        y = np.clip((x[:, None] + d) / (1.0 - d), 1e-300, 1.0 - 1e-16)
        cdf = (w * special.betainc(a_p[:, None], a_0[:, None], y)).sum(axis=1)
        cdf += 1.0 - special.betainc(a_d, b, np.clip(upper, 0.0, 1.0))
        dens = np.exp(_log_beta_pdf(y, a_p[:, None], a_0[:, None])) / (1.0 - d)
        return np.clip(cdf, 0.0, 1.0), (w * dens).sum(axis=1)


def _solve(quad: _Quadrature, p: float, start: Floats) -> Floats:
    x = np.clip(start, -1.0 + 1e-12, 1.0 - 1e-12)
    lo, hi = np.full_like(x, -1.0), np.full_like(x, 1.0)
    active = np.arange(len(x))
    for _ in range(_MAX_STEPS):
        if active.size == 0:
            break
        xa = x[active]
        cdf, dens = quad.cdf_pdf(xa, active)
        below = cdf < p
        lo[active] = np.where(below, xa, lo[active])
        hi[active] = np.where(below, hi[active], xa)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = xa - (cdf - p) / dens
        ok = np.isfinite(newton) & (newton > lo[active]) & (newton < hi[active])
        step = np.where(ok, newton, (lo[active] + hi[active]) / 2.0)
        x[active] = step
        done = (np.abs(step - xa) < _TOL) | (hi[active] - lo[active] < _TOL)
        active = active[~done]
    return x


def nps_moments(alpha: Floats) -> tuple[Floats, Floats, Floats]:
    """Mean, SD and skewness of p_P - p_D under Dirichlet(alpha), alpha (N, 3)."""
    a0 = alpha.sum(axis=-1)
    p = alpha / a0[..., None]
    coef = np.array([1.0, 0.0, -1.0])
    mean = p @ coef
    d = coef - mean[..., None]
    # Central moments of a linear functional of a Dirichlet (the same as a Beta's when the
    # functional is one share): var = sum p d^2/(a0 + 1), mu3 = 2 sum p d^3/((a0+1)(a0+2)).
    var = (p * d * d).sum(axis=-1) / (a0 + 1.0)
    mu3 = 2.0 * (p * d * d * d).sum(axis=-1) / ((a0 + 1.0) * (a0 + 2.0))
    sd = np.sqrt(var)
    skew = np.divide(mu3, sd**3, out=np.zeros_like(sd), where=sd > 0)
    return mean, sd, skew


def cornish_fisher_nps(alpha: Floats, probabilities: tuple[float, ...]) -> tuple[Floats, ...]:
    """The Cornish-Fisher percentiles (normal plus the skewness term) of p_P - p_D: what
    the ranking used before the exact ones, within 0.02 points of them at n = 3 and 0.25
    points in a strongly skewed case; now only the start of the exact search."""
    mean, sd, skew = nps_moments(alpha)
    out = []
    for p in probabilities:
        z = float(special.ndtri(p))
        out.append(mean + sd * (z + (z * z - 1.0) * skew / 6.0))
    return tuple(out)


def nps_quantiles(alpha: Floats, probabilities: tuple[float, ...]) -> tuple[Floats, ...]:
    """Exact percentiles of p_P - p_D (share units, -1..1) for every row of ``alpha``.

    Parameters
    ----------
    alpha : ndarray, shape (N, 3)
        Dirichlet parameters: promoters, passives, detractors; each >= 0, the sum > 0.
    probabilities : tuple of float
        The percentiles wanted, in (0, 1).

    Returns
    -------
    tuple of ndarray
        One (N,) array per probability.

    Examples
    --------
    >>> low, = nps_quantiles(np.array([[3 + 16.5, 9.0, 4.5]]), (0.1,))
    >>> round(100 * float(low[0]), 4)  # statistics vectors: rank.nps_shrink.A_3_promoters
    29.1705
    """
    start = cornish_fisher_nps(alpha, probabilities)
    a_p, a_0, a_d = alpha[:, 0], alpha[:, 1], alpha[:, 2]
    zeros = (alpha <= 0).sum(axis=1)
    mean = (a_p - a_d) / alpha.sum(axis=1)
    full = np.flatnonzero(zeros == 0)
    quad = _Quadrature(a_p[full], a_0[full], a_d[full]) if full.size else None
    out = []
    for p, guess in zip(probabilities, start, strict=True):
        q = mean.copy()
        if quad is not None:
            q[full] = _solve(quad, p, guess[full])
        one = zeros == 1
        safe = np.where(alpha > 0, alpha, 1.0)
        # One share fixed at 0: NPS is a Beta, shifted and scaled.
        no_d = one & (a_d <= 0)
        no_0 = one & (a_0 <= 0)
        no_p = one & (a_p <= 0)
        q = np.where(no_d, special.betaincinv(safe[:, 0], safe[:, 1], p), q)
        q = np.where(no_0, 2.0 * special.betaincinv(safe[:, 0], safe[:, 2], p) - 1.0, q)
        q = np.where(no_p, -special.betaincinv(safe[:, 2], safe[:, 1], 1.0 - p), q)
        out.append(q)
    return tuple(out)
