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
    #: One choice out of a fixed list.
    CHOICE = "choice"
    #: Free text with a maximum length.
    TEXT = "text"
    #: Opt-in to be contacted: consent, phone, e-mail.
    CONTACT = "contact"


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
