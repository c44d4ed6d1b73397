"""Screening a shopper's submit for ballot stuffing, in the transaction that stores it.

`screen_response` keeps the submit's origin (keyed hashes, `portal.ballot.origin`) and
applies the rules of `portal.ballot.rules`; each rule that fires adds a held flag to
every answer of its group (a burst is the group of answers from one device or network,
so the answers before the one that crossed the limit are flagged too). Each rule costs
one range read of an index on ``response_origins``; nothing is ever shown to the shopper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import TextClause, bindparam, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

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
    # Core, on the session's connection: the response is flushed, and the ORM's unit of
    # work would cost more than the insert itself.
    session.connection().execute(
        _ORIGINS.insert(),
        {
            "response_id": response.id,
            "store_id": response.store_id,
            "staff_id": response.staff_id,
            "submitted_at": now,
            "device_key": origin.device_key,
            "network_key": origin.network_key,
            "pattern_key": pattern_key,
        },
    )
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
        ("device", "device_key", origin.device_key, rule.device_limit),
        ("network", "network_key", origin.network_key, rule.network_limit),
    ):
        if limit <= 0:
            continue
        group = _group(session, column, key, response, since, FlagRule.BURST)
        if rule.crossed(group.size, limit):
            details = {"by": part, "answers": group.size, "minutes": _minutes(rule.window)}
            _flag(session, group.unflagged, FlagRule.BURST, details, now)
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
    since = now - rule.window
    group = _group(session, "pattern_key", pattern_key, response, since, FlagRule.PATTERN)
    if not rule.crossed(group.size):
        return []
    details = {"answers": group.size, "minutes": _minutes(rule.window)}
    _flag(session, group.unflagged, FlagRule.PATTERN, details, now)
    return [FlagRule.PATTERN]


def _minutes(window: timedelta) -> int:
    return int(window.total_seconds() // 60)


#: The tables of the Core statements below.
_ORIGINS: Any = ResponseOrigin.__table__
_FLAGS: Any = ResponseFlag.__table__


@dataclass(frozen=True, slots=True)
class _Group:
    #: The answers of the group (the one being screened included).
    size: int
    #: Those of them not yet flagged for the rule: a burst or a pattern once crossed
    #: stays crossed, and every later answer of the group would otherwise write the flags
    #: of all the earlier ones again (the insert's ``ON CONFLICT`` dropping them).
    unflagged: list[int]


def _group_statement(column: str) -> Any:
    """The answers since ``since`` with one ``key`` in ``column`` for a store or a staff
    member, each with whether it is flagged for ``rule``. A card without a cashier passes
    ``staff_id`` None: ``staff_id = NULL`` matches no row (never "staff_id IS NULL")."""
    t = _ORIGINS.c
    flagged = _FLAGS.alias("flagged")
    return (
        select(t.response_id, flagged.c.response_id.is_not(None))
        .select_from(
            _ORIGINS.outerjoin(
                flagged,
                (flagged.c.response_id == t.response_id) & (flagged.c.rule == bindparam("rule")),
            )
        )
        .where(
            t[column] == bindparam("key"),
            t.submitted_at >= bindparam("since", type_=t.submitted_at.type),
            or_(t.store_id == bindparam("store_id"), t.staff_id == bindparam("staff_id")),
        )
    )


#: Built once: SQLAlchemy keeps a statement object's cache key, and each submit runs all
#: three inside its write transaction.
_GROUPS = {
    column: _group_statement(column) for column in ("device_key", "network_key", "pattern_key")
}


def _group(
    session: Session,
    column: str,
    key: str,
    response: Response,
    since: datetime,
    rule: FlagRule,
) -> _Group:
    """The answers since ``since`` with this ``key`` for ``response``'s store or staff
    member (``response`` itself included), and which of them ``rule`` has not flagged."""
    params = {
        "key": key,
        "since": since,
        "store_id": response.store_id,
        "staff_id": response.staff_id,
        "rule": str(rule),
    }
    rows = session.connection().execute(_GROUPS[column], params).all()
    return _Group(len(rows), [response_id for response_id, flagged in rows if not flagged])


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
    if not response_ids:
        return
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
    stmt = _flag_statement(session.get_bind().dialect.name)
    session.connection().execute(stmt, rows)


def _prune(session: Session, cutoff: datetime) -> None:
    """Delete a few origins older than any rule looks back. Rows another submit is
    deleting are skipped (PostgreSQL), so concurrent submits never wait on each other."""
    session.connection().execute(_PRUNE, {"cutoff": cutoff})


def _prune_statement() -> Any:
    t = _ORIGINS.c
    expired = (
        select(t.response_id)
        .where(t.submitted_at < bindparam("cutoff", type_=t.submitted_at.type))
        .limit(PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    return delete(_ORIGINS).where(t.response_id.in_(expired.scalar_subquery()))


_PRUNE = _prune_statement()
