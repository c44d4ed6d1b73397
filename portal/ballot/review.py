"""Deciding a held answer: a reviewer clears a flag (the answer counts again, unless another
of its flags still holds it) or rejects it (the answer stays out of rankings and awards
for good), always with a reason. One decision per flag, through the workflow kernel: of
two reviewers deciding at once, the second is refused, and every decision is audited.

Who reviews: QA reviewers and admins (`REVIEW_ROLES`). They see every store and have no
stake in one store's or one cashier's figures; store managers do (the answers feed their
store's staff ranking) and HR decides the awards these answers would feed, so neither
judges the evidence.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.access import scope_to_user
from portal.audit import Actor
from portal.errors import NotFound
from portal.models import FlagState, Response, ResponseFlag, Role, User
from portal.workflow import Change, Workflow, move, record_change, require_reason

#: Who may see the held answers and decide them.
REVIEW_ROLES = (Role.REVIEWER, Role.ADMIN)

DECISIONS = (FlagState.CLEARED, FlagState.REJECTED)


def _no_timeline(session: Session, flag: Any, change: Change) -> object:
    # A flag has one decision; the audit entry (with the reason) is its whole history.
    return None


def _audit_details(flag: Any, change: Change) -> dict[str, Any]:
    return {
        "from_state": change.from_state,
        "to_state": change.to_state,
        "response_id": flag.response_id,
        "rule": flag.rule,
        "reason": change.note,
    }


FLAGS = Workflow(
    name="response_flag",
    subject_type="response_flag",
    allowed={
        FlagState.HELD: frozenset(DECISIONS),
        FlagState.CLEARED: frozenset(),
        FlagState.REJECTED: frozenset(),
    },
    refused=lambda state, target: _l("This answer has already been reviewed."),
    timeline=_no_timeline,
    audit_details=_audit_details,
)


def get_flag(session: Session, flag_id: int, *, visible_to: User) -> ResponseFlag:
    """The flag, if its answer's store is one ``visible_to`` may see.

    Raises
    ------
    NotFound
        No such flag, or one of a store the user may not see (the same answer, so ids
        cannot be probed).
    """
    stmt = scope_to_user(
        select(ResponseFlag)
        .join(Response, Response.id == ResponseFlag.response_id)
        .where(ResponseFlag.id == flag_id),
        visible_to,
        Response.store_id,
    )
    flag: ResponseFlag | None = session.scalar(stmt)
    if flag is None:
        raise NotFound()
    return flag


def decide_flag(
    session: Session,
    flag: ResponseFlag,
    *,
    decision: str,
    reason: str | None,
    actor: Actor,
    now: datetime,
    expected_version: int | None,
) -> ResponseFlag:
    """Clear or reject a held flag with the reviewer's reason: sets the state, reviewer,
    time and reason, and writes the audit entry (``response_flag.cleared`` or
    ``response_flag.rejected``); flushed, not committed.

    Raises
    ------
    InvalidReason
        The reason is missing or shorter than `portal.workflow.MIN_REASON_LENGTH`.
    InvalidTransition
        The flag was already decided, or changed since the page showed it (another
        reviewer decided it meanwhile).
    ValueError
        ``decision`` is neither cleared nor rejected (the form allows only those).
    """
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    text = require_reason(reason, field="reason")
    from_state = move(FLAGS, flag, decision, expected_version)
    flag.reviewed_by_user_id = actor.user_id
    flag.reviewed_by = actor.label[:100]
    flag.reviewed_at = now
    flag.reason = text
    record_change(session, FLAGS, flag, actor, decision, now, note=text, from_state=from_state)
    return flag
