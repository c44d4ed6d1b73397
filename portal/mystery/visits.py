"""A mystery visit's life, shared by the scheduling, report and review operations.

assigned -> accepted (or declined) -> submitted -> in review -> (returned -> submitted) ->
released to the store -> (disputed -> upheld or adjusted) -> final; rejected and cancelled
end a visit that will not count. ``ALLOWED`` is the whole state machine: every other move
is refused with a message. Each change is a timeline event and an audit entry, applied with
the row's version number so that two people acting at once cannot both apply a change made
for an old state: ``VISITS`` hands all of that to the workflow kernel (`portal.workflow`).
Only released reports (released, disputed, final) count in any score. This module also
holds the visit's own errors, the checklist version a report answers, and the score a
report's answers give.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from analysis.mystery import GradeBands, VisitScore, grade
from portal.audit import Actor
from portal.config import Settings
from portal.errors import DomainError, NotFound
from portal.models import MysteryVisit, SurveyVersion, VisitEvent, VisitState
from portal.mystery.forms import STATE_LABELS
from portal.mystery.scoring import score_answers
from portal.workflow import Workflow, timeline_of
from surveys.checklists import (
    ChecklistAnswers,
    ChecklistDefinition,
    answers_from_json,
    checklist_from_content,
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


class InvalidVisit(DomainError):
    status = 400
    code = "invalid_visit"


class IncompleteReport(DomainError):
    """The report cannot be submitted yet; ``errors`` says what is missing, by field."""

    status = 400
    code = "incomplete_report"
    message = _l("The report is not complete yet. See the marked fields.")

    def __init__(self, errors: Mapping[str, Any]) -> None:
        super().__init__()
        self.errors = dict(errors)


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


# -- the workflow ----------------------------------------------------------------------------


def own_visit(visit: MysteryVisit, actor: Actor) -> None:
    """Refuse a shopper's action on someone else's visit as if the visit did not exist."""
    if visit.shopper_id != actor.user_id:
        raise NotFound(_l("No such visit."))


def _refused(state: str, target: str) -> Any:
    return _l(
        "A visit that is %(state)s cannot be moved to %(target)s.",
        state=STATE_LABELS.get(state, state),
        target=STATE_LABELS.get(target, target),
    )


#: Moves, timeline and audit of a visit, through the workflow kernel.
VISITS = Workflow(
    name="mystery",
    subject_type="mystery_visit",
    allowed=ALLOWED,
    refused=_refused,
    timeline=timeline_of(VisitEvent),
    refusals={
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
    },
)
