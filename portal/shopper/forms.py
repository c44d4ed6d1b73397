"""Shopper forms. The survey form is built from the survey definition, one class per
(version, locale), with the question keys as field names; the rules live in
`surveys.answers`, and `SurveyForm.validated_answers` maps their errors onto fields."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    Field,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)

from portal.forms import PortalForm, TickBoxesField, short_code_field
from surveys.answers import (
    NO,
    OTHER_SUFFIX,
    OTHER_TEXT_LIMIT,
    YES,
    AnswerError,
    Answers,
    RawValue,
    validate_answers,
)
from surveys.definitions import OTHER, Question, QuestionKind, SurveyDefinition

ERROR_MESSAGES = {
    "required": _l("Please answer this question."),
    "not_a_number": _l("Please choose one of the numbers."),
    "out_of_range": _l("Please choose one of the numbers."),
    "unknown_choice": _l("Please choose one of the options."),
    "category_required": _l("Please tell us what went wrong."),
    "too_long": _l("Please keep your comment to 2,000 characters."),
    "invalid_phone": _l("This does not look like a phone number."),
    "invalid_email": _l("This does not look like an e-mail address."),
    "contact_required": _l("Please leave a phone number or an e-mail address."),
    "consent_required": _l("Tick the box to agree to be contacted, or clear your details."),
    "invalid_text": _l("This text contains a character that cannot be stored; please retype it."),
    "other_required": _l("You chose “Other”: please say what it is."),
}

#: Which field shows each contact error.
_CONTACT_FIELDS = {
    "invalid_phone": "contact_phone",
    "invalid_email": "contact_email",
    "contact_required": "contact_consent",
    "consent_required": "contact_consent",
}


class SurveyForm(PortalForm):
    definition: SurveyDefinition
    #: The survey's text rules are surveys.answers' (``invalid_text``), checked once there.
    check_text = False

    def validated_answers(self, store_format: str = "") -> Answers | None:
        """Check the CSRF token and the answers (for a store of ``store_format``: the
        conditions may name it); on failure every error is on its field."""
        shape_ok = self.validate()
        raw: dict[str, RawValue] = {}
        for name, field in self._fields.items():
            if isinstance(field, SelectMultipleField):
                raw[name] = tuple(v for v in field.raw_data or () if isinstance(v, str))
            else:
                raw[name] = field.raw_data[0] if field.raw_data else None
        result = validate_answers(self.definition, raw, store_format)
        if isinstance(result, list):
            for error in result:
                self._field_for(error).errors.append(self._message(error))
            return None
        return result if shape_ok else None

    def _field_for(self, error: AnswerError) -> Field:
        name = _CONTACT_FIELDS.get(error.code, error.question_key)
        field: Field = self[name]
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        return field

    def _message(self, error: AnswerError) -> Any:
        if error.code != "too_long" or error.question_key == "comment":
            return ERROR_MESSAGES[error.code]
        if error.question_key.endswith(OTHER_SUFFIX):
            limit = OTHER_TEXT_LIMIT
        else:
            limit = self.definition.question(error.question_key).max_length or 0
        # Built now rather than lazily: the number is part of the sentence.
        return _("Please keep this answer to %(n)s characters.", n=limit)


def _scale_field(question: Question, locale: str) -> Field:
    assert question.minimum is not None and question.maximum is not None
    values = [str(n) for n in range(question.minimum, question.maximum + 1)]
    # Shape and range are checked once, in surveys.answers; the field only carries data.
    return RadioField(
        question.text.get(locale),
        choices=[SelectChoice(v, v) for v in values],
        validate_choice=False,
    )


def _choices(question: Question, locale: str) -> list[SelectChoice]:
    choices = [SelectChoice(c.key, c.text.get(locale)) for c in question.choices]
    if question.other:
        choices.append(SelectChoice(OTHER, _l("Other")))
    return choices


def _question_fields(question: Question, locale: str) -> dict[str, Field]:
    """The form fields of one question, by field name."""
    text, key = question.text.get(locale), question.key
    kind = question.kind
    if kind is QuestionKind.SCALE:
        return {key: _scale_field(question, locale)}
    if kind is QuestionKind.BOOLEAN and key == "problem":
        return {key: BooleanField(text)}  # the receipt survey's tick box
    if kind is QuestionKind.BOOLEAN:
        yes_no = [SelectChoice(YES, _l("Yes")), SelectChoice(NO, _l("No"))]
        return {key: RadioField(text, choices=yes_no, validate_choice=False)}
    if kind is QuestionKind.CHOICE:
        fields: dict[str, Field] = {
            key: RadioField(text, choices=_choices(question, locale), validate_choice=False)
        }
    elif kind is QuestionKind.MULTIPLE:
        fields = {
            key: TickBoxesField(text, choices=_choices(question, locale), validate_choice=False)
        }
    elif kind is QuestionKind.SHORT_TEXT:
        return {key: StringField(text)}  # its maxlength: the template writes the box
    elif kind is QuestionKind.TEXT:
        return {key: TextAreaField(text, render_kw={"maxlength": question.max_length, "rows": 4})}
    else:
        return {}
    if question.other:
        fields[key + OTHER_SUFFIX] = StringField(_l("Please say what:"))
    return fields


@cache
def survey_form_class(definition: SurveyDefinition, locale: str) -> type[SurveyForm]:
    """Build (once per version and locale) the form class for a survey definition."""
    fields: dict[str, Field | SurveyDefinition] = {"definition": definition}
    for question in definition.questions:
        if question.kind is QuestionKind.CONTACT:
            fields["contact_consent"] = BooleanField(definition.consent.get(locale))
            fields["contact_phone"] = StringField(
                _l("Phone"), render_kw={"type": "tel", "autocomplete": "tel", "maxlength": 24}
            )
            fields["contact_email"] = StringField(
                _l("E-mail"),
                render_kw={"type": "email", "autocomplete": "email", "maxlength": 254},
            )
        else:
            fields.update(_question_fields(question, locale))
    return type(f"SurveyForm_{definition.key}_{locale}", (SurveyForm,), fields)


class CodeEntryForm(PortalForm):
    code = short_code_field(_l("Receipt code"), _l("Please type the code printed on your receipt."))
