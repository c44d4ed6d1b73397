"""``rank_staff``: the whole staff ranking of one period, from the rows to the verdicts.

It reads the rows into arrays in a canonical order (award group, then staff id, so that
nothing depends on the order of the input), fits the priors, builds the four signals and
the composite, ranks and proposes within each group, checks the weights' sensitivity and
turns the arrays back into one frozen :class:`StaffScore` per row, in input order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from analysis.ranking.composite import (
    CompositeParts,
    Signal,
    combine,
    complaints_signal,
    customer_signal_of,
    mystery_signal,
    nps_signal,
)
from analysis.ranking.model import (
    PER_1000,
    Bools,
    Component,
    Floats,
    Ints,
    Ranking,
    RankingParameters,
    SignalScale,
    StaffInput,
    StaffScore,
)
from analysis.ranking.priors import mystery_spread, prior_strength_of, visit_stats
from analysis.ranking.selection import SelectionResult, count_weight_changes, select

TOO_FEW_ANSWERS = "too_few_answers"
#: The reference's defaults (frozen, so one shared instance is safe).
DEFAULT_PARAMETERS = RankingParameters()


@dataclass(frozen=True, slots=True)
class _Rows:
    """The input rows in canonical order (group, then staff id) and as arrays: ``canon``
    maps canonical positions to input positions, ``group``/``store`` are dense indices,
    ``table`` holds the counts (one column per property below), ``visit_totals`` and
    ``within_ss`` the sum and within-person sum of squares of each one's mystery scores."""

    rows: list[StaffInput]
    canon: Ints
    sid: Ints
    group: Ints
    store: Ints
    n_groups: int
    n_stores: int
    table: Floats
    visit_totals: Floats
    within_ss: Floats
    excluded: Bools

    @property
    def satisfied(self) -> Floats:
        """Staff-item answers of 4-5 (x)."""
        return self.table[:, 0]

    @property
    def rated(self) -> Floats:
        """Staff-item answers (n)."""
        return self.table[:, 1]

    @property
    def nps_counts(self) -> Floats:
        """(N, 3): promoters, passives, detractors."""
        return self.table[:, 2:5]

    @property
    def complaints(self) -> Floats:
        """Upheld complaints (c)."""
        return self.table[:, 5]

    @property
    def transactions(self) -> Floats:
        """Receipts issued: the complaints' exposure."""
        return self.table[:, 6]

    @property
    def visits(self) -> Floats:
        """Mystery visits (k)."""
        return self.table[:, 7]


def _read_rows(staff: Sequence[StaffInput]) -> _Rows:
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
    group = group_in.astype(np.int64)[canon]
    store = store_in.astype(np.int64)[canon]
    ordered = [rows[i] for i in canon.tolist()]
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
            for s in ordered
        ],
        dtype=np.float64,
    ).reshape(-1, 8)
    visit_totals = np.array([sum(s.mystery_scores) for s in ordered], dtype=np.float64)
    within_ss = np.zeros(size)
    visits = table[:, 7]
    for i in np.flatnonzero(visits >= 2).tolist():
        within_ss[i] = visit_stats(ordered[i].mystery_scores)[2]
    return _Rows(
        rows=ordered,
        canon=canon,
        sid=ids[canon],
        group=group,
        store=store,
        n_groups=int(group.max()) + 1 if size else 0,
        n_stores=int(store.max()) + 1 if size else 0,
        table=table,
        visit_totals=visit_totals,
        within_ss=within_ss,
        excluded=np.array([s.excluded_reason is not None for s in ordered], dtype=bool),
    )


