"""Award forms: one small form per action on the cycle page (approve, reject, add a
nomination, publish, appeal, answer an appeal) and the form that opens a month. Shape
only; the view supplies the month and staff choices, and the operations check reasons and
who may act, their errors shown on the fields.

Forms that change a nomination or the cycle are `VersionedForm`s: they carry the version
the page showed, so a form posted from a stale page is refused instead of applied to a
state nobody saw.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.forms import PortalForm, strict_int
from portal.models import AppealOutcome, CycleState, NominationSource, NominationState
from portal.workflow_forms import VersionedForm

TEXT_LENGTH = 2000

CYCLE_STATE_LABELS: dict[str, Any] = {
    CycleState.IN_REVIEW: _l("in HR review"),
    CycleState.PUBLISHED: _l("on public notice"),
    CycleState.FINAL: _l("final"),
}
NOMINATION_STATE_LABELS: dict[str, Any] = {
    NominationState.PENDING: _l("waiting for a decision"),
    NominationState.APPROVED: _l("approved"),
    NominationState.REJECTED: _l("rejected"),
}
SOURCE_LABELS: dict[str, Any] = {
    NominationSource.PROPOSED: _l("proposed by the ranking"),
    NominationSource.MANUAL: _l("added by hand"),
}
OUTCOME_LABELS: dict[str, Any] = {
    AppealOutcome.STANDS: _l("The decision stands"),
    AppealOutcome.CHANGED: _l("The decision is reversed"),
}


def _text(label: Any, *, required: Any = None, rows: int = 2) -> TextAreaField:
    first = InputRequired(required) if required is not None else Optional()
    return TextAreaField(
        label,
        validators=[first, Length(max=TEXT_LENGTH)],
        render_kw={"maxlength": TEXT_LENGTH, "rows": rows},
    )


class ApproveForm(VersionedForm):
    reason = _text(_l("Reason (required for a nomination added by hand)"))


class RejectForm(VersionedForm):
    reason = _text(_l("Why is it rejected?"), required=_l("Give the reason for the rejection."))


class NominateForm(PortalForm):
    # Choices (the snapshot's staff not nominated yet) come from the view.
    staff = SelectField(
        _l("Staff member"), coerce=strict_int, validators=[InputRequired(_l("Choose the person."))]
    )
    justification = _text(
        _l("Why does this person deserve the award?"),
        required=_l("Explain why this person deserves the award."),
        rows=3,
    )


class PublishForm(VersionedForm):
    """Only the CSRF token and the cycle's version: the button publishes."""


class AppealForm(PortalForm):
    reason = _text(
        _l("What is wrong with the decision?"),
        required=_l("Say specifically what is wrong with the decision."),
        rows=3,
    )


class AnswerForm(PortalForm):
    outcome = RadioField(
        _l("Outcome"),
        choices=[SelectChoice(key, label) for key, label in OUTCOME_LABELS.items()],
        validators=[InputRequired(_l("Choose whether the decision stands or changes."))],
    )
    answer = _text(_l("Answer to the store manager"), required=_l("Explain the answer."), rows=3)


class OpenCycleForm(PortalForm):
    # Choices (complete months without a cycle) come from the view.
    month = SelectField(_l("Month"), validators=[InputRequired(_l("Choose the month."))])
