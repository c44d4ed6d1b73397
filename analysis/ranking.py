"""Staff service score: empirical-Bayes shrinkage, a weighted composite and a cautious rank.

This is the staff ranking of DESIGN.md section 5 and of the awards reference
(``mystery-and-awards.md`` section 3: signals 3.2, formulas 3.3 a-f, fixtures 3.4, why not
the simpler rules 3.5). Its one promise: **3 lucky answers never beat 300 good ones**.

For staff member *s* in store *j* in one period there are four components, each shrunk
toward the store, the store shrunk toward the chain:

* ``customer`` (primary, 3.3a): the staff item of the receipt survey, *x* answers of 4-5 out
  of *n*. Posterior Beta(x + m mu_j, n - x + m (1 - mu_j)), estimate (x + m mu_j)/(n + m).
* ``nps`` (3.3b): receipt NPS, posterior Dirichlet(P + m pi_P, Pa + m pi_Pa, D + m pi_D).
  Reported on its own; it stands in for ``customer`` in the composite only for a person
  with **no** answers to the staff item (n = 0), because an overall score is not
  necessarily about the cashier it is filed under (reference 3.1).
* ``mystery`` (3.3c): normal-normal, estimate B mu_j + (1 - B) ybar with
  B = (sigma^2/k)/(tau^2 + sigma^2/k); no visit gives the store mean (no benefit, no penalty).
* ``complaints`` (3.3d): gamma-Poisson, (c + kappa r_j)/(T + kappa) per 1000 transactions.

The composite (3.3e) puts each signal on the scale of "between-staff standard deviations"
z_k = (theta_k - mu_chain,k)/tau_k, complaints with a minus sign so that a higher z is always
better, and Q = sum w_k z_k. Staff are ranked within their award group by the cautious
bound Q10 and proposed for the award when in the top ceil(10 % x eligible) (3.3f).

Choices the reference leaves open, and why
-----------------------------------------
* **Prior strength m** by the method of moments of 3.3a (weights n, staff with n >= 30,
  clamped to [5, 100], 20 when fewer than 30 such staff) - reproducible and explainable,
  where maximum likelihood is neither. One m serves the customer and the NPS component.
* **Store means** are the period's store totals shrunk to the chain with
  ``store_prior_strength`` pseudo-answers (pseudo-visits for mystery); for complaints the
  store rate is shrunk with the same kappa as the staff rate. The reference's trailing
  three-month store prior is not implemented: ``rank_staff`` sees one period's rows, and a
  store-month of 20 cashiers already holds thousands of answers.
* **tau_k** (3.3e, between-staff SD of the *true* value) follows from each prior:
  customer sqrt(mu(1 - mu)/(m + 1)) (the same identity that gives m from tau by the method
  of moments), NPS 100 sqrt((pi_P + pi_D - (pi_P - pi_D)^2)/(m + 1)) (the Dirichlet
  variance), complaints sqrt(r/kappa) (the Gamma prior's SD), mystery the fitted tau.
* **Mystery sigma and tau** (3.3c): sigma^2 = pooled within-staff variance of visit scores
  over staff with two or more visits (needs >= 20 degrees of freedom, else 15); tau^2 =
  variance of the staff means minus the mean of sigma^2/k (needs >= 30 visited staff, else
  8); both clamped to [1, 50] score points so that a month of identical scores cannot
  divide by zero. Pass quarterly estimates as parameters to follow the reference exactly.
* **Interval of a component**: exact 10th/90th percentiles for Beta, Normal and Gamma;
  for the NPS a Cornish-Fisher expansion with the Dirichlet skewness (within 0.02 points of
  the integrated bounds of the statistics vectors, where the plain normal is 0.4 off at
  n = 3; within 0.25 points of Monte Carlo in a strongly skewed small-n case).
* **Bound of the composite**: the normal approximation Q10 = Q - 1.2816 SD(Q),
  SD(Q)^2 = sum w_k^2 (SD_k/tau_k)^2, as in the fixture of 3.4. A Monte Carlo bound would
  make a person's Q10 depend on which random numbers their row happened to receive (on
  the input order and on who else is in the batch); the closed form is exact to
  reproduce, independent of the batch, and fast. Skewness matters most at small n, where
  the eligibility gate already removes people.
* **P(top)** (3.3f, shown, never selected on) is Monte Carlo: ``draws`` draws of each
  person's composite from its normal approximation, in a canonical order (group, then
  staff id) from ``seed``; the probability of being in the top ceil(10 % x size) of *all*
  staff of the group, so it answers "how likely is this person truly in the top 10 %".
  Its Monte Carlo error is at most 0.5/sqrt(draws) (0.016 at the default 1000).
* **Eligibility**: data weight omega >= 0.5 on the customer signal (n >= m),
  n >= ``min_n`` and n >= ``display_min_n`` (greyed is never ranked). An
  ``excluded_reason`` (open substantiated complaint, flagged answers, a serious upheld
  complaint, attendance: the caller's gates of 3.3d and 3.6) keeps the person ranked and
  shown but never proposed, and does not take a proposal slot.
* **Ties** (3.3f): Q10 desc, then Q desc, then n desc, then staff id asc; Q10 and Q are
  compared rounded to 6 decimals so that the order never rests on floating-point noise.
* **Coaching** ("training for those below baseline"): Q90 < ``baseline`` (default -1: even
  the optimistic estimate is a full between-staff SD below the chain). ``pulling_down``
  lists the composite's signals with a negative contribution w_k z_k, worst first.
* **Weight sensitivity** (3.3e): the number of staff whose proposal changes when any one
  weight moves by +0.1 or -0.1 (clipped at 0, then renormalised), over the six variants.
* A signal without any data in the whole chain (say, no mystery visit this month) has NaN
  estimates, z = 0, and its weight is shared among the others.

Performance
-----------
Everything is vectorised across staff with numpy; the only Python loops are over input
rows (to read them, and to build the result objects) and over award groups.
``python -m analysis.ranking`` times 4,000 synthetic staff (200 stores of 20, about 250
answers each, 0-2 mystery visits, 10 regions as award groups). On the idle 2-core
development machine: about 130 ms, wall and CPU alike (when other work shares the two
cores the wall time doubles, the CPU time stays near 135 ms). About a quarter of it is the
4 million P(top) draws, a third building the 20,000 frozen result objects, the rest the
exact Beta/Gamma percentiles (about 10 ms), the seven orderings of the weight-sensitivity
check and reading the rows. Constructing the 4,000 validated ``StaffInput`` rows costs the
caller another 16 ms.

References
----------
.. [1] Awards research brief, ``mystery-and-awards.md`` section 3 (formulas and fixtures).
.. [2] Robinson D. (2015). Understanding empirical Bayes estimation (using baseball
       statistics). varianceexplained.org.
.. [3] Efron B., Morris C. (1975). Data analysis using Stein's estimator and its
       generalizations. *JASA* 70:311-319.
.. [4] Lin R., Louis T.A., Paddock S.M., Ridgeway G. (2006). Loss function based ranking
       in two-stage, hierarchical models. *Bayesian Analysis* 1(4):915-946.
.. [5] OECD/JRC (2008). *Handbook on Constructing Composite Indicators*.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from numbers import Real

import numpy as np
import numpy.typing as npt
from scipy import special

from analysis.csat import check_count, check_int
from analysis.nps import check_counts
from analysis.results import NpsCounts

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

#: The standard normal 90th percentile: the 10th/90th percentile bounds are mean -/+ Z90 SD.
Z90 = float(special.ndtri(0.9))
LOW_P, HIGH_P = 0.10, 0.90
PER_1000 = 1000.0
#: The composite's three slots, in the order of ``RankingParameters.weights``.
SLOTS = ("customer", "mystery", "complaints")
DEFAULT_PRIOR_STRENGTH = 20.0
PRIOR_STRENGTH_BOUNDS = (5.0, 100.0)
MIN_TRIALS_FOR_FIT = 30
MIN_STAFF_FOR_FIT = 30
DEFAULT_MYSTERY_SIGMA = 15.0
DEFAULT_MYSTERY_TAU = 8.0
MYSTERY_SPREAD_BOUNDS = (1.0, 50.0)
MIN_MYSTERY_DF = 20
MIN_MYSTERY_STAFF = 30
TIE_DECIMALS = 6
SENSITIVITY_STEP = 0.1
TOO_FEW_ANSWERS = "too_few_answers"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Posterior:
    """One signal of one person after shrinkage, in the signal's own units.

    ``estimate`` is the posterior mean, ``sd`` its posterior SD, ``low``/``high`` the 10th
    and 90th percentiles of the posterior, ``n`` the person's own data (answers, visits,
    transactions), ``omega`` the share of the estimate that is that data (0..1) and ``raw``
    the unshrunk figure (``None`` when ``n`` is 0).
    """

    estimate: float
    sd: float
    low: float
    high: float
    n: int
    omega: float
    raw: float | None


@dataclass(frozen=True, slots=True)
class CompositeScore:
    """The composite Q in z units with its posterior SD and its 10th/90th percentiles."""

    value: float
    sd: float
    q10: float
    q90: float


@dataclass(frozen=True, slots=True)
class Component:
    """One signal of one staff member as shown to HR.

    Units: ``customer`` a proportion 0..1, ``nps`` points -100..100, ``mystery`` score
    points 0..100, ``complaints`` upheld complaints per 1000 transactions. ``low``/``high``
    are the 10th/90th percentiles of the posterior, ``n`` the person's answers, visits or
    transactions, ``omega`` the share of the estimate that is their own data, ``raw`` the
    unshrunk figure (``None`` when n = 0), ``z`` the estimate in between-staff SDs from the
    chain mean, oriented so that higher is better (complaints negated), ``sd`` the
    posterior SD in the component's units. When the whole chain has no data on the signal
    the estimate, bounds and ``sd`` are NaN and ``z`` is 0. The estimate is the posterior
    mean the reference prescribes, so it can fall outside a very skewed posterior's
    10-90 % range: complaints in a chain with almost none (prior shape kappa r below about
    0.04) have their mean above the 90th percentile.
    """

    name: str
    estimate: float
    low: float
    high: float
    n: int
    omega: float
    raw: float | None
    z: float
    sd: float


@dataclass(frozen=True, slots=True)
class SignalScale:
    """How one signal was put on the z scale: the chain mean and the between-staff SD of
    the true value (tau), in the component's units, the weight it had in the composite
    (normalised; 0 for ``nps``, which only stands in for ``customer``), the chain's data
    (answers, visits, transactions) and whether there was any."""

    name: str
    chain_mean: float
    tau: float
    weight: float
    n: int
    available: bool


@dataclass(frozen=True, slots=True)
class RankingParameters:
    """What HR configures, published before the period (reference 3.6, 3.7).

    ``weights`` (customer, mystery, complaints) must be >= 0 with a positive sum and are
    normalised. ``prior_strength`` m in pseudo-answers (``None`` = method of moments, see
    :func:`fit_prior_strength`); ``store_prior_strength`` shrinks store means to the chain
    (pseudo-answers or pseudo-visits); ``complaint_exposure`` kappa in pseudo-transactions.
    ``min_n`` is an absolute floor for eligibility on top of n >= m; below
    ``display_min_n`` a person is shown greyed. ``top_fraction`` of the eligible staff of
    each group are proposed; ``baseline`` is the coaching line for Q90 in z units.
    ``mystery_sigma``/``mystery_tau`` ``None`` = estimated from the period's visits.
    ``draws`` and ``seed`` drive the Monte Carlo of P(top) only.
    """

    weights: tuple[float, float, float] = (0.5, 0.3, 0.2)
    prior_strength: float | None = None
    store_prior_strength: float = 20.0
    complaint_exposure: float = 2000.0
    min_n: int = 20
    display_min_n: int = 5
    top_fraction: float = 0.10
    baseline: float = -1.0
    mystery_sigma: float | None = None
    mystery_tau: float | None = None
    draws: int = 1000
    seed: int = 20261122

    def __post_init__(self) -> None:
        if not isinstance(self.weights, tuple) or len(self.weights) != 3:
            raise ValueError("weights must be a tuple of 3 numbers (customer, mystery, complaints)")
        for w in self.weights:
            if not _is_finite(w) or w < 0:
                raise ValueError(f"weights must be finite and >= 0, got {self.weights!r}")
        if sum(self.weights) <= 0:
            raise ValueError("weights must not all be 0")
        if self.prior_strength is not None:
            _check_positive(self.prior_strength, "prior_strength")
        _check_positive(self.store_prior_strength, "store_prior_strength")
        _check_positive(self.complaint_exposure, "complaint_exposure")
        check_int(self.min_n, "min_n")
        check_int(self.display_min_n, "display_min_n")
        if not _is_finite(self.top_fraction) or not 0.0 < self.top_fraction <= 1.0:
            raise ValueError(f"top_fraction must be in (0, 1], got {self.top_fraction!r}")
        if not _is_finite(self.baseline):
            raise ValueError(f"baseline must be a finite number, got {self.baseline!r}")
        for name in ("mystery_sigma", "mystery_tau"):
            value = getattr(self, name)
            if value is not None:
                _check_positive(value, name)
        check_int(self.draws, "draws", minimum=1)
        check_int(self.seed, "seed")

    def normalised_weights(self) -> tuple[float, float, float]:
        """The weights divided by their sum."""
        total = sum(self.weights)
        c, m, k = (w / total for w in self.weights)
        return (c, m, k)


@dataclass(frozen=True, slots=True)
class StaffInput:
    """One staff member's data for the period (reference 3.2).

    ``group`` is the award scope (region, store or ``"chain"``) the top 10 % is taken in.
    ``satisfied`` of ``rated`` answered 4-5 to the staff item; the NPS counts are the
    receipts attributed to them; ``mystery_scores`` the staff-attributable sub-scores
    (0..100) of the visits that became final in the period; ``complaints`` upheld against
    them out of ``transactions`` receipts they issued. ``excluded_reason`` (e.g.
    ``"open_substantiated_complaint"``, ``"flagged_answers"``) keeps the person ranked and
    shown but never proposed. Invalid values raise ``ValueError`` on construction.
    """

    staff_id: int
    store_id: int
    group: str
    satisfied: int
    rated: int
    promoters: int
    passives: int
    detractors: int
    mystery_scores: tuple[float, ...]
    complaints: int
    transactions: int
    excluded_reason: str | None = None

    def __post_init__(self) -> None:
        counts = (
            self.staff_id,
            self.store_id,
            self.satisfied,
            self.rated,
            self.promoters,
            self.passives,
            self.detractors,
            self.complaints,
            self.transactions,
        )
        # The plain case in a few microseconds (the portal builds thousands of rows a
        # month); anything else goes through the checks that explain what is wrong.
        plain = (
            all(type(v) is int for v in counts)
            and min(counts) >= 0
            and self.satisfied <= self.rated
            and type(self.mystery_scores) is tuple
            and all(type(y) is float and 0.0 <= y <= 100.0 for y in self.mystery_scores)
        )
        if not plain:
            self._check_values()
        if not isinstance(self.group, str) or not self.group:
            raise ValueError(f"group must be a non-empty string, got {self.group!r}")
        reason = self.excluded_reason
        if reason is not None and (not isinstance(reason, str) or not reason):
            raise ValueError("excluded_reason must be None or a non-empty string")

    def _check_values(self) -> None:
        check_int(self.staff_id, "staff_id")
        check_int(self.store_id, "store_id")
        check_count(self.satisfied, self.rated, what="satisfied")
        for name in ("promoters", "passives", "detractors", "complaints", "transactions"):
            check_int(getattr(self, name), name)
        if not isinstance(self.mystery_scores, tuple):
            raise ValueError("mystery_scores must be a tuple of scores")
        for y in self.mystery_scores:
            if not _is_finite(y) or not 0.0 <= y <= 100.0:
                raise ValueError(f"mystery scores must be numbers in 0..100, got {y!r}")


@dataclass(frozen=True, slots=True)
class StaffScore:
    """The verdict on one staff member.

    ``customer_signal`` names the component that entered the composite as the customer
    signal (``"customer"``, or ``"nps"`` for a person without staff-item answers); ``n``
    is that component's n. ``composite`` Q and its 10th/90th percentiles ``q10``/``q90``
    are in z units; ``p_top`` = P(among the top ``top_fraction`` of the whole group),
    shown, never selected on. ``greyed`` when n < ``display_min_n``. ``eligible`` for the
    award when n >= m and n >= ``min_n`` and no ``excluded_reason``;
    ``ineligible_reasons`` says why not (``"too_few_answers"`` and/or the excluded
    reason). ``rank`` is the place within the group among staff with enough data
    (excluded staff included, so HR sees where they stand), 1 = best; ``None`` with too
    few answers. ``proposed`` when eligible and in the top ceil(``top_fraction`` x
    eligible of the group) of the eligible. ``coaching`` when ``q90`` is below the
    baseline; ``pulling_down`` the composite's signals with a negative contribution, worst
    first (empty unless coaching).
    """

    staff_id: int
    store_id: int
    group: str
    customer: Component
    nps: Component
    mystery: Component
    complaints: Component
    customer_signal: str
    n: int
    composite: float
    q10: float
    q90: float
    p_top: float
    greyed: bool
    eligible: bool
    ineligible_reasons: tuple[str, ...]
    rank: int | None
    proposed: bool
    coaching: bool
    pulling_down: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Ranking:
    """A ranking of one period: the parameters, the prior strength m used and where it came
    from (``"given"``, ``"fitted"`` or ``"default"``), the mystery sigma and tau used, each
    signal's chain mean and tau (``scales``: customer, nps, mystery, complaints), one score
    per input row in input order, and ``weight_sensitivity`` = the number of staff whose
    proposal changes when any one weight moves by 0.1 (reference 3.3e)."""

    parameters: RankingParameters
    m: float
    m_source: str
    mystery_sigma: float
    mystery_tau: float
    scales: tuple[SignalScale, ...]
    scores: tuple[StaffScore, ...]
    weight_sensitivity: int


# --------------------------------------------------------------------------- checks


def _is_finite(x: object) -> bool:
    return isinstance(x, Real) and not isinstance(x, bool) and math.isfinite(float(x))


def _check_positive(x: object, name: str) -> None:
    if not _is_finite(x) or float(x) <= 0:  # type: ignore[arg-type]
        raise ValueError(f"{name} must be a finite number > 0, got {x!r}")


def _check_share(x: object, name: str) -> None:
    if not _is_finite(x) or not 0.0 <= float(x) <= 1.0:  # type: ignore[arg-type]
        raise ValueError(f"{name} must be a number in 0..1, got {x!r}")


def _check_fraction(top_fraction: float) -> None:
    if not _is_finite(top_fraction) or not 0.0 < top_fraction <= 1.0:
        raise ValueError(f"top_fraction must be in (0, 1], got {top_fraction!r}")


def top_count(size: int, top_fraction: float) -> int:
    """ceil(top_fraction x size), immune to 0.1 x 30 = 3.0000000000000004.

    Examples
    --------
    >>> top_count(30, 0.10), top_count(31, 0.10), top_count(0, 0.10)
    (3, 4, 0)
    """
    return math.ceil(round(top_fraction * size, 9))


# --------------------------------------------------------------------------- posteriors
# The vectorised cores below serve both the one-person functions and rank_staff, so that
# the fixtures of reference 3.4 test the code that ranks.


@dataclass(frozen=True, slots=True)
class _Post:
    estimate: Floats
    sd: Floats
    low: Floats
    high: Floats
    omega: Floats


def _beta_post(x: Floats, n: Floats, mu: Floats, m: float) -> _Post:
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
    return _Post(est, sd, low, high, n / (n + m))


def _dirichlet_nps_post(
    promoters: Floats, passives: Floats, detractors: Floats, shares: Floats, m: float
) -> _Post:
    """``shares`` is (N, 3) or (3,): promoter, passive, detractor prior shares."""
    a = np.stack([promoters, passives, detractors], axis=-1) + m * shares
    a0 = a.sum(axis=-1)
    p = a / a0[..., None]
    coef = np.array([1.0, 0.0, -1.0])
    mean = p @ coef
    d = coef - mean[..., None]
    # Central moments of a linear functional of a Dirichlet (the same as a Beta's when the
    # functional is one share): var = sum p d^2/(a0 + 1), mu3 = 2 sum p d^3/((a0+1)(a0+2)).
    var = (p * d * d).sum(axis=-1) / (a0 + 1.0)
    mu3 = 2.0 * (p * d * d * d).sum(axis=-1) / ((a0 + 1.0) * (a0 + 2.0))
    sd = np.sqrt(var)
    skew = np.divide(mu3, sd**3, out=np.zeros_like(sd), where=sd > 0)
    # Cornish-Fisher with the skewness: within 0.02 points of the integrated bounds at n=3,
    # where the plain normal is 0.4 off. Kept on the right side of the mean and in range.
    shift = (Z90 * Z90 - 1.0) * skew / 6.0
    low = np.clip(np.minimum(mean + sd * (-Z90 + shift), mean), -1.0, 1.0)
    high = np.clip(np.maximum(mean + sd * (Z90 + shift), mean), -1.0, 1.0)
    n = promoters + passives + detractors
    return _Post(100.0 * mean, 100.0 * sd, 100.0 * low, 100.0 * high, n / (n + m))


def _normal_post(total: Floats, k: Floats, mu: Floats, sigma: float, tau: float) -> _Post:
    data_precision = k / (sigma * sigma)
    precision = 1.0 / (tau * tau) + data_precision
    # (mu/tau^2 + sum y/sigma^2)/precision = B mu + (1 - B) ybar with 1 - B = omega.
    est = (mu / (tau * tau) + total / (sigma * sigma)) / precision
    sd = 1.0 / np.sqrt(precision)
    return _Post(est, sd, est - Z90 * sd, est + Z90 * sd, data_precision / precision)


def _gamma_post(c: Floats, exposure: Floats, rate: Floats, kappa: float) -> _Post:
    """Rates per transaction in, per 1000 transactions out."""
    shape = c + kappa * rate
    scale = PER_1000 / (exposure + kappa)
    est = shape * scale
    proper = shape > 0
    shape_ok = np.where(proper, shape, 1.0)
    low = np.where(proper, special.gammaincinv(shape_ok, LOW_P) * scale, 0.0)
    high = np.where(proper, special.gammaincinv(shape_ok, HIGH_P) * scale, 0.0)
    return _Post(est, np.sqrt(shape) * scale, low, high, exposure / (exposure + kappa))


def _shrink(totals: Floats, counts: Floats, chain_mean: float, strength: float) -> Floats:
    return (totals + strength * chain_mean) / (counts + strength)


def _first(post: _Post, n: int, raw: float | None) -> Posterior:
    return Posterior(
        estimate=float(post.estimate[0]),
        sd=float(post.sd[0]),
        low=float(post.low[0]),
        high=float(post.high[0]),
        n=n,
        omega=float(post.omega[0]),
        raw=raw,
    )


def _one(x: float) -> Floats:
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
    _check_share(mu, "mu")
    _check_positive(m, "m")
    post = _beta_post(_one(x), _one(n), _one(mu), float(m))
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

    The SD is the exact Dirichlet SD of p_P - p_D; ``low``/``high`` add the Cornish-Fisher
    skewness term to the normal 10th/90th percentiles (a closed form instead of the
    reference's posterior draws: within 0.02 points of the integrated bounds in the
    statistics vectors).

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
        _check_share(share, "each share")
    if abs(sum(shares) - 1.0) > 1e-9:
        raise ValueError(f"shares must sum to 1, got {sum(shares)!r}")
    _check_positive(m, "m")
    post = _dirichlet_nps_post(
        _one(counts.promoters),
        _one(counts.passives),
        _one(counts.detractors),
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
        if not _is_finite(y):
            raise ValueError(f"scores must be finite numbers, got {y!r}")
    if not _is_finite(mu):
        raise ValueError(f"mu must be a finite number, got {mu!r}")
    _check_positive(sigma, "sigma")
    _check_positive(tau, "tau")
    k = len(values)
    total = float(sum(values))
    post = _normal_post(_one(total), _one(k), _one(mu), float(sigma), float(tau))
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
    if not _is_finite(rate_per_1000) or rate_per_1000 < 0:
        raise ValueError(f"rate_per_1000 must be a finite number >= 0, got {rate_per_1000!r}")
    _check_positive(kappa, "kappa")
    post = _gamma_post(
        _one(complaints), _one(transactions), _one(rate_per_1000 / PER_1000), float(kappa)
    )
    raw = PER_1000 * complaints / transactions if transactions else None
    return _first(post, transactions, raw)


def _composite(z: Floats, z_sd: Floats, weights: Floats) -> tuple[Floats, Floats]:
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
    >>> q = composite_score(beta_binomial_estimate(270, 300, 0.85, 20),
    ...                     normal_normal_estimate([95.0], 80.0, 15.0, 8.0),
    ...                     gamma_poisson_estimate(2, 4000, 0.5),
    ...                     chain_means=(0.85, 80.0, 0.5), taus=(0.063, 8.0, 0.5))
    >>> round(q.value, 3), round(q.sd, 3), round(q.q10, 3)
    (0.497, 0.319, 0.088)
    """
    w = np.array(RankingParameters(weights=weights).normalised_weights())
    for triple, name in ((chain_means, "chain_means"), (taus, "taus")):
        if len(triple) != 3 or not all(_is_finite(v) for v in triple):
            raise ValueError(f"{name} must be 3 finite numbers")
    for each in taus:
        _check_positive(each, "each tau")
    rows = []
    for post, mean, tau, sign in zip(
        (customer, mystery, complaints), chain_means, taus, (1.0, 1.0, -1.0), strict=True
    ):
        rows.append(_z(_one(post.estimate), _one(post.sd), float(mean), float(tau), sign))
    z = np.stack([r[0] for r in rows])
    z_sd = np.stack([r[1] for r in rows])
    q, sd = _composite(z, z_sd, w)
    value, spread = float(q[0]), float(sd[0])
    return CompositeScore(value, spread, value - Z90 * spread, value + Z90 * spread)


