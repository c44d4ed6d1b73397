"""The phone survey form: how the call went, the scoring questions of the store's current
survey version, "was your problem solved?" and a note. Shape only; the scores are checked
by the shopper's rules (`surveys.answers.validate_answers`) and their messages are the
shopper form's (`portal.shopper.forms.ERROR_MESSAGES`).

The form from a case also carries the case's version (`VersionedForm`): a call recorded
from a stale case page is refused, not applied to a case nobody saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.cases.forms import NOTE_LENGTH
from portal.forms import PortalForm
from portal.models import PhoneOutcome
from portal.phone.survey import phone_questions
from portal.shopper.forms import ERROR_MESSAGES
from portal.workflow_forms import VersionedForm, add_field_error
from surveys.answers import NO, YES, Answers, RawValue, validate_answers
from surveys.definitions import SurveyDefinition

#: How a call went, in words.
PHONE_OUTCOME_LABELS: dict[str, Any] = {
    PhoneOutcome.ANSWERED: _l("The customer answered the questions"),
    PhoneOutcome.UNREACHABLE: _l("Could not reach the customer"),
    PhoneOutcome.DECLINED: _l("The customer declined to answer"),
}
#: "Was your problem solved?" in words.
SOLVED_LABELS: dict[str, Any] = {YES: _l("Yes"), NO: _l("No")}


@dataclass(frozen=True, slots=True)
class PhoneCall:
    """What the form says about the call, checked: answers only for an answered call."""

    outcome: str
    answers: Answers | None
    problem_solved: bool | None
    note: str


class PhoneVisitForm(PortalForm):
    """A call about an answer from the list of customers to call back."""

    outcome = RadioField(
        _l("How did the call go?"),
        choices=[SelectChoice(key, label) for key, label in PHONE_OUTCOME_LABELS.items()],
        validators=[InputRequired(_l("Choose how the call went."))],
        # An unknown value gets the same words as none (checked in `checked_call`).
        validate_choice=False,
    )
    # Labels and choices come from the survey version (`ask`); the rules check the values.
    nps = RadioField(validate_choice=False)
    csat = RadioField(validate_choice=False)
    problem_solved = RadioField(
        _l("Was your problem solved?"),
        choices=[SelectChoice(key, label) for key, label in SOLVED_LABELS.items()],
        validate_choice=False,
    )
    note = TextAreaField(
        _l("Note (optional): what the customer said"),
        validators=[Optional(), Length(max=NOTE_LENGTH)],
        render_kw={"maxlength": NOTE_LENGTH, "rows": 3},
    )

    def ask(self, definition: SurveyDefinition, locale: str) -> None:
        """Word the scoring questions as ``definition`` (the store's version) does, with the
        words at both ends of each scale in ``scale_ends``."""
        self.scale_ends: dict[str, tuple[str, str]] = {}
        for question in phone_questions(definition).questions:
            assert question.minimum is not None and question.maximum is not None
            field = self[question.key]
            field.label.text = question.text.get(locale)
            values = [str(n) for n in range(question.minimum, question.maximum + 1)]
            field.choices = [SelectChoice(v, v) for v in values]
            low, high = question.low_label, question.high_label
            self.scale_ends[question.key] = (
                "" if low is None else low.get(locale),
                "" if high is None else high.get(locale),
            )

    def checked_call(self, definition: SurveyDefinition) -> PhoneCall | None:
        """The call as the form records it, or None with every error on its field. The
        scores and "solved?" count only for an answered call; for another they are
        dropped, whatever was ticked."""
        shape_ok = self.validate()
        note = self.note.data or ""
        if self.outcome.data and self.outcome.data not in PHONE_OUTCOME_LABELS:
            add_field_error(self.outcome, _l("Choose how the call went."))
            return None
        if self.outcome.data != PhoneOutcome.ANSWERED:
            if not shape_ok:
                return None
            return PhoneCall(str(self.outcome.data), None, None, note)
        raw: dict[str, RawValue] = {
            key: self[key].raw_data[0] if self[key].raw_data else None for key in ("nps", "csat")
        }
        answers = validate_answers(phone_questions(definition), raw)
        if isinstance(answers, list):
            for error in answers:
                add_field_error(self[error.question_key], ERROR_MESSAGES[error.code])
        solved = self.problem_solved.data
        if solved not in (YES, NO):
            add_field_error(self.problem_solved, _l("Choose yes or no."))
        if not shape_ok or isinstance(answers, list) or solved not in (YES, NO):
            return None
        return PhoneCall(PhoneOutcome.ANSWERED, answers, solved == YES, note)


class CasePhoneVisitForm(VersionedForm, PhoneVisitForm):
    """A call from a case: the same questions, and the version of the case the page showed."""
