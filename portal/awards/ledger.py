"""The award log: every award decision is one `AwardEvent` in a single append-only hash
chain over the whole table (``hash = SHA-256(prev_hash ‖ canonical JSON of the event)``),
written together with its audit entry, and `verify_award_log` finds any event that was
edited, deleted or inserted afterwards.

This is the award domain's timeline for the workflow kernel: `append_award_event` is the
``timeline`` and `award_audit_details` the ``audit_details`` of the cycle and nomination
workflows (`portal.awards.operations`), so award changes are recorded by
`portal.workflow.record_change` like cases and visits.

Concurrency: appending takes a transaction-wide lock before it reads the chain's head, so
two decisions at once queue instead of both linking to the same previous event.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.calendar import month_key
from portal.models import AwardCycle, AwardEvent, Nomination
from portal.workflow import Change, InvalidTransition, flush_versioned

#: The previous hash of the first event of the chain.
GENESIS_HASH = "0" * 64
#: The key of the PostgreSQL advisory lock that serialises appends to the award log
#: (any constant; "AWARDLOG" in ASCII).
LOG_LOCK_KEY = 0x4157_4152_444C_4F47
#: The parts of an event its hash covers. ``actor_user_id`` is left out on purpose: it is
#: set to NULL when a user is deleted, which must not break the chain (the actor's label,
#: their e-mail address, is covered).
HASHED_FIELDS = ("cycle_id", "nomination_id", "at", "actor", "kind", "reason", "details")


def event_content(event: AwardEvent) -> dict[str, Any]:
    """The fields of an event its hash covers, as JSON-ready values."""
    return {
        "cycle_id": event.cycle_id,
        "nomination_id": event.nomination_id,
        "at": event.at.astimezone(UTC).isoformat(),
        "actor": event.actor,
        "kind": event.kind,
        "reason": event.reason,
        "details": event.details,
    }


def event_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """SHA-256 over the previous event's hash followed by the canonical JSON of ``content``
    (sorted keys, no whitespace, UTF-8)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def _lock_log(session: Session) -> None:
    # PostgreSQL: an advisory lock held until commit; the head read after it is the newest
    # committed one (READ COMMITTED). SQLite: the caller's flush just took the database's
    # write lock (or failed on a stale snapshot), which already excludes other writers.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOG_LOCK_KEY})


def _cycle_and_nomination(row: AwardCycle | Nomination) -> tuple[AwardCycle, Nomination | None]:
    if isinstance(row, Nomination):
        return row.cycle, row
    return row, None


def event_details(change: Change) -> dict[str, Any]:
    """What an award event keeps besides its reason: the change's details, and the move
    when it is one (a decision, an answered appeal). A cycle's own moves carry no states:
    the kind (published, finalised) names them."""
    if change.from_state is None:
        return dict(change.details)
    return {**change.details, "from_state": change.from_state, "to_state": change.to_state}


def award_audit_details(row: AwardCycle | Nomination, change: Change) -> dict[str, Any]:
    """The audit details of an award change: the month, the reason and the event's details."""
    cycle, _nomination = _cycle_and_nomination(row)
    return {"month": month_key(cycle.month), "reason": change.note, **event_details(change)}


def append_award_event(
    session: Session, row: AwardCycle | Nomination, change: Change
) -> AwardEvent:
    """Append one event about ``row`` (a cycle, or one of its nominations) to the chain.

    Raises
    ------
    InvalidTransition
        The row changed since it was read, or the same event was appended at the same
        moment by another request.
    """
    # The caller's own changes first: on SQLite this takes the write lock, and a version
    # conflict shows up here, before anything is appended.
    flush_versioned(session)
    _lock_log(session)
    prev_hash = session.scalar(select(AwardEvent.hash).order_by(AwardEvent.id.desc()).limit(1))
    prev_hash = prev_hash or GENESIS_HASH
    cycle, nomination = _cycle_and_nomination(row)
    event = AwardEvent(
        cycle_id=cycle.id,
        nomination_id=None if nomination is None else nomination.id,
        at=change.now,
        actor_user_id=change.actor.user_id,
        actor=change.actor.label,
        kind=change.kind,
        reason=change.note,
        details=event_details(change),
        prev_hash=prev_hash,
    )
    event.hash = event_hash(prev_hash, event_content(event))
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        # The same content on the same head twice (the hash is unique): refuse the second.
        raise InvalidTransition(
            _l("Another decision was recorded at the same moment. Please try again.")
        ) from None
    return event


def verify_award_log(session: Session) -> list[int]:
    """The ids of the events that break the chain: an event whose stored hash does not
    match its content, or whose ``prev_hash`` is not the previous event's hash (an event
    was edited, deleted or inserted). Empty when the whole log is intact."""
    broken: list[int] = []
    expected_prev = GENESIS_HASH
    events = session.scalars(
        select(AwardEvent).order_by(AwardEvent.id).execution_options(yield_per=500)
    )
    for event in events:
        if event.prev_hash != expected_prev or event.hash != event_hash(
            event.prev_hash, event_content(event)
        ):
            broken.append(event.id)
        # Continue from the stored hash: one edited event is reported once, not with
        # every event after it.
        expected_prev = event.hash
    return broken
