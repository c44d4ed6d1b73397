"""Freezing a month's ranking for its award cycle: the snapshot rows (names and codes
copied, so later edits of staff or stores never rewrite a month), the parameters that
recompute it, and the version of the code that computed it. Pure conversions of the
ranking's results into the JSON-ready rows `portal.awards.operations.open_cycle` inserts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from importlib import metadata
from typing import Any

from analysis.ranking import Component, Ranking
from portal.hr.ranking import RankedStaff, policy_channels
from portal.models import RankingPolicy


def _package_version() -> str:
    try:
        return metadata.version("receipt-feedback-portal")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


#: Stored with each snapshot: which code computed it.
CODE_VERSION = f"receipt-feedback-portal {_package_version()}"[:40]


def _finite(value: float | None) -> float | None:
    """JSON has no NaN: a signal without data anywhere in the chain is stored as null."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _component(component: Component) -> dict[str, Any]:
    return {
        "name": component.name,
        "estimate": _finite(component.estimate),
        "low": _finite(component.low),
        "high": _finite(component.high),
        "n": component.n,
        "omega": _finite(component.omega),
        "raw": _finite(component.raw),
        "z": _finite(component.z),
    }


def _reasons(reasons: Iterable[str]) -> list[str]:
    # The ranking joins the caller's exclusions with commas; the snapshot keeps them apart.
    found: list[str] = []
    for reason in reasons:
        for part in reason.split(","):
            if part and part not in found:
                found.append(part)
    return found


def snapshot_row_values(cycle_id: int, ranked: RankedStaff) -> dict[str, Any]:
    staff, score = ranked.staff, ranked.score
    return {
        "cycle_id": cycle_id,
        "staff_id": staff.staff_id,
        "store_id": staff.store_id,
        "staff_code": staff.code,
        "staff_name": staff.name,
        "store_code": staff.store_code,
        "store_name": staff.store_name,
        "region": staff.region,
        "group": score.group,
        "rank": score.rank,
        "n": score.n,
        "composite": score.composite,
        "q10": score.q10,
        "q90": score.q90,
        "p_top": score.p_top,
        "eligible": score.eligible,
        "reasons": _reasons(score.ineligible_reasons),
        "proposed": score.proposed,
        "coaching": score.coaching,
        "components": [
            _component(c) for c in (score.customer, score.nps, score.mystery, score.complaints)
        ],
    }


def cycle_parameters(policy: RankingPolicy, ranking: Ranking) -> dict[str, Any]:
    """Everything needed to recompute the month: the policy as applied and what the
    ranking estimated from the data (m, mystery spread, each signal's scale)."""
    parameters = ranking.parameters
    return {
        "policy_id": policy.id,
        "policy_changed_by": policy.changed_by,
        "scope": policy.scope,
        # The answer channels whose answers the ranking counted.
        "channels": [channel.value for channel in policy_channels(policy)],
        "notice_days": policy.notice_days,
        "weights": list(parameters.weights),
        "normalised_weights": list(parameters.normalised_weights()),
        "m": ranking.m,
        "m_source": ranking.m_source,
        "prior_strength": parameters.prior_strength,
        "store_prior_strength": parameters.store_prior_strength,
        "complaint_exposure": parameters.complaint_exposure,
        "min_n": parameters.min_n,
        "display_min_n": parameters.display_min_n,
        "top_fraction": parameters.top_fraction,
        "baseline": parameters.baseline,
        "mystery_sigma": ranking.mystery_sigma,
        "mystery_tau": ranking.mystery_tau,
        "draws": parameters.draws,
        "seed": parameters.seed,
        "scales": [
            {
                "name": s.name,
                "chain_mean": _finite(s.chain_mean),
                "tau": _finite(s.tau),
                "weight": _finite(s.weight),
                "n": s.n,
                "available": s.available,
            }
            for s in ranking.scales
        ],
        "weight_sensitivity": ranking.weight_sensitivity,
    }
