"""Writing the audit log. Every operation that changes who may do what, or money-like
things such as a redeemed coupon, records one entry in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from portal.db import insert_now
from portal.models import AuditEntry, User


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a signed-in user, the CLI, or a till's API key."""

    label: str
    user_id: int | None = None

    @classmethod
    def of_user(cls, user: User) -> Actor:
        return cls(label=f"user:{user.email}", user_id=user.id)


CLI = Actor(label="cli")


def record_audit(
    session: Session,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: object,
    now: datetime,
    **details: Any,
) -> AuditEntry:
    """Add one audit entry (flushed with the caller's transaction, never committed here)."""
    entry = _entry(actor, action, subject_type, subject_id, now, details)
    session.add(entry)
    return entry


def insert_audit(
    session: Session,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: object,
    now: datetime,
    **details: Any,
) -> AuditEntry:
    """`record_audit`, inserted at once (`portal.db.insert_now`): for a hot path (a
    survey submit) whose other rows are written the same way."""
    return insert_now(session, _entry(actor, action, subject_type, subject_id, now, details))


def _entry(
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: object,
    now: datetime,
    details: dict[str, Any],
) -> AuditEntry:
    return AuditEntry(
        at=now,
        actor_user_id=actor.user_id,
        actor=actor.label,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        details=details,
    )
