"""Jinja filters for dates and numbers, so that templates never format by hand."""

from __future__ import annotations

from datetime import datetime

from markupsafe import Markup

from portal.calendar import zone as calendar_zone
from surveys.loader import receipt_survey
from surveys.privacy import mask_personal_data

#: How many characters of a comment a card or a to-do line shows.
EXCERPT_LENGTH = 80


def localtime(value: datetime | None, zone: str | None = None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC datetime shown in a store's zone (China time when the zone is not known)."""
    if value is None:
        return "—"
    return value.astimezone(calendar_zone(zone)).strftime(fmt)


def percent(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f} %"


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def problem_categories() -> tuple[str, ...]:
    """The keys of the problem categories a case may have (the survey's "what went wrong?")."""
    return tuple(choice.key for choice in receipt_survey().question("problem_category").choices)


def problem_label(key: str, locale: str) -> str:
    """The shopper-facing name of a problem category, in ``locale`` (the key if unknown)."""
    for choice in receipt_survey().question("problem_category").choices:
        if choice.key == key:
            return choice.text.get(locale)
    return key


def command(name: str) -> Markup:
    """A command or setting named inside a translated sentence: set as code, so that it
    reads as something to type, not as a word left untranslated."""
    return Markup("<code>{}</code>").format(name)


def bdi(value: object) -> Markup:
    """User text (a name, a label, an address) isolated from the text around it: a
    right-to-left override inside cannot reorder the page's own words."""
    if value is None or value == "":
        return Markup("")
    return Markup("<bdi>{}</bdi>").format(value)


def excerpt(text: str | None, length: int = EXCERPT_LENGTH) -> str:
    """The first words of a customer's text on one line, for a card: personal data is
    masked before the cut (a cut could leave half a phone number that the mask no longer
    recognises), and the cut falls between words when the text has spaces."""
    flat = " ".join(mask_personal_data(text or "").split())
    if len(flat) <= length:
        return flat
    cut = flat[:length]
    space = cut.rfind(" ")
    if space > length // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"
