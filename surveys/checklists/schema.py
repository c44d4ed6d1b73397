"""The checklist as data: the frozen dataclasses a mystery-shop questionnaire loads into
(``ChecklistDefinition`` of ``ChecklistSection`` of ``ChecklistItem``), the kinds of item,
critical scopes and attributions, and the answer values ``yes``/``no``/``na``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from surveys.definitions import LocalizedText

#: The value of a "not applicable" answer, in forms and in stored answers.
NA = "na"
YES = "yes"
NO = "no"


class ItemKind(StrEnum):
    #: Yes / no / not applicable, scored.
    CHECK = "check"
    #: A 1-5 rating, unscored context (reference §1.1: rating scales never in the score).
    RATING = "rating"
    #: Measured whole seconds, scored "yes" when within ``standard_seconds``.
    TIME = "time"
    #: A free-text observation, unscored, may stay empty.
    TEXT = "text"


class Critical(StrEnum):
    NONE = "none"
    #: A "no" zeroes the item's section.
    SECTION = "section"
    #: A "no" fails the whole visit (reported score 0).
    VISIT = "visit"


class Attribution(StrEnum):
    """Whom a section's result is credited to (reference §3.2)."""

    NONE = "none"
    #: The staff member the shopper recorded for the section.
    OBSERVED_STAFF = "observed_staff"
    #: The cashier of the receipt's POS transaction.
    CASHIER = "cashier"


SCORED = frozenset({ItemKind.CHECK, ItemKind.TIME})


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One question. CHECK and TIME items score ``points``; RATING and TEXT items are
    unscored context and have 0 points. ``definition`` says what earns "yes"."""

    key: str
    kind: ItemKind
    text: LocalizedText
    definition: LocalizedText | None
    points: int
    na_allowed: bool
    critical: Critical
    #: TIME items: "yes" when the measured seconds are at most this.
    standard_seconds: int | None

    @property
    def scored(self) -> bool:
        """Whether the item counts towards the score (CHECK and TIME items)."""
        return self.kind in SCORED


@dataclass(frozen=True, slots=True)
class ChecklistSection:
    """One touchpoint: its weight in the overall score (the weights sum to 100), whom its
    result is credited to, and the least narrative the shopper must write about it."""

    key: str
    title: LocalizedText
    weight: int
    attribution: Attribution
    narrative_min_chars: int
    items: tuple[ChecklistItem, ...]


@dataclass(frozen=True, slots=True)
class ChecklistDefinition:
    key: str
    version: int
    title: LocalizedText
    #: What the shopper does on the visit.
    scenario: LocalizedText
    #: Plausible visit duration bounds, checked at submission.
    min_minutes: int
    max_minutes: int
    sections: tuple[ChecklistSection, ...]
    #: SHA-256 of ``content``: identical content, identical version.
    digest: str
    #: The canonical JSON of the file's content, as stored with each published version.
    content: str

    @property
    def content_hash(self) -> str:
        """The ``digest`` under the name survey definitions use (``portal.versions``)."""
        return self.digest

    @property
    def items(self) -> tuple[ChecklistItem, ...]:
        """Every item, section by section, in order."""
        return tuple(item for section in self.sections for item in section.items)

    def section(self, key: str) -> ChecklistSection:
        """Return the section with this key (raises ``KeyError`` when absent)."""
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)

    def item(self, key: str) -> ChecklistItem:
        """Return the item with this key, in any section (raises ``KeyError`` when absent)."""
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)

    def section_of(self, item_key: str) -> ChecklistSection:
        """Return the section holding this item (raises ``KeyError`` when absent)."""
        for section in self.sections:
            if any(item.key == item_key for item in section.items):
                return section
        raise KeyError(item_key)
