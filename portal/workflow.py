"""The workflow kernel shared by cases, mystery visits and award cycles: which state moves a
domain allows, the row-version check that refuses a change made for a state nobody saw any
more, the one place a change is recorded (timeline event plus audit entry, in the caller's
transaction), the refusals those raise, and the one rule for written reasons.

Conventions every workflow operation follows:

* **The acting user** arrives as the keyword argument ``actor: Actor`` (`portal.audit.Actor`),
  never as a ``User``: shoppers, customers and the CLI act too, and the label is what the
  timeline and the audit log keep. An operation that must check the user's role or identity
  (HR separation of duties, "manager of this store") loads the user with `acting_user`.
* **Versions**: a form posted from a page carries the row's version; operations take it as
  ``expected_version: int | None`` (None: the caller is not a page, e.g. the CLI) and pass
  it to `move` (or to `check_version` first, when other checks must come between the two).
  A concurrent change that slips past that check makes the versioned UPDATE match no row
  at flush; `record_change` and `refuse_stale` turn both into `InvalidTransition` with
  `STALE_MESSAGE`, the same words everywhere.
* **Reasons**: `require_reason` with `MIN_REASON_LENGTH`, raising `InvalidReason`.

This module never imports Flask's request machinery; `portal.workflow_forms` is its web side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from portal.audit import Actor, record_audit
from portal.errors import DomainError
from portal.models import User

#: Reasons, justifications, appeals, answers and dispute texts: at least this many characters.
MIN_REASON_LENGTH = 10

#: What a user sees when the row changed between showing the page and posting its form.
STALE_MESSAGE = _l("This changed while you were looking at it. Check the page again and try again.")


class InvalidTransition(DomainError):
    """The row is not in a state that allows this, or it changed since the page showed it."""

    status = 409
    code = "invalid_transition"


class InvalidReason(DomainError):
    """A required reason, note or justification is missing or too short."""

    status = 400
    code = "invalid_reason"


class Tracked(Protocol):
    """A row with a workflow: its state and the version number SQLAlchemy checks on UPDATE
    (``__mapper_args__ = {"version_id_col": version}``)."""

    id: Any
    state: Any
    version: Any


@dataclass(frozen=True, slots=True)
class Change:
    """One recorded change, as the timeline and the audit log receive it."""

    actor: Actor
    kind: str
    now: datetime
    note: str = ""
    from_state: str | None = None
    to_state: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


#: Writes a change's timeline event for a row; returns the event.
Timeline = Callable[[Session, Any, Change], object]
#: The audit details of a change on a row.
AuditDetails = Callable[[Any, Change], dict[str, Any]]


def state_details(row: Any, change: Change) -> dict[str, Any]:
    """Default audit details: the move (None, None when the change is no move) and the
    change's own details."""
    return {"from_state": change.from_state, "to_state": change.to_state, **change.details}


@dataclass(frozen=True, slots=True)
class Workflow:
    """One domain's state machine and how its changes are recorded.

    ``allowed`` maps each state to the states it may move to. ``refused(state, target)``
    is the message for a move the table lacks, unless ``refusals`` has a more helpful one
    for that exact (state, target). Audit actions are ``f"{name}.{kind}"`` on subject
    ``subject_type`` and the row's id.
    """

    name: str
    subject_type: str
    allowed: Mapping[str, frozenset[str]]
    refused: Callable[[str, str], Any]
    timeline: Timeline
    refusals: Mapping[tuple[str, str], Any] = field(default_factory=dict)
    audit_details: AuditDetails = state_details


def timeline_of(event_model: Callable[..., Any]) -> Timeline:
    """The timeline writer of a domain whose rows keep their events in ``row.events``, with
    the columns at, actor_user_id, actor, kind, note, from_state, to_state, details (CaseEvent
    and VisitEvent)."""

    def append(session: Session, row: Any, change: Change) -> object:
        event = event_model(**event_columns(change))
        row.events.append(event)
        return event

    return append


