"""The staff ranking's vocabulary: what goes in (``StaffInput``, ``RankingParameters``),
what comes out (``Posterior``, ``CompositeScore``, ``Component``, ``SignalScale``,
``StaffScore``, ``Ranking``), the constants the steps share and the argument checks. The
statistics live in the sibling modules; this one only says what the numbers mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np
import numpy.typing as npt
from scipy import special

from analysis.csat import check_count, check_int

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

#: The standard normal 90th percentile: the 10th/90th percentile bounds are mean -/+ Z90 SD.
Z90 = float(special.ndtri(0.9))
LOW_P, HIGH_P = 0.10, 0.90
PER_1000 = 1000.0
#: The composite's three slots, in the order of ``RankingParameters.weights``.
SLOTS = ("customer", "mystery", "complaints")


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

    @property
    def has_own_data(self) -> bool:
        """Whether any of the estimate is the person's own: with n = 0 it is the store
        average (shrinkage with nothing to shrink), not a figure about them."""
        return self.n > 0


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
            if not is_finite(w) or w < 0:
                raise ValueError(f"weights must be finite and >= 0, got {self.weights!r}")
        if sum(self.weights) <= 0:
            raise ValueError("weights must not all be 0")
        if self.prior_strength is not None:
            check_positive(self.prior_strength, "prior_strength")
        check_positive(self.store_prior_strength, "store_prior_strength")
        check_positive(self.complaint_exposure, "complaint_exposure")
        check_int(self.min_n, "min_n")
        check_int(self.display_min_n, "display_min_n")
        if not is_finite(self.top_fraction) or not 0.0 < self.top_fraction <= 1.0:
            raise ValueError(f"top_fraction must be in (0, 1], got {self.top_fraction!r}")
        if not is_finite(self.baseline):
            raise ValueError(f"baseline must be a finite number, got {self.baseline!r}")
        for name in ("mystery_sigma", "mystery_tau"):
            value = getattr(self, name)
            if value is not None:
                check_positive(value, name)
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
            if not is_finite(y) or not 0.0 <= y <= 100.0:
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

    @property
    def has_own_data(self) -> bool:
        """Whether any signal holds the person's own data (else the whole composite is the
        store's averages)."""
        return any(c.has_own_data for c in (self.customer, self.nps, self.mystery, self.complaints))


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


def is_finite(x: object) -> bool:
    return isinstance(x, Real) and not isinstance(x, bool) and math.isfinite(float(x))


def check_positive(x: object, name: str) -> None:
    if not is_finite(x) or float(x) <= 0:  # type: ignore[arg-type]
        raise ValueError(f"{name} must be a finite number > 0, got {x!r}")


def check_share(x: object, name: str) -> None:
    if not is_finite(x) or not 0.0 <= float(x) <= 1.0:  # type: ignore[arg-type]
        raise ValueError(f"{name} must be a number in 0..1, got {x!r}")


def check_fraction(top_fraction: float) -> None:
    if not is_finite(top_fraction) or not 0.0 < top_fraction <= 1.0:
        raise ValueError(f"top_fraction must be in (0, 1], got {top_fraction!r}")
