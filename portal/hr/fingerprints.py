"""The fingerprint of each month's ranking inputs, computed as a few aggregates in SQL:
what `portal.hr.stored` compares before it uses a stored month.

A month's ranking reads its staff-month rollup rows, the answers held out of rankings,
released mystery observations, substantiated complaints, the staff list with stores and
regions, and the policy. Reading those rows into Python only to hash them cost more than
reading the stored result (48,000 rollup rows for a 12-month trend), so the large inputs
are summed in the database, one ``GROUP BY`` month for all the months asked:

* the staff-month rollup by its write counter: every upsert adds one to the row's
  ``changes`` (`portal.rollups`) and ``rebuild-rollups`` writes its rows with one more
  than the largest before, so (rows, sum, max of ``changes``) moves with every write to
  the month, an answer moved from one person to another with equal totals included. It is
  read from the index on (month, changes) without touching the rows;
* mystery observations and the staff list by a hash of each row: ``h`` = a polynomial in
  its columns modulo the prime ``P`` (exact 64-bit integer arithmetic in SQLite and
  PostgreSQL), summed as ``count(*)``, ``sum(h)`` and ``sum(h * h mod P)``. The square
  matters: a polynomial hash is linear, so a value moved from one row to another could
  leave ``sum(h)`` unchanged; the squares move by unrelated amounts. A change is missed
  only when both sums stay equal, about one chance in ``P`` (2^31).

The small inputs (held answers, substantiated cases, the 200 stores, the policy) are read
as rows and written into the digest as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, case, cast, func, literal_column, select
from sqlalchemy.orm import Session

from analysis.ranking import RankingParameters
from portal.calendar import next_month
from portal.hr import stored
from portal.hr.signals import complaint_months, held_answers, month_case
from portal.models import (
    RELEASED_STATES,
    MysteryVisit,
    Staff,
    StaffMonthlyRollup,
    StaffObservation,
    Store,
)

#: 2^31 - 1, a prime: every step ``h * B + x`` stays below 2^63.
P = 2_147_483_647
B = 1_103_515_245
#: Mystery scores are hashed to a millionth of a point.
SCORE_SCALE = 1_000_000


def row_hash(*columns: Any) -> ColumnElement[int]:
    """``h`` of a row, in SQL: the polynomial in ``columns`` (non-negative integers below
    2^31) modulo ``P``, started in 64 bits."""
    base: Any = literal_column(str(B))
    prime: Any = literal_column(str(P))
    h: Any = cast(columns[0], BigInteger) % prime
    for column in columns[1:]:
        h = (h * base + column) % prime
    return h  # type: ignore[no-any-return]


def _sums(h: Any) -> tuple[Any, ...]:
    prime: Any = literal_column(str(P))
    return (func.count(), func.sum(h), func.sum((h * h) % prime))


def _int(value: Any) -> int:
    # PostgreSQL sums bigints as numeric.
    return int(value or 0)


def _rollup_sums(session: Session, months: Sequence[date]) -> dict[int, tuple[int, ...]]:
    """Per month: rows, sum and max of ``changes`` (every write to a row adds one; a
    rebuild writes more than any row had), read from the covering index alone."""
    rollup = StaffMonthlyRollup
    index = {month: i for i, month in enumerate(months)}
    found: dict[int, tuple[int, ...]] = {}
    for month, *sums in session.execute(
        select(rollup.month, func.count(), func.sum(rollup.changes), func.max(rollup.changes))
        .where(rollup.month >= months[0], rollup.month < next_month(months[-1]))
        .group_by(rollup.month)
    ):
        i = index.get(month)
        if i is not None:
            found[i] = tuple(map(_int, sums))
    return found


def _mystery_sums(session: Session, months: Sequence[date]) -> dict[int, tuple[int, ...]]:
    obs = StaffObservation
    score = cast(func.round(obs.score * SCORE_SCALE), BigInteger)
    h = row_hash(obs.id, obs.staff_id, score)
    index = month_case(obs.visit_day, months).label("month")
    return {
        int(i): tuple(map(_int, sums))
        for i, *sums in session.execute(
            select(index, *_sums(h))
            .join(MysteryVisit, MysteryVisit.id == obs.visit_id)
            .where(
                MysteryVisit.state.in_(sorted(RELEASED_STATES)),
                obs.visit_day >= months[0],
                obs.visit_day < next_month(months[-1]),
            )
            .group_by(index)
        )
        if i is not None
    }


def _people_sums(session: Session) -> tuple[Any, ...]:
    """The staff list (id, store, active) summed, and the stores' codes and regions (the
    award groups): what decides who is ranked in which group. Names are not inputs: a
    stored month is shown with the names read when it is shown."""
    h = row_hash(Staff.id, Staff.store_id, case((Staff.active, 1), else_=0))
    staff = tuple(map(_int, session.execute(select(*_sums(h))).one()))
    stores = tuple(
        tuple(row)
        for row in session.execute(select(Store.id, Store.code, Store.region).order_by(Store.id))
    )
    return staff, stores


def month_fingerprints(
    session: Session,
    months: Sequence[date],
    *,
    scope: str,
    gates: bool,
    channels: Sequence[str],
    parameters: RankingParameters,
) -> list[str]:
    """The fingerprint of each of ``months`` (consecutive, oldest first) as ranked for
    ``scope`` with or without ``gates``, counting answers of ``channels``."""
    if not months:
        return []
    base = stored.fingerprint_base(
        "v2", scope, gates, tuple(channels), parameters, _people_sums(session)
    )
    rollup = _rollup_sums(session, months)
    mystery = _mystery_sums(session, months)
    held: dict[int, list[tuple[Any, ...]]] = {}
    for (staff_id, i), counts in held_answers(session, months, channels).items():
        held.setdefault(i, []).append((staff_id, counts))
    complaints, barred = complaint_months(session, months, gates)
    by_month: dict[int, list[tuple[int, int]]] = {}
    for (staff_id, i), count in complaints.items():
        by_month.setdefault(i, []).append((staff_id, count))
    return [
        stored.fingerprint(
            base,
            (
                rollup.get(i, ()),
                mystery.get(i, ()),
                sorted(held.get(i, [])),
                sorted(by_month.get(i, [])),
                sorted(barred.get(i, set()) if gates else set()),
            ),
        )
        for i in range(len(months))
    ]