def rank_staff(
    staff: Sequence[StaffInput], parameters: RankingParameters = DEFAULT_PARAMETERS
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
    package docstring (:mod:`analysis.ranking`) lists every choice and the timing; the
    result depends only on the rows (not their order) and the parameters.

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
    r = _read_rows(staff)
    x, n, nps_counts = r.satisfied, r.rated, r.nps_counts
    c, exposure, k = r.complaints, r.transactions, r.visits
    m, m_source = prior_strength_of(p, x, n)
    sigma, tau_ms = mystery_spread(p, k, r.visit_totals, r.within_ss)
    m_store = p.store_prior_strength
    signals = (
        customer_signal_of(x, n, r.store, r.n_stores, m, m_store),
        nps_signal(nps_counts, r.store, r.n_stores, m, m_store),
        mystery_signal(k, r.visit_totals, r.store, r.n_stores, sigma, tau_ms, m_store),
        complaints_signal(c, exposure, r.store, r.n_stores, p.complaint_exposure),
    )
    combined = combine(*signals, n, nps_counts.sum(axis=1), p)
    chosen = select(combined, r.excluded, r.group, r.n_groups, r.sid, p, m)
    sensitivity = count_weight_changes(combined, chosen, r.group, r.n_groups, r.sid, p.top_fraction)
    scores = _staff_scores(r, signals, combined, chosen, p.display_min_n)
    w = combined.weights.tolist()
    # The NPS only stands in for the customer signal, so it shows the customer weight.
    scales = tuple(
        SignalScale(s.name, s.chain_mean, s.tau, weight, s.chain_n, s.available)
        for s, weight in zip(signals, (w[0], w[0], w[1], w[2]), strict=True)
    )
    return Ranking(
        parameters=p,
        m=m,
        m_source=m_source,
        mystery_sigma=sigma,
        mystery_tau=tau_ms,
        scales=scales,
        scores=tuple(scores),
        weight_sensitivity=sensitivity,
    )


def _ratios(num: Floats, den: Floats, scale: float) -> list[float | None]:
    """The raw figures scale x num/den, ``None`` where den is 0."""
    values = (scale * num / np.where(den > 0, den, 1.0)).tolist()
    return [v if d > 0 else None for v, d in zip(values, den.tolist(), strict=True)]


def _components(s: Signal, n: list[int], raw: list[float | None]) -> list[Component]:
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


def _signal_components(r: _Rows, signals: tuple[Signal, ...]) -> list[list[Component]]:
    """Each signal's components with its raw figure, canonical order."""
    customer, nps, mystery, complaints = signals
    nps_counts = r.nps_counts
    as_int = r.table.astype(np.int64)
    return [
        _components(customer, as_int[:, 1].tolist(), _ratios(r.satisfied, r.rated, 1.0)),
        _components(
            nps,
            as_int[:, 2:5].sum(axis=1).tolist(),
            _ratios(nps_counts[:, 0] - nps_counts[:, 2], nps_counts.sum(axis=1), 100.0),
        ),
        _components(mystery, as_int[:, 7].tolist(), _ratios(r.visit_totals, r.visits, 1.0)),
        _components(
            complaints, as_int[:, 6].tolist(), _ratios(r.complaints, r.transactions, PER_1000)
        ),
    ]


@dataclass(frozen=True, slots=True)
class _Verdicts:
    """Everyone's results as plain Python values, canonical order: one ``tolist`` per
    array, because reading numpy scalars one at a time costs more than the score objects."""

    composite: list[float]
    q10: list[float]
    q90: list[float]
    p_top: list[float]
    greyed: list[bool]
    proposed: list[bool]
    rank: list[int]
    by_nps: list[bool]
    n: list[int]
    data_ok: list[bool]
    eligible: list[bool]
    coaching: list[bool]

    @classmethod
    def of(cls, c: CompositeParts, chosen: SelectionResult, display_min_n: int) -> _Verdicts:
        """The verdicts of the composite ``c`` and the selection ``chosen``."""
        return cls(
            composite=c.q.tolist(),
            q10=c.q10.tolist(),
            q90=c.q90.tolist(),
            p_top=chosen.p_top.tolist(),
            greyed=(c.n_used < display_min_n).tolist(),
            proposed=chosen.proposed.tolist(),
            rank=chosen.rank.tolist(),
            by_nps=c.use_nps.tolist(),
            n=c.n_used.astype(np.int64).tolist(),
            data_ok=chosen.data_ok.tolist(),
            eligible=chosen.eligible.tolist(),
            coaching=chosen.coaching.tolist(),
        )


def _pulling_down(c: CompositeParts, i: int, first: str) -> tuple[str, ...]:
    """The composite's signals with a negative contribution w_k z_k, worst first: what
    actually pulls person ``i`` down."""
    parts = (c.weights * c.z[:, i]).tolist()
    names = (first, "mystery", "complaints")
    return tuple(names[j] for v, j in sorted(zip(parts, range(3), strict=True)) if v < 0)


def _staff_scores(
    r: _Rows,
    signals: tuple[Signal, ...],
    c: CompositeParts,
    chosen: SelectionResult,
    display_min_n: int,
) -> list[StaffScore]:
    """One StaffScore per input row, in the order of the input."""
    customer_parts, nps_parts, mystery_parts, complaints_parts = _signal_components(r, signals)
    v = _Verdicts.of(c, chosen, display_min_n)
    scores: list[StaffScore] = []
    for i, s in enumerate(r.rows):
        first = "nps" if v.by_nps[i] else "customer"
        reasons = () if v.data_ok[i] else (TOO_FEW_ANSWERS,)
        if s.excluded_reason is not None:
            reasons = (*reasons, s.excluded_reason)
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
                n=v.n[i],
                composite=v.composite[i],
                q10=v.q10[i],
                q90=v.q90[i],
                p_top=v.p_top[i],
                greyed=v.greyed[i],
                eligible=v.eligible[i],
                ineligible_reasons=reasons,
                rank=v.rank[i] if v.data_ok[i] else None,
                proposed=v.proposed[i],
                coaching=v.coaching[i],
                pulling_down=_pulling_down(c, i, first) if v.coaching[i] else (),
            )
        )
    # Back to the order of the rows.
    return [scores[j] for j in np.argsort(r.canon).tolist()]
