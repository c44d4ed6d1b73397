"""Mystery-shop checklists: the questionnaire as data, the shopper's answers, and the bridge
to scoring.

A checklist is a YAML file under ``surveys/library/checklists/`` (the reference
questionnaire of reference/mystery-and-awards.md §1.2, and others in the same shape),
loaded into frozen dataclasses and validated once, when loaded. Its ``digest`` pins the
exact content, so a filed report always points at the version it answered.

Answers arrive from a form section by section (a report is saved as a draft while the
shopper works through the visit), are checked for completeness before submission (every
"no" and every N/A explained, every section narrated, reference §1.3 rule 5), are stored
as JSON, and are scored by :func:`analysis.mystery.score_visit`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml

from analysis.mystery import ItemInput, SectionInput, VisitScore, score_visit
from surveys.definitions import LocalizedText
from surveys.loader import LIBRARY, DefinitionError

CHECKLIST_LIBRARY = LIBRARY / "checklists"

#: The value of a "not applicable" answer, in forms and in stored answers.
NA = "na"
YES = "yes"
NO = "no"

#: A "no" or an N/A needs a factual comment at least this long (reference §1.1: stores
#: contest negative scores, so each needs what happened, times, quotes).
MIN_COMMENT_CHARS = 20
#: Longest comment and narrative kept; longer ones are refused rather than cut.
MAX_COMMENT_CHARS = 2000
MAX_NARRATIVE_CHARS = 5000
RATING_MIN, RATING_MAX = 1, 5

# Keys become form field names and JSON keys: keep them to plain ASCII.
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
# "4:30" or "04:30" as minutes:seconds, as shoppers write times down.
_MINUTES_SECONDS = re.compile(r"^(\d{1,3}):([0-5]\d)$")


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


_SCORED = frozenset({ItemKind.CHECK, ItemKind.TIME})
_E = TypeVar("_E", bound=StrEnum)


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
        return self.kind in _SCORED


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


# --- loading ------------------------------------------------------------------------------

_CHECKLIST_FIELDS = frozenset(
    {"key", "version", "title", "scenario", "min_minutes", "max_minutes", "sections"}
)
_SECTION_FIELDS = frozenset(
    {"key", "title", "weight", "attribution", "narrative_min_chars", "items"}
)
_ITEM_FIELDS = frozenset(
    {
        "key",
        "kind",
        "text",
        "definition",
        "points",
        "na_allowed",
        "critical",
        "standard_seconds",
    }
)


def load_checklist(path: Path) -> ChecklistDefinition:
    """Load and validate one checklist file.

    Parameters
    ----------
    path : Path
        A YAML file in the checklist format.

    Returns
    -------
    ChecklistDefinition
        Frozen; its ``digest`` identifies the exact content.

    Raises
    ------
    DefinitionError
        When the file does not describe a valid checklist; the message names the file
        and the key at fault.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise DefinitionError(f"{path.name}: not valid YAML ({error})") from None
    return parse_checklist(raw, source=path.name)


def parse_checklist(raw: Any, *, source: str = "<checklist>") -> ChecklistDefinition:
    """Validate a decoded checklist (the same structure as the YAML files).

    Parameters
    ----------
    raw : Any
        The decoded document.
    source : str
        A name used in error messages.

    Returns
    -------
    ChecklistDefinition

    Raises
    ------
    DefinitionError
        On an unknown field (a misspelt ``na_allowed`` must not silently mean "no"), a
        missing translation, duplicate keys, section weights that are not > 0 or do not
        sum to 100, points < 0 (or 0 on a scored item), a TIME item without
        ``standard_seconds``, points or a critical scope on a rating or text item, a
        section without a check or time item, a negative narrative
        minimum, ``min_minutes >= max_minutes`` or an unknown kind, critical scope or
        attribution.
    """
    if not isinstance(raw, dict):
        raise DefinitionError(f"{source}: a checklist must be a mapping")
    try:
        content = json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        raise DefinitionError(f"{source}: the checklist must hold plain JSON values") from None
    key = _key(raw, source)
    where = f"{source}: checklist {key}"
    _no_unknown_fields(raw, _CHECKLIST_FIELDS, where)
    version = _int(raw, "version", where, minimum=1)
    min_minutes = _int(raw, "min_minutes", where, minimum=1)
    max_minutes = _int(raw, "max_minutes", where, minimum=1)
    if min_minutes >= max_minutes:
        raise DefinitionError(f"{where}: min_minutes must be less than max_minutes")
    sections_raw = raw.get("sections")
    if not isinstance(sections_raw, list) or not sections_raw:
        raise DefinitionError(f"{where}: sections must be a non-empty list")
    sections = tuple(_section(s, source) for s in sections_raw)

    section_keys = [s.key for s in sections]
    _unique(section_keys, f"{where}: section key")
    _unique([i.key for s in sections for i in s.items], f"{where}: item key")
    total = sum(s.weight for s in sections)
    if total != 100:
        raise DefinitionError(f"{where}: section weights must sum to 100, got {total}")
    return ChecklistDefinition(
        key=key,
        version=version,
        title=_text(raw.get("title"), f"{where}: title"),
        scenario=_text(raw.get("scenario"), f"{where}: scenario"),
        min_minutes=min_minutes,
        max_minutes=max_minutes,
        sections=sections,
        digest=hashlib.sha256(content.encode("utf-8")).hexdigest(),
        content=content,
    )


