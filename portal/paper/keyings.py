"""One keying of a paper card as plain values, for comparing two keyings of the same card.

A keying is written the way the survey form sends it (`surveys.answers.validate_answers`
reads it back): question keys, ``-other`` boxes and the contact fields, each a string or,
for a multiple choice, a list of keys; "" is "not answered". The stored response (the first
keying) and a second person's answers are both turned into this shape, so that the two
compare key by key and a decision for the second keying can be validated again as a whole.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TypeAlias

from portal.models import Response
from portal.models.receipts import RATING_KEYS
from surveys.answers import NO, OTHER_SUFFIX, YES, Answers, ContactAnswer, CustomAnswer, RawValue
from surveys.conditions import AnswerValue
from surveys.definitions import OTHER, QuestionKind, SurveyDefinition

#: One keyed value: a string, or the keys ticked in a multiple choice (sorted).
Keyed: TypeAlias = str | list[str]
#: A tick box as the form sends it.
TICKED = "y"


def keyed_values(answers: Answers) -> dict[str, Keyed]:
    """``answers`` as the form's fields would send them (only the answered ones)."""
    values: dict[str, Keyed] = {"nps": str(answers.nps), "csat": str(answers.csat)}
    values |= {key: str(value) for key, value in answers.ratings.items()}
    if answers.problem_reported:
        values["problem"] = TICKED
    if answers.problem_category is not None:
        values["problem_category"] = answers.problem_category
    if answers.comment:
        values["comment"] = answers.comment
    if answers.contact is not None:
        values["contact_consent"] = TICKED
        values["contact_phone"] = answers.contact.phone or ""
        values["contact_email"] = answers.contact.email or ""
    for custom in answers.custom:
        values[custom.key] = _custom_value(custom)
        if custom.other_text:
            values[custom.key + OTHER_SUFFIX] = custom.other_text
    return {key: value for key, value in values.items() if value not in ("", [])}


def _custom_value(custom: CustomAnswer) -> Keyed:
    value = custom.value
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, frozenset):
        return sorted(str(v) for v in value)
    return str(value)


def as_raw(values: dict[str, Keyed]) -> dict[str, RawValue]:
    """Keyed values as `surveys.answers.validate_answers` reads a form."""
    return {key: tuple(v) if isinstance(v, list) else v for key, v in values.items()}


def differences(first: dict[str, Keyed], second: dict[str, Keyed]) -> dict[str, dict[str, Keyed]]:
    """The fields on which two keyings differ: field -> ``{"first": ..., "second": ...}``
    ("" for a field one keying left empty)."""
    return {
        key: {"first": first.get(key, ""), "second": second.get(key, "")}
        for key in sorted(set(first) | set(second))
        if first.get(key, "") != second.get(key, "")
    }


def answers_of(response: Response, definition: SurveyDefinition) -> Answers:
    """The answers a stored response holds, as typed answers of its version."""
    rows: dict[str, list[tuple[int | None, str | None, str | None]]] = defaultdict(list)
    for row in response.answers:
        rows[row.question_key].append((row.number, row.choice, row.text))
    custom = []
    for question in definition.questions:
        if question.is_custom and question.key in rows:
            value, other = _stored_value(question.kind, rows[question.key])
            custom.append(CustomAnswer(question.key, question.kind, value, other))
    contact = response.contact
    return Answers(
        nps=response.nps,
        csat=response.csat,
        ratings={
            key: value for key in RATING_KEYS if (value := getattr(response, key)) is not None
        },
        problem_reported=response.problem_reported,
        problem_category=response.problem_category,
        comment=response.comment,
        contact=None if contact is None else ContactAnswer(contact.phone, contact.email),
        custom=tuple(custom),
    )


def _stored_value(
    kind: QuestionKind, rows: list[tuple[int | None, str | None, str | None]]
) -> tuple[AnswerValue, str | None]:
    """A custom answer's value from its ``response_answers`` rows (see
    `portal.question_rollups.answer_rows`), with the text beside "other"."""
    other = next((text for _n, choice, text in rows if choice == OTHER), None)
    number, choice, text = rows[0]
    if kind is QuestionKind.SCALE:
        return int(number or 0), None
    if kind is QuestionKind.BOOLEAN:
        return bool(number), None
    if kind is QuestionKind.MULTIPLE:
        return frozenset(c for _n, c, _t in rows if c is not None), other
    if kind is QuestionKind.CHOICE:
        return str(choice), other
    return str(text or ""), None
