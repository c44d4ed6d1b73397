"""Validating a shopper's answers against a survey definition.

Every rule about what makes an answer acceptable lives here once: ranges, choices, the
"other" box, text limits, required questions, the problem category, the 2,000-character
comment, the contact opt-in, and which questions count at all (a question whose
``show_if`` condition is false is not asked: whatever was sent for it is dropped, and it
is never required). The web form maps the errors onto its fields; the rules never depend
on how the answers arrived.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

from surveys.conditions import AnswerValue, shown_questions
from surveys.definitions import OTHER, STANDARD_KEYS, Question, QuestionKind, SurveyDefinition
from surveys.strict import NotANumber, parse_int, text_problem

#: Satisfaction at or below this counts as "low": the problem category is offered.
LOW_SATISFACTION = 2
#: The form field holding what a shopper typed beside a question's "other" choice is the
#: question key with this suffix (a hyphen: no question key has one).
OTHER_SUFFIX = "-other"
#: The longest text accepted in an "other" box.
OTHER_TEXT_LIMIT = 200
#: What a yes/no question (other than the problem tick box) sends for yes and for no.
YES, NO = "yes", "no"

#: A submitted value: one string, the strings of a multiple choice, or nothing.
RawValue: TypeAlias = str | tuple[str, ...] | None

_PHONE_ALLOWED = re.compile(r"^\+?[0-9 ()\-]{6,24}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
_RATING_KEYS = frozenset(key for key in STANDARD_KEYS if key.startswith("rating_"))


@dataclass(frozen=True, slots=True)
class AnswerError:
    """One problem with one answer; ``code`` is stable, the portal translates it.

    ``question_key`` names the field: a question key, ``contact_phone``/``contact_email``,
    or a question key with `OTHER_SUFFIX` for its "other" box.
    """

    question_key: str
    code: str


@dataclass(frozen=True, slots=True)
class ContactAnswer:
    phone: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class CustomAnswer:
    """The answer to one custom question (`Question.is_custom`).

    ``value`` by kind: scale an ``int``; yes/no a ``bool``; choice the choice key;
    multiple the ``frozenset`` of keys ticked; short and long text the text.
    """

    key: str
    kind: QuestionKind
    value: AnswerValue
    #: What the shopper typed beside "other", when "other" is chosen.
    other_text: str | None = None


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
    #: The answered custom questions that were shown, in the survey's order.
    custom: tuple[CustomAnswer, ...] = ()

    @classmethod
    def scores(cls, nps: int, csat: int, comment: str | None = None) -> Answers:
        """Only the two scoring questions (and a comment): a phone call's short survey, or
        an answer made up for the demo and the tests."""
        return cls(
            nps=nps,
            csat=csat,
            ratings={},
            problem_reported=False,
            problem_category=None,
            comment=comment,
            contact=None,
        )


@dataclass(slots=True)
class _Parsed:
    """One question's answer as read, before conditions and cross-question rules."""

    value: AnswerValue | None = None
    other_text: str | None = None
    errors: list[AnswerError] = field(default_factory=list)


def validate_answers(
    definition: SurveyDefinition, raw: Mapping[str, RawValue], store_format: str = ""
) -> Answers | list[AnswerError]:
    """Check raw answers (strings as submitted) and return typed answers or every error.

    Parameters
    ----------
    definition : SurveyDefinition
        The survey version being answered.
    raw : Mapping[str, RawValue]
        Submitted values by field name: question keys (a tuple of strings for a multiple
        choice), a question key with `OTHER_SUFFIX` for an "other" box, plus
        ``contact_consent``, ``contact_phone`` and ``contact_email`` for the contact
        question. Tick boxes are ``"y"`` when ticked; a yes/no question sends `YES` or
        `NO`. Absent and empty values mean "not answered".
    store_format : str
        The format of the store the receipt is from, for ``store_format`` conditions.

    Returns
    -------
    Answers or list of AnswerError
        Typed answers when everything is acceptable, otherwise all the errors at once (in
        the survey's order) so that the shopper can fix them in one go.

    Notes
    -----
    Which questions count is `surveys.conditions.shown_questions` over the answers as read:
    a hidden question's answer and errors are dropped and it is not required. Then the
    cross-question rules:

    * a ticked "did anything go wrong?" needs a category;
    * a category chosen without the tick still records the problem (the shopper said so);
    * contact details are kept only with consent, and consent needs a phone or an e-mail;
    * "other" chosen needs its text.
    """
    parsed = {q.key: _parse(q, raw) for q in definition.questions}
    typed = {key: p.value for key, p in parsed.items() if p.value is not None}
    shown = shown_questions(definition, typed, store_format)
    shown_keys = {q.key for q in shown}
    for key in set(parsed) - shown_keys:
        parsed[key] = _Parsed()  # not asked: nothing sent for it counts
    for question in shown:
        answer = parsed[question.key]
        if answer.value is None and not answer.errors and question.required:
            answer.errors.append(AnswerError(question.key, "required"))
    for core in ("nps", "csat"):
        # The scoring questions feed every figure: a response always has both.
        if core in parsed and parsed[core].value is None and not parsed[core].errors:
            parsed[core].errors.append(AnswerError(core, "required"))
    ticked = "problem" in parsed and parsed["problem"].value is True
    category = parsed["problem_category"].value if "problem_category" in parsed else None
    if ticked and category is None and "problem_category" in shown_keys:
        if not parsed["problem_category"].errors:
            parsed["problem_category"].errors.append(
                AnswerError("problem_category", "category_required")
            )
    contact = None
    if "contact" in shown_keys:
        contact = _contact(raw, parsed["contact"].errors)
    errors = [error for q in definition.questions for error in parsed[q.key].errors]
    if errors:
        return errors
    comment = parsed["comment"].value if "comment" in parsed else None
    return Answers(
        nps=_int(parsed["nps"].value),
        csat=_int(parsed["csat"].value),
        ratings={
            key: _int(p.value)
            for key, p in parsed.items()
            if key in _RATING_KEYS and p.value is not None
        },
        problem_reported=ticked or category is not None,
        problem_category=None if category is None else str(category),
        comment=None if comment is None else str(comment),
        contact=contact,
        custom=tuple(
            CustomAnswer(q.key, q.kind, answer.value, answer.other_text)
            for q in shown
            if q.is_custom and (answer := parsed[q.key]).value is not None
        ),
    )