def checklist_from_content(content: Mapping[str, Any] | str) -> ChecklistDefinition:
    """Rebuild a published version from its stored content (``ChecklistDefinition.content``,
    as text or decoded from a JSON column).

    The same validation runs again, so the result has the same ``digest``: a stored
    version keeps scoring by the rules it was published with, even after the library file
    has moved on.

    Raises
    ------
    DefinitionError
        If the content is not a valid checklist.
    """
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            raise DefinitionError("<stored checklist>: not valid JSON") from None
    return parse_checklist(content, source="<stored checklist>")


def _section(raw: Any, source: str) -> ChecklistSection:
    if not isinstance(raw, dict):
        raise DefinitionError(f"{source}: each section must be a mapping")
    key = _key(raw, source)
    where = f"{source}: section {key}"
    _no_unknown_fields(raw, _SECTION_FIELDS, where)
    weight = _int(raw, "weight", where, minimum=1)
    attribution = _enum(Attribution, raw.get("attribution"), "attribution", where)
    narrative_min_chars = _int(raw, "narrative_min_chars", where, minimum=0, default=0)
    items_raw = raw.get("items")
    if not isinstance(items_raw, list) or not items_raw:
        raise DefinitionError(f"{where}: items must be a non-empty list")
    items = tuple(_item(i, where) for i in items_raw)
    if not any(item.scored for item in items):
        # A weighted section with nothing to score would always be N/A.
        raise DefinitionError(f"{where}: a section needs at least one check or time item")
    return ChecklistSection(
        key=key,
        title=_text(raw.get("title"), f"{where}: title"),
        weight=weight,
        attribution=attribution,
        narrative_min_chars=narrative_min_chars,
        items=items,
    )


def _item(raw: Any, section_where: str) -> ChecklistItem:
    if not isinstance(raw, dict):
        raise DefinitionError(f"{section_where}: each item must be a mapping")
    key = _key(raw, section_where)
    where = f"{section_where}: item {key}"
    _no_unknown_fields(raw, _ITEM_FIELDS, where)
    kind = _enum(ItemKind, raw.get("kind", ItemKind.CHECK.value), "kind", where)
    critical = _enum(Critical, raw.get("critical", Critical.NONE.value), "critical", where)
    na_allowed = raw.get("na_allowed", False)
    if not isinstance(na_allowed, bool):
        raise DefinitionError(f"{where}: na_allowed must be true or false")
    if kind in _SCORED:
        points = _int(raw, "points", where, minimum=1)
        if kind is ItemKind.TIME:
            standard: int | None = _int(raw, "standard_seconds", where, minimum=1)
        elif "standard_seconds" in raw:
            raise DefinitionError(f"{where}: only time items have standard_seconds")
        else:
            standard = None
    else:
        points = _int(raw, "points", where, minimum=0, default=0)
        if points != 0:
            raise DefinitionError(f"{where}: {kind} items are unscored; points must be 0")
        if critical is not Critical.NONE:
            raise DefinitionError(f"{where}: only check and time items can be critical")
        if "standard_seconds" in raw:
            raise DefinitionError(f"{where}: only time items have standard_seconds")
        standard = None
    definition = raw.get("definition")
    return ChecklistItem(
        key=key,
        kind=kind,
        text=_text(raw.get("text"), f"{where}: text"),
        definition=None if definition is None else _text(definition, f"{where}: definition"),
        points=points,
        na_allowed=na_allowed,
        critical=critical,
        standard_seconds=standard,
    )


