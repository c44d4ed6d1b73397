"""Validating a shopper's answers against a survey definition.

Every rule about what makes an answer acceptable lives here once: ranges, required
questions, the problem category, the 2,000-character comment, the contact opt-in. The web
form maps the errors onto its fields; the rules never depend on how the answers arrived.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from surveys.definitions import QuestionKind, SurveyDefinition
from surveys.strict import NotANumber, parse_int, text_problem

#: Satisfaction at or below this counts as "low": the problem category is offered.
LOW_SATISFACTION = 2

_PHONE_ALLOWED = re.compile(r"^\+?[0-9 ()\-]{6,24}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


@dataclass(frozen=True, slots=True)
class AnswerError:
    """One problem with one answer; ``code`` is stable, the portal translates it."""

    question_key: str
    code: str


@dataclass(frozen=True, slots=True)
class ContactAnswer:
    phone: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class Answers:
    nps: int
    csat: int
    #: Optional 1-5 service ratings that were answered, by question key.
    ratings: Mapping[str, int]
    problem_reported: bool
    problem_category: str | None
    comment: str | None
    contact: ContactAnswer | None


def validate_answers(
    definition: SurveyDefinition, raw: Mapping[str, str | None]
) -> Answers | list[AnswerError]:
    """Check raw answers (strings as submitted) and return typed answers or every error.

    Parameters
    ----------
    definition : SurveyDefinition
        The receipt survey version being answered.
    raw : Mapping[str, str | None]
        Submitted values by field name: question keys, plus ``contact_consent``,
        ``contact_phone`` and ``contact_email`` for the contact question. Tick boxes are
        ``"y"`` when ticked. Absent and empty values mean "not answered".

    Returns
    -------
    Answers or list of AnswerError
        Typed answers when everything is acceptable, otherwise all the errors at once so
        that the shopper can fix them in one go.

    Notes
    -----
    Cross-question rules:

    * a ticked "did anything go wrong?" needs a category;
    * a category chosen without the tick still records the problem (the shopper said so);
    * contact details are kept only with consent, and consent needs a phone or an e-mail.
    """
    errors: list[AnswerError] = []
    scales: dict[str, int] = {}
    for question in definition.questions:
        if question.kind is not QuestionKind.SCALE:
            continue
        value = raw.get(question.key)
        if value is None or value == "":
            if question.required:
                errors.append(AnswerError(question.key, "required"))
            continue
        try:
            # Only the digits the buttons send: no " 5", "1_0", "５" or "٥".
            number = parse_int(value)
        except NotANumber:
            errors.append(AnswerError(question.key, "not_a_number"))
            continue
        assert question.minimum is not None and question.maximum is not None
        if not question.minimum <= number <= question.maximum:
            errors.append(AnswerError(question.key, "out_of_range"))
            continue
        scales[question.key] = number

    ticked = _ticked(raw.get("problem"))
    category = _clean(raw.get("problem_category"))
    if (
        category is not None
        and category not in definition.question("problem_category").choice_keys()
    ):
        errors.append(AnswerError("problem_category", "unknown_choice"))
        category = None
    elif ticked and category is None:
        errors.append(AnswerError("problem_category", "category_required"))

    comment = raw.get("comment") or None
    comment_limit = definition.question("comment").max_length or 0
    if comment is not None and text_problem(comment, single_line=False):
        errors.append(AnswerError("comment", "invalid_text"))
        comment = None
    if comment is not None:
        # Browsers send CRLF; count what the shopper typed, store it as typed.
        comment = comment.replace("\r\n", "\n")
        if len(comment) > comment_limit:
            errors.append(AnswerError("comment", "too_long"))
        if not comment.strip():
            comment = None

    contact = _contact(raw, errors)

    if errors:
        return errors
    return Answers(
        nps=scales["nps"],
        csat=scales["csat"],
        ratings={key: value for key, value in scales.items() if key.startswith("rating_")},
        problem_reported=ticked or category is not None,
        problem_category=category,
        comment=comment,
        contact=contact,
    )


def _contact(raw: Mapping[str, str | None], errors: list[AnswerError]) -> ContactAnswer | None:
    consent = _ticked(raw.get("contact_consent"))
    phone = _clean(raw.get("contact_phone"))
    email = _clean(raw.get("contact_email"))
    if phone is not None and text_problem(phone, single_line=True):
        errors.append(AnswerError("contact_phone", "invalid_text"))
        phone = None
    if email is not None and text_problem(email, single_line=True):
        errors.append(AnswerError("contact_email", "invalid_text"))
        email = None
    if phone is not None and (
        not _PHONE_ALLOWED.match(phone) or sum(ch.isdigit() for ch in phone) < 6
    ):
        errors.append(AnswerError("contact", "invalid_phone"))
    if email is not None and (len(email) > 254 or not _EMAIL.match(email)):
        errors.append(AnswerError("contact", "invalid_email"))
    if consent and phone is None and email is None:
        errors.append(AnswerError("contact", "contact_required"))
    if not consent and (phone is not None or email is not None):
        # Never keep details the shopper did not agree to give.
        errors.append(AnswerError("contact", "consent_required"))
    if not consent:
        return None
    return ContactAnswer(phone=phone, email=email)


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _ticked(value: str | None) -> bool:
    return _clean(value) in ("y", "yes", "on", "true", "1")
