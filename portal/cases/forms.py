"""Case forms: the list filters (GET), one small form per action on the case page, the
manual case, and the customer's one-question follow-up. Shape only; the view supplies
store, category and assignee choices, and turns domain errors into field errors.

Every action form is a `VersionedForm`: it carries the case version the page was rendered
with, so a form posted from a stale page is refused instead of being applied to a state
nobody saw.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, Regexp

from portal.forms import PortalForm, strict_int
from portal.models import CaseState, Resolution, ReturnVisit
from portal.workflow_forms import VersionedForm

NOTE_LENGTH = 2000

STATE_LABELS: dict[str, Any] = {
    CaseState.OPEN: _l("open"),
    CaseState.IN_PROGRESS: _l("in progress"),
    CaseState.RESOLVED: _l("resolved"),
    CaseState.CLOSED: _l("closed"),
}
#: Why a case was opened: the response's triggers (`case_trigger`), or a complaint taken
#: by hand.
REASON_LABELS: dict[str, Any] = {
    "detractor": _l("would not recommend"),
    "low_csat": _l("dissatisfied"),
    "problem": _l("reported a problem"),
    "complaint": _l("complaint"),
}


def case_reasons(reasons: str) -> list[str]:
    """A case's reasons (comma-separated keys) in words."""
    return [str(REASON_LABELS.get(key, _l("other reason"))) for key in reasons.split(",") if key]


RESOLUTION_LABELS: dict[str, Any] = {
    Resolution.REFUND: _l("Refund"),
    Resolution.EXCHANGE: _l("Exchange"),
    Resolution.APOLOGY: _l("Apology"),
    Resolution.REPAIR: _l("Repair"),
    Resolution.EXPLANATION: _l("Explanation"),
    Resolution.VOUCHER: _l("Compensation voucher"),
    Resolution.OTHER: _l("Other"),
}
RETURN_VISIT_LABELS: dict[str, Any] = {
    ReturnVisit.SATISFIED: _l("Satisfied"),
    ReturnVisit.UNSATISFIED: _l("Not satisfied"),
    ReturnVisit.UNREACHABLE: _l("Could not be reached"),
}


def _note(label: Any, *, required: bool) -> TextAreaField:
    first = InputRequired(_l("Please write a note.")) if required else Optional()
    return TextAreaField(
        label,
        validators=[first, Length(max=NOTE_LENGTH)],
        render_kw={"maxlength": NOTE_LENGTH, "rows": 3},
    )


class CaseFilterForm(PortalForm):
    """The case list's filters, read from the query string (a GET changes nothing)."""

    class Meta:
        csrf = False

    # The view supplies the store and category choices; an unknown value filters to nothing
    # rather than failing, like a hand-edited URL deserves.
    # Empty (the default) is the work still waiting: open or in progress.
    state = SelectField(
        _l("State"),
        choices=[
            SelectChoice("", _l("still to do (open or in progress)")),
            SelectChoice("all", _l("all cases")),
            SelectChoice("finished", _l("finished (resolved or closed)")),
        ]
        + [SelectChoice(key, label) for key, label in STATE_LABELS.items()],
        validate_choice=False,
        default="",
    )
    store = SelectField(_l("Store"), validate_choice=False, default="")
    category = SelectField(_l("Category"), validate_choice=False, default="")
    assignee = SelectField(
        _l("Assigned to"),
        choices=[
            SelectChoice("", _l("anyone")),
            SelectChoice("me", _l("me")),
            SelectChoice("unassigned", _l("nobody")),
        ],
        validate_choice=False,
        default="",
    )
    overdue = BooleanField(_l("Overdue only"), render_kw={"value": "yes"})
    theme = SelectField(_l("Comment theme"), validate_choice=False, default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self:
            field.flags.required = False


class ContactForm(VersionedForm):
    note = _note(_l("How did you reach the customer, and what was said?"), required=False)


class ResolveForm(VersionedForm):
    resolution = RadioField(
        _l("Resolution"),
        choices=[SelectChoice(key, label) for key, label in RESOLUTION_LABELS.items()],
        validators=[InputRequired(_l("Choose how the case was resolved."))],
    )
    note = _note(_l("What was done?"), required=True)
    substantiated = BooleanField(
        _l("The complaint against the staff member was justified (counts in staff rankings)")
    )


class CloseForm(VersionedForm):
    return_visit = RadioField(
        _l("Return visit: was the customer satisfied?"),
        choices=[SelectChoice(key, label) for key, label in RETURN_VISIT_LABELS.items()],
        validators=[InputRequired(_l("Record the outcome of the return visit."))],
    )
    note = _note(_l("Note"), required=False)


class ReopenForm(VersionedForm):
    note = _note(_l("Why is the case reopened?"), required=True)


class AssignForm(VersionedForm):
    # Choices (the store's managers and the admins) come from the view.
    assignee = SelectField(
        _l("Assign to"),
        coerce=strict_int,
        validators=[InputRequired(_l("Choose who takes the case."))],
    )


class NoteForm(VersionedForm):
    note = _note(_l("Note"), required=True)


class CategoryForm(VersionedForm):
    """Give the case the category suggested from its comment (a hidden field: the page's
    button names it)."""

    category = HiddenField(validators=[InputRequired(_l("Choose a category."))])


class FollowUpForm(VersionedForm):
    """Only the CSRF token and the version: the button sends the follow-up question."""


class NewCaseForm(PortalForm):
    """A complaint taken at the counter or by phone."""

    store = SelectField(_l("Store"), validators=[InputRequired(_l("Choose the store."))])
    category = SelectField(
        _l("What went wrong?"), validators=[InputRequired(_l("Choose a category."))]
    )
    summary = TextAreaField(
        _l("The complaint"),
        validators=[InputRequired(_l("Describe the complaint.")), Length(max=NOTE_LENGTH)],
        render_kw={"maxlength": NOTE_LENGTH, "rows": 4},
    )
    staff_code = StringField(
        _l("Staff code (optional)"),
        validators=[Optional(), Length(max=32)],
        render_kw={"autocomplete": "off", "maxlength": 32},
    )
    contact_name = StringField(
        _l("Customer's name"),
        validators=[Optional(), Length(max=100)],
        render_kw={"autocomplete": "off", "maxlength": 100},
    )
    contact_phone = StringField(
        _l("Phone"),
        validators=[
            Optional(),
            Length(max=24),
            Regexp(r"^\+?[0-9 ()\-]{6,24}$", message=_l("This does not look like a phone number.")),
        ],
        render_kw={"type": "tel", "autocomplete": "off", "maxlength": 24},
    )
    contact_email = StringField(
        _l("E-mail"),
        validators=[
            Optional(),
            Length(max=254),
            Regexp(
                r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$",
                message=_l("This does not look like an e-mail address."),
            ),
        ],
        render_kw={"type": "email", "autocomplete": "off", "maxlength": 254},
    )
    consent = BooleanField(_l("The customer agrees to be contacted about this complaint."))
    #: Re-renders the form with the category suggested from the complaint; writes nothing.
    suggest = SubmitField(_l("Suggest a category from the complaint"))


class FollowUpAnswerForm(PortalForm):
    """The customer's answer: was the problem solved, 1 (not at all) to 5 (completely)."""

    score = RadioField(
        _l("Was your problem solved?"),
        choices=[SelectChoice(str(n), str(n)) for n in range(1, 6)],
        validators=[InputRequired(_l("Please choose 1 to 5."))],
    )
