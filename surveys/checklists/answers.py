"""A report's answers and the rules they must meet: the read-only ``ChecklistAnswers``,
whether a value is acceptable for an item, what still blocks submission (every "no" and
every N/A explained, every section narrated: reference §1.3 rule 5), the share of an
item's points an answer earns, the JSON form the answers are stored in, and the form
field names that answers and errors are keyed by.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from surveys.checklists.schema import (
    NA,
    NO,
    YES,
    ChecklistDefinition,
    ChecklistItem,
    ItemKind,
)

#: A "no" or an N/A needs a factual comment at least this long (reference §1.1: stores
#: contest negative scores, so each needs what happened, times, quotes).
MIN_COMMENT_CHARS = 20
#: Longest comment and narrative kept; longer ones are refused rather than cut.
MAX_COMMENT_CHARS = 2000
MAX_NARRATIVE_CHARS = 5000
RATING_MIN, RATING_MAX = 1, 5


@dataclass(frozen=True, slots=True)
class ItemAnswer:
    """One item's answer: CHECK ``"yes"``/``"no"``/``"na"``; RATING 1..5 or ``"na"``;
    TIME whole seconds >= 0 or ``"na"``; TEXT the text; ``None`` = not answered yet.
    ``comment`` backs up the answer (required for every "no" and N/A)."""

    value: str | int | None
    comment: str = ""


@dataclass(frozen=True, slots=True)
class ChecklistAnswers:
    """A report's answers by item key and narratives by section key.

    Plain dicts may be passed in; they are copied into read-only mappings, so an answer
    set never changes once made.
    """

    items: Mapping[str, ItemAnswer]
    narratives: Mapping[str, str]

    def __post_init__(self) -> None:
        # Copy, then freeze: a caller keeping the dict cannot change the answers later.
        object.__setattr__(self, "items", MappingProxyType(dict(self.items)))
        object.__setattr__(self, "narratives", MappingProxyType(dict(self.narratives)))

    def value(self, key: str) -> str | int | None:
        """The answer to an item, ``None`` when it has none."""
        answer = self.items.get(key)
        return None if answer is None else answer.value


EMPTY_ANSWERS = ChecklistAnswers(items={}, narratives={})


def item_field(key: str) -> str:
    """Form field name of an item's answer."""
    return f"item-{key}"


def comment_field(key: str) -> str:
    """Form field name of an item's comment."""
    return f"comment-{key}"


def narrative_field(section_key: str) -> str:
    """Form field name of a section's narrative."""
    return f"narrative-{section_key}"


class Problem(str):
    """Why an answer is not acceptable, in English, together with the ``template`` and
    ``values`` it was made from: the portal says the same thing in the page's language
    (``portal.mystery.checklist_words``) from the template, never from the English."""

    template: str
    values: dict[str, int]

    def __new__(cls, template: str, **values: int) -> Problem:
        problem = super().__new__(cls, template % values if values else template)
        problem.template = template
        problem.values = values
        return problem


#: Every problem template, each once (the portal keeps a translation of each).
ANSWER_ITEM = "Answer this item."
CHOOSE_CHECK = "Choose yes, no or not applicable."
CHOOSE_CHECK_NO_NA = "Choose yes or no."
CHOOSE_RATING = "Choose a rating from %(low)d to %(high)d."
ENTER_TIME = "Enter whole seconds (such as 45) or minutes:seconds (such as 4:30)."
NA_NOT_ALLOWED = "Not applicable is not allowed for this item."
TOO_LONG_A_VISIT = "Longer than a whole visit may last (%(minutes)d minutes)."
ENTER_TEXT = "Enter text."
AT_MOST_CHARS = "At most %(n)d characters."
BACK_UP_NO = "Say what happened (at least %(n)d characters) to back up the no."
BACK_UP_NA = "Say what happened (at least %(n)d characters) to back up the not applicable."
NARRATE_SECTION = "Describe this part of the visit in at least %(n)d characters."
PROBLEM_TEMPLATES = (
    ANSWER_ITEM,
    CHOOSE_CHECK,
    CHOOSE_CHECK_NO_NA,
    CHOOSE_RATING,
    ENTER_TIME,
    NA_NOT_ALLOWED,
    TOO_LONG_A_VISIT,
    ENTER_TEXT,
    AT_MOST_CHARS,
    BACK_UP_NO,
    BACK_UP_NA,
    NARRATE_SECTION,
)


def value_error(
    definition: ChecklistDefinition, item: ChecklistItem, value: str | int
) -> Problem | None:
    """Why ``value`` is not an acceptable answer to ``item``, or ``None`` when it is."""
    if value == NA and item.kind is not ItemKind.TEXT:
        return None if item.na_allowed else Problem(NA_NOT_ALLOWED)
    if item.kind is ItemKind.CHECK:
        if value in (YES, NO):
            return None
        return Problem(CHOOSE_CHECK if item.na_allowed else CHOOSE_CHECK_NO_NA)
    if item.kind is ItemKind.RATING:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok and RATING_MIN <= int(value) <= RATING_MAX:
            return None
        return Problem(CHOOSE_RATING, low=RATING_MIN, high=RATING_MAX)
    if item.kind is ItemKind.TIME:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return Problem(ENTER_TIME)
        if value > definition.max_minutes * 60:
            return Problem(TOO_LONG_A_VISIT, minutes=definition.max_minutes)
        return None
    if not isinstance(value, str):
        return Problem(ENTER_TEXT)
    return Problem(AT_MOST_CHARS, n=MAX_COMMENT_CHARS) if len(value) > MAX_COMMENT_CHARS else None


