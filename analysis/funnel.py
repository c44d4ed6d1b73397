"""Invitation-funnel outliers: staff whose surveys look hand-picked.

A cashier who hands the receipt survey only to happy customers shows two signs: far more
of their receipts are answered than their colleagues', and more of the answers are
promoters. Each staff member is compared with the rest of their own store (the store minus
them), so that a busy store or a tough neighbourhood does not flag everyone in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analysis.compare import benjamini_hochberg, two_proportion_test
from analysis.csat import check_count, check_int, wilson_interval
from analysis.nps import check_counts
from analysis.results import Estimate, NpsCounts


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


def _one_sided_p(k: int, n: int, k_rest: int, n_rest: int) -> float | None:
    if n == 0 or n_rest == 0:
        return None
    return two_proportion_test(k, n, k_rest, n_rest, alternative="greater").p_value


def _adjust(raw: list[float | None]) -> list[float | None]:
    """BH-adjust the p-values that exist, leaving ``None`` in place."""
    present = [p for p in raw if p is not None]
    adjusted = iter(benjamini_hochberg(present))
    return [None if p is None else next(adjusted) for p in raw]


def funnel_outliers(
    staff: Sequence[StaffFunnel], *, alpha: float = 0.05, min_n: int = 30
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
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    check_int(min_n, "min_n")
    keys = [s.key for s in staff]
    if len(set(keys)) != len(keys):
        raise ValueError("staff keys must be unique within the store")
    for s in staff:
        check_count(s.answered, s.issued, what=f"answered of {s.key!r}")
        check_counts(s.nps)

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
