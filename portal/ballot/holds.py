"""The one rule for which answers rankings and awards leave out: an answer is held out
while any of its ballot-stuffing flags is held (not reviewed yet) or rejected; a cleared
flag lets it count again. Every query that feeds the staff ranking (and so the award
snapshot, which is the ranking of its month) applies it through `held_out` or
`counts_in_rankings`; dashboards, exports and the store pages do not (SECURITY.md,
"Ballot stuffing").
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select

from portal.models import FlagState, ResponseFlag

#: The flag states that keep an answer out.
HOLDING_STATES = (FlagState.HELD, FlagState.REJECTED)


def held_out_response_ids() -> Select[tuple[int]]:
    """The ids of the answers held out, as a SELECT usable as a subquery (a range read of
    the flags' state index: held and rejected flags are few)."""
    return select(ResponseFlag.response_id).where(
        ResponseFlag.state.in_([str(state) for state in HOLDING_STATES])
    )


def held_out(response_id: Any) -> ColumnElement[bool]:
    """True for the answers (by their id column) that rankings and awards leave out."""
    condition: ColumnElement[bool] = response_id.in_(held_out_response_ids().scalar_subquery())
    return condition


def counts_in_rankings(response_id: Any) -> ColumnElement[bool]:
    """True for the answers (by their id column) that rankings and awards count."""
    return ~held_out(response_id)
