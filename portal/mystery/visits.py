"""A mystery visit's life, shared by the scheduling, report and review operations.

assigned -> accepted (or declined) -> submitted -> in review -> (returned -> submitted) ->
released to the store -> (disputed -> upheld or adjusted) -> final; rejected and cancelled
end a visit that will not count. ``ALLOWED`` is the whole state machine: every other move
is refused with a message. Each change is a timeline event and an audit entry, applied with
the row's version number so that two people acting at once cannot both apply a change made
for an old state. Only released reports (released, disputed, final) count in any score.
This module also holds the errors the operations raise, the checklist version a report
answers, and the score a report's answers give.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from analysis.mystery import GradeBands, VisitScore, grade
from portal.audit import Actor, record_audit
from portal.config import Settings
from portal.errors import DomainError, NotFound
from portal.models import MysteryVisit, SurveyVersion, User, VisitEvent, VisitState
from surveys.checklists import (
    ChecklistAnswers,
    ChecklistDefinition,
    answers_from_json,
    checklist_from_content,
    score_answers,
)

#: state -> the states it may move to.
ALLOWED: dict[str, frozenset[str]] = {
    VisitState.ASSIGNED: frozenset(
        {VisitState.ACCEPTED, VisitState.DECLINED, VisitState.CANCELLED}
    ),
    VisitState.ACCEPTED: frozenset({VisitState.SUBMITTED, VisitState.CANCELLED}),
    VisitState.DECLINED: frozenset(),
    VisitState.SUBMITTED: frozenset({VisitState.IN_REVIEW}),
    VisitState.IN_REVIEW: frozenset(
        {VisitState.RETURNED, VisitState.REJECTED, VisitState.RELEASED}
    ),
    VisitState.RETURNED: frozenset({VisitState.SUBMITTED}),
    VisitState.REJECTED: frozenset(),
    VisitState.RELEASED: frozenset({VisitState.DISPUTED, VisitState.FINAL}),
    VisitState.DISPUTED: frozenset({VisitState.FINAL}),
    VisitState.FINAL: frozenset(),
    VisitState.CANCELLED: frozenset(),
}

#: States in which the shopper may still change the report.
EDITABLE_STATES = frozenset({VisitState.ACCEPTED, VisitState.RETURNED})
#: Reasons, notes and dispute texts must say something.
MIN_REASON_CHARS = 10


class InvalidTransition(DomainError):
    status = 409
    code = "invalid_transition"


class InvalidVisit(DomainError):
    status = 400
    code = "invalid_visit"


# -- the checklist a report answers ----------------------------------------------------------


def checklist_of(visit: MysteryVisit) -> ChecklistDefinition:
    """The exact checklist version the visit's report answers."""
    return checklist_for_version(visit.checklist_version)


_CHECKLISTS: dict[str, ChecklistDefinition] = {}


def checklist_for_version(version: SurveyVersion) -> ChecklistDefinition:
    # Stored versions never change, so their parsed form can be kept by content hash.
    definition = _CHECKLISTS.get(version.content_hash)
    if definition is None:
        definition = checklist_from_content(version.definition)
        _CHECKLISTS[version.content_hash] = definition
    return definition


def visit_answers(visit: MysteryVisit) -> ChecklistAnswers:
    return answers_from_json(visit.answers or {})


def apply_score(visit: MysteryVisit, settings: Settings) -> VisitScore:
    """Score the visit's current answers and store the score, grade and section scores."""
    result = score_answers(checklist_of(visit), visit_answers(visit))
    visit.score = result.reported
    visit.score_before_autofail = result.score_before_autofail
    visit.auto_fail = result.auto_fail
    visit_grade = grade(result, GradeBands(*settings.grade_bands))
    visit.grade = str(visit_grade) if visit_grade is not None else None
    visit.section_scores = {section.key: section.score for section in result.sections}
    return result


# -- moving and recording --------------------------------------------------------------------


def own_visit(visit: MysteryVisit, shopper: User) -> None:
    """Refuse a shopper's action on someone else's visit as if the visit did not exist."""
    if visit.shopper_id != shopper.id:
        raise NotFound(_l("No such visit."))


def _stale_message() -> Any:
    return _l("This visit changed while you were looking at it. Check the timeline and try again.")


def check_version(visit: MysteryVisit, expected_version: int | None) -> None:
    if expected_version is not None and visit.version != expected_version:
        raise InvalidTransition(_stale_message())


_TRANSITION_MESSAGES: dict[tuple[str, str], Any] = {
    (VisitState.ASSIGNED, VisitState.SUBMITTED): _l(
        "Accept the assignment before filing a report."
    ),
    (VisitState.SUBMITTED, VisitState.RELEASED): _l(
        "Start the review before releasing the report."
    ),
    (VisitState.SUBMITTED, VisitState.RETURNED): _l(
        "Start the review before returning the report."
    ),
    (VisitState.DISPUTED, VisitState.DISPUTED): _l("This report is already disputed."),
    (VisitState.FINAL, VisitState.DISPUTED): _l(
        "This report is final and can no longer be disputed."
    ),
}


def move(visit: MysteryVisit, to_state: str, expected_version: int | None) -> str:
    """Move the visit to ``to_state`` if ``ALLOWED``; returns the state it left."""
    check_version(visit, expected_version)
    if to_state not in ALLOWED[visit.state]:
        raise InvalidTransition(
            _TRANSITION_MESSAGES.get(
                (visit.state, to_state),
                _l(
                    "A visit that is %(state)s cannot be moved to %(target)s.",
                    state=visit.state,
                    target=to_state,
                ),
            )
        )
    from_state = visit.state
    visit.state = to_state
    return from_state


def require_reason(text: str, field: str) -> None:
    if len(text.strip()) < MIN_REASON_CHARS:
        raise InvalidVisit(_l("Write at least %(n)s characters.", n=MIN_REASON_CHARS), field=field)


def flush_visit(session: Session) -> None:
    """Flush, turning a concurrent change of the visit row into the stale-page refusal."""
    try:
        session.flush()
    except StaleDataError:
        raise InvalidTransition(_stale_message()) from None


def record_change(
    session: Session,
    visit: MysteryVisit,
    actor: Actor,
    kind: str,
    now: datetime,
    note: str,
    from_state: str | None,
    **details: Any,
) -> MysteryVisit:
    """Add the timeline event and the audit entry of one change, and flush it."""
    to_state = visit.state if from_state is not None else None
    try:
        visit.events.append(
            VisitEvent(
                at=now,
                actor_user_id=actor.user_id,
                actor=actor.label,
                kind=kind,
                note=note.strip(),
                from_state=from_state,
                to_state=to_state,
                details=details,
            )
        )
        record_audit(
            session,
            actor,
            f"mystery.{kind}",
            "mystery_visit",
            visit.id,
            now,
            from_state=from_state,
            to_state=to_state,
            **details,
        )
        session.flush()
    except StaleDataError:
        raise InvalidTransition(_stale_message()) from None
    return visit
