"""What changed from one survey definition to the next: questions added, removed, moved and
changed (field by field, text by language), and the survey's own texts.

Questions and choices are matched by their stable keys, never by position: answers are
stored under the key, so a question whose key changed is, for the answers, a removed one
and a new one, and this says so. A question counts as *moved* only when its order among the
questions both definitions ask changed (the fewest moves that explain the new order), so
adding one question at the top does not report every later question as moved.

Pure data in, typed changes out; the portal puts them into words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

from surveys.definitions import Choice, Condition, LocalizedText, Question, SurveyDefinition

#: The languages every text of a definition is written in, in the order changes are listed.
LANGUAGES = ("zh_CN", "en")


class SurveyField(StrEnum):
    """The texts of the survey itself."""

    TITLE = "title"
    INTRO = "intro"
    THANKS = "thanks"
    CONSENT = "consent"


class QuestionField(StrEnum):
    """The parts of a question a change can be about (choices and the condition have their
    own change types)."""

    TEXT = "text"
    HELP = "help"
    KIND = "kind"
    REQUIRED = "required"
    MINIMUM = "minimum"
    MAXIMUM = "maximum"
    LOW_LABEL = "low_label"
    HIGH_LABEL = "high_label"
    OTHER = "other"
    MAX_LENGTH = "max_length"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class TextChanged:
    """One language of a text: ``None`` before (the text was added) or after (removed)."""

    field: SurveyField | QuestionField
    language: str
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class ValueChanged:
    """A setting of a question: its kind (the `QuestionKind` value), required, the ends of
    its scale, "other", the maximum length or its group; ``None`` where it has none."""

    field: QuestionField
    before: str | int | bool | None
    after: str | int | bool | None


@dataclass(frozen=True, slots=True)
class ChoiceAdded:
    key: str
    text: LocalizedText
    #: 1-based, among the question's choices in the new definition.
    position: int


@dataclass(frozen=True, slots=True)
class ChoiceRemoved:
    key: str
    text: LocalizedText


@dataclass(frozen=True, slots=True)
class ChoiceRenamed:
    """The same choice (same key, so its answers stay comparable) in new words."""

    key: str
    language: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class ChoicesReordered:
    """The choices both definitions offer, in their old and their new order."""

    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ConditionChanged:
    """When the question is shown; ``None`` means always."""

    before: Condition | None
    after: Condition | None


QuestionChange: TypeAlias = (
    TextChanged | ValueChanged | ChoiceAdded | ChoiceRemoved | ChoiceRenamed | ChoicesReordered
) | ConditionChanged


@dataclass(frozen=True, slots=True)
class QuestionAdded:
    question: Question
    #: 1-based, in the new definition.
    position: int


@dataclass(frozen=True, slots=True)
class QuestionRemoved:
    question: Question
    #: 1-based, in the previous definition.
    position: int


@dataclass(frozen=True, slots=True)
class QuestionMoved:
    key: str
    #: 1-based positions in the previous and the new definition.
    before: int
    after: int


@dataclass(frozen=True, slots=True)
class QuestionChanged:
    key: str
    #: 1-based, in the new definition.
    position: int
    changes: tuple[QuestionChange, ...]


@dataclass(frozen=True, slots=True)
class GroupChanged:
    """The heading of a group of questions in one language; ``None`` before (the group was
    added) or after (removed)."""

    key: str
    language: str
    before: str | None
    after: str | None


Change: TypeAlias = (
    TextChanged | GroupChanged | QuestionRemoved | QuestionAdded | QuestionMoved
) | QuestionChanged


def diff_definitions(previous: SurveyDefinition, next_: SurveyDefinition) -> tuple[Change, ...]:
    """The changes that turn ``previous`` into ``next_``.

    Parameters
    ----------
    previous, next_ : SurveyDefinition
        Two definitions, usually consecutive published versions of one survey.

    Returns
    -------
    tuple of Change
        In reading order: the survey's texts (`TextChanged` with a `SurveyField`), group
        headings, the questions removed (in their old order), then, following the new
        order, each question added, moved or changed (a question both moved and changed
        has one of each). Empty when the two ask the same in the same words.

    Examples
    --------
    >>> from surveys.loader import receipt_survey
    >>> diff_definitions(receipt_survey(), receipt_survey())
    ()
    """
    changes: list[Change] = []
    for field in SurveyField:
        changes.extend(
            _text_changes(field, getattr(previous, field.value), getattr(next_, field.value))
        )
    changes.extend(_group_changes(previous, next_))
    old_positions = {q.key: i for i, q in enumerate(previous.questions, start=1)}
    new_keys = {q.key for q in next_.questions}
    changes.extend(
        QuestionRemoved(question=q, position=old_positions[q.key])
        for q in previous.questions
        if q.key not in new_keys
    )
    kept_old_order = [q.key for q in previous.questions if q.key in new_keys]
    kept_new_order = [q.key for q in next_.questions if q.key in old_positions]
    stayed = set(longest_common_subsequence(kept_old_order, kept_new_order))
    for position, question in enumerate(next_.questions, start=1):
        if question.key not in old_positions:
            changes.append(QuestionAdded(question=question, position=position))
            continue
        if question.key not in stayed:
            changes.append(QuestionMoved(question.key, old_positions[question.key], position))
        before = previous.questions[old_positions[question.key] - 1]
        field_changes = question_changes(before, question)
        if field_changes:
            changes.append(QuestionChanged(question.key, position, field_changes))
    return tuple(changes)


def question_changes(before: Question, after: Question) -> tuple[QuestionChange, ...]:
    """The changes of one question (same key) from ``before`` to ``after``.

    Parameters
    ----------
    before, after : Question

    Returns
    -------
    tuple of QuestionChange
        The wording first (text, help, scale labels by language), then kind, required,
        scale ends, choices, "other", maximum length, group and condition.
    """
    changes: list[QuestionChange] = []
    changes.extend(_text_changes(QuestionField.TEXT, before.text, after.text))
    changes.extend(_text_changes(QuestionField.HELP, before.help, after.help))
    changes.extend(_text_changes(QuestionField.LOW_LABEL, before.low_label, after.low_label))
    changes.extend(_text_changes(QuestionField.HIGH_LABEL, before.high_label, after.high_label))
    values: tuple[tuple[QuestionField, str | int | bool | None, str | int | bool | None], ...] = (
        (QuestionField.KIND, before.kind.value, after.kind.value),
        (QuestionField.REQUIRED, before.required, after.required),
        (QuestionField.MINIMUM, before.minimum, after.minimum),
        (QuestionField.MAXIMUM, before.maximum, after.maximum),
    )
    changes.extend(ValueChanged(f, old, new) for f, old, new in values if old != new)
    changes.extend(_choice_changes(before.choices, after.choices))
    values = (
        (QuestionField.OTHER, before.other, after.other),
        (QuestionField.MAX_LENGTH, before.max_length, after.max_length),
        (QuestionField.GROUP, before.group, after.group),
    )
    changes.extend(ValueChanged(f, old, new) for f, old, new in values if old != new)
    # By repr: a rule comparing with True and one comparing with 1 are equal as Python
    # values, but not the same rule.
    if repr(before.show_if) != repr(after.show_if):
        changes.append(ConditionChanged(before.show_if, after.show_if))
    return tuple(changes)


def longest_common_subsequence(first: Sequence[str], second: Sequence[str]) -> list[str]:
    """The longest sequence of items appearing in both, in the same order (one of them,
    when several are equally long).

    Parameters
    ----------
    first, second : sequence of str
        Distinct keys each (question or choice keys).

    Returns
    -------
    list of str
        The items that keep their relative order; the others are the fewest that moved.

    Notes
    -----
    The classic O(n m) dynamic programme; surveys have tens of questions.
    """
    n, m = len(first), len(second)
    lengths = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if first[i] == second[j]:
                lengths[i][j] = lengths[i + 1][j + 1] + 1
            else:
                lengths[i][j] = max(lengths[i + 1][j], lengths[i][j + 1])
    common: list[str] = []
    i = j = 0
    while i < n and j < m:
        if first[i] == second[j]:
            common.append(first[i])
            i, j = i + 1, j + 1
        elif lengths[i + 1][j] >= lengths[i][j + 1]:
            i += 1
        else:
            j += 1
    return common


def _text_changes(
    field: SurveyField | QuestionField, before: LocalizedText | None, after: LocalizedText | None
) -> list[TextChanged]:
    changes = []
    for language in LANGUAGES:
        old = None if before is None else getattr(before, language)
        new = None if after is None else getattr(after, language)
        if old != new:
            changes.append(TextChanged(field, language, old, new))
    return changes


def _group_changes(previous: SurveyDefinition, next_: SurveyDefinition) -> list[GroupChanged]:
    old = {g.key: g.text for g in previous.groups}
    new = {g.key: g.text for g in next_.groups}
    changes = []
    for key in [*old, *(k for k in new if k not in old)]:
        for language in LANGUAGES:
            before = getattr(old[key], language) if key in old else None
            after = getattr(new[key], language) if key in new else None
            if before != after:
                changes.append(GroupChanged(key, language, before, after))
    return changes


def _choice_changes(before: tuple[Choice, ...], after: tuple[Choice, ...]) -> list[QuestionChange]:
    old = {c.key: c for c in before}
    new_keys = {c.key for c in after}
    changes: list[QuestionChange] = []
    changes.extend(ChoiceRemoved(c.key, c.text) for c in before if c.key not in new_keys)
    for position, choice in enumerate(after, start=1):
        if choice.key not in old:
            changes.append(ChoiceAdded(choice.key, choice.text, position))
            continue
        for language in LANGUAGES:
            was, now = getattr(old[choice.key].text, language), getattr(choice.text, language)
            if was != now:
                changes.append(ChoiceRenamed(choice.key, language, was, now))
    kept_before = tuple(c.key for c in before if c.key in new_keys)
    kept_after = tuple(c.key for c in after if c.key in old)
    if kept_before != kept_after:
        changes.append(ChoicesReordered(kept_before, kept_after))
    return changes