# --------------------------------------------------------------------------- priors


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
        if not _is_finite(value):
            raise ValueError(f"values must be finite numbers, got {value!r}")
    if any(c < 0 for c in counts):
        raise ValueError("counts must be >= 0")
    _check_positive(strength, "strength")
    out = _shrink(
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


def _visit_stats(scores: tuple[float, ...]) -> tuple[int, float, float]:
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
        stats.append(_visit_stats(values))
    if sigma is not None:
        _check_positive(sigma, "sigma")
    arr = np.array(stats, dtype=np.float64).reshape(-1, 3)
    fitted = _fit_sigma(arr[:, 0], arr[:, 2])
    used = sigma if sigma is not None else fitted if fitted is not None else DEFAULT_MYSTERY_SIGMA
    return fitted, _fit_tau(arr[:, 0], arr[:, 1], float(used))


# --------------------------------------------------------------------------- top 10 %


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
    _check_fraction(top_fraction)
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
    _check_share(mu, "mu")
    _check_positive(m, "m")
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


# --------------------------------------------------------------------------- rank_staff


@dataclass(frozen=True, slots=True)
class _Signal:
    """One signal for all staff (canonical order), already on the z scale."""

    name: str
    post: _Post
    z: Floats
    z_sd: Floats
    chain_mean: float
    tau: float
    chain_n: int
    available: bool


def _unavailable(name: str, size: int) -> _Signal:
    nan = np.full(size, np.nan)
    zeros = np.zeros(size)
    return _Signal(name, _Post(nan, nan, nan, nan, zeros), zeros, zeros, math.nan, 0.0, 0, False)


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


def _store_means(
    store: Ints, n_stores: int, totals: Floats, counts: Floats, chain_mean: float, strength: float
) -> Floats:
    """Each person's store mean (the whole store, the person included), shrunk to the chain."""
    store_totals: Floats = np.bincount(store, weights=totals, minlength=n_stores).astype(np.float64)
    store_counts: Floats = np.bincount(store, weights=counts, minlength=n_stores).astype(np.float64)
    return _shrink(store_totals, store_counts, chain_mean, strength)[store]


def _customer_signal(
    x: Floats, n: Floats, store: Ints, n_stores: int, m: float, m_store: float
) -> _Signal:
    chain_n = float(n.sum())
    if chain_n == 0:
        return _unavailable("customer", len(n))
    mu = float(x.sum()) / chain_n
    post = _beta_post(x, n, _store_means(store, n_stores, x, n, mu, m_store), m)
    tau = math.sqrt(mu * (1.0 - mu) / (m + 1.0))
    z, z_sd = _z(post.estimate, post.sd, mu, tau, 1.0)
    return _Signal("customer", post, z, z_sd, mu, tau, int(chain_n), True)


def _nps_signal(counts: Floats, store: Ints, n_stores: int, m: float, m_store: float) -> _Signal:
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
    post = _dirichlet_nps_post(counts[:, 0], counts[:, 1], counts[:, 2], shares, m)
    p_p, p_d = float(chain[0]), float(chain[2])
    mean = 100.0 * (p_p - p_d)
    tau = 100.0 * math.sqrt(max(0.0, p_p + p_d - (p_p - p_d) ** 2) / (m + 1.0))
    z, z_sd = _z(post.estimate, post.sd, mean, tau, 1.0)
    return _Signal("nps", post, z, z_sd, mean, tau, int(chain_n), True)


def _mystery_spread(
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


def _mystery_signal(
    k: Floats, totals: Floats, store: Ints, n_stores: int, sigma: float, tau: float, m_store: float
) -> _Signal:
    visits = float(k.sum())
    if visits == 0:
        return _unavailable("mystery", len(k))
    mu = float(totals.sum()) / visits
    post = _normal_post(
        totals, k, _store_means(store, n_stores, totals, k, mu, m_store), sigma, tau
    )
    z, z_sd = _z(post.estimate, post.sd, mu, tau, 1.0)
    return _Signal("mystery", post, z, z_sd, mu, tau, int(visits), True)


def _complaints_signal(
    c: Floats, exposure: Floats, store: Ints, n_stores: int, kappa: float
) -> _Signal:
    chain_t = float(exposure.sum())
    if chain_t == 0:
        return _unavailable("complaints", len(c))
    rate = float(c.sum()) / chain_t
    # The store rate is shrunk with the same kappa: a store-month has tens of thousands of
    # transactions, so this only matters for a store that barely traded.
    post = _gamma_post(c, exposure, _store_means(store, n_stores, c, exposure, rate, kappa), kappa)
    mean, tau = PER_1000 * rate, PER_1000 * math.sqrt(rate / kappa)
    z, z_sd = _z(post.estimate, post.sd, mean, tau, -1.0)
    return _Signal("complaints", post, z, z_sd, mean, tau, int(chain_t), True)


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


def _ratios(num: Floats, den: Floats, scale: float) -> list[float | None]:
    """The raw figures scale x num/den, ``None`` where den is 0."""
    values = (scale * num / np.where(den > 0, den, 1.0)).tolist()
    return [v if d > 0 else None for v, d in zip(values, den.tolist(), strict=True)]


def _components(s: _Signal, n: list[int], raw: list[float | None]) -> list[Component]:
    """One Component per person, built column-wise (4 x 4,000 objects per ranking)."""
    p = s.post
    return list(
        map(
            Component,
            repeat(s.name, len(n)),
            p.estimate.tolist(),
            p.low.tolist(),
            p.high.tolist(),
            n,
            p.omega.tolist(),
            raw,
            s.z.tolist(),
            p.sd.tolist(),
        )
    )


def rank_staff(
    staff: Sequence[StaffInput], parameters: RankingParameters = RankingParameters()
) -> Ranking:
    """Score, rank and propose staff for the service-star award (reference 3.3).

    Parameters
    ----------
    staff : sequence of StaffInput
        Every staff member of the chain for one period (the chain means, m, the mystery
        spread and the store means are estimated from these rows). ``staff_id`` unique.
    parameters : RankingParameters, optional
        Weights, priors and thresholds; the defaults of the reference.

    Returns
    -------
    Ranking
        One :class:`StaffScore` per row, in input order, plus what was estimated.

    Notes
    -----
    Per person (reference 3.3a-d): customer Beta, NPS Dirichlet, mystery Normal,
    complaints Gamma posteriors around the store means, the store means shrunk to the
    chain. Composite (3.3e), with complaints negated and the customer slot taken by the
    NPS for staff with no staff-item answers:

    .. math::

        z_k = \\pm\\frac{\\hat\\theta_k - \\mu_{chain,k}}{\\tau_k}, \\quad
        Q = \\sum_k w_k z_k, \\quad Q_{10/90} = Q \\mp 1.2816\\,SD(Q).

    Selection (3.3f), per ``group``: staff with n >= m (omega >= 0.5) and n >= ``min_n``
    on the customer signal are ranked by Q10 (ties: Q, then n, then staff id); the
    eligible ones (no ``excluded_reason``) in the top ceil(``top_fraction`` x eligible)
    are proposed. Coaching: Q90 < ``baseline``. P(top) by Monte Carlo from ``seed``. The
    module docstring lists every choice and the timing; the result depends only on the
    rows (not their order) and the parameters.

    References
    ----------
    .. [1] ``mystery-and-awards.md`` 3.2-3.5; DESIGN.md section 5.

    Examples
    --------
    >>> rows = [StaffInput(1, 1, "chain", 3, 3, 3, 0, 0, (), 0, 300),
    ...         StaffInput(2, 1, "chain", 270, 300, 200, 80, 20, (95.0,), 2, 4000)]
    >>> r = rank_staff(rows, RankingParameters(prior_strength=20))
    >>> [(s.staff_id, s.eligible, s.rank, s.proposed) for s in r.scores]
    [(1, False, None, False), (2, True, 1, True)]
    """
    if not isinstance(parameters, RankingParameters):
        raise ValueError("parameters must be a RankingParameters")
    p = parameters
    rows = list(staff)
    for s in rows:
        if not isinstance(s, StaffInput):
            raise ValueError(f"staff must be StaffInput rows, got {type(s).__name__}")
    size = len(rows)
    ids = np.fromiter((s.staff_id for s in rows), dtype=np.int64, count=size)
    if np.unique(ids).size != size:
        raise ValueError("staff_id must be unique")
    _, group_in = np.unique(np.array([s.group for s in rows], dtype=str), return_inverse=True)
    _, store_in = np.unique(
        np.fromiter((s.store_id for s in rows), dtype=np.int64, count=size), return_inverse=True
    )
    # Canonical order (group, staff id): the results, P(top) draws included, do not depend
    # on the order of the rows, and each group is a contiguous slice.
    canon = np.lexsort((ids, group_in))
    sid = ids[canon]
    group = group_in.astype(np.int64)[canon]
    store = store_in.astype(np.int64)[canon]
    n_groups = int(group.max()) + 1 if size else 0
    n_stores = int(store.max()) + 1 if size else 0
    ordered_rows = [rows[i] for i in canon.tolist()]
    table = np.array(
        [
            (
                s.satisfied,
                s.rated,
                s.promoters,
                s.passives,
                s.detractors,
                s.complaints,
                s.transactions,
                len(s.mystery_scores),
            )
            for s in ordered_rows
        ],
        dtype=np.float64,
    ).reshape(-1, 8)
    x, n, nps_counts = table[:, 0], table[:, 1], table[:, 2:5]
    c, exposure, k = table[:, 5], table[:, 6], table[:, 7]
    visit_totals = np.array([sum(s.mystery_scores) for s in ordered_rows], dtype=np.float64)
    within_ss = np.zeros(size)
    for i in np.flatnonzero(k >= 2).tolist():
        within_ss[i] = _visit_stats(ordered_rows[i].mystery_scores)[2]

    if p.prior_strength is not None:
        m, m_source = float(p.prior_strength), "given"
    else:
        fitted = _fit_m(x, n, MIN_TRIALS_FOR_FIT, MIN_STAFF_FOR_FIT)
        m, m_source = (
            (fitted, "fitted") if fitted is not None else (DEFAULT_PRIOR_STRENGTH, "default")
        )
    sigma, tau_ms = _mystery_spread(p, k, visit_totals, within_ss)

    customer = _customer_signal(x, n, store, n_stores, m, p.store_prior_strength)
    nps = _nps_signal(nps_counts, store, n_stores, m, p.store_prior_strength)
    mystery = _mystery_signal(
        k, visit_totals, store, n_stores, sigma, tau_ms, p.store_prior_strength
    )
    complaints = _complaints_signal(c, exposure, store, n_stores, p.complaint_exposure)

    # The NPS stands in for the staff item only for people with no staff-item answers (or
    # for everyone when the chain has none): an overall score is not about the cashier.
    nps_n = nps_counts.sum(axis=1)
    use_nps = (n == 0) & nps.available & ((nps_n > 0) | (not customer.available))
    n_used = np.where(use_nps, nps_n, n)
    z = np.stack([np.where(use_nps, nps.z, customer.z), mystery.z, complaints.z])
    z_sd = np.stack([np.where(use_nps, nps.z_sd, customer.z_sd), mystery.z_sd, complaints.z_sd])
    available = np.array(
        [customer.available or nps.available, mystery.available, complaints.available]
    )
    base = np.array(p.normalised_weights())

    def weights_for(w: Floats) -> Floats:
        # A signal with no data anywhere in the chain shares its weight among the others.
        w = np.where(available, w, 0.0)
        total = float(w.sum())
        return w / total if total > 0 else w

    w = weights_for(base)
    q, q_sd = _composite(z, z_sd, w)
    q10, q90 = q - Z90 * q_sd, q + Z90 * q_sd

    # Greyed (below display_min_n) is never ranked either (DESIGN section 5).
    data_ok = (n_used >= m) & (n_used >= p.min_n) & (n_used >= p.display_min_n)
    excluded = np.array([s.excluded_reason is not None for s in ordered_rows], dtype=bool)
    eligible = data_ok & ~excluded
    ranked, place = _order(data_ok, group, q10, q, n_used, sid)
    rank = np.zeros(size, dtype=np.int64)
    rank[ranked] = place
    proposed = _proposals(eligible, group, n_groups, q10, q, n_used, sid, p.top_fraction)
    coaching = q90 < p.baseline
    p_top = _p_top(q, q_sd, group, p.top_fraction, p.draws, p.seed)

    changed = np.zeros(size, dtype=bool)
    for slot in range(3):
        for step in (SENSITIVITY_STEP, -SENSITIVITY_STEP):
            if not available[slot]:
                continue
            varied = base.copy()
            varied[slot] = max(0.0, varied[slot] + step)
            wv = weights_for(varied)
            if not wv.any():
                continue
            qv, sdv = _composite(z, z_sd, wv)
            changed |= (
                _proposals(
                    eligible, group, n_groups, qv - Z90 * sdv, qv, n_used, sid, p.top_fraction
                )
                != proposed
            )

    as_int = table.astype(np.int64)
    customer_parts = _components(customer, as_int[:, 1].tolist(), _ratios(x, n, 1.0))
    nps_parts = _components(
        nps,
        as_int[:, 2:5].sum(axis=1).tolist(),
        _ratios(nps_counts[:, 0] - nps_counts[:, 2], nps_n, 100.0),
    )
    mystery_parts = _components(mystery, as_int[:, 7].tolist(), _ratios(visit_totals, k, 1.0))
    complaints_parts = _components(
        complaints, as_int[:, 6].tolist(), _ratios(c, exposure, PER_1000)
    )
    greyed = n_used < p.display_min_n
    scores: list[StaffScore] = []
    for i, (s, qi, lo, hi, pt, grey, prop, rk, by_nps, nu, ok, el, coach) in enumerate(
        zip(
            ordered_rows,
            q.tolist(),
            q10.tolist(),
            q90.tolist(),
            p_top.tolist(),
            greyed.tolist(),
            proposed.tolist(),
            rank.tolist(),
            use_nps.tolist(),
            n_used.astype(np.int64).tolist(),
            data_ok.tolist(),
            eligible.tolist(),
            coaching.tolist(),
            strict=True,
        )
    ):
        first = "nps" if by_nps else "customer"
        reasons = () if ok else (TOO_FEW_ANSWERS,)
        if s.excluded_reason is not None:
            reasons = (*reasons, s.excluded_reason)
        pulling: tuple[str, ...] = ()
        if coach:
            # Worst first by contribution w_k z_k: what actually pulls the composite down.
            parts = (w * z[:, i]).tolist()
            names = (first, "mystery", "complaints")
            pulling = tuple(names[j] for v, j in sorted(zip(parts, range(3), strict=True)) if v < 0)
        scores.append(
            StaffScore(
                staff_id=s.staff_id,
                store_id=s.store_id,
                group=s.group,
                customer=customer_parts[i],
                nps=nps_parts[i],
                mystery=mystery_parts[i],
                complaints=complaints_parts[i],
                customer_signal=first,
                n=nu,
                composite=qi,
                q10=lo,
                q90=hi,
                p_top=pt,
                greyed=grey,
                eligible=el,
                ineligible_reasons=reasons,
                rank=rk if ok else None,
                proposed=prop,
                coaching=coach,
                pulling_down=pulling,
            )
        )
    # Back to the order of the rows.
    scores = [scores[j] for j in np.argsort(canon).tolist()]

    weights_used = w.tolist()
    scales = tuple(
        SignalScale(s.name, s.chain_mean, s.tau, weight, s.chain_n, s.available)
        for s, weight in (
            (customer, weights_used[0]),
            (nps, weights_used[0]),
            (mystery, weights_used[1]),
            (complaints, weights_used[2]),
        )
    )
    return Ranking(
        parameters=p,
        m=m,
        m_source=m_source,
        mystery_sigma=sigma,
        mystery_tau=tau_ms,
        scales=scales,
        scores=tuple(scores),
        weight_sensitivity=int(changed.sum()),
    )


def _synthetic_chain(seed: int = 1) -> list[StaffInput]:
    """4,000 staff as in the module docstring's timing: 200 stores of 20 in 10 regions,
    about 250 answers each, 0-2 mystery visits, a few upheld complaints."""
    rng = np.random.default_rng(seed)
    rows = []
    store_rate = rng.beta(85, 15, 200)
    for i in range(4000):
        store = i // 20
        rate = float(rng.beta(20 * store_rate[store], 20 * (1 - store_rate[store])))
        answers = int(rng.integers(150, 350))
        promoters, passives, detractors = (
            int(v) for v in rng.multinomial(answers, [0.65 * rate, 0.25, 0.75 - 0.65 * rate])
        )
        visits = tuple(
            float(np.clip(rng.normal(80 + 40 * (rate - 0.85), 15), 0, 100))
            for _ in range(int(rng.integers(0, 3)))
        )
        transactions = int(rng.integers(1500, 4500))
        rows.append(
            StaffInput(
                staff_id=i + 1,
                store_id=store + 1,
                group=f"region-{store // 20:02d}",
                satisfied=int(rng.binomial(answers, rate)),
                rated=answers,
                promoters=promoters,
                passives=passives,
                detractors=detractors,
                mystery_scores=visits,
                complaints=int(rng.poisson(0.0005 * transactions)),
                transactions=transactions,
            )
        )
    return rows


if __name__ == "__main__":  # pragma: no cover - a benchmark, not a test
    import time

    chain = _synthetic_chain()
    wall, cpu = [], []
    for _ in range(9):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = rank_staff(chain)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    proposed = sum(s.proposed for s in result.scores)
    print(
        f"rank_staff, {len(chain)} staff: wall best {1000 * min(wall):.0f} ms, median "
        f"{1000 * sorted(wall)[4]:.0f} ms; CPU best {1000 * min(cpu):.0f} ms (9 runs); "
        f"m = {result.m:.1f} ({result.m_source}), {proposed} proposed, weight sensitivity "
        f"{result.weight_sensitivity}"
    )
