"""Invitation-funnel outliers: staff whose surveys look hand-picked.

A cashier who hands the receipt survey only to happy customers shows two signs: far more
of their receipts are answered than their colleagues', and more of the answers are
promoters. Each staff member is compared with the rest of their own store (the store minus
them), so that a busy store or a tough neighbourhood does not flag everyone in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr
from scipy.stats import hypergeom

from analysis.compare import benjamini_hochberg, two_proportion_test
from analysis.csat import check_count, check_int, two_sided_z, wilson_interval
from analysis.nps import check_counts
from analysis.results import Estimate, NpsCounts
from analysis.significance import ALPHA


@dataclass(frozen=True, slots=True)
class StaffFunnel:
    """One staff member in the period: surveys issued (receipts printed with a survey
    code), how many of those were answered, and their NPS answers.

    The NPS counts may cover a different window from ``issued``/``answered`` (answers
    received in the period against receipts issued in it), so ``nps.n`` is not required to
    be at most ``answered``: the two tests are separate.
    """

    key: str
    issued: int
    answered: int
    nps: NpsCounts


@dataclass(frozen=True, slots=True)
class FunnelFlag:
    """The verdict on one staff member.

    ``response_rate`` = answered/issued and ``promoter_share`` = promoters/NPS answers,
    both proportions 0..1 with Wilson intervals; ``store_rate`` and
    ``store_promoter_share`` are the same for the *rest* of the store (the store minus this
    person). ``rate_p`` and ``share_p`` are one-sided ("higher than the rest") p-values,
    Benjamini-Hochberg adjusted across the store's staff; ``None`` when there is nothing to
    compare. ``flagged`` when any ``reasons`` apply: ``"response_rate_high"``,
    ``"promoter_share_high"``.
    """

    key: str
    response_rate: Estimate
    store_rate: Estimate
    rate_p: float | None
    promoter_share: Estimate
    store_promoter_share: Estimate
    share_p: float | None
    flagged: bool
    reasons: tuple[str, ...]


#: Wilson intervals are 95 %, as :func:`analysis.csat.wilson_interval` by default.
_Z = two_sided_z(0.95)
#: Below this many trials per store, every count, sum and the expected-cell product
#: min(n_i, n_r) * min(successes, failures) < 2**52 is exact in int64 and in float64.
_EXACT_TOTAL = 2**26

_Ints = npt.NDArray[np.int64]


def _one_sided_p(k: int, n: int, k_rest: int, n_rest: int) -> float | None:
    if n == 0 or n_rest == 0:
        return None
    return two_proportion_test(k, n, k_rest, n_rest, alternative="greater").p_value


def _adjust(raw: list[float | None]) -> list[float | None]:
    """BH-adjust the p-values that exist, leaving ``None`` in place."""
    present = [p for p in raw if p is not None]
    adjusted = iter(benjamini_hochberg(present))
    return [None if p is None else next(adjusted) for p in raw]


def _one_sided_p_many(k1: _Ints, n1: _Ints, k2: _Ints, n2: _Ints) -> list[float | None]:
    """``_one_sided_p`` row by row, vectorised: ``two_proportion_test(k1, n1, k2, n2,
    alternative="greater").p_value``, ``None`` where a group has no trials.

    Every float is computed by the same IEEE operations in the same order as the scalar
    code (integers below 2**53 convert exactly; ``/`` and ``sqrt`` are correctly rounded),
    so the p-values are bit for bit the same.
    """
    p = np.full(k1.shape, np.nan)
    tested = np.flatnonzero((n1 > 0) & (n2 > 0))
    k1, n1, k2, n2 = k1[tested], n1[tested], k2[tested], n2[tested]
    total_n = n1 + n2
    successes = k1 + k2
    failures = total_n - successes
    # 'auto': Fisher when an expected cell is below 5. The integer product is exact (the
    # caller keeps the store below _EXACT_TOTAL), as is its conversion to float64.
    smallest = np.minimum(n1, n2) * np.minimum(successes, failures) / total_n
    fisher = smallest < 5

    z_rows = ~fisher
    a, b, c, d = k1[z_rows], n1[z_rows], k2[z_rows], n2[z_rows]
    pooled = (a + c) / (b + d)
    # pooled is strictly between 0 and 1 here (else an expected cell is 0), so se > 0.
    se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / b + 1.0 / d))
    z = (a / b - c / d) / se
    p[tested[z_rows]] = ndtr(-z)

    if fisher.any():
        a, b, c, d = k1[fisher], n1[fisher], k2[fisher], n2[fisher]
        # fisher_exact gives 1 when a row or column of the table sums to 0; the rows
        # (n1, n2) do not here, the columns are the successes and the failures.
        fp = np.ones(a.shape)
        proper = (successes[fisher] > 0) & (failures[fisher] > 0)
        if proper.any():
            a, b, c, d = a[proper], b[proper], c[proper], d[proper]
            fp[proper] = hypergeom.cdf(b - a, b + d, b, (b - a) + (d - c))
        p[tested[fisher]] = np.minimum(1.0, fp)
    return [None if v != v else v for v in p.tolist()]  # NaN: nothing to compare


def _wilson_many(k: _Ints, n: _Ints, ns: list[int]) -> list[Estimate]:
    """``wilson_interval(k, n)`` row by row (95 %), vectorised with the same operations;
    ``ns`` are the trials as Python ints, for ``Estimate.n``."""
    some = n > 0
    safe_n = np.where(some, n, 1)  # n == 0 gives an empty Estimate below, not a division
    p = k / safe_n
    z2n = _Z * _Z / safe_n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = _Z * np.sqrt(p * (1.0 - p) / safe_n + z2n / (4.0 * safe_n)) / (1.0 + z2n)
    low, high = centre - half, centre + half
    # max(0.0, x) and min(1.0, x) as Python evaluates them.
    low = np.where(k == 0, 0.0, np.where(low > 0.0, low, 0.0))
    high = np.where(k == n, 1.0, np.where(high < 1.0, high, 1.0))
    return [
        Estimate(value=v, low=lo, high=hi, n=m) if ok else Estimate(None, None, None, 0)
        for ok, v, lo, hi, m in zip(
            some.tolist(), p.tolist(), low.tolist(), high.tolist(), ns, strict=True
        )
    ]


def _check(staff: Sequence[StaffFunnel], alpha: float, min_n: int) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    check_int(min_n, "min_n")
    keys = [s.key for s in staff]
    if len(set(keys)) != len(keys):
        raise ValueError("staff keys must be unique within the store")
    for s in staff:
        check_count(s.answered, s.issued, what=f"answered of {s.key!r}")
        check_counts(s.nps)


def funnel_outliers(
    staff: Sequence[StaffFunnel], *, alpha: float = ALPHA, min_n: int = 30
) -> list[FunnelFlag]:
    """Flag staff whose response rate or promoter share is credibly above their store's.

    Parameters
    ----------
    staff : sequence of StaffFunnel
        Every staff member of **one** store for one period (call once per store).
    alpha : float, optional
        False discovery rate across the store's staff, default 0.05.
    min_n : int, optional
        A staff member needs at least this many answered surveys to be flagged for the
        response rate, and this many NPS answers for the promoter share; default 30.

    Returns
    -------
    list of FunnelFlag
        One per staff member, in input order.

    Notes
    -----
    For each person i, with the rest r = store - i, two tests of "higher":

    - response rate: answered_i/issued_i against answered_r/issued_r;
    - promoter share: P_i/n_i against P_r/n_r.

    Each is the pooled two-proportion z, one-sided (alternative p_i > p_r), or Fisher's
    exact test when an expected cell is below 5
    (:func:`analysis.compare.two_proportion_test`). Only "higher" matters: a low response
    rate or few promoters is a coaching matter, not a sign of hand-picked customers, and a
    two-sided test would spend half its power on it. The p-values of each test are
    adjusted by Benjamini-Hochberg across the store's staff (two families, one per test),
    and a reason applies when its adjusted p < alpha and the person reaches ``min_n``. A
    flag is a reason to look (e.g. at receipts issued versus answered by hour), not a
    verdict.

    The store's staff are computed together with numpy, with the same floating-point
    operations as :func:`~analysis.compare.two_proportion_test` and
    :func:`~analysis.csat.wilson_interval`, so the figures are those of calling them person
    by person: the one-sided z p-value is ``scipy.special.ndtr(-z)`` (what
    ``scipy.stats.norm.sf`` computes), and Fisher's one-sided p for the table
    ``[[k_i, n_i - k_i], [k_r, n_r - k_r]]`` is 1 when its successes or failures are all 0,
    else ``scipy.stats.hypergeom.cdf(n_i - k_i, n_i + n_r, n_i, failures)`` (what
    ``scipy.stats.fisher_exact(table, alternative="greater")`` computes). A store of
    :math:`2^{26}` or more surveys issued or NPS answers, where float64 would no longer hold
    the expected-cell products exactly, is computed person by person.

    References
    ----------
    .. [1] Fleiss J.L., Levin B., Paik M.C. (2003). *Statistical Methods for Rates and
           Proportions*, 3rd ed., ch. 3.
    .. [2] Benjamini Y., Hochberg Y. (1995). *JRSS B* 57:289-300.

    Examples
    --------
    >>> team = [StaffFunnel("s1", 55, 44, NpsCounts(36, 6, 2))] + [
    ...     StaffFunnel(f"s{i}", 100, 35, NpsCounts(17, 10, 8)) for i in range(2, 7)]
    >>> [(f.key, f.reasons) for f in funnel_outliers(team) if f.flagged]
    [('s1', ('response_rate_high', 'promoter_share_high'))]
    """
    _check(staff, alpha, min_n)
    issued_list = [s.issued for s in staff]
    nps_n_list = [s.nps.n for s in staff]
    if sum(issued_list) >= _EXACT_TOTAL or sum(nps_n_list) >= _EXACT_TOTAL:
        return _funnel_outliers_reference(staff, alpha=alpha, min_n=min_n)

    issued = np.array(issued_list, dtype=np.int64)
    answered = np.array([s.answered for s in staff], dtype=np.int64)
    promoters = np.array([s.nps.promoters for s in staff], dtype=np.int64)
    nps_n = np.array(nps_n_list, dtype=np.int64)
    # The rest of the store: the store minus each person.
    rest_issued = issued.sum() - issued
    rest_answered = answered.sum() - answered
    rest_promoters = promoters.sum() - promoters
    rest_nps_n = nps_n.sum() - nps_n

    # Both tests in one pass (rows 0..m-1 the response rate, m..2m-1 the promoter share),
    # BH-adjusted family by family.
    m = len(staff)
    raw = _one_sided_p_many(
        np.concatenate([answered, promoters]),
        np.concatenate([issued, nps_n]),
        np.concatenate([rest_answered, rest_promoters]),
        np.concatenate([rest_issued, rest_nps_n]),
    )
    rate_p, share_p = _adjust(raw[:m]), _adjust(raw[m:])
    # The four intervals of each person in one pass too.
    estimates = _wilson_many(
        np.concatenate([answered, rest_answered, promoters, rest_promoters]),
        np.concatenate([issued, rest_issued, nps_n, rest_nps_n]),
        issued_list + rest_issued.tolist() + nps_n_list + rest_nps_n.tolist(),
    )
    response_rate, store_rate = estimates[:m], estimates[m : 2 * m]
    promoter_share, store_share = estimates[2 * m : 3 * m], estimates[3 * m :]

    flags: list[FunnelFlag] = []
    for i, s in enumerate(staff):
        p_rate, p_share = rate_p[i], share_p[i]
        reasons: list[str] = []
        if p_rate is not None and p_rate < alpha and s.answered >= min_n:
            reasons.append("response_rate_high")
        if p_share is not None and p_share < alpha and nps_n_list[i] >= min_n:
            reasons.append("promoter_share_high")
        flags.append(
            FunnelFlag(
                key=s.key,
                response_rate=response_rate[i],
                store_rate=store_rate[i],
                rate_p=p_rate,
                promoter_share=promoter_share[i],
                store_promoter_share=store_share[i],
                share_p=p_share,
                flagged=bool(reasons),
                reasons=tuple(reasons),
            )
        )
    return flags


def _funnel_outliers_reference(
    staff: Sequence[StaffFunnel], *, alpha: float = ALPHA, min_n: int = 30
) -> list[FunnelFlag]:
    """:func:`funnel_outliers` person by person with the scalar functions (the code before
    it was vectorised): the tests' reference, and the path of stores too large for the
    float64 shortcut."""
    _check(staff, alpha, min_n)

    issued = sum(s.issued for s in staff)
    answered = sum(s.answered for s in staff)
    promoters = sum(s.nps.promoters for s in staff)
    nps_n = sum(s.nps.n for s in staff)

    rate_p = _adjust(
        [
            _one_sided_p(s.answered, s.issued, answered - s.answered, issued - s.issued)
            for s in staff
        ]
    )
    share_p = _adjust(
        [
            _one_sided_p(s.nps.promoters, s.nps.n, promoters - s.nps.promoters, nps_n - s.nps.n)
            for s in staff
        ]
    )

    flags: list[FunnelFlag] = []
    for s, p_rate, p_share in zip(staff, rate_p, share_p, strict=True):
        reasons: list[str] = []
        if p_rate is not None and p_rate < alpha and s.answered >= min_n:
            reasons.append("response_rate_high")
        if p_share is not None and p_share < alpha and s.nps.n >= min_n:
            reasons.append("promoter_share_high")
        flags.append(
            FunnelFlag(
                key=s.key,
                response_rate=wilson_interval(s.answered, s.issued),
                store_rate=wilson_interval(answered - s.answered, issued - s.issued),
                rate_p=p_rate,
                promoter_share=wilson_interval(s.nps.promoters, s.nps.n),
                store_promoter_share=wilson_interval(promoters - s.nps.promoters, nps_n - s.nps.n),
                share_p=p_share,
                flagged=bool(reasons),
                reasons=tuple(reasons),
            )
        )
    return flags
