"""The review in words: what a page or a PDF of a frozen `ReviewContent` needs to say its
keys (a metric, a target status, a verdict, a theme, a touchpoint, a ranking component, an
award standing) in the reader's language. Only this module turns those keys into text."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from analysis.significance import Verdict
from portal.models import Metric
from portal.plain_words import SHORT_WORDS, TEST_NAMES
from portal.review.content import TouchpointLine
from portal.targets.words import METRIC_LABELS
from portal.themes.words import theme_label
from portal.training.words import VERDICT_LABELS

STATUS_WORDS: dict[str, Any] = {
    "meets": _l("meets the target"),
    "misses": _l("misses the target"),
    "unclear": _l("not yet clear against the target"),
    "no_target": _l("no target set"),
}

COMPONENT_WORDS: dict[str, Any] = {
    "customer": _l("Customer satisfied (4–5)"),
    "nps": _l("NPS"),
    "mystery": _l("Mystery shopping"),
    "complaints": _l("Upheld complaints per 1000 receipts"),
}

STANDING_WORDS: dict[str, Any] = {
    "awarded": _l("service star (approved by HR)"),
    "proposed": _l("proposed by the ranking; HR has not decided yet"),
}

AWARDS_STATE_WORDS: dict[str, Any] = {
    "none": _l("No award cycle was open for this month when the review was made."),
    "in_review": _l("HR is still deciding this month's awards."),
    "published": _l("This month's awards are published."),
    "final": _l("This month's awards are final."),
}

SCOPE_WORDS: dict[str, Any] = {
    "store": _l("Store review"),
    "region": _l("Region review"),
}


def _said(mapping: dict[Any, Any], key: str) -> str:
    # A key this build does not know (content from a later version) shows as itself.
    found = mapping.get(key)
    return key if found is None else str(found)


def metric_words(key: str) -> str:
    try:
        return str(METRIC_LABELS[Metric(key)])
    except (KeyError, ValueError):
        return key


def verdict_words(key: str) -> str:
    try:
        return str(SHORT_WORDS[Verdict(key)])
    except ValueError:
        return key


def touchpoint_title(line: TouchpointLine, locale: str) -> str:
    return line.title_zh if locale.startswith("zh") else line.title_en


def review_words() -> dict[str, Any]:
    """What the review templates call, as template context."""
    return {
        "metric_words": metric_words,
        "status_words": lambda key: _said(STATUS_WORDS, key),
        "verdict_words": verdict_words,
        "test_words": lambda key: _said(TEST_NAMES, key),
        "component_words": lambda key: _said(COMPONENT_WORDS, key),
        "standing_words": lambda key: _said(STANDING_WORDS, key),
        "awards_state_words": lambda key: _said(AWARDS_STATE_WORDS, key),
        "scope_words": lambda key: _said(SCOPE_WORDS, key),
        "theme_words": theme_label,
        "touchpoint_title": touchpoint_title,
        "training_verdict_words": lambda key: _said(VERDICT_LABELS, key),
    }
