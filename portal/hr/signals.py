"""The customer signal of the staff ranking as read from the database: a person's month of
answers and receipts from the staff-month rollup, less the answers held out as suspected
ballot stuffing (`portal.ballot.holds`), and the SQL helpers the ranking's reads share."""

from __future__ import annotations

import hashlib
import json
import operator
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, astuple, dataclass
from datetime import UTC, date, datetime
from functools import reduce
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from analysis.ranking import RankingParameters, StaffInput
from portal.ballot.holds import held_out
from portal.calendar import local_midnight, local_today, month_start, next_month
from portal.channels import channel_condition
from portal.models import Case, CaseState, Receipt, Response


@dataclass(frozen=True, slots=True)
class CustomerMonth:
    """One person's customer answers and receipts in the month (from the rollup)."""

    satisfied: int
    rated: int
    promoters: int
    passives: int
    detractors: int
    issued: int
    answered: int

    def without(self, held: CustomerMonth) -> CustomerMonth:
        """These counts less ``held`` (answers held out as suspected ballot stuffing)."""
        pairs = zip(astuple(self), astuple(held), strict=True)
        return CustomerMonth(*(max(0, a - b) for a, b in pairs))


NO_ANSWERS = CustomerMonth(0, 0, 0, 0, 0, 0, 0)


def added(model: Any, *names: str) -> Any:
    """The sum of some count columns of a row, in SQL."""
    return reduce(operator.add, (getattr(model, name) for name in names))


def month_case(day: Any, months: Sequence[date]) -> ColumnElement[int]:
    """The index in ``months`` of the month of ``day`` (NULL outside them), in SQL."""
    return case(*((and_(day >= m, day < next_month(m)), i) for i, m in enumerate(months)))


def held_answers(
    session: Session, months: Sequence[date], channels: Sequence[str]
) -> dict[tuple[int, int], CustomerMonth]:
    """The answers held out of rankings (`portal.ballot.holds`) among the rollup counts,
    by (staff id, month index): counted in the month they were given (when their channel
    is one the ranking counts), and as "answered" in the month of their receipt (any
    channel, as the funnel counts them). Reads only flagged answers."""
    start, end = months[0], next_month(months[-1])
    given_in = month_case(Response.local_day, months).label("given_in")
    answered_in = month_case(Receipt.local_day, months).label("answered_in")
    counted = channel_condition(Response.channel, channels).label("counted")
    rows = session.execute(
        select(
            Response.staff_id,
            given_in,
            answered_in,
            counted,
            func.sum(case((Response.csat >= 4, 1), else_=0)),
            func.count(),
            func.sum(case((Response.nps >= 9, 1), else_=0)),
            func.sum(case((Response.nps.between(7, 8), 1), else_=0)),
            func.sum(case((Response.nps <= 6, 1), else_=0)),
        )
        # Outer: a kiosk or phone answer naming a cashier may have no receipt.
        .outerjoin(Receipt, Receipt.id == Response.receipt_id)
        .where(
            held_out(Response.id),
            Response.staff_id.is_not(None),
            or_(
                and_(Response.local_day >= start, Response.local_day < end),
                and_(Receipt.local_day >= start, Receipt.local_day < end),
            ),
        )
        .group_by(Response.staff_id, given_in, answered_in, counted)
    )
    held: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * 7)
    for staff_id, given, answered, in_channels, *counts in rows:
        if given is not None and in_channels:
            for j, value in enumerate(counts):
                held[(int(staff_id), int(given))][j] += int(value or 0)
        if answered is not None:
            held[(int(staff_id), int(answered))][6] += int(counts[1] or 0)
    return {key: CustomerMonth(*values) for key, values in held.items()}


def as_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; the portal stores UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def complaint_months(
    session: Session, months: Sequence[date], gates: bool
) -> tuple[dict[tuple[int, int], int], dict[int, set[int]]]:
    """Substantiated complaints by (staff id, month index), and with ``gates`` the staff
    barred in each month index: a case counts in the month it was resolved (China time);
    an unclosed one bars every month from its resolution on. Reads only substantiated
    cases (few)."""
    start, end = months[0], next_month(months[-1])
    complaints: dict[tuple[int, int], int] = defaultdict(int)
    barred: dict[int, set[int]] = defaultdict(set)
    for staff_id, resolved_at, state in session.execute(
        select(Case.staff_id, Case.resolved_at, Case.state).where(
            Case.staff_id.is_not(None),
            Case.substantiated.is_(True),
            Case.resolved_at < local_midnight(end),
            or_(Case.resolved_at >= local_midnight(start), Case.state != CaseState.CLOSED),
        )
    ):
        if resolved_at is None or staff_id is None:
            continue
        resolved_month = month_start(local_today(None, as_utc(resolved_at)))
        for i, month in enumerate(months):
            if resolved_month == month:
                complaints[(staff_id, i)] += 1
                barred[i].add(staff_id)
            elif gates and resolved_month < month and state != CaseState.CLOSED:
                barred[i].add(staff_id)
    return dict(complaints), dict(barred)


def input_digest(inputs: Sequence[StaffInput], parameters: RankingParameters) -> str:
    """SHA-256 over the parameters and every input row, in staff order.

    Rows are written as JSON arrays in the field order of `StaffInput` (``asdict`` on 4,000
    rows took half a second of a 1M-response month).
    """
    rows = [
        [
            r.staff_id,
            r.store_id,
            r.group,
            r.satisfied,
            r.rated,
            r.promoters,
            r.passives,
            r.detractors,
            list(r.mystery_scores),
            r.complaints,
            r.transactions,
            r.excluded_reason,
        ]
        for r in sorted(inputs, key=lambda r: r.staff_id)
    ]
    payload = {"parameters": asdict(parameters), "rows": rows}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=list)
    return hashlib.sha256(text.encode()).hexdigest()
