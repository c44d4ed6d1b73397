"""Reviewing a filed report and what follows its release: the review queue's moves (start,
return to the shopper, reject, release), answer corrections during review, a store's
dispute and its decision, the cron that makes undisputed reports final, and the staff
observations the ranking reads from released reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.mystery import VisitScore, subset_score
from portal.audit import Actor
from portal.config import Settings
from portal.models import (
    DisputeOutcome,
    MysteryVisit,
    Role,
    StaffObservation,
    VisitDispute,
    VisitState,
)
from portal.mystery.checklist_words import say_problem
from portal.mystery.scoring import score_answers
from portal.mystery.visits import VISITS, InvalidVisit, apply_score, checklist_of, visit_answers
from portal.workflow import (
    InvalidTransition,
    acting_user,
    check_version,
    move,
    record_change,
    require_reason,
    require_state,
)
from surveys.checklists import (
    Attribution,
    ChecklistAnswers,
    ChecklistDefinition,
    ItemAnswer,
    answers_to_json,
    completeness_errors,
    merge_answers,
)

# -- the review queue ------------------------------------------------------------------------


def start_review(
    session: Session,
    visit: MysteryVisit,
    *,
    actor: Actor,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    """A reviewer takes a filed report; other reviewers may not act on it meanwhile."""
    from_state = move(VISITS, visit, VisitState.IN_REVIEW, expected_version)
    visit.reviewer_id = actor.user_id
    record_change(session, VISITS, visit, actor, "review_started", now, from_state=from_state)
    return visit


def _reviewing(session: Session, visit: MysteryVisit, actor: Actor) -> None:
    if visit.state == VisitState.IN_REVIEW and visit.reviewer_id not in (None, actor.user_id):
        user = acting_user(session, actor)
        if user is None or user.role != Role.ADMIN:
            raise InvalidTransition(_l("Another reviewer is reviewing this report."))


@dataclass(frozen=True, slots=True)
class _Verdict:
    """A review that ends without release: the state, the timeline's kind, and the form
    field whose text the shopper reads as the review note."""

    state: str
    kind: str
    field: str


_RETURNED = _Verdict(VisitState.RETURNED, "returned", "comments")
_REJECTED = _Verdict(VisitState.REJECTED, "rejected", "reason")


def return_report(
    session: Session,
    visit: MysteryVisit,
    *,
    actor: Actor,
    comments: str,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    """Send the report back to the shopper with what to fix."""
    return _end_review(session, visit, actor, _RETURNED, comments, now, expected_version)


def reject_report(
    session: Session,
    visit: MysteryVisit,
    *,
    actor: Actor,
    reason: str,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    """Refuse an unusable report (wrong store, no proof, fabricated): it never counts."""
    return _end_review(session, visit, actor, _REJECTED, reason, now, expected_version)


def _end_review(
    session: Session,
    visit: MysteryVisit,
    actor: Actor,
    verdict: _Verdict,
    text: str,
    now: datetime,
    expected_version: int | None,
) -> MysteryVisit:
    note = require_reason(text, field=verdict.field)
    _reviewing(session, visit, actor)
    from_state = move(VISITS, visit, verdict.state, expected_version)
    visit.review_note = note
    record_change(
        session, VISITS, visit, actor, verdict.kind, now, note=note, from_state=from_state
    )
    return visit


def release_report(
    session: Session,
    settings: Settings,
    visit: MysteryVisit,
    *,
    actor: Actor,
    now: datetime,
    note: str = "",
    expected_version: int | None = None,
) -> MysteryVisit:
    """Release to the store: it now counts, the dispute window opens, and the staff
    observations the ranking reads are written."""
    _reviewing(session, visit, actor)
    from_state = move(VISITS, visit, VisitState.RELEASED, expected_version)
    visit.released_at = now
    visit.dispute_until = now + timedelta(days=settings.dispute_days)
    _write_observations(visit, score_answers(checklist_of(visit), visit_answers(visit)))
    record_change(session, VISITS, visit, actor, "released", now, note=note, from_state=from_state)
    return visit


def adjust_answers(
    session: Session,
    settings: Settings,
    visit: MysteryVisit,
    changes: Mapping[str, ItemAnswer],
    *,
    actor: Actor,
    reason: str,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    """Change item answers during review, recording old -> new, the reason and the editor.

    Raises
    ------
    InvalidReason
        No reason.
    InvalidVisit
        No change, or an answer the checklist does not allow.
    """
    require_state(
        visit,
        VisitState.IN_REVIEW,
        _l("Answers can be corrected only while the report is in review."),
    )
    _reviewing(session, visit, actor)
    check_version(visit, expected_version)
    diff = _change_answers(visit, changes, reason)
    apply_score(visit, settings)
    record_change(
        session,
        VISITS,
        visit,
        actor,
        "answers_corrected",
        now,
        note=reason,
        changes=diff,
        score=visit.score,
    )
    return visit


def _change_answers(
    visit: MysteryVisit, changes: Mapping[str, ItemAnswer], reason: str
) -> dict[str, list[Any]]:
    require_reason(reason, field="reason")
    definition = checklist_of(visit)
    current = visit_answers(visit)
    diff: dict[str, list[Any]] = {}
    for key, answer in changes.items():
        try:
            definition.item(key)
        except KeyError:
            raise InvalidVisit(
                _l("No such checklist item: %(key)s.", key=key), field="item"
            ) from None
        old = current.items.get(key)
        if old is None or old.value != answer.value or old.comment != answer.comment:
            diff[key] = [old.value if old else None, answer.value]
    if not diff:
        raise InvalidVisit(_l("Change at least one answer."), field="item")
    merged = merge_answers(
        current, ChecklistAnswers(items={k: changes[k] for k in diff}, narratives={})
    )
    problems = completeness_errors(definition, merged)
    bad = {k: v for k, v in problems.items() if any(k.endswith(f"-{key}") for key in diff)}
    if bad:
        raise InvalidVisit(say_problem(next(iter(bad.values()))), field="item")
    visit.answers = answers_to_json(merged)
    return diff


# -- disputes and the final report ---------------------------------------------------------


def dispute_report(
    session: Session,
    settings: Settings,
    visit: MysteryVisit,
    *,
    actor: Actor,
    item_key: str | None,
    reason: str,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    """A store manager queries a released report, within the dispute window, with a reason.
    Which reports a manager may dispute is the caller's `get_visit` scoping (released
    reports of their own stores).

    Raises
    ------
    InvalidTransition
        Not released, already disputed, or the window has closed.
    InvalidReason
        No reason.
    InvalidVisit
        An item that is not on the checklist.
    """
    if visit.state == VisitState.RELEASED and visit.dispute_until and now > visit.dispute_until:
        raise InvalidTransition(
            _l(
                "The %(days)s-day window to dispute this report has closed.",
                days=settings.dispute_days,
            )
        )
    text = require_reason(reason, field="reason")
    item_key = item_key or None
    if item_key is not None:
        try:
            checklist_of(visit).item(item_key)
        except KeyError:
            raise InvalidVisit(_l("Choose an item of this checklist."), field="item") from None
    from_state = move(VISITS, visit, VisitState.DISPUTED, expected_version)
    visit.dispute = VisitDispute(
        raised_by_id=actor.user_id, raised_at=now, item_key=item_key, reason=text
    )
    record_change(
        session,
        VISITS,
        visit,
        actor,
        "disputed",
        now,
        note=text,
        from_state=from_state,
        item=item_key,
    )
    return visit


def decide_dispute(
    session: Session,
    settings: Settings,
    visit: MysteryVisit,
    *,
    actor: Actor,
    outcome: str,
    note: str,
    changes: Mapping[str, ItemAnswer] | None = None,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    """Uphold the report as released, or adjust answers (old -> new kept); either way the
    report becomes final and is never recalculated again.

    Raises
    ------
    InvalidReason
        No note.
    InvalidVisit
        An unknown outcome, or an adjustment without a change.
    """
    if outcome not in (DisputeOutcome.UPHELD, DisputeOutcome.ADJUSTED):
        raise InvalidVisit(_l("Choose whether to uphold or adjust the report."), field="outcome")
    decision = require_reason(note, field="note")
    require_state(visit, VisitState.DISPUTED, _l("Only a disputed report can be decided."))
    check_version(visit, expected_version)
    details: dict[str, Any] = {"outcome": outcome}
    if outcome == DisputeOutcome.ADJUSTED:
        before = visit.score
        details["changes"] = _change_answers(visit, changes or {}, note)
        result = apply_score(visit, settings)
        details["score"] = [before, visit.score]
        _write_observations(visit, result)
    from_state = move(VISITS, visit, VisitState.FINAL)
    assert visit.dispute is not None
    visit.dispute.decided_by_id = actor.user_id
    visit.dispute.decided_at = now
    visit.dispute.outcome = outcome
    visit.dispute.decision_note = decision
    visit.final_at = now
    record_change(
        session, VISITS, visit, actor, outcome, now, note=decision, from_state=from_state, **details
    )
    return visit


def finalise_due(session: Session, *, now: datetime, actor: Actor) -> list[int]:
    """Released reports whose dispute window has passed become final (run from cron)."""
    due = session.scalars(
        select(MysteryVisit)
        .where(MysteryVisit.state == VisitState.RELEASED, MysteryVisit.dispute_until < now)
        .order_by(MysteryVisit.id)
    ).all()
    for visit in due:
        from_state = move(VISITS, visit, VisitState.FINAL)
        visit.final_at = now
        record_change(session, VISITS, visit, actor, "finalised", now, from_state=from_state)
    return [visit.id for visit in due]


# -- staff observations --------------------------------------------------------------------


def credited_staff(visit: MysteryVisit, definition: ChecklistDefinition) -> dict[int, list[str]]:
    """Which staff member each attributable section is credited to: the cashier on the
    matched POS receipt for checkout sections (no shopper guess), the person who served the
    shopper for the others. Sections nobody can be named for are credited to nobody."""
    cashier = visit.receipt.staff_id if visit.receipt is not None else None
    credited: dict[int, list[str]] = {}
    for section in definition.sections:
        if section.attribution == Attribution.NONE:
            continue
        if section.attribution == Attribution.CASHIER:
            staff_id = cashier if cashier is not None else visit.served_by_id
        else:
            staff_id = visit.served_by_id
        if staff_id is not None:
            credited.setdefault(staff_id, []).append(section.key)
    return credited


def _write_observations(visit: MysteryVisit, result: VisitScore) -> None:
    """Replace the visit's staff observations with those of ``result`` (the old rows go as
    orphans of the relationship when the session flushes)."""
    definition = checklist_of(visit)
    visit.observations.clear()
    if visit.visit_day is None:
        return
    for staff_id, sections in credited_staff(visit, definition).items():
        score = subset_score(result, sections)
        if score is None:
            continue
        visit.observations.append(
            StaffObservation(
                staff_id=staff_id,
                store_id=visit.store_id,
                visit_day=visit.visit_day,
                sections=sections,
                score=score,
            )
        )