def _no_unknown_fields(raw: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(str(k) for k in raw.keys() - allowed)
    if unknown:
        raise DefinitionError(f"{where}: unknown field(s) {', '.join(unknown)}")


def _key(raw: dict[str, Any], where: str) -> str:
    value = raw.get("key")
    if not isinstance(value, str) or not _KEY.match(value):
        raise DefinitionError(f"{where}: key must be 1-40 letters, digits, _ or -, got {value!r}")
    return value


def _int(
    raw: dict[str, Any], name: str, where: str, *, minimum: int, default: int | None = None
) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise DefinitionError(f"{where}: {name} must be a whole number, got {value!r}")
    if value < minimum:
        raise DefinitionError(f"{where}: {name} must be at least {minimum}, got {value}")
    return value


def _enum(kind: type[_E], value: Any, name: str, where: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise DefinitionError(f"{where}: {name} must be one of {allowed}, got {value!r}") from None


def _text(raw: Any, where: str) -> LocalizedText:
    if not isinstance(raw, dict):
        raise DefinitionError(f"{where} must give zh_CN and en")
    unknown = raw.keys() - {"zh_CN", "en"}
    if unknown:
        raise DefinitionError(f"{where}: unknown language(s) {sorted(unknown)}; use zh_CN, en")
    zh, en = raw.get("zh_CN"), raw.get("en")
    if not (isinstance(zh, str) and zh.strip() and isinstance(en, str) and en.strip()):
        raise DefinitionError(f"{where} must give non-empty zh_CN and en")
    return LocalizedText(zh_CN=zh, en=en)


def _unique(keys: list[str], what: str) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise DefinitionError(f"{what} {key} is not unique")
        seen.add(key)


@cache
def checklist_library() -> tuple[ChecklistDefinition, ...]:
    """Every checklist in ``surveys/library/checklists/``, loaded once per process, by key.

    Raises
    ------
    DefinitionError
        When a file is invalid or two files use the same key.
    """
    definitions = sorted(
        (load_checklist(path) for path in sorted(CHECKLIST_LIBRARY.glob("*.yaml"))),
        key=lambda d: d.key,
    )
    _unique([d.key for d in definitions], "checklists/: checklist key")
    return tuple(definitions)


def get_checklist(key: str) -> ChecklistDefinition:
    """The library checklist with this key.

    Raises
    ------
    KeyError
        When no library checklist has this key.
    """
    for definition in checklist_library():
        if definition.key == key:
            return definition
    raise KeyError(key)


# --- answers ------------------------------------------------------------------------------


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


def _chosen_sections(
    definition: ChecklistDefinition, sections: Collection[str] | None
) -> tuple[ChecklistSection, ...]:
    if sections is None:
        return definition.sections
    known = {s.key for s in definition.sections}
    unknown = sorted(set(sections) - known)
    if unknown:
        raise ValueError(f"checklist {definition.key} has no sections {unknown}")
    return tuple(s for s in definition.sections if s.key in sections)


def field_names(
    definition: ChecklistDefinition, *, sections: Collection[str] | None = None
) -> tuple[str, ...]:
    """The form field names of the chosen sections (``None`` = all), in form order.

    Per section: ``item-<key>`` and ``comment-<key>`` for each item, then
    ``narrative-<section key>``.

    Raises
    ------
    ValueError
        If a chosen section is not in the checklist (a caller's mistake).
    """
    names: list[str] = []
    for section in _chosen_sections(definition, sections):
        for item in section.items:
            names += [item_field(item.key), comment_field(item.key)]
        names.append(narrative_field(section.key))
    return tuple(names)


_CHECK_MESSAGE = "Choose yes, no or not applicable."
_CHECK_NO_NA_MESSAGE = "Choose yes or no."
_RATING_MESSAGE = f"Choose a rating from {RATING_MIN} to {RATING_MAX}."
_TIME_MESSAGE = "Enter whole seconds (such as 45) or minutes:seconds (such as 4:30)."
_NA_MESSAGE = "Not applicable is not allowed for this item."


def _value_error(
    definition: ChecklistDefinition, item: ChecklistItem, value: str | int
) -> str | None:
    """Why ``value`` is not an acceptable answer to ``item``, or ``None`` when it is."""
    if value == NA and item.kind is not ItemKind.TEXT:
        return None if item.na_allowed else _NA_MESSAGE
    if item.kind is ItemKind.CHECK:
        if value in (YES, NO):
            return None
        return _CHECK_MESSAGE if item.na_allowed else _CHECK_NO_NA_MESSAGE
    if item.kind is ItemKind.RATING:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok and RATING_MIN <= int(value) <= RATING_MAX else _RATING_MESSAGE
    if item.kind is ItemKind.TIME:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return _TIME_MESSAGE
        if value > definition.max_minutes * 60:
            return f"Longer than a whole visit may last ({definition.max_minutes} minutes)."
        return None
    if not isinstance(value, str):
        return "Enter text."
    return f"At most {MAX_COMMENT_CHARS} characters." if len(value) > MAX_COMMENT_CHARS else None


def _parse_value(item: ChecklistItem, text: str) -> str | int:
    """The typed value of a submitted string (validation is :func:`_value_error`'s)."""
    if item.kind is ItemKind.TEXT:
        return text
    lowered = text.strip().lower()
    if lowered in (NA, "n/a"):
        return NA
    if item.kind is ItemKind.CHECK:
        return lowered
    if item.kind is ItemKind.TIME and (match := _MINUTES_SECONDS.match(lowered)):
        return int(match.group(1)) * 60 + int(match.group(2))
    # Whole numbers only: "4.5" or "½" stay strings and are reported.
    return int(lowered) if lowered.isascii() and lowered.isdigit() else lowered


def _form_text(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if value is None:
        return ""
    # Browsers send CRLF; count what the shopper typed.
    return str(value).replace("\r\n", "\n").strip()


def parse_answers(
    definition: ChecklistDefinition,
    form: Mapping[str, str],
    *,
    sections: Collection[str] | None = None,
) -> tuple[ChecklistAnswers, dict[str, str]]:
    """Read the chosen sections' fields from a submitted form.

    Parameters
    ----------
    definition : ChecklistDefinition
        The checklist version being answered.
    form : Mapping[str, str]
        Submitted values by field name (see :func:`field_names`); absent and blank fields
        are "not answered".
    sections : collection of str, optional
        The sections on the submitted page; ``None`` reads every section.

    Returns
    -------
    (ChecklistAnswers, dict of str to str)
        The answers of the chosen sections and the errors by field name (short English
        messages). Every item and narrative of the chosen sections gets an entry, blank
        ones too (value ``None``, narrative ``""``), so that merging the result into a
        draft clears what the shopper cleared. An unacceptable value is reported and
        kept as ``None``; its comment is kept. Never raises on what the form holds.

    Raises
    ------
    ValueError
        Only if ``sections`` names a section the checklist does not have.
    """
    items: dict[str, ItemAnswer] = {}
    narratives: dict[str, str] = {}
    errors: dict[str, str] = {}
    for section in _chosen_sections(definition, sections):
        for item in section.items:
            comment = _form_text(form, comment_field(item.key))
            if len(comment) > MAX_COMMENT_CHARS:
                errors[comment_field(item.key)] = f"At most {MAX_COMMENT_CHARS} characters."
                comment = ""
            text = _form_text(form, item_field(item.key))
            value: str | int | None = None
            if text:
                value = _parse_value(item, text)
                problem = _value_error(definition, item, value)
                if problem is not None:
                    errors[item_field(item.key)] = problem
                    value = None
            items[item.key] = ItemAnswer(value=value, comment=comment)
        narrative = _form_text(form, narrative_field(section.key))
        if len(narrative) > MAX_NARRATIVE_CHARS:
            errors[narrative_field(section.key)] = f"At most {MAX_NARRATIVE_CHARS} characters."
            narrative = ""
        narratives[section.key] = narrative
    return ChecklistAnswers(items=items, narratives=narratives), errors


def merge_answers(old: ChecklistAnswers, new: ChecklistAnswers) -> ChecklistAnswers:
    """A draft saved section by section: ``new``'s entries replace ``old``'s.

    Returns
    -------
    ChecklistAnswers
        Every item and narrative of ``old``, overwritten by each one ``new`` holds
        (including blank ones: :func:`parse_answers` gives those for what was cleared).
    """
    return ChecklistAnswers(
        items={**old.items, **new.items}, narratives={**old.narratives, **new.narratives}
    )


def _is_no(item: ChecklistItem, value: str | int | None) -> bool:
    """A scored item answered "no": a CHECK "no", or a TIME over its standard."""
    if item.kind is ItemKind.CHECK:
        return value == NO
    if item.kind is ItemKind.TIME and isinstance(value, int):
        return item.standard_seconds is not None and value > item.standard_seconds
    return False


def completeness_errors(
    definition: ChecklistDefinition, answers: ChecklistAnswers
) -> dict[str, str]:
    """What blocks submitting the report, by form field name.

    Parameters
    ----------
    definition : ChecklistDefinition
        The checklist version answered.
    answers : ChecklistAnswers
        The draft.

    Returns
    -------
    dict of str to str
        Empty when the report may be submitted. Otherwise, in form order: every CHECK,
        TIME and RATING item must hold an acceptable answer (TEXT items may stay empty);
        N/A only where the item allows it; every scored "no" (a CHECK "no" or a TIME over
        its standard) and every scored N/A needs a comment of at least
        ``MIN_COMMENT_CHARS`` characters (reference §1.3 rule 5); every section's
        narrative needs at least its ``narrative_min_chars`` characters. Answers to items
        the checklist does not have are ignored.
    """
    errors: dict[str, str] = {}
    for section in definition.sections:
        for item in section.items:
            answer = answers.items.get(item.key, ItemAnswer(None))
            if answer.value is None:
                if item.kind is not ItemKind.TEXT:
                    errors[item_field(item.key)] = "Answer this item."
                continue
            problem = _value_error(definition, item, answer.value)
            if problem is not None:
                errors[item_field(item.key)] = problem
                continue
            needs_comment = item.scored and (answer.value == NA or _is_no(item, answer.value))
            if needs_comment and len(answer.comment.strip()) < MIN_COMMENT_CHARS:
                reason = "not applicable" if answer.value == NA else "no"
                errors[comment_field(item.key)] = (
                    f"Say what happened (at least {MIN_COMMENT_CHARS} characters) "
                    f"to back up the {reason}."
                )
        narrative = answers.narratives.get(section.key, "").strip()
        if len(narrative) < section.narrative_min_chars:
            errors[narrative_field(section.key)] = (
                f"Describe this part of the visit in at least "
                f"{section.narrative_min_chars} characters."
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


def scoring_input(
    definition: ChecklistDefinition, answers: ChecklistAnswers
) -> tuple[SectionInput, ...]:
    """The scored items' answers as input to :func:`analysis.mystery.score_visit`.

    Returns
    -------
    tuple of SectionInput
        One per section with its weight; one :class:`~analysis.mystery.ItemInput` per
        CHECK or TIME item with its points and critical scope. Earned fraction: CHECK
        yes 1, no 0, N/A ``None``; TIME 1 when the seconds are at most the standard, else
        0, N/A ``None``. RATING and TEXT items are context and are left out.

    Raises
    ------
    ValueError
        If a scored item is unanswered, holds an unacceptable value, or is N/A where not
        allowed: an incomplete report has no score (comments and narratives are not
        needed to score; :func:`completeness_errors` checks those).
    """
    sections: list[SectionInput] = []
    for section in definition.sections:
        inputs: list[ItemInput] = []
        for item in section.items:
            if not item.scored:
                continue
            value = answers.value(item.key)
            if value is None:
                raise ValueError(f"item {item.key} is not answered")
            problem = _value_error(definition, item, value)
            if problem is not None:
                raise ValueError(f"item {item.key}: {problem}")
            fraction: float | None
            if value == NA:
                fraction = None
            elif item.kind is ItemKind.CHECK:
                fraction = 1.0 if value == YES else 0.0
            else:
                fraction = 0.0 if _is_no(item, value) else 1.0
            inputs.append(ItemInput(item.key, float(item.points), fraction, item.critical.value))
        sections.append(SectionInput(section.key, float(section.weight), tuple(inputs)))
    return tuple(sections)


def score_answers(definition: ChecklistDefinition, answers: ChecklistAnswers) -> VisitScore:
    """Score a complete report: ``score_visit(scoring_input(definition, answers))``.

    Raises
    ------
    ValueError
        As :func:`scoring_input`.
    """
    return score_visit(scoring_input(definition, answers))
