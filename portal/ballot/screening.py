"""Screening a shopper's submit for ballot stuffing, in the transaction that stores it.

`screen_response` keeps the submit's origin (keyed hashes, `portal.ballot.origin`) and
applies the rules of `portal.ballot.rules`; each rule that fires adds a held flag to
every answer of its group (a burst is the group of answers from one device or network,
so the answers before the one that crossed the limit are flagged too). Each rule costs
one range read of an index on ``response_origins``; nothing is ever shown to the shopper.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, TextClause, bindparam, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session

from portal.ballot.origin import SubmitOrigin, answer_pattern
from portal.ballot.rules import BallotRules, BurstRule, FastRule, PatternRule
from portal.db import precompiled
from portal.models import FlagRule, FlagState, Receipt, Response, ResponseFlag, ResponseOrigin

#: Expired origins deleted by one submit: more than one submit adds, so the table stays
#: bounded, and a small batch never holds a submit up.
PRUNE_BATCH = 20


def screen_response(
    session: Session,
    response: Response,
    receipt: Receipt | None,
    origin: SubmitOrigin,
    rules: BallotRules,
    now: datetime,
) -> list[FlagRule]:
    """Record where ``response`` (flushed, so it has its id) came from, and flag it, and
    the rest of its group, for every rule it breaks. Returns the rules that fired.

    Adds ``response_origins`` and ``response_flags`` rows and deletes expired origins;
    flushes, never commits. Raises nothing of its own: a suspicious answer is stored
    and thanked like any other, and only held out of rankings and awards.
    """
    pattern_key = answer_pattern(response)
    session.add(
        ResponseOrigin(
            response_id=response.id,
            store_id=response.store_id,
            staff_id=response.staff_id,
            submitted_at=now,
            device_key=origin.device_key,
            network_key=origin.network_key,
            pattern_key=pattern_key,
        )
    )
    session.flush()
    _prune(session, now - rules.look_back)
    fired = {
        *_burst(session, rules.burst, origin, response, now),
        *_too_fast(session, rules.fast, receipt, response, now),
        *_same_pattern(session, rules.pattern, pattern_key, response, now),
    }
    return sorted(fired)


def _burst(
    session: Session, rule: BurstRule, origin: SubmitOrigin, response: Response, now: datetime
) -> list[FlagRule]:
    fired = []
    since = now - rule.window
    for part, column, key, limit in (
        ("device", ResponseOrigin.device_key, origin.device_key, rule.device_limit),
        ("network", ResponseOrigin.network_key, origin.network_key, rule.network_limit),
    ):
        if limit <= 0:
            continue
        group = _group(session, column, key, response, since)
        if rule.crossed(len(group), limit):
            details = {"by": part, "answers": len(group), "minutes": _minutes(rule.window)}
            _flag(session, group, FlagRule.BURST, details, now)
            fired.append(FlagRule.BURST)
    return fired


def _too_fast(
    session: Session, rule: FastRule, receipt: Receipt | None, response: Response, now: datetime
) -> list[FlagRule]:
    if receipt is None:
        # Nothing was issued to time from (a kiosk answer without a receipt).
        return []
    elapsed = rule.elapsed(receipt.created_at, now)
    if elapsed is None:
        return []
    details = {"seconds": max(0, int(elapsed)), "limit": rule.seconds}
    _flag(session, [response.id], FlagRule.FAST, details, now)
    return [FlagRule.FAST]


def _same_pattern(
    session: Session, rule: PatternRule, pattern_key: str, response: Response, now: datetime
) -> list[FlagRule]:
    if rule.copies <= 0:
        return []
    group = _group(session, ResponseOrigin.pattern_key, pattern_key, response, now - rule.window)
    if not rule.crossed(len(group)):
        return []
    details = {"answers": len(group), "minutes": _minutes(rule.window)}
    _flag(session, group, FlagRule.PATTERN, details, now)
    return [FlagRule.PATTERN]


def _minutes(window: timedelta) -> int:
    return int(window.total_seconds() // 60)


def _group(
    session: Session,
    column: InstrumentedAttribute[str],
    key: str,
    response: Response,
    since: datetime,
) -> Sequence[int]:
    """The answers since ``since`` with this ``key`` for ``response``'s store or staff
    member (``response`` itself included)."""
    subject: ColumnElement[bool] = ResponseOrigin.store_id == response.store_id
    # A card without a cashier has no staff member to match (never "staff_id IS NULL").
    if response.staff_id is not None:
        subject = or_(subject, ResponseOrigin.staff_id == response.staff_id)
    return session.scalars(
        select(ResponseOrigin.response_id).where(
            column == key, ResponseOrigin.submitted_at >= since, subject
        )
    ).all()


@lru_cache(maxsize=4)
def _flag_statement(dialect: str) -> TextClause:
    """Hold one answer for one rule unless it already is: compiled once
    (`portal.db.precompiled`), since it runs inside the submit's write transaction."""
    table: Any = ResponseFlag.__table__
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {
        name: bindparam(name, type_=table.c[name].type)
        for name in ("response_id", "rule", "details", "flagged_at", "state", "version")
    }
    stmt = (
        insert(table).values(values).on_conflict_do_nothing(index_elements=["response_id", "rule"])
    )
    return precompiled(stmt, dialect)


def _flag(
    session: Session, response_ids: Sequence[int], rule: FlagRule, details: Any, now: datetime
) -> None:
    """Hold each answer for ``rule``; one already flagged for it keeps its flag (two
    submits of one burst at once both insert: the unique key keeps one, neither fails)."""
    rows = [
        {
            "response_id": response_id,
            "rule": str(rule),
            "details": details,
            "flagged_at": now,
            "state": str(FlagState.HELD),
            "version": 1,
        }
        for response_id in response_ids
    ]
    session.execute(_flag_statement(session.get_bind().dialect.name), rows)


def _prune(session: Session, cutoff: datetime) -> None:
    """Delete a few origins older than any rule looks back. Rows another submit is
    deleting are skipped (PostgreSQL), so concurrent submits never wait on each other."""
    table: Any = ResponseOrigin.__table__
    expired = (
        select(table.c.response_id)
        .where(table.c.submitted_at < cutoff)
        .limit(PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(table).where(table.c.response_id.in_(expired.scalar_subquery())))
