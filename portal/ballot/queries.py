"""Reads for the review queue: how many answers each rule holds, and the held answers of
one rule with their store, staff member, time, what the rule saw and what the shopper
answered, restricted to the stores the reviewer may see (`portal.access.scope_to_user`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from portal.access import scope_to_user
from portal.models import FlagRule, FlagState, Response, ResponseFlag, Staff, Store, User
from portal.models.receipts import RATING_KEYS

#: The rules in the order the queue shows them.
RULES = (FlagRule.BURST, FlagRule.FAST, FlagRule.PATTERN)


@dataclass(frozen=True, slots=True)
class RuleCount:
    rule: str
    held: int


@dataclass(frozen=True, slots=True)
class HeldAnswer:
    """One held flag and the answer it holds, as the queue shows it."""

    flag_id: int
    version: int
    rule: str
    details: dict[str, Any]
    flagged_at: datetime
    submitted_at: datetime
    store_code: str
    store_name: str
    timezone: str
    staff_code: str | None
    staff_name: str | None
    nps: int
    csat: int
    #: The optional ratings answered, by key (``rating_speed``…), in the survey's order.
    ratings: tuple[tuple[str, int], ...]
    problem_category: str | None
    comment: str | None


def count_held(session: Session, user: User) -> list[RuleCount]:
    """Held flags per rule (every rule, 0 included) in the stores ``user`` may see."""
    stmt = scope_to_user(
        select(ResponseFlag.rule, func.count())
        .join(Response, Response.id == ResponseFlag.response_id)
        .where(ResponseFlag.state == FlagState.HELD)
        .group_by(ResponseFlag.rule),
        user,
        Response.store_id,
    )
    counts = {rule: int(n) for rule, n in session.execute(stmt)}
    return [RuleCount(str(rule), counts.get(rule, 0)) for rule in RULES]


def held_answers(user: User, rule: str) -> Select[Any]:
    """The held flags of ``rule`` in the stores ``user`` may see, newest answer first (a
    burst's answers stay together), as rows for `as_held_answers`."""
    stmt = (
        select(
            ResponseFlag.id.label("flag_id"),
            ResponseFlag.version,
            ResponseFlag.rule,
            ResponseFlag.details,
            ResponseFlag.flagged_at,
            Response.submitted_at,
            Store.code.label("store_code"),
            Store.name.label("store_name"),
            Store.timezone,
            Staff.code.label("staff_code"),
            Staff.name.label("staff_name"),
            Response.nps,
            Response.csat,
            Response.problem_category,
            Response.comment,
            *(getattr(Response, key) for key in RATING_KEYS),
        )
        .join(Response, Response.id == ResponseFlag.response_id)
        .join(Store, Store.id == Response.store_id)
        .outerjoin(Staff, Staff.id == Response.staff_id)
        .where(ResponseFlag.state == FlagState.HELD, ResponseFlag.rule == rule)
        .order_by(Response.submitted_at.desc(), ResponseFlag.id.desc())
    )
    return scope_to_user(stmt, user, Response.store_id)


def as_held_answers(rows: Sequence[Row[Any]]) -> list[HeldAnswer]:
    found = []
    for row in rows:
        values = row._mapping
        ratings = tuple((key, values[key]) for key in RATING_KEYS if values[key])
        fields = {name: values[name] for name in _COLUMNS}
        found.append(HeldAnswer(**fields, ratings=ratings))
    return found


#: The fields of `HeldAnswer` read by name from a row of `held_answers`.
_COLUMNS = tuple(name for name in HeldAnswer.__dataclass_fields__ if name != "ratings")
