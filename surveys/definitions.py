"""Typed, immutable survey definitions: what a survey asks and in which words.

A definition is data (a YAML file under ``surveys/library/``) loaded into these frozen
dataclasses by :mod:`surveys.loader`. Nothing here knows about forms or databases.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class QuestionKind(StrEnum):
    #: A whole number on a closed scale (0-10 likelihood, 1-5 ratings).
    SCALE = "scale"
    #: A yes/no tick box.
    BOOLEAN = "boolean"
    #: One choice out of a fixed list (optionally with "other" and a text box).
    CHOICE = "choice"
    #: Any number of choices out of a fixed list (optionally with "other").
    MULTIPLE = "multiple"
    #: One line of free text.
    SHORT_TEXT = "short_text"
    #: Free text with a maximum length (a text area).
    TEXT = "text"
    #: Opt-in to be contacted: consent, phone, e-mail.
    CONTACT = "contact"


#: The scoring questions: locked in wording and scale, so that NPS and CSAT stay comparable
#: across versions; changing them needs an explicit new scoring series.
CORE_KEYS = ("nps", "csat")
#: The questions of the original receipt survey whose answers the portal keeps in typed
#: columns of ``responses`` (scores, service ratings, the problem, the comment, contact).
#: Every other question is *custom*: its answers are rows of ``response_answers``.
STANDARD_KEYS = frozenset(
    {
        "nps",
        "csat",
        "rating_friendliness",
        "rating_speed",
        "rating_availability",
        "rating_cleanliness",
        "rating_knowledge",
        "problem",
        "problem_category",
        "comment",
        "contact",
    }
)
#: The choice key of the "other" option a choice question may offer (with a text box).
OTHER = "other"
#: The kinds whose answer is free text: stored as ``text`` without a choice.
TEXT_KINDS = frozenset({QuestionKind.SHORT_TEXT, QuestionKind.TEXT})
#: The kinds whose answers are choice keys (one, or any number).
CHOICE_KINDS = frozenset({QuestionKind.CHOICE, QuestionKind.MULTIPLE})


class RuleOp(StrEnum):
    """How an answer rule compares the earlier answer with its values."""

    #: The number answered is at most the value (scales).
    AT_MOST = "le"
    #: The number answered is at least the value (scales).
    AT_LEAST = "ge"
    #: The answer equals the value: a number (scales), ``True``/``False`` (yes/no).
    EQUALS = "eq"
    #: The choice answered (or any of those ticked) is one of the values (choices).
    ONE_OF = "in"


@dataclass(frozen=True, slots=True)
class AnswerRule:
    """True when the answer to an earlier question meets ``op`` with ``values``.

    An unanswered question meets no rule.
    """

    question: str
    op: RuleOp
    values: tuple[int | bool | str, ...]


@dataclass(frozen=True, slots=True)
class StoreFormatRule:
    """True when the survey is answered for a store of one of these formats."""

    formats: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Condition:
    """When a question is shown: all of the rules hold (``match == "all"``), or any."""

    match: str
    rules: tuple[AnswerRule | StoreFormatRule, ...]


@dataclass(frozen=True, slots=True)
class LocalizedText:
    """The same sentence in every supported locale."""

    zh_CN: str
    en: str

    def get(self, locale: str) -> str:
        """Return the text for ``locale`` (``zh_CN`` or ``en``), falling back to English.

        Parameters
        ----------
        locale : str
            A locale code such as ``"zh_CN"``, ``"zh"`` or ``"en"``.

        Returns
        -------
        str
        """
        return self.zh_CN if locale.replace("-", "_").startswith("zh") else self.en


@dataclass(frozen=True, slots=True)
class Choice:
    key: str
    text: LocalizedText


@dataclass(frozen=True, slots=True)
class Question:
    key: str
    kind: QuestionKind
    text: LocalizedText
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None
    low_label: LocalizedText | None = None
    high_label: LocalizedText | None = None
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None
    help: LocalizedText | None = None
    #: Questions with the same group are shown together under the group's heading.
    group: str | None = None
    #: For choice questions: an "other" option (key `OTHER`) with a text box.
    other: bool = False
    #: Shown only when this holds; ``None`` means always shown.
    show_if: Condition | None = None

    @property
    def is_core(self) -> bool:
        """A scoring question (NPS, overall satisfaction)."""
        return self.key in CORE_KEYS

    @property
    def is_custom(self) -> bool:
        """Stored as generic answer rows rather than in the typed columns of a response."""
        return self.key not in STANDARD_KEYS

    def choice_keys(self) -> tuple[str, ...]:
        """The stable keys of this question's choices, in display order."""
        return tuple(choice.key for choice in self.choices)


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    text: LocalizedText


@dataclass(frozen=True, slots=True)
class SurveyDefinition:
    key: str
    title: LocalizedText
    intro: LocalizedText
    thanks: LocalizedText
    questions: tuple[Question, ...]
    groups: tuple[Group, ...]
    #: The consent sentence shown beside the contact opt-in, stored with each consent.
    consent: LocalizedText
    #: SHA-256 of the canonical JSON form: identical content, identical version.
    content_hash: str
    #: The canonical content itself, as stored with each published version.
    content: str

    def custom_questions(self) -> tuple[Question, ...]:
        """The questions whose answers are generic rows (see `STANDARD_KEYS`)."""
        return tuple(q for q in self.questions if q.is_custom)

    def question(self, key: str) -> Question:
        """Return the question with this key.

        Raises
        ------
        KeyError
            If the survey has no such question.
        """
        for question in self.questions:
            if question.key == key:
                return question
        raise KeyError(key)

    def group(self, key: str) -> Group:
        """Return the group with this key (raises ``KeyError`` when absent)."""
        for group in self.groups:
            if group.key == key:
                return group
        raise KeyError(key)