def event_columns(change: Change) -> dict[str, Any]:
    """A timeline event's columns for ``change`` (its row's foreign key aside)."""
    return {
        "at": change.now,
        "actor_user_id": change.actor.user_id,
        "actor": change.actor.label,
        "kind": change.kind,
        "note": change.note,
        "from_state": change.from_state,
        "to_state": change.to_state,
        "details": change.details,
    }


def acting_user(session: Session, actor: Actor) -> User | None:
    """The signed-in user behind ``actor``, or None for the shopper, a customer or the CLI.
    (Free when the user is already loaded: ``Session.get`` reads the identity map first.)"""
    return None if actor.user_id is None else session.get(User, actor.user_id)


def stale() -> InvalidTransition:
    """The refusal of a form posted for a version of the row that is no longer current."""
    return InvalidTransition(STALE_MESSAGE)


def check_version(row: Tracked, expected_version: int | None) -> None:
    """Refuse when the page showed another version of ``row`` (None: no page, no check).

    Raises
    ------
    InvalidTransition
        With `STALE_MESSAGE`.
    """
    if expected_version is not None and row.version != expected_version:
        raise stale()


def require_state(row: Tracked, state: str, refusal: Any) -> None:
    """Refuse, with ``refusal``, unless the row is in ``state``: an action narrower than the
    table (logging a first contact moves a case from open to in progress, but is not the
    way back from resolved: reopening is).

    Raises
    ------
    InvalidTransition
    """
    if row.state != state:
        raise InvalidTransition(refusal)


def check_move(flow: Workflow, row: Tracked, to_state: str) -> None:
    """Refuse a move ``flow.allowed`` does not have.

    Raises
    ------
    InvalidTransition
    """
    if to_state not in flow.allowed[row.state]:
        message = flow.refusals.get((row.state, to_state))
        if message is None:
            message = flow.refused(row.state, to_state)
        raise InvalidTransition(message)


def move(flow: Workflow, row: Tracked, to_state: str, expected_version: int | None = None) -> str:
    """Check the version (`check_version`) and the move (`check_move`), then set the row's
    state; returns the state it left.

    Raises
    ------
    InvalidTransition
    """
    check_version(row, expected_version)
    check_move(flow, row, to_state)
    from_state: str = row.state
    row.state = to_state
    return from_state


@contextmanager
def refuse_stale() -> Iterator[None]:
    """Turn a versioned UPDATE that matched no row (another request changed the row first)
    into the stale-form refusal."""
    try:
        yield
    except StaleDataError:
        raise stale() from None


def flush_versioned(session: Session) -> None:
    """Flush the caller's changes now, refusing them if a row changed underneath."""
    with refuse_stale():
        session.flush()


def record_change(
    session: Session,
    flow: Workflow,
    row: Tracked,
    actor: Actor,
    kind: str,
    now: datetime,
    *,
    note: str = "",
    from_state: str | None = None,
    **details: Any,
) -> Change:
    """Record a change of ``row``: its timeline event and its audit entry, flushed.

    Pass ``from_state`` (what `move` returned) when the change is a move; the event's
    ``to_state`` is then the row's state now.

    Raises
    ------
    InvalidTransition
        Another request changed the row since it was read (`STALE_MESSAGE`).
    """
    to_state = row.state if from_state is not None else None
    change = Change(actor, kind, now, note.strip(), from_state, to_state, details)
    # The timeline's lazy load (autoflush) and the flush both write the row with its
    # version: a row changed by someone else since makes that UPDATE match no row.
    with refuse_stale():
        flow.timeline(session, row, change)
        record_audit(
            session,
            actor,
            f"{flow.name}.{kind}",
            flow.subject_type,
            row.id,
            now,
            **flow.audit_details(row, change),
        )
        session.flush()
    return change


def require_reason(text: str | None, *, field: str, message: Any = None) -> str:
    """The reason, stripped, when it has at least `MIN_REASON_LENGTH` characters.

    Raises
    ------
    InvalidReason
        On ``field``, with ``message`` or "Write at least 10 characters."
    """
    cleaned = (text or "").strip()
    if len(cleaned) < MIN_REASON_LENGTH:
        if message is None:
            message = _l("Write at least %(n)s characters.", n=MIN_REASON_LENGTH)
        raise InvalidReason(message, field=field)
    return cleaned