def _int(value: AnswerValue | None) -> int:
    assert isinstance(value, int) and not isinstance(value, bool)
    return value


def _parse(question: Question, raw: Mapping[str, RawValue]) -> _Parsed:
    """The typed answer to one question, or its errors; ``value`` None when unanswered."""
    value = raw.get(question.key)
    kind = question.kind
    if kind is QuestionKind.SCALE:
        return _scale(question, _first(value))
    if kind is QuestionKind.BOOLEAN:
        return _boolean(question, _first(value))
    if kind in (QuestionKind.CHOICE, QuestionKind.MULTIPLE):
        return _choices(question, raw)
    if kind in (QuestionKind.SHORT_TEXT, QuestionKind.TEXT):
        return _text(question, _first(value))
    return _Parsed()  # the contact question: its three fields are read by _contact


def _scale(question: Question, value: str | None) -> _Parsed:
    if value is None or value == "":
        return _Parsed()
    try:
        # Only the digits the buttons send: no " 5", "1_0", "５" or "٥".
        number = parse_int(value)
    except NotANumber:
        return _Parsed(errors=[AnswerError(question.key, "not_a_number")])
    assert question.minimum is not None and question.maximum is not None
    if not question.minimum <= number <= question.maximum:
        return _Parsed(errors=[AnswerError(question.key, "out_of_range")])
    return _Parsed(number)


def _boolean(question: Question, value: str | None) -> _Parsed:
    if question.key == "problem":
        # The receipt survey's tick box: not ticked is "no", always answered.
        return _Parsed(_ticked(value))
    cleaned = _clean(value)
    if cleaned is None:
        return _Parsed()
    if cleaned not in (YES, NO):
        return _Parsed(errors=[AnswerError(question.key, "unknown_choice")])
    return _Parsed(cleaned == YES)


def _choices(question: Question, raw: Mapping[str, RawValue]) -> _Parsed:
    sent = raw.get(question.key)
    values = sent if isinstance(sent, tuple) else (sent,)
    picked = {cleaned for value in values if (cleaned := _clean(value)) is not None}
    if question.kind is QuestionKind.CHOICE and len(picked) > 1:
        return _Parsed(errors=[AnswerError(question.key, "unknown_choice")])
    offered = {*question.choice_keys(), *((OTHER,) if question.other else ())}
    if not picked <= offered:
        return _Parsed(errors=[AnswerError(question.key, "unknown_choice")])
    if not picked:
        return _Parsed()
    multiple = question.kind is QuestionKind.MULTIPLE
    answer = _Parsed(frozenset(picked) if multiple else next(iter(picked)))
    if question.other and OTHER in picked:
        answer.other_text = _other_text(question, raw, answer.errors)
    return answer


def _other_text(
    question: Question, raw: Mapping[str, RawValue], errors: list[AnswerError]
) -> str | None:
    name = question.key + OTHER_SUFFIX
    text = _clean(_first(raw.get(name)))
    if text is None:
        errors.append(AnswerError(name, "other_required"))
    elif text_problem(text, single_line=True):
        errors.append(AnswerError(name, "invalid_text"))
    elif len(text) > OTHER_TEXT_LIMIT:
        errors.append(AnswerError(name, "too_long"))
    else:
        return text
    return None


def _text(question: Question, value: str | None) -> _Parsed:
    if value is None or value == "":
        return _Parsed()
    single_line = question.kind is QuestionKind.SHORT_TEXT
    if text_problem(value, single_line=single_line):
        return _Parsed(errors=[AnswerError(question.key, "invalid_text")])
    # Browsers send CRLF; count what the shopper typed, store it as typed.
    text = value.replace("\r\n", "\n")
    if len(text) > (question.max_length or 0):
        return _Parsed(errors=[AnswerError(question.key, "too_long")])
    if not text.strip():
        return _Parsed()
    return _Parsed(text.strip() if single_line else text)


def _contact(raw: Mapping[str, RawValue], errors: list[AnswerError]) -> ContactAnswer | None:
    consent = _ticked(_first(raw.get("contact_consent")))
    phone = _clean(_first(raw.get("contact_phone")))
    email = _clean(_first(raw.get("contact_email")))
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


def _first(value: RawValue) -> str | None:
    if isinstance(value, tuple):
        return value[0] if value else None
    return value


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _ticked(value: str | None) -> bool:
    return _clean(value) in ("y", "yes", "on", "true", "1")