def _is_no(item: ChecklistItem, value: str | int | None) -> bool:
    """A scored item answered "no": a CHECK "no", or a TIME over its standard."""
    if item.kind is ItemKind.CHECK:
        return value == NO
    if item.kind is ItemKind.TIME and isinstance(value, int):
        return item.standard_seconds is not None and value > item.standard_seconds
    return False


def completeness_errors(
    definition: ChecklistDefinition, answers: ChecklistAnswers
) -> dict[str, Problem]:
    """What blocks submitting the report, by form field name.

    Parameters
    ----------
    definition : ChecklistDefinition
        The checklist version answered.
    answers : ChecklistAnswers
        The draft.

    Returns
    -------
    dict of str to Problem
        Empty when the report may be submitted. Otherwise, in form order: every CHECK,
        TIME and RATING item must hold an acceptable answer (TEXT items may stay empty);
        N/A only where the item allows it; every scored "no" (a CHECK "no" or a TIME over
        its standard) and every scored N/A needs a comment of at least
        ``MIN_COMMENT_CHARS`` characters (reference §1.3 rule 5); every section's
        narrative needs at least its ``narrative_min_chars`` characters. Answers to items
        the checklist does not have are ignored.
    """
    errors: dict[str, Problem] = {}
    for section in definition.sections:
        for item in section.items:
            answer = answers.items.get(item.key, ItemAnswer(None))
            if answer.value is None:
                if item.kind is not ItemKind.TEXT:
                    errors[item_field(item.key)] = Problem(ANSWER_ITEM)
                continue
            problem = value_error(definition, item, answer.value)
            if problem is not None:
                errors[item_field(item.key)] = problem
                continue
            needs_comment = item.scored and (answer.value == NA or _is_no(item, answer.value))
            if needs_comment and len(answer.comment.strip()) < MIN_COMMENT_CHARS:
                template = BACK_UP_NA if answer.value == NA else BACK_UP_NO
                errors[comment_field(item.key)] = Problem(template, n=MIN_COMMENT_CHARS)
        narrative = answers.narratives.get(section.key, "").strip()
        if len(narrative) < section.narrative_min_chars:
            errors[narrative_field(section.key)] = Problem(
                NARRATE_SECTION, n=section.narrative_min_chars
            )
    return errors


def answers_to_json(answers: ChecklistAnswers) -> dict[str, Any]:
    """The answers as JSON-safe data (for a JSON column); :func:`answers_from_json` reads
    it back to equal answers.

    Returns
    -------
    dict
        ``{"items": {key: {"value": v, "comment": c}}, "narratives": {section: text}}``.
    """
    return {
        "items": {
            key: {"value": answer.value, "comment": answer.comment}
            for key, answer in answers.items.items()
        },
        "narratives": dict(answers.narratives),
    }


def answers_from_json(data: Mapping[str, Any]) -> ChecklistAnswers:
    """Rebuild answers stored by :func:`answers_to_json`.

    Raises
    ------
    ValueError
        When ``data`` is not in that shape (stored data, not user input: a bug or a
        corrupted row, so it is not silently repaired).
    """
    items_raw = data.get("items", {})
    narratives_raw = data.get("narratives", {})
    if not isinstance(items_raw, Mapping) or not isinstance(narratives_raw, Mapping):
        raise ValueError("answers JSON needs 'items' and 'narratives' objects")
    items: dict[str, ItemAnswer] = {}
    for key, entry in items_raw.items():
        if not isinstance(entry, Mapping):
            raise ValueError(f"answer to {key!r} must be an object")
        value = entry.get("value")
        comment = entry.get("comment", "")
        if isinstance(value, bool) or not isinstance(value, str | int | None):
            raise ValueError(f"answer to {key!r} has a value of the wrong type: {value!r}")
        if not isinstance(comment, str):
            raise ValueError(f"comment on {key!r} must be text")
        items[str(key)] = ItemAnswer(value=value, comment=comment)
    narratives: dict[str, str] = {}
    for key, text in narratives_raw.items():
        if not isinstance(text, str):
            raise ValueError(f"narrative of {key!r} must be text")
        narratives[str(key)] = text
    return ChecklistAnswers(items=items, narratives=narratives)


def earned_fraction(
    definition: ChecklistDefinition, item: ChecklistItem, value: str | int | None
) -> float | None:
    """The share of a scored item's points that an answer earns.

    Parameters
    ----------
    definition : ChecklistDefinition
        The checklist version answered (a TIME answer is checked against its visit length).
    item : ChecklistItem
        A CHECK or TIME item of ``definition``.
    value : str, int or None
        The item's answer (:meth:`ChecklistAnswers.value`).

    Returns
    -------
    float or None
        CHECK yes 1, no 0; TIME 1 when the seconds are at most the standard, else 0; N/A
        ``None`` (the item leaves the denominator).

    Raises
    ------
    ValueError
        If the item is not scored (RATING and TEXT items are context), is unanswered,
        holds an unacceptable value, or is N/A where not allowed: an incomplete report
        has no score.
    """
    if not item.scored:
        raise ValueError(f"item {item.key} is not scored")
    if value is None:
        raise ValueError(f"item {item.key} is not answered")
    problem = value_error(definition, item, value)
    if problem is not None:
        raise ValueError(f"item {item.key}: {problem}")
    if value == NA:
        return None
    if item.kind is ItemKind.CHECK:
        return 1.0 if value == YES else 0.0
    return 0.0 if _is_no(item, value) else 1.0
