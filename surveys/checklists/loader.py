"""Loading checklists: the YAML files under ``surveys/library/checklists/`` (the reference
questionnaire of reference/mystery-and-awards.md §1.2, and others in the same shape) are
validated once, when loaded, into frozen dataclasses whose ``digest`` (SHA-256 of the
canonical JSON content) pins the exact version a filed report answered; a stored version
is rebuilt from its content with the same checks and the same digest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from surveys.checklists.schema import (
    SCORED,
    Attribution,
    ChecklistDefinition,
    ChecklistItem,
    ChecklistSection,
    Critical,
    ItemKind,
)
from surveys.loader import LIBRARY, DefinitionError, canonical_content, parse_text, read_yaml

CHECKLIST_LIBRARY = LIBRARY / "checklists"

# Keys become form field names and JSON keys: keep them to plain ASCII.
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_E = TypeVar("_E", bound=StrEnum)

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
    return parse_checklist(read_yaml(path), source=path.name)


def parse_checklist(raw: Any, *, source: str = "<checklist>") -> ChecklistDefinition:
    """Validate a decoded checklist (the same structure as the YAML files).

    Parameters
    ----------
    raw : Any
        One checklist as decoded from YAML or JSON.
    source : str
        The file (or other origin) the errors name.

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
    content, digest = canonical_content(raw, source)
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
        title=parse_text(raw.get("title"), f"{where}: title"),
        scenario=parse_text(raw.get("scenario"), f"{where}: scenario"),
        min_minutes=min_minutes,
        max_minutes=max_minutes,
        sections=sections,
        digest=digest,
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
        title=parse_text(raw.get("title"), f"{where}: title"),
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
    if kind in SCORED:
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
        text=parse_text(raw.get("text"), f"{where}: text"),
        definition=None if definition is None else parse_text(definition, f"{where}: definition"),
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
