"""Reading a submitted checklist form: the fields the chosen sections have, and the parsing
of the submitted strings into ``ChecklistAnswers``, section by section, so that a draft can
be saved while the shopper works through the visit.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from surveys.checklists.answers import (
    AT_MOST_CHARS,
    MAX_COMMENT_CHARS,
    MAX_NARRATIVE_CHARS,
    ChecklistAnswers,
    ItemAnswer,
    Problem,
    comment_field,
    item_field,
    narrative_field,
    value_error,
)
from surveys.checklists.schema import (
    NA,
    ChecklistDefinition,
    ChecklistItem,
    ChecklistSection,
    ItemKind,
)
from surveys.strict import int_or_none

# "4:30" or "04:30" as minutes:seconds, as shoppers write times down.
_MINUTES_SECONDS = re.compile(r"([0-9]{1,3}):([0-5][0-9])", re.ASCII)


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


def _parse_value(item: ChecklistItem, text: str) -> str | int:
    """The typed value of a submitted string (validation is :func:`value_error`'s)."""
    if item.kind is ItemKind.TEXT:
        return text
    lowered = text.strip().lower()
    if lowered in (NA, "n/a"):
        return NA
    if item.kind is ItemKind.CHECK:
        return lowered
    if item.kind is ItemKind.TIME and (match := _MINUTES_SECONDS.fullmatch(lowered)):
        return int(match.group(1)) * 60 + int(match.group(2))
    # Whole numbers only: "4.5" or "½" stay strings and are reported.
    number = int_or_none(lowered)
    return lowered if number is None else number


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
) -> tuple[ChecklistAnswers, dict[str, Problem]]:
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
    (ChecklistAnswers, dict of str to Problem)
        The answers of the chosen sections and the errors by field name (short English
        messages that carry their template, for the portal to translate). Every item
        and narrative of the chosen sections gets an entry, blank ones too (value
        ``None``, narrative ``""``), so that merging the result into a draft clears what
        the shopper cleared. An unacceptable value is reported and
        kept as ``None``; its comment is kept. Never raises on what the form holds.

    Raises
    ------
    ValueError
        Only if ``sections`` names a section the checklist does not have.
    """
    items: dict[str, ItemAnswer] = {}
    narratives: dict[str, str] = {}
    errors: dict[str, Problem] = {}
    for section in _chosen_sections(definition, sections):
        for item in section.items:
            comment = _form_text(form, comment_field(item.key))
            if len(comment) > MAX_COMMENT_CHARS:
                errors[comment_field(item.key)] = Problem(AT_MOST_CHARS, n=MAX_COMMENT_CHARS)
                comment = ""
            text = _form_text(form, item_field(item.key))
            value: str | int | None = None
            if text:
                value = _parse_value(item, text)
                problem = value_error(definition, item, value)
                if problem is not None:
                    errors[item_field(item.key)] = problem
                    value = None
            items[item.key] = ItemAnswer(value=value, comment=comment)
        narrative = _form_text(form, narrative_field(section.key))
        if len(narrative) > MAX_NARRATIVE_CHARS:
            errors[narrative_field(section.key)] = Problem(AT_MOST_CHARS, n=MAX_NARRATIVE_CHARS)
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
