"""Mystery forms: scheduling a visit, the shopper's report pages, and one small form per
workflow action. Shape only; the views supply choices and turn domain errors into field
errors. Action forms are the workflow kernel's `VersionedForm`: they carry the visit
version the page showed, so a form posted from a stale page is refused instead of applied
to a state nobody saw.

A checklist section's page is a form class built from the checklist itself
(`section_form`), so its fields render through the same macro as every other form.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DateTimeLocalField,
    Field,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.forms import PortalForm, StrictDecimalField, strict_int
from portal.models import Daypart, DisputeOutcome, VisitState
from portal.workflow_forms import VersionedForm
from surveys.checklists import NA, ChecklistSection, ItemKind

TEXT_LENGTH = 2000

STATE_LABELS: dict[str, Any] = {
    VisitState.ASSIGNED: _l("assigned"),
    VisitState.ACCEPTED: _l("accepted"),
    VisitState.DECLINED: _l("declined"),
    VisitState.SUBMITTED: _l("submitted"),
    VisitState.IN_REVIEW: _l("in review"),
    VisitState.RETURNED: _l("returned to the shopper"),
    VisitState.REJECTED: _l("rejected"),
    VisitState.RELEASED: _l("released"),
    VisitState.DISPUTED: _l("disputed"),
    VisitState.FINAL: _l("final"),
    VisitState.CANCELLED: _l("cancelled"),
}
DAYPART_LABELS: dict[str, Any] = {
    Daypart.MORNING: _l("Morning (until 11:00)"),
    Daypart.MIDDAY: _l("Midday (11:00–14:00)"),
    Daypart.AFTERNOON: _l("Afternoon (14:00–18:00)"),
    Daypart.EVENING: _l("Evening (from 18:00)"),
}
GRADE_LABELS: dict[str, Any] = {
    "gold": _l("Gold"),
    "silver": _l("Silver"),
    "standard": _l("Standard"),
    "below": _l("Below standard"),
    "fail": _l("FAIL"),
}
FLAG_LABELS: dict[str, Any] = {
    "late": _l("Filed more than 24 hours after the visit"),
    "outside_daypart": _l("Visit outside the assigned time of day"),
    "receipt_not_found": _l("No POS receipt with this transaction number at this store"),
    "receipt_outside_window": _l("The POS receipt was issued outside the visit times"),
    "duplicate_photo": _l("The same receipt photo was filed with another visit"),
    "extreme_score": _l("Extreme score: give it a second look"),
}
ANSWER_LABELS: dict[str, Any] = {"yes": _l("Yes"), "no": _l("No"), NA: _l("Not applicable")}


def _text(label: Any, *, required: bool = False, rows: int = 3) -> TextAreaField:
    first = InputRequired(_l("Please write a few words.")) if required else Optional()
    return TextAreaField(
        label,
        validators=[first, Length(max=TEXT_LENGTH)],
        render_kw={"maxlength": TEXT_LENGTH, "rows": rows},
    )


class ScheduleForm(PortalForm):
    store = SelectField(_l("Store"), validators=[InputRequired(_l("Choose a store."))])
    shopper = SelectField(
        _l("Mystery shopper"),
        coerce=strict_int,
        validators=[InputRequired(_l("Choose a shopper."))],
    )
    checklist = SelectField(_l("Scenario"), validators=[InputRequired(_l("Choose a scenario."))])
    window_start = DateField(
        _l("First day of the window"), validators=[InputRequired(_l("Enter a date."))]
    )
    window_end = DateField(
        _l("Last day of the window"), validators=[InputRequired(_l("Enter a date."))]
    )
    daypart = RadioField(
        _l("Time of day"),
        choices=[SelectChoice(key, label) for key, label in DAYPART_LABELS.items()],
        validators=[InputRequired(_l("Choose a time of day."))],
    )
    fee = StrictDecimalField(
        _l("Fee (yuan)"),
        places=2,
        default=0,
        validators=[Optional(), NumberRange(min=0, max=100_000, message=_l("0 to 100,000."))],
    )
    instructions = _text(_l("Instructions for the shopper"))


class VisitFactsForm(PortalForm):
    started_at = DateTimeLocalField(
        _l("Entered the store at (store time)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    ended_at = DateTimeLocalField(
        _l("Left the store at (store time)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    served_by = SelectField(_l("Served by"), validators=[Optional()])
    served_by_description = _text(
        _l("Or describe who served you (badge name, appearance, position)"), rows=2
    )
    transaction_id = StringField(
        _l("Transaction number on the receipt"),
        validators=[Optional(), Length(max=64)],
        render_kw={"maxlength": 64, "autocomplete": "off"},
    )


class PhotoForm(PortalForm):
    photo = FileField(
        _l("Photo of the receipt (JPEG or PNG)"), render_kw={"accept": "image/jpeg,image/png"}
    )


def section_form(section: ChecklistSection, locale: str) -> type[FlaskForm]:
    """A form class for one checklist section: per item an answer and a comment, and the
    section's narrative. Field names follow surveys.checklists (``item-A1``, ``comment-A1``,
    ``narrative-checkout``) so that `parse_answers` reads the same request."""
    fields: dict[str, Field] = {}
    for item in section.items:
        label = item.text.get(locale)
        if item.kind == ItemKind.CHECK:
            keys = ["yes", "no", *([NA] if item.na_allowed else [])]
            fields[f"item-{item.key}"] = RadioField(
                label,
                choices=[SelectChoice(key, ANSWER_LABELS[key]) for key in keys],
                validators=[Optional()],
                # parse_answers judges the values, field by field, so that one bad
                # answer does not throw away the rest of the page's draft.
                validate_choice=False,
            )
        elif item.kind == ItemKind.RATING:
            keys = ["1", "2", "3", "4", "5", *([NA] if item.na_allowed else [])]
            fields[f"item-{item.key}"] = RadioField(
                label,
                choices=[SelectChoice(key, ANSWER_LABELS.get(key, key)) for key in keys],
                validators=[Optional()],
                validate_choice=False,
            )
        elif item.kind == ItemKind.TIME:
            fields[f"item-{item.key}"] = StringField(
                label,
                validators=[Optional(), Length(max=8)],
                render_kw={"inputmode": "numeric", "pattern": "[0-9]*|na", "maxlength": 8},
            )
        else:
            fields[f"item-{item.key}"] = _text(label)
        if item.kind != ItemKind.TEXT:
            fields[f"comment-{item.key}"] = _text(
                _l("What happened (needed for No and N/A)"), rows=2
            )
    fields[f"narrative-{section.key}"] = _text(
        _l("Narrative: what you saw in this part of the visit"), rows=4
    )
    return type(f"SectionForm_{section.key}", (PortalForm,), fields)


# -- workflow actions ------------------------------------------------------------------------


class AcceptForm(VersionedForm):
    pass


class DeclineForm(VersionedForm):
    reason = _text(_l("Why (optional)"), rows=2)


class CancelForm(VersionedForm):
    reason = _text(_l("Why the visit is cancelled"), required=True, rows=2)


class SubmitForm(VersionedForm):
    pass


class StartReviewForm(VersionedForm):
    pass


class ReleaseForm(VersionedForm):
    note = _text(_l("Note for the store (optional)"), rows=2)


class ReturnForm(VersionedForm):
    comments = _text(_l("What the shopper must fix"), required=True)


class RejectForm(VersionedForm):
    reason = _text(_l("Why the report cannot be used"), required=True)


class _AnswerChange(VersionedForm):
    item = SelectField(_l("Item"), validators=[Optional()])
    value = StringField(
        _l("New answer (yes, no, not applicable, 1–5 or seconds)"),
        validators=[Optional(), Length(max=16)],
        render_kw={"maxlength": 16},
    )
    comment = _text(_l("Comment on the item"), rows=2)


class CorrectForm(_AnswerChange):
    reason = _text(_l("Why the answer is corrected"), required=True, rows=2)


class DisputeForm(VersionedForm):
    item = SelectField(_l("Item disputed"), validators=[Optional()])
    reason = _text(_l("What happened, with times and facts"), required=True)


class DecideForm(_AnswerChange):
    outcome = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice(DisputeOutcome.UPHELD, _l("Uphold the report as released")),
            SelectChoice(DisputeOutcome.ADJUSTED, _l("Adjust the answer below")),
        ],
        validators=[InputRequired(_l("Choose a decision."))],
    )
    note = _text(_l("Reason for the decision"), required=True, rows=2)


class VisitFilterForm(PortalForm):
    class Meta:
        csrf = False

    state = SelectField(_l("State"), validators=[Optional()])
    store = SelectField(_l("Store"), validators=[Optional()])
